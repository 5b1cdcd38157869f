"""The watchdog of a campaign's stage subprocesses (issue 32): a stage is stopped when it
stops progressing, never because a busy machine makes it slow.

A stage is *stalled* when nothing under its folder changed for ``stall_s`` seconds (an MD
stage writes its progress every sample interval: ``md/progress.py``), and *overrunning*
when it has run ``overrun`` times longer than its own pace predicted; ``hard_s`` is the
campaign's absolute cap (``task_timeout_s``), for those who want one. The polling lives in
``tasks.run_stage``; this is the pure decision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..md.progress import Progress


@dataclass
class Watchdog:
    """Stops a stage that stopped progressing, never one that is only slow.

    ``stall_s``: nothing under the stage's folder changed for this long; ``overrun``: the
    stage ran this many times longer than its own pace predicted (its measured expected
    time); ``hard_s``: an absolute cap (the campaign's task_timeout_s; None: none)."""

    stall_s: float | None = 900.0
    overrun: float | None = 4.0
    hard_s: float | None = None
    min_fraction: float = 0.1
    expected_s: float | None = None

    def verdict(self, elapsed: float, since_beat: float, progress: Progress | None,
                now: float | None = None) -> str | None:
        """None to let it run, else why it is stopped (a one-line reason). The expected
        time is measured once, when the first MD run has done ``min_fraction`` of its
        steps: the time so far plus the MD steps left at that run's own pace."""
        now = time.time() if now is None else now
        if self.hard_s is not None and elapsed > self.hard_s:
            return f"TaskTimeout: stage exceeded {self.hard_s:.0f} s"
        if self.stall_s is not None and since_beat > self.stall_s:
            where = f" (last: {progress.describe()})" if progress else ""
            return f"TaskStalled: no progress for {since_beat:.0f} s{where}"
        if self.overrun is None or progress is None:
            return None
        left = progress.remaining_md_steps()
        if self.expected_s is None and left is not None \
                and progress.done >= self.min_fraction * progress.run_steps > 0:
            pace = progress.done / max(1e-9, now - progress.started)      # steps per second
            self.expected_s = elapsed + left / pace
        if self.expected_s is not None and elapsed > self.overrun * self.expected_s:
            return (f"TaskTimeout: stage ran {elapsed:.0f} s, {self.overrun:g}x the "
                    f"{self.expected_s:.0f} s its own pace predicted ({progress.describe()})")
        return None


