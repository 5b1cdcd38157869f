"""Nothing finished is run twice: reuse of an earlier attempt's finished LAMMPS runs.

When a node dies or a campaign is killed, the evaluation resumes in a fresh attempt folder
(the killed one stays for inspection). Its relax, elastic and per-temperature runs that
had finished are then run again unless something reuses them: at the screening preset that
is up to ~40 core-minutes per garnet lost per kill, at production hours. A finished run is
reused only when it is the same run: every input file the new deck set writes (deck, data
file, pair table) is byte-identical to the earlier folder's, and the earlier run left its
completion marker (written by the deck's last line, after the last ``run``/``minimize``),
with the full step count where the deck has one. A retry with a new seed, another
temperature, a longer production or another potential writes different inputs and runs
afresh. Reused outputs are copied (the earlier folder is never modified) and recorded.
"""

from __future__ import annotations

import filecmp
import math
import os
import shutil
from pathlib import Path

#: completion marker of each kind of run (templates/*.lammps.j2)
MARKERS = {"relax": "relax_done.txt", "elastic": "elastic_done.txt", "md": "md_done.txt"}


#: the rows of an elastic run's stress.dat (templates/elastic.lammps.j2): the reference cell
#: and +-strain along each of the six Voigt components
STRESS_ROWS = frozenset({"ref", *(f"e{j}{s}" for j in range(1, 7) for s in "pm")})


def _text(path: Path) -> str | None:
    """The file's text, or None when it is not short UTF-8 text (a corrupted output)."""
    try:
        if path.stat().st_size > 1_000_000:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _finite(words: list[str]) -> bool:
    try:
        return all(math.isfinite(float(w)) for w in words)
    except ValueError:
        return False


def _stress_table(path: Path) -> bool:
    """Whether stress.dat holds each row the elastic analysis reads, with 6 finite numbers."""
    text = _text(path)
    if text is None:
        return False
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return ({r[0] for r in rows} >= STRESS_ROWS
            and all(len(r) == 7 and _finite(r[1:]) for r in rows))


def _complete(marker: Path, kind: str, expected_steps: int | None) -> bool:
    """Whether a finished run is whole, as the workflow will read it: the relax marker's
    seven words with the residual pressure (the seventh) a finite number, the elastic
    marker's tag and a stress table with every strain's six numbers, the production
    marker's step count (``SSE_DONE step N ...``) at least the deck's. Anything else (a
    truncated or corrupted file from a dying node) is not finished, so the run is done
    again rather than read and refused (issue 33)."""
    text = _text(marker)
    if text is None:
        return False
    words = text.split()
    if kind == "relax":
        return len(words) >= 7 and words[0] == "SSE_RELAXED" and _finite(words[6:7])
    if kind == "elastic":
        return words[:1] == ["SSE_ELASTIC_DONE"] and _stress_table(marker.parent / "stress.dat")
    try:
        steps = int(words[words.index("step") + 1])
    except (ValueError, IndexError):
        return False
    return expected_steps is None or steps >= expected_steps


def finished_run(new: Path, inputs: list[str], earlier: list[Path], kind: str,
                 expected_steps: int | None = None) -> Path | None:
    """The first folder ``root / new.name`` among ``earlier`` roots that finished the same
    run as the one whose ``inputs`` were just written to ``new``; None when there is none."""
    for root in earlier:
        old = Path(root) / new.name
        if old.resolve() == new.resolve() or not (old / MARKERS[kind]).is_file():
            continue
        if not _complete(old / MARKERS[kind], kind, expected_steps):
            continue
        if all((old / f).is_file() and filecmp.cmp(new / f, old / f, shallow=False)
               for f in inputs):
            return old
    return None


def adopt(old: Path, new: Path, inputs: list[str]) -> list[str]:
    """Copy the outputs of the finished run ``old`` (every file that is not an input) into
    ``new``, each through a temporary name so that a kill leaves no half-copied file; the
    marker last, so a half-adopted folder is never taken for a finished one. Returns the
    copied names."""
    marker_names = set(MARKERS.values())
    names = sorted(p.name for p in old.iterdir() if p.is_file() and p.name not in inputs)
    names.sort(key=lambda n: n in marker_names)          # markers last
    for n in names:
        tmp = new / f".{n}.adopting"
        shutil.copy2(old / n, tmp)
        os.replace(tmp, new / n)
    (new / "reused_from.txt").write_text(f"{old.resolve()}\n")
    return names
