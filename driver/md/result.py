"""The MD stage's result (``result.json``) as a typed, versioned document.

``sse-driver md`` writes it (md/workflow.py, md/replicas.py, through ``MDResult``); the
campaign, its report and ``validate`` read it back through ``read``, so a result that lacks
what a reader needs is one line naming the file and the field when it is read, not a
``KeyError`` three modules later, and a renamed key fails the writer's own tests.

The model is open (``extra="allow"``): every key the writer adds travels along and is
written back unchanged, while the fields below are the contract readers rely on. Results
written before a field existed still load (a test keeps one of 2026-11-28): the collective
diffusivities and ``arrhenius_collective`` (2026-11-29/30) and ``cell_formula`` (2026-12-02,
issue 32) are optional. The schema tag is ``sse-driver/md-result/1`` since the first MD
stage (2026-11-22); a later incompatible change gets a new number and a reader for the old.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..fileio import read_json_object
from ..schema_base import first_problem

SCHEMA = "sse-driver/md-result/1"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class TemperatureResult(_Open):
    """One temperature: the NPT cell, D* and sigma with their errors (kinisi), whether the
    MSD reached the diffusive regime. Values may be None where nothing was measured."""

    temperature_K: float
    diffusive: bool
    D_cm2_s: float | None = None
    D_err_cm2_s: float | None = None
    sigma_S_cm: float | None = None
    sigma_err_S_cm: float | None = None
    lattice_A: list[float] | None = None
    volume_A3: float | None = None
    #: since 2026-11-29: from the collective (charge) diffusivity
    sigma_collective_S_cm: float | None = None
    sigma_collective_err_S_cm: float | None = None


class Arrhenius(_Open):
    """The Arrhenius fit of sigma*T over the diffusive temperatures, extrapolated to 300 K."""

    Ea_eV: float
    Ea_err_eV: float
    sigma_300K_S_cm: float
    sigma_300K_ln_err: float
    sigma_300K_interval_95: list[float]
    temperatures_used_K: list[float]


class Elastic(_Open):
    """Elastic constants at 0 K (finite strain) and the VRH moduli with their errors."""

    C_GPa: list[list[float]]
    bulk_vrh_GPa: float
    shear_vrh_GPa: float
    bulk_vrh_err_GPa: float | None = None
    shear_vrh_err_GPa: float | None = None
    born_stable: bool


class PotentialRef(_Open):
    name: str
    sha256: str
    doi: str | None = None


class LowestT(_Open):
    temperature_K: float
    lattice_A: list[float]


class MDResult(_Open):
    """What one ``sse-driver md`` run measured (replicas combined), with its provenance."""

    schema_: Literal[SCHEMA] = Field(SCHEMA, alias="schema")
    #: per formula unit of the family's prototype (issue 32; older results: the cell's
    #: integer formula, which readers normalise)
    formula: str
    #: the simulated cell's own formula (since 2026-12-02)
    cell_formula: str | None = None
    potential: PotentialRef
    settings: dict[str, Any]
    temperatures: list[TemperatureResult] = Field(min_length=1)
    arrhenius: Arrhenius | None = None
    #: since 2026-11-30; absent in older results (``collective_arrhenius`` refits it)
    arrhenius_collective: Arrhenius | None = None
    haven_ratio: float
    elastic: Elastic
    npt_lowest_T: LowestT
    checks: dict[str, bool]
    provenance: dict[str, Any]

    def to_json(self) -> dict:
        """The document as given (the schema tag under its own name, every extra key, no
        field the writer did not give, a NaN still a float: fileio.atomic_write_json writes
        it as null, as it always has)."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def hottest(self) -> TemperatureResult:
        return max(self.temperatures, key=lambda t: t.temperature_K)

    def diffusive_count(self) -> int:
        """Temperatures that reached the diffusive regime with a positive D*."""
        return sum(1 for t in self.temperatures if t.diffusive and (t.D_cm2_s or 0) > 0)

    def collective_arrhenius(self) -> Arrhenius | None:
        """``arrhenius_collective``, or the same fit made from the temperatures for results
        written before that key existed."""
        if "arrhenius_collective" in self.model_fields_set:
            return self.arrhenius_collective
        from .analysis import arrhenius_summary
        arr = arrhenius_summary([t.model_dump() for t in self.temperatures], "sigma_collective")[1]
        return Arrhenius.model_validate(arr) if arr else None


class Moduli(_Open):
    """The elastic block as another stage reads it: the VRH moduli and their errors (an MD
    result's ``Elastic`` has them all; a hand-written file may give only these)."""

    bulk_vrh_GPa: float | None = None
    shear_vrh_GPa: float | None = None
    bulk_vrh_err_GPa: float | None = None
    shear_vrh_err_GPa: float | None = None


class MDProperties(_Open):
    """What the phase field reads of an MD result (phasefield/mdresult.py): sigma and D* per
    temperature, the moduli, the formula. Every ``MDResult`` document is one; so is a
    hand-written file with only these (sigma(T) and moduli measured elsewhere), which the
    phase field has always accepted. Each stage checks the numbers it uses where they enter
    (finite, positive): the model fixes the shape and the types."""

    formula: str | None = None
    temperatures: list[TemperatureResult] = Field(min_length=1)
    elastic: Moduli | None = None

    def per_temperature(self) -> list[dict]:
        """The temperatures as md.analysis.diffusive_points reads them."""
        return [t.model_dump() for t in self.temperatures]


class ResultFileError(ValueError):
    """A file that is not an MD result (or lacks what readers need): one line."""


def parse(data: dict, where: str = "MD result") -> MDResult:
    """A result document from its parsed JSON; ``ResultFileError`` naming the first field
    that is missing or of the wrong type."""
    try:
        return MDResult.model_validate(data)
    except ValidationError as exc:
        raise ResultFileError(f"{where} is not a result.json of `sse-driver md` "
                              f"({first_problem(exc)})") from None


def parse_properties(data: dict, where: str = "MD result") -> MDProperties:
    """``MDProperties`` from a parsed JSON object; ``ResultFileError`` naming the first field
    that is missing or of the wrong type."""
    try:
        return MDProperties.model_validate(data)
    except ValidationError as exc:
        raise ResultFileError(f"{where}: {first_problem(exc)}") from None


def read(path: str | Path) -> MDResult:
    """Load and check ``path`` (size-capped, UTF-8 JSON, the model above)."""
    what = "a result.json of `sse-driver md`"
    return parse(read_json_object(path, what, ResultFileError), str(path))
