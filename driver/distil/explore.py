"""The student at work in LAMMPS: hot MD that yields new configurations (active learning)
and the stability, drift, lattice and speed checks. Serial LAMMPS instances in this process
(a student runs ~1e4 atom-steps/s per core: a small cell needs no MPI)."""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..mpi import MPI  # noqa: F401  (mpi4py before lammps)
from .descriptors import lammps_for, lammps_from_restart
from .frames import Frame


def pair_minima(frame: Frame) -> dict[tuple[str, str], float]:
    """Shortest distance of every element pair under periodic boundaries (A), keys sorted."""
    from pymatgen.core import Lattice
    lat = Lattice(frame.cell)
    d = lat.get_all_distances(lat.get_fractional_coords(frame.positions),
                              lat.get_fractional_coords(frame.positions))
    np.fill_diagonal(d, np.inf)
    sym = np.array(frame.symbols)
    out = {}
    for a in sorted(set(frame.symbols)):
        for b in sorted(set(frame.symbols)):
            if a <= b:
                out[(a, b)] = float(d[np.ix_(sym == a, sym == b)].min())
    return out


def min_distance(frame: Frame, a: str = "Li", b: str = "Li") -> float:
    """Shortest a-b distance (A); inf when there is no such pair."""
    return pair_minima(frame).get(tuple(sorted((a, b))), math.inf)


def floors(elements, fraction: float, li_li: float) -> dict[tuple[str, str], float]:
    """``fraction`` of each element pair's sum of covalent radii (B. Cordero et al., Dalton
    Trans. 2832 (2008), as pymatgen tabulates them): a pair of a student's trajectory closer
    than that has collapsed (0.7 of the sum is below every bond of these chemistries: P-O
    1.53 A against 1.21, Li-Cl 2.4 against 1.61). Li-Li, two mobile ions that pass each other
    in a hop, is held to ``li_li`` instead (the 1.2 A of the trust checks, issue 30): Li's
    metallic covalent radius would put its floor at 1.79 A, which hot hops cross."""
    from pymatgen.analysis.molecule_structure_comparator import CovalentRadius
    r = CovalentRadius.radius
    els = sorted(set(elements))
    out = {(a, b): fraction * (r[a] + r[b]) for a in els for b in els if a <= b}
    if ("Li", "Li") in out:
        out[("Li", "Li")] = li_li
    return out


@dataclass
class MDOutcome:
    snapshots: list[Frame] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    failure: str | None = None          # why the run stopped early (None: it finished)
    min_li_li_a: float = math.inf
    natoms: int = 0
    li_positions: list[np.ndarray] = field(default_factory=list)   # (N_Li, 3) per snapshot
    etotal: list[float] = field(default_factory=list)

    @property
    def atom_steps_per_s(self) -> float:
        return self.natoms * self.steps / self.seconds if self.seconds > 0 else float("nan")


def _snapshot(lmp, symbols_of_type: dict[int, str], meta: dict) -> Frame:
    boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
    n = lmp.get_natoms()
    ids = np.asarray(lmp.numpy.extract_atom("id"))[:n]
    order = np.argsort(ids)
    x = np.asarray(lmp.numpy.extract_atom("x"))[:n][order] - np.asarray(boxlo)
    types = np.asarray(lmp.numpy.extract_atom("type"))[:n][order]
    cell = np.array([[boxhi[0] - boxlo[0], 0, 0], [xy, boxhi[1] - boxlo[1], 0],
                     [xz, yz, boxhi[2] - boxlo[2]]])
    frac = np.linalg.solve(cell.T, x.T).T % 1.0
    return Frame(tuple(symbols_of_type[int(t)] for t in types), frac @ cell, cell, dict(meta))


class Model:
    """A potential ready for serial LAMMPS here: a student (``forcefields/snap.py`` form, its
    files written to a private folder) or the teacher (``mlip_external``: forces from Python
    through ``fix external``, so both run under the same integrator and thermostat)."""

    def __init__(self, potential, elements: tuple[str, ...]):
        self.pot = potential
        self.elements = elements
        self.type_of = {el: i + 1 for i, el in enumerate(elements)}
        self._dir = tempfile.TemporaryDirectory(prefix="sse-model-")
        for name, text in potential.files(self.type_of).items():
            (Path(self._dir.name) / name).write_text(text)
        self.pair_lines = potential.pair_lines(self.type_of, 0.0, 0.0, files_dir=self._dir.name)
        self._external = potential.spec.external_forces(potential, self.type_of, MPI.COMM_SELF)
        self._callbacks: dict[int, object] = {}

    def lammps(self, frame: Frame | None = None, restart: Path | None = None):
        """A LAMMPS instance holding ``frame`` (or the system of a ``restart`` file of an
        earlier segment) with this model's forces."""
        if restart is not None:
            lmp = lammps_from_restart(restart, self.pair_lines)
        else:
            lmp = lammps_for(frame, self.elements, self.pair_lines)
        if self._external is not None:
            cb = self._external(lmp)
            lmp.set_fix_external_callback(cb.fix_id, cb, None)
            self._callbacks[id(lmp)] = cb
        return lmp

    @property
    def scratch(self) -> Path:
        """A private folder of safe path for files LAMMPS reads and writes (restarts)."""
        return Path(self._dir.name)

    def command(self, lmp, line: str) -> None:
        """One LAMMPS command; a failure inside the Python force callback is raised here
        (LAMMPS itself would carry on with the poisoned forces)."""
        try:
            lmp.command(line)
        finally:
            cb = self._callbacks.get(id(lmp))
            if cb is not None and cb.error is not None:
                raise RuntimeError(f"force callback failed: {cb.error!r}")

    def release(self, lmp) -> None:
        self._callbacks.pop(id(lmp), None)
        lmp.close()

    def close(self) -> None:
        self._dir.cleanup()


def run_md(model: Model, start: Frame, temperature_k: float, ps: float, snapshot_fs: float,
           timestep_fs: float, seed: int, meta: dict, nve: bool = False,
           pair_floor: dict | None = None, restart_in: Path | None = None,
           restart_out: Path | None = None, track_li: bool = False,
           keep_snapshots: bool = True, keep_every: int = 1) -> MDOutcome:
    """NVT (Nose-Hoover, 100 fs damping) or NVE from ``start`` with velocities at
    ``temperature_k``, or continued from ``restart_in`` (a segment's restart file: positions,
    velocities, image flags and thermostat state); a snapshot every ``snapshot_fs``. Stops
    early, saying why, on a LAMMPS error (lost atoms, non-finite energy, a failed force
    callback) or a pair closer than its ``pair_floor`` (the collapsed snapshot is not kept).
    ``track_li``: also the unwrapped Li positions relative to the centre of mass at each
    snapshot (for the MSD); ``restart_out``: the final state, for the next segment;
    ``keep_every``: keep every k-th snapshot (the floors are checked at each one)."""
    out = MDOutcome(natoms=start.n)
    sym = {t: el for el, t in model.type_of.items()}
    every = max(1, int(round(snapshot_fs / timestep_fs)))
    total = max(every, int(round(1000.0 * ps / timestep_fs)))
    scratch = model.scratch
    if restart_in is not None:
        shutil.copyfile(restart_in, scratch / "in.restart")
    lmp = model.lammps(start, restart=scratch / "in.restart" if restart_in else None)
    t0 = time.perf_counter()
    try:
        ensemble = "nve" if nve else f"nvt temp {float(temperature_k)!r} {float(temperature_k)!r} 0.1"
        setup = [f"timestep {float(timestep_fs) / 1000.0!r}"]
        if restart_in is None:
            setup.append(f"velocity all create {float(temperature_k)!r} {seed} mom yes rot yes "
                         "dist gaussian")
        setup += [f"fix sse_md all {ensemble}", "thermo_style custom step temp pe etotal",
                  "thermo_modify lost error"]
        if track_li:
            setup.append("compute sse_uw all property/atom xu yu zu")
        lmp.commands_list(setup)
        model.command(lmp, "run 0")
        masses = _masses(lmp) if track_li else None
        etot = [float(lmp.get_thermo("etotal"))]
        last = None
        while out.steps < total:
            try:
                model.command(lmp, f"run {every} pre no post no")
            except Exception as exc:  # noqa: BLE001 (LAMMPS raises a plain Exception)
                out.failure = f"LAMMPS stopped at step {out.steps}: {str(exc).splitlines()[0][:160]}"
                break
            out.steps += every
            e = float(lmp.get_thermo("etotal"))
            if not math.isfinite(e):
                out.failure = f"non-finite energy at step {out.steps}"
                break
            etot.append(e)
            snap = _snapshot(lmp, sym, {**meta, "temperature_k": temperature_k})
            mins = pair_minima(snap)
            out.min_li_li_a = min(out.min_li_li_a, mins.get(("Li", "Li"), math.inf))
            low = [(k, d) for k, d in mins.items() if d < (pair_floor or {}).get(k, 0.0)]
            if low:
                (a, b), d = low[0]
                out.failure = (f"{a}-{b} pair at {d:.2f} A (< {pair_floor[(a, b)]:.2f} A) at "
                               f"step {out.steps}")
                break
            if track_li:
                out.li_positions.append(_li_unwrapped(lmp, masses, model.type_of["Li"]))
            if keep_snapshots and (out.steps // every) % keep_every == 0:
                out.snapshots.append(snap)
            last = snap
        if out.failure and keep_snapshots and last is not None and (
                not out.snapshots or out.snapshots[-1] is not last):
            out.snapshots.append(last)      # the last sound state before a failure: keep it
        out.etotal = etot
        if restart_out is not None and out.failure is None:
            lmp.command(f"write_restart {scratch / 'out.restart'}")
            tmp = Path(restart_out).with_suffix(".part")
            shutil.copyfile(scratch / "out.restart", tmp)
            tmp.replace(restart_out)
    finally:
        out.seconds = time.perf_counter() - t0
        model.release(lmp)
    return out


def _masses(lmp) -> np.ndarray:
    n = lmp.get_natoms()
    ids = np.asarray(lmp.numpy.extract_atom("id"))[:n]
    types = np.asarray(lmp.numpy.extract_atom("type"))[:n][np.argsort(ids)]
    return np.asarray(lmp.numpy.extract_atom("mass"))[types]


def _li_unwrapped(lmp, masses: np.ndarray, li_type: int) -> np.ndarray:
    """Unwrapped Li positions (id order) minus the mass-weighted centre of the whole cell: an
    ML teacher's forces need not sum to zero, and the drift they give is not diffusion."""
    from lammps import LMP_STYLE_ATOM, LMP_TYPE_ARRAY
    n = lmp.get_natoms()
    order = np.argsort(np.asarray(lmp.numpy.extract_atom("id"))[:n])
    xu = np.asarray(lmp.numpy.extract_compute("sse_uw", LMP_STYLE_ATOM, LMP_TYPE_ARRAY))[:n][order]
    types = np.asarray(lmp.numpy.extract_atom("type"))[:n][order]
    com = (masses[:, None] * xu).sum(axis=0) / masses.sum()
    return (xu[types == li_type] - com).copy()


def nve_drift(outcome: MDOutcome, timestep_fs: float, every_fs: float) -> float:
    """Linear drift of the total energy of an NVE run, meV/atom/ps."""
    e = np.asarray(outcome.etotal, float)
    if len(e) < 3:
        return float("nan")
    t_ps = np.arange(len(e)) * every_fs / 1000.0
    return float(1e3 * np.polyfit(t_ps, e, 1)[0] / outcome.natoms)


def relax_student(model: Model, start: Frame, meta: dict | None = None) -> Frame:
    """The model's zero-pressure structure from ``start`` (atoms, then box/relax of the
    triclinic cell with the atoms): its cell is what the lattice check compares, and the
    frame itself is where active learning asks the teacher (the student's own minimum)."""
    lmp = model.lammps(start)
    try:
        lmp.commands_list(["thermo_style custom step pe press", "min_style cg"])
        model.command(lmp, "minimize 0.0 1.0e-6 2000 20000")
        for _ in range(4):   # box/relax measures strain from each start: a few cycles
            lmp.command("fix sse_relax all box/relax tri 0.0 vmax 0.001")
            model.command(lmp, "minimize 0.0 1.0e-6 2000 20000")
            lmp.command("unfix sse_relax")
        return _snapshot(lmp, {t: el for el, t in model.type_of.items()},
                         {**start.meta, **(meta or {})})
    finally:
        model.release(lmp)


def lattice_deviation(student_cell: np.ndarray, teacher_cell: np.ndarray) -> dict:
    """Relative differences of a, b, c and of the volume (student vs teacher)."""
    ls, lt = np.linalg.norm(student_cell, axis=1), np.linalg.norm(teacher_cell, axis=1)
    vs, vt = abs(np.linalg.det(student_cell)), abs(np.linalg.det(teacher_cell))
    rel = (ls - lt) / lt
    return {"abc_rel": [float(x) for x in rel], "volume_rel": float((vs - vt) / vt),
            "max_abs_rel": float(np.abs(rel).max()),
            "teacher_abc_a": [float(x) for x in lt], "student_abc_a": [float(x) for x in ls]}
