"""What an objective is (issue 31, item 5): a named quantity the campaign optimises, with its
unit, the stage that measures it, and how its value and standard error are read from an
evaluation's outputs. Adding one is one module in this package (or, outside the project, a
module named by an ``sse_driver.objectives`` entry point) that defines ``OBJECTIVE``.

The value is read in the campaign's own process from the outputs an evaluation returned
(campaign/tasks.py ``outputs``), so an objective derived from measured quantities needs no
change to the stages; one that needs a new measurement adds that output to its stage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal

#: the stage that measures an objective: the MD stage, the phase-field stage, or a reviewer
Source = Literal["md", "phasefield", "review"]


def _finite(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Objective:
    """One objective. ``value``/``error`` read an evaluation's outputs (None: not measured
    there; the campaign then says so); by default the output of the objective's own name
    and ``<name>_err``. ``needs`` names campaign settings the objective requires, as
    (key, value) pairs of ``campaign`` (e.g. ("stability_model", "degradation")); ``columns``
    are the report's extra columns (its interval, a note)."""

    name: str
    unit: str
    description: str
    source: Source = "md"
    needs: tuple[tuple[str, object], ...] = ()
    columns: tuple[str, ...] = ()
    read: Callable[[dict], float | None] | None = None
    read_error: Callable[[dict], float | None] | None = None

    def value(self, outputs: dict) -> float | None:
        """The measured value in ``outputs``, or None where it was not measured."""
        return _finite(self.read(outputs) if self.read else outputs.get(self.name))

    def error(self, outputs: dict) -> float | None:
        """Its standard error, or None where none was measured."""
        return _finite(self.read_error(outputs) if self.read_error
                       else outputs.get(f"{self.name}_err"))
