"""Skill on record: what ``sse-driver validate`` measured, shipped beside the code.

A campaign's sigma(300 K) is only as good as the model and the MD protocol behind it; a
scientist reading a report should see, next to the numbers, how well that same model and
protocol ranked known electrolytes against experiment, or that nobody has measured it.
``validate`` writes its scores per family and estimator as records (``OUT/skill_records.yaml``);
the records of the runs documented in docs/validation.md ship in ``skill_records.yaml`` here,
and the campaign report looks up the ones whose family, potential and protocol are the
campaign's (``skill_lines``). A record is data, validated against ``SkillRecord``; it is
never fitted into a prediction.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, field_validator

from ..errors import UserError
from ..schema_base import Strict

#: the shipped records (the runs of docs/validation.md)
RECORDS = Path(__file__).with_name("skill_records.yaml")

#: the MD settings that make two runs the same protocol for a conductivity prediction
PROTOCOL_KEYS = ("supercell", "temperatures_k", "timestep_fs", "equil_ps", "prod_ps",
                 "replicas", "haven_ratio")


class Protocol(Strict):
    supercell: list[int] = Field(min_length=3, max_length=3)
    temperatures_k: list[float] = Field(min_length=1)
    timestep_fs: float
    equil_ps: float
    prod_ps: float
    replicas: int = Field(ge=1)
    haven_ratio: float


class RecordScores(Strict):
    """skill.Scores with ``None`` where the score is not defined (too few predictions)."""
    n: int
    n_predicted: int
    spearman: float | None
    spearman_ci95: tuple[float, float] | None
    kendall: float | None
    kendall_ci95: tuple[float, float] | None
    mae_log10: float | None
    medae_log10: float | None
    bias_log10: float | None
    coverage95: float | None


class SkillRecord(Strict):
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")

    @field_validator("date", mode="before")
    @classmethod
    def _iso(cls, v):          # an unquoted YAML date is read as a date object
        return v.isoformat() if isinstance(v, datetime.date) else v

    commit: str | None = Field(None, pattern=r"^[0-9a-f]{7,40}$")
    set: str
    preset: str | None
    family: str
    potential: str
    estimator: Literal["tracer", "collective"]
    protocol: Protocol
    scores: RecordScores
    run_cost_core_hours: float | None = Field(
        None, description="the whole validate run (every family of it), core-hours")
    reference: str = Field("", description="where the run is documented")


def protocol_of(md_settings: dict) -> dict:
    """The protocol keys of an MD settings dict, numbers normalized (int cells, float rest)."""
    p = {k: md_settings[k] for k in PROTOCOL_KEYS}
    p["supercell"] = [int(v) for v in p["supercell"]]
    p["temperatures_k"] = [float(v) for v in p["temperatures_k"]]
    for k in ("timestep_fs", "equil_ps", "prod_ps", "haven_ratio"):
        p[k] = float(p[k])
    p["replicas"] = int(p["replicas"])
    return p


def _finite(v):
    if isinstance(v, (list, tuple)):
        vals = [_finite(x) for x in v]
        return None if any(x is None for x in vals) else tuple(vals)
    return None if v is None or not math.isfinite(float(v)) else float(v)


def _scores(d: dict) -> RecordScores:
    return RecordScores(n=int(d["n"]), n_predicted=int(d["n_predicted"]),
                        **{k: _finite(d[k]) for k in RecordScores.model_fields
                           if k not in ("n", "n_predicted")})


def records_from_result(result: dict, family_potentials: dict[str, str],
                        commit: str | None = None, reference: str = "") -> list[SkillRecord]:
    """The records of one validation result (``validation.json``): one per family and
    estimator (the group ``all`` mixes potentials, so it is not a record)."""
    out = []
    proto = Protocol(**protocol_of(result["md_settings"]))
    for est, key in (("tracer", "scores"), ("collective", "scores_collective")):
        for fam, sc in sorted((result.get(key) or {}).items()):
            if fam == "all":
                continue
            out.append(SkillRecord(
                date=result["date"], commit=commit, set=result["set"], preset=result["preset"],
                family=fam, potential=family_potentials[fam], estimator=est, protocol=proto,
                scores=_scores(sc), run_cost_core_hours=result.get("cost_core_hours"),
                reference=reference))
    return out


def dump_records(records: list[SkillRecord]) -> str:
    return yaml.safe_dump([r.model_dump(mode="json") for r in records], sort_keys=False,
                          default_flow_style=None, width=100)


def load_records(path: str | Path = RECORDS) -> list[SkillRecord]:
    """The records of a YAML file (a list of SkillRecord); a bad file is a one-line UserError."""
    path = Path(path)
    i = None
    try:
        data = yaml.safe_load(path.read_text()) or []
        if not isinstance(data, list):
            raise ValueError("the file must hold a list of records")
        out = []
        for i, d in enumerate(data):
            if not isinstance(d, dict):
                raise ValueError("a record must be a mapping")
            out.append(SkillRecord(**d))
        return out
    except (OSError, yaml.YAMLError, ValueError, TypeError) as exc:
        first = (exc.errors()[0] if isinstance(exc, ValidationError)
                 else {"loc": (), "msg": str(exc).splitlines()[0]})
        where = ".".join(str(x) for x in ((f"record {i}",) if i is not None else ())
                         + tuple(first["loc"]))
        raise UserError(f"{path}: not a skill-record file ({where + ': ' if where else ''}"
                        f"{first['msg']}); write it as sse-driver validate writes "
                        "OUT/skill_records.yaml") from None


def differences(a: dict, b: dict) -> list[str]:
    """The protocol keys where a record's protocol ``a`` differs from ``b``, as text."""
    return [f"{k} {a[k]} on record, {b[k]} here" for k in PROTOCOL_KEYS if a[k] != b[k]]


def describe(r: SkillRecord) -> str:
    """One line: the scores of a record with their intervals and where they come from."""
    s = r.scores

    def f(v, spec=".2f"):
        return "n/a" if v is None else format(v, spec)

    def ci(v):
        return "" if v is None else f" [{v[0]:.2f}, {v[1]:.2f}]"

    return (f"{r.family}, {r.potential}, sigma from {r.estimator} D: Spearman "
            f"{f(s.spearman)}{ci(s.spearman_ci95)}, MAE {f(s.mae_log10)} decades, bias "
            f"{f(s.bias_log10, '+.2f')}, 95 % coverage {f(s.coverage95)} ({s.n_predicted} of "
            f"{s.n} known compositions predicted; validate {r.date}, set {r.set}, preset "
            f"{r.preset}{', ' + r.reference if r.reference else ''})")


def skill_lines(family: str, potential: str, md_settings: dict,
                records: list[SkillRecord] | None = None) -> list[str]:
    """What is on record for a family, potential and MD protocol: the records of exactly this
    protocol, else the nearest ones of the same family and potential with what differs, else
    a plain statement that the skill is unmeasured."""
    records = load_records() if records is None else records
    mine = protocol_of(md_settings)
    same = [(r, differences(r.protocol.model_dump(), mine)) for r in records
            if r.family == family and r.potential == potential]
    if not same:
        return [f"no validation on record for {family} with {potential}: the skill of these "
                "numbers against experiment is unmeasured (run sse-driver validate)"]
    fewest = min(len(d) for _, d in same)
    if fewest == 0:
        return [f"measured with this protocol: {describe(r)}" for r, d in same if not d]
    return ["no validation on record with this protocol; nearest (" + "; ".join(d)
            + f"): {describe(r)}" for r, d in same if len(d) == fewest]
