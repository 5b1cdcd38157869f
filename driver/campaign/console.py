"""What the campaign shows at a terminal while it runs: a progress bar of the evaluations
(finished of the budget) whose tail names the stage of each one in flight ("p3 md T1000K
nvt 45/100 ps, ~6 min left"), redrawn every few seconds, with the campaign's own lines
printed above it. Away from a terminal (a log file, a batch job's output) there is no bar:
the plain lines only, and a line on the evaluations in flight every few minutes instead
(campaign/loop.py), so logs stay readable.

The bar is tqdm's (a dependency already pinned in requirements.lock): it writes nothing
when disabled and keeps its line at the bottom while ``write`` prints above it.
"""

from __future__ import annotations

import sys
from typing import Callable, TextIO


class EvaluationsBar:
    """The campaign's progress bar, or nothing when ``enabled`` is false (default: whether
    ``stream`` is a terminal)."""

    def __init__(self, total: int, done: int = 0, stream: TextIO | None = None,
                 enabled: bool | None = None):
        self.stream = sys.stdout if stream is None else stream
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.enabled = bool(isatty()) if enabled is None else enabled
        self._bar = None
        if self.enabled:
            import shutil

            from tqdm import tqdm
            # a terminal that does not say its size (0 x 0: a pty nobody sized, some batch
            # consoles) gets 100 x 24; tqdm would otherwise hide the bar as off-screen
            size = shutil.get_terminal_size((100, 24))
            self._bar = tqdm(total=total, initial=done, file=self.stream, unit="eval",
                             desc="evaluations", ncols=size.columns or 100,
                             nrows=size.lines or 24, leave=True,
                             mininterval=1.0, bar_format="{desc} {n_fmt}/{total_fmt} |{bar:20}| "
                             "{elapsed}{postfix}")

    def say(self, echo: Callable[[str], None]) -> Callable[[str], None]:
        """``echo`` for the campaign's lines: printed above the bar when there is one."""
        if self._bar is None:
            return echo

        def above(text: str) -> None:
            self._bar.write(text, file=self.stream)
        return above

    def finished(self, n: int) -> None:
        """``n`` evaluations have finished (done or failed); the stages shown are cleared
        until the next look at the evaluations still in flight (``running``)."""
        if self._bar is not None and n != self._bar.n:
            self._bar.n = n
            self._bar.set_postfix_str("", refresh=False)
            self._bar.refresh()

    def running(self, stages: list[str]) -> None:
        """The stage of each evaluation in flight, shown at the bar's end."""
        if self._bar is not None:
            self._bar.set_postfix_str("; ".join(stages), refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
