"""A candidate as a typed file: how a composition crosses from the campaign to the MD stage
(``sse-driver md --candidate FILE``) with its family, variables and element roles kept.

Why: a formula string re-parsed on the other side of the process boundary loses what the
campaign knew (issue 31: its family was recovered from the realized formula, with the
default bounds, so an allowed composition outside the default box lost it). The file is
data, not code: every field is checked, and the candidate is rebuilt by its family's own
``make`` within the chemistry's physical limits, so a file cannot name a composition the
family would refuse; its formula must be the one that rebuilding gives.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import CompositionError
from ..fileio import atomic_write_json, read_json_object
from ..schema_base import first_problem
from .base import Candidate, get

SCHEMA = "sse-driver/candidate/1"


class CandidateFile(BaseModel):
    """What the file holds (strict: no other keys, no coerced types)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    schema_: Literal["sse-driver/candidate/1"] = Field(alias="schema")
    family: str = Field(max_length=64)
    variables: dict[str, float] = Field(max_length=16)
    species: dict[str, str] = Field(default_factory=dict, max_length=16)
    formula: str = Field(max_length=200)

    @field_validator("variables")
    @classmethod
    def _finite(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, x in v.items() if not math.isfinite(x)]
        if bad:
            raise ValueError(f"{bad[0]} must be a finite number")
        return v


def write(path: str | Path, cand: Candidate) -> Path:
    """The candidate's file (atomic)."""
    doc = CandidateFile(schema=SCHEMA, family=cand.family, variables=dict(cand.variables),
                        species=dict(cand.species), formula=cand.formula)
    atomic_write_json(path, doc.model_dump(by_alias=True))
    return Path(path)


def read(path: str | Path, what: str = "--candidate") -> Candidate:
    """The candidate of a file ``write`` wrote; CompositionError (one line naming the file
    and what is wrong) for anything else."""
    data = read_json_object(path, f"a candidate file ({what})", CompositionError)
    try:
        doc = CandidateFile.model_validate(data)
    except ValidationError as exc:
        raise CompositionError(f"{path}: {first_problem(exc)} (a candidate file, schema "
                               f"{SCHEMA})") from None
    try:
        fam = get(doc.family)
    except KeyError as exc:
        raise CompositionError(f"{path}: {exc.args[0]}") from None
    if set(doc.variables) != set(fam.VARIABLES):
        raise CompositionError(f"{path}: variables {sorted(doc.variables)} are not the "
                               f"{fam.NAME} family's {list(fam.VARIABLES)}")
    if not set(doc.species) <= set(fam.CHOICES):
        raise CompositionError(f"{path}: species roles {sorted(doc.species)} are not the "
                               f"{fam.NAME} family's {sorted(fam.CHOICES)}")
    try:
        cand = fam.make(**doc.variables, **doc.species, bounds=fam.PHYSICAL_BOUNDS)
    except (CompositionError, TypeError, ValueError) as exc:
        raise CompositionError(f"{path}: {exc}") from None
    if cand.formula != doc.formula:
        raise CompositionError(f"{path}: formula {doc.formula!r} is not that of its variables "
                               f"({cand.formula}); write the file with families.candidate_file")
    return cand
