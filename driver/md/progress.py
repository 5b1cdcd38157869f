"""Where a running MD stage is (issue 32): the files it writes for whoever watches it (the
campaign's watchdog and console, ``sse-driver status``).

The MD stage says where it is through two small files in its output folder, never through
its console text:

- ``progress.json`` (written by ``md/workflow.py`` as each step of its plan starts): the
  step's name (``relax``, ``elastic``, ``T1000K``), its place in the plan, its run folder;
- ``RUN/progress.txt`` (written by LAMMPS itself, ``fix print`` in ``templates/md.lammps.j2``,
  every sample interval): lines ``PHASE STEP EQUIL PROD`` (phase ``npt`` or ``nvt``; the
  step counts from zero again in production).

Any file the stage writes also counts as a heartbeat (a minimization writes its log, a
phase-field solve its history): :func:`heartbeat`. The decisions taken on them live in
``campaign/watchdog.py``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

FORMAT = "sse-driver/progress/1"
PLAN_FILE = "progress.json"
STEPS_FILE = "progress.txt"
#: at most this many entries are looked at for the heartbeat (a stage folder holds tens)
MAX_SCAN = 5000


@dataclass(frozen=True)
class Progress:
    step: str                 # the plan step: relax, elastic, T1000K
    index: int                # 0-based place in the plan
    of: int                   # steps in the plan (relax and elastic first, then MD runs)
    started: float = 0.0      # when this plan step started (epoch s)
    timestep_fs: float = 1.0
    phase: str | None = None  # npt / nvt inside an MD run
    step_no: int = 0          # LAMMPS step inside the phase
    equil: int = 0            # MD steps of the NPT phase
    prod: int = 0             # MD steps of the NVT phase

    @property
    def done(self) -> int:
        """MD steps done in the running MD run."""
        return self.step_no + (self.equil if self.phase == "nvt" else 0)

    @property
    def run_steps(self) -> int:
        return self.equil + self.prod

    @property
    def fraction(self) -> float:
        """Of the whole plan, counting each step as one (a display, not a pace)."""
        inner = self.done / self.run_steps if self.run_steps > 0 else 0.0
        return min(1.0, (self.index + inner) / max(1, self.of))

    def remaining_md_steps(self) -> int | None:
        """MD steps left in this run and the runs after it (None outside an MD run)."""
        if not self.run_steps:
            return None
        return self.run_steps - self.done + (self.of - self.index - 1) * self.run_steps

    def describe(self) -> str:
        """'md T1000K nvt 45/100 ps (4/6)' or 'md relax (1/6)'."""
        where = f"md {self.step}"
        if self.phase:
            ps = self.timestep_fs / 1000.0
            total = self.equil if self.phase == "npt" else self.prod
            where += f" {self.phase} {self.step_no * ps:.3g}/{total * ps:.3g} ps"
        return f"{where} ({self.index + 1}/{self.of})"


def write_plan(folder: Path, step: str, index: int, of: int, run_dir: str,
               timestep_fs: float) -> None:
    """Record that plan step ``index`` of ``of`` started (atomic: a reader sees the old or
    the new file, never half of one)."""
    from ..fileio import atomic_write_json
    Path(folder).mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(folder) / PLAN_FILE, {
        "format": FORMAT, "step": step, "index": index, "of": of, "run_dir": run_dir,
        "timestep_fs": timestep_fs, "started": time.time()})


def read(folder: Path) -> Progress | None:
    """Where the MD stage writing ``folder`` is; None before it has said (or for a folder
    it never wrote)."""
    folder = Path(folder)
    try:
        plan = json.loads((folder / PLAN_FILE).read_text())
        if plan.get("format") != FORMAT:
            return None
        p = Progress(str(plan["step"]), int(plan["index"]), int(plan["of"]),
                     float(plan["started"]), float(plan["timestep_fs"]))
        run = folder / str(plan["run_dir"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    last = _last_line(run / STEPS_FILE) if run.parent == folder else None
    parts = last.split() if last else []
    try:
        phase = parts[0]
        step_no, equil, prod = (int(float(x)) for x in parts[1:4])
    except (IndexError, ValueError):
        return p
    if phase not in ("npt", "nvt") or min(step_no, equil, prod) < 0:
        return p
    return Progress(p.step, p.index, p.of, p.started, p.timestep_fs, phase, step_no, equil, prod)


def _last_line(path: Path, tail: int = 256) -> str | None:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - tail))
            lines = [l for l in f.read().decode("ascii", "replace").splitlines()
                     if l.strip() and not l.startswith("#")]
    except OSError:
        return None
    return lines[-1] if lines else None


def heartbeat(folder: Path) -> float | None:
    """The newest modification time of anything under ``folder`` (None: nothing there)."""
    newest, seen, stack = None, 0, [Path(folder)]
    while stack and seen < MAX_SCAN:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for e in entries:
            seen += 1
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            newest = st.st_mtime if newest is None else max(newest, st.st_mtime)
            if e.is_dir(follow_symlinks=False):
                stack.append(Path(e.path))
    return newest


def eta_s(progress: Progress | None, now: float | None = None) -> float | None:
    """Seconds left at the running MD run's pace (None outside an MD run)."""
    now = time.time() if now is None else now
    if progress is None or not progress.done:
        return None
    left = progress.remaining_md_steps()
    pace = progress.done / max(1e-9, now - progress.started)
    return None if left is None else left / pace
