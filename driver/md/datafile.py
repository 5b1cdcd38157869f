"""pymatgen Structure -> LAMMPS data file (``atom_style charge``), any cell shape.

LAMMPS wants a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz); positions are mapped
through fractional coordinates, so any input orientation works. Types follow the order
given, so the pair_coeff lines of :mod:`driver.potentials` line up with them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pymatgen.core import Element, Structure


def lammps_box(matrix: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """(lx, ly, lz, xy, xz, yz) of the LAMMPS restricted-triclinic cell for lattice rows."""
    a, b, c = (np.asarray(v, float) for v in matrix)
    la, lb, lc = (np.linalg.norm(v) for v in (a, b, c))
    cos_g = a @ b / (la * lb)
    cos_b = a @ c / (la * lc)
    cos_a = b @ c / (lb * lc)
    lx = la
    xy = lb * cos_g
    xz = lc * cos_b
    ly = np.sqrt(lb**2 - xy**2)
    yz = (lb * lc * cos_a - xy * xz) / ly
    lz = np.sqrt(lc**2 - xz**2 - yz**2)
    return lx, ly, lz, xy, xz, yz


def box_matrix(lx, ly, lz, xy, xz, yz) -> np.ndarray:
    return np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])


def write_data(structure: Structure, path: str | Path, type_of: dict[str, int],
               charges: dict[str, float], title: str = "sse-driver") -> Path:
    """Write ``structure`` with species->type map ``type_of`` and per-species charges."""
    lx, ly, lz, xy, xz, yz = lammps_box(structure.lattice.matrix)
    cart = structure.frac_coords % 1.0 @ box_matrix(lx, ly, lz, xy, xz, yz)
    ntypes = len(type_of)
    lines = [f"# {title}", "", f"{len(structure)} atoms", f"{ntypes} atom types", "",
             f"0.0 {lx:.10f} xlo xhi", f"0.0 {ly:.10f} ylo yhi", f"0.0 {lz:.10f} zlo zhi"]
    if max(abs(xy), abs(xz), abs(yz)) > 1e-10:
        lines.append(f"{xy:.10f} {xz:.10f} {yz:.10f} xy xz yz")
    lines += ["", "Masses", ""]
    for sym, t in sorted(type_of.items(), key=lambda kv: kv[1]):
        lines.append(f"{t} {float(Element(sym).atomic_mass):.6f}  # {sym}")
    lines += ["", "Atoms  # charge", ""]
    for i, (site, xyz) in enumerate(zip(structure, cart), start=1):
        sym = site.specie.symbol
        lines.append(f"{i} {type_of[sym]} {charges[sym]:.6f} {xyz[0]:.10f} {xyz[1]:.10f} {xyz[2]:.10f}")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def read_data(path: str | Path, type_of: dict[str, int]) -> Structure:
    """A Structure from a LAMMPS data file written by LAMMPS (``write_data``) or by us."""
    species_of = {t: el for el, t in type_of.items()}
    lines = Path(path).read_text().splitlines()
    box = {"xy": 0.0, "xz": 0.0, "yz": 0.0}
    n_atoms = 0
    for line in lines:
        w = line.split()
        if len(w) >= 2 and w[-1] == "atoms" and w[0].isdigit():
            n_atoms = int(w[0])
        for ax in "xyz":
            if w[-2:] == [f"{ax}lo", f"{ax}hi"]:
                box[f"l{ax}"] = float(w[1]) - float(w[0])
                box[f"{ax}lo"] = float(w[0])
        if w[-3:] == ["xy", "xz", "yz"]:
            box["xy"], box["xz"], box["yz"] = map(float, w[:3])
    start = next(i for i, l in enumerate(lines) if l.split()[:1] == ["Atoms"]) + 2
    rows = [l.split() for l in lines[start:start + n_atoms]]
    rows.sort(key=lambda r: int(r[0]))
    origin = np.array([box["xlo"], box["ylo"], box["zlo"]])
    m = box_matrix(box["lx"], box["ly"], box["lz"], box["xy"], box["xz"], box["yz"])
    cart = np.array([[float(v) for v in r[3:6]] for r in rows]) - origin
    return Structure(m, [species_of[int(r[1])] for r in rows], cart, coords_are_cartesian=True)
