"""Configurations and their teacher labels: the data a student is fitted to.

A :class:`Frame` is one periodic configuration in LAMMPS's restricted-triclinic orientation
(a along x, b in the xy plane), so positions, forces and stresses mean the same thing to the
teacher (ASE), to LAMMPS's ``compute snap`` and to the student's MD: nothing is rotated
between labelling and fitting. Stress is ASE's (Voigt xx yy zz yz xz xy, eV/A^3, positive
in tension; pressure is minus its trace over 3).

Data sets are extended-XYZ files (ASE's reader and writer, the format of the field's
fitting codes) with the provenance in each frame's info line; :func:`read` refuses a file
that is not one, or whose labels are not finite, in one line.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..fileio import atomic_write_text
from ..md.datafile import box_matrix, lammps_box

#: eV/A^3 -> GPa
EV_A3_GPA = 160.21766208
#: what a frame's ``meta`` may hold (written to, and read back from, the extxyz info line)
META_KEYS = ("composition", "kind", "temperature_k", "generation", "seed", "source")


@dataclass(frozen=True)
class Frame:
    symbols: tuple[str, ...]
    positions: np.ndarray            # (N, 3) A, inside the cell
    cell: np.ndarray                 # (3, 3) rows a, b, c (LAMMPS orientation)
    meta: dict = field(default_factory=dict)
    energy: float | None = None      # eV
    forces: np.ndarray | None = None     # (N, 3) eV/A
    stress: np.ndarray | None = None     # (6,) eV/A^3, ASE sign and Voigt order

    @property
    def n(self) -> int:
        return len(self.symbols)

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.cell)))

    @property
    def labelled(self) -> bool:
        return self.energy is not None and self.forces is not None and self.stress is not None

    def with_labels(self, energy: float, forces, stress) -> "Frame":
        return replace(self, energy=float(energy), forces=np.asarray(forces, float),
                       stress=np.asarray(stress, float))


def canonical(structure, meta: dict | None = None) -> Frame:
    """A pymatgen Structure as a Frame in LAMMPS's orientation (same fractional coordinates)."""
    m = box_matrix(*lammps_box(structure.lattice.matrix))
    pos = (structure.frac_coords % 1.0) @ m
    return Frame(tuple(s.specie.symbol for s in structure), pos, m, dict(meta or {}))


def in_lammps_orientation(frame: Frame, frac: np.ndarray, cell: np.ndarray) -> Frame:
    """``frame`` with fractional coordinates ``frac`` in ``cell`` (any orientation), brought to
    LAMMPS's restricted-triclinic orientation (labels are not carried: they would rotate)."""
    canon = box_matrix(*lammps_box(np.asarray(cell, float)))
    return replace(frame, positions=(np.asarray(frac) % 1.0) @ canon, cell=canon,
                   energy=None, forces=None, stress=None)


def strained(frame: Frame, eps: np.ndarray) -> Frame:
    """The frame under the small symmetric strain ``eps`` (3x3), atoms moved affinely and the
    cell brought back to LAMMPS's orientation."""
    frac = np.linalg.solve(frame.cell.T, frame.positions.T).T
    return in_lammps_orientation(frame, frac, frame.cell @ (np.eye(3) + eps).T)


def to_atoms(frame: Frame):
    from ase import Atoms
    return Atoms(symbols=list(frame.symbols), positions=frame.positions, cell=frame.cell, pbc=True)


def write(path: str | Path, frames: list[Frame]) -> str:
    """Write labelled or unlabelled frames atomically; return the file's sha256."""
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write as ase_write

    buf = io.StringIO()
    images = []
    for fr in frames:
        at = to_atoms(fr)
        at.info.update({k: v for k, v in fr.meta.items() if k in META_KEYS})
        if fr.labelled:
            at.calc = SinglePointCalculator(at, energy=fr.energy, forces=fr.forces,
                                            stress=fr.stress)
        images.append(at)
    ase_write(buf, images, format="extxyz")
    text = buf.getvalue()
    atomic_write_text(path, text)
    return hashlib.sha256(text.encode()).hexdigest()


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read(path: str | Path, require_labels: bool = True) -> list[Frame]:
    """Frames of an extxyz data set; one-line UserError for a file that is not one."""
    from ase.io import read as ase_read

    try:
        images = ase_read(str(path), index=":", format="extxyz")
    except Exception as exc:  # noqa: BLE001 (ASE raises many kinds on malformed text)
        raise UserError(f"{path}: not a readable extended-XYZ data set ({type(exc).__name__}: "
                        f"{str(exc)[:120]}); remake it with `sse-driver distil`") from None
    out = []
    for i, at in enumerate(images):
        meta = {k: at.info[k] for k in META_KEYS if k in at.info}
        fr = Frame(tuple(at.get_chemical_symbols()), np.asarray(at.positions, float),
                   np.asarray(at.cell[:], float), meta)
        calc = at.calc
        if calc is not None and "energy" in calc.results:
            try:
                stress = np.asarray(calc.results["stress"], float).reshape(-1)
                if stress.size == 9:
                    s = stress.reshape(3, 3)
                    stress = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
                fr = fr.with_labels(calc.results["energy"], calc.results["forces"], stress)
            except (KeyError, ValueError):
                raise UserError(f"{path}: frame {i} lacks forces or stress (every labelled "
                                "frame needs energy, forces and stress)") from None
        if require_labels and not fr.labelled:
            raise UserError(f"{path}: frame {i} has no teacher labels (energy, forces, stress)")
        bad = [not np.all(np.isfinite(a)) for a in (fr.positions, fr.cell)]
        if fr.labelled:
            bad += [not math.isfinite(fr.energy), not np.all(np.isfinite(fr.forces)),
                    not np.all(np.isfinite(fr.stress))]
        if any(bad) or fr.volume < 1.0:
            raise UserError(f"{path}: frame {i} holds a non-finite number or a degenerate cell; "
                            "the data set is corrupt: remake it")
        out.append(fr)
    return out
