"""The phase-field stage's result (``result.json``) as typed, versioned documents, one per
model, told apart by their schema tag: the Cahn-Hilliard degradation run
(``sse-driver/phasefield-result/1``) and the Li-penetration critical current
(``sse-driver/penetration-result/1``).

The stage writes through ``parse`` (phasefield/workflow.py) and the campaign reads through
``read``, so both sides hold the same contract; the models are open (``extra="allow"``),
every other key travels along unchanged (the md-result module says why).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..fileio import read_json_object
from ..schema_base import first_problem

DEGRADATION_SCHEMA = "sse-driver/phasefield-result/1"
PENETRATION_SCHEMA = "sse-driver/penetration-result/1"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Distribution(_Open):
    """A Monte Carlo quantity: its nominal value, median and 95 % interval."""

    median: float
    interval_95: list[float]
    nominal: float | None = None
    ln_sd: float | None = None


class CriticalCurrent(Distribution):
    """The critical current density (mA/cm2) with the sd of its logarithm (the campaign's
    log-space error)."""

    ln_sd: float


class PenetrationMetrics(_Open):
    critical_current_mA_cm2: CriticalCurrent
    current_amplification: Distribution
    fracture_toughness_MPa_m05: Distribution


class PenetrationResult(_Open):
    """The critical current density (or why it was not measurable)."""

    schema_: Literal[PENETRATION_SCHEMA] = Field(alias="schema")
    model: Literal["li_penetration"] = "li_penetration"
    settings: dict[str, Any]
    measurable: bool
    not_measurable_reason: str | None = None
    metrics: PenetrationMetrics | None = None
    provenance: dict[str, Any]

    def to_json(self) -> dict:
        return self.model_dump(by_alias=True, exclude_unset=True)


class DegradationMetrics(_Open):
    stability_score: float
    degraded_fraction: float


class DegradationResult(_Open):
    """The Cahn-Hilliard run: free energy, mass, the final field's stability metrics."""

    schema_: Literal[DEGRADATION_SCHEMA] = Field(alias="schema")
    settings: dict[str, Any]
    metrics: DegradationMetrics
    provenance: dict[str, Any]

    def to_json(self) -> dict:
        return self.model_dump(by_alias=True, exclude_unset=True)


PhaseFieldResult = Annotated[Union[DegradationResult, PenetrationResult],
                             Field(discriminator="schema_")]
_ADAPTER: TypeAdapter = TypeAdapter(PhaseFieldResult)


class ResultFileError(ValueError):
    """A file that is not a phase-field result: one line."""


def parse(data: dict, where: str = "phase-field result") -> DegradationResult | PenetrationResult:
    """The typed result of either model; ``ResultFileError`` naming the first bad field."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise ResultFileError(f"{where} is not a result.json of `sse-driver phasefield` "
                              f"({first_problem(exc)})") from None


def read(path: str | Path) -> DegradationResult | PenetrationResult:
    """Load and check ``path`` (size-capped, UTF-8 JSON, one of the models above)."""
    what = "a result.json of `sse-driver phasefield`"
    return parse(read_json_object(path, what, ResultFileError), str(path))
