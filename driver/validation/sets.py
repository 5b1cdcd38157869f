"""Validation sets: known electrolytes with measured room-temperature conductivities,
selected from the shipped OBELiX table by a rule written down before any result is seen.

The rule (``select_obelix``), applied to every row of ``driver/kb/data/obelix/all.csv``:

1. the row has a numeric room-temperature ionic conductivity (upper bounds such as
   "<1E-10" are not values and are left out);
2. its reduced composition is a member of a composition space the project models
   (``families.compositions.parse`` within the chemistry's limits, PHYSICAL_BOUNDS);
3. one of the preferred shipped potentials covers every species (the first that does is
   the one used: the fast, every-dopant softBV model first, then Pedone);
4. one conventional cell of the prototype holds it exactly (integer atoms on every
   site), so the simulated composition is the measured one, not a rounded neighbour;
5. rows of one composition are grouped: the experimental value is the median of their
   log10 sigma, and their minimum, maximum and count are kept as the spread.

Nothing in the rule looks at a prediction. The selected set is shipped as YAML
(``oxides_obelix.yaml``), and a test checks that the rule still produces exactly that file.
The same rule restricted to one family and its own potentials (``family_sets``, declared by
the family module) gives e.g. ``argyrodites_obelix.yaml`` (the ML potential alone; written
2026-11-30 before any prediction), for machines that can afford ML MD (GPU nodes).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
import yaml
from pydantic import Field, model_validator

from ..config import safe_yaml
from ..errors import UserError
from ..schema_base import Strict

HERE = Path(__file__).parent
DEFAULT_SET = HERE / "oxides_obelix.yaml"
#: the potentials tried in order; the first that covers a composition simulates it
PREFERRED_POTENTIALS = ("adams_rao2011", "pedone2006")


def family_sets() -> dict[str, dict]:
    """Per family that declares one (its module's ``VALIDATION_SET``: name and potentials),
    the keyword arguments of ``select_obelix`` for its own validation set."""
    from .. import families
    return {name: {**fam.VALIDATION_SET, "families": (name,)}
            for name, fam in families.FAMILIES.items() if fam.VALIDATION_SET is not None}


@dataclass
class Entry:
    """One composition of a validation set, with its measurements."""

    label: str
    formula: str
    family: str
    potential: str
    log10_sigma_median: float
    log10_sigma_min: float
    log10_sigma_max: float
    n_measurements: int
    obelix_ids: list[str] = field(default_factory=list)
    dois: list[str] = field(default_factory=list)


#: a measured log10 sigma (S/cm): finite, between insulators and liquids
LogSigma = Annotated[float, Field(ge=-20.0, le=3.0)]


class SetEntry(Strict):
    """One entry of a set file as it is read: every field typed, finite and in range."""

    label: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
    formula: str = Field(min_length=1, max_length=200)
    family: str = Field(min_length=1, max_length=64)
    potential: str = Field(min_length=1, max_length=200)
    log10_sigma_median: LogSigma
    log10_sigma_min: LogSigma
    log10_sigma_max: LogSigma
    n_measurements: int = Field(ge=1, le=1_000_000)
    obelix_ids: list[str] = Field(default_factory=list, max_length=10_000)
    dois: list[str] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _ordered(self) -> "SetEntry":
        if not self.log10_sigma_min <= self.log10_sigma_median <= self.log10_sigma_max:
            raise ValueError("log10_sigma_min <= log10_sigma_median <= log10_sigma_max must hold")
        return self


class SetFile(Strict):
    name: str = Field(min_length=1, max_length=200)
    rule: str = Field(max_length=100_000)
    source: str = Field(max_length=100_000)
    entries: list[SetEntry] = Field(max_length=100_000)   # empty: "no entries" below


def _family_of(formula: str) -> str | None:
    from ..errors import CompositionError
    from ..families.compositions import PHYSICAL_BOUNDS, parse
    try:
        return parse(formula, PHYSICAL_BOUNDS).family
    except CompositionError:
        return None


@dataclass
class ValidationSet:
    name: str
    rule: str
    source: str
    entries: list[Entry]

    def to_yaml(self) -> str:
        return yaml.safe_dump({"name": self.name, "rule": self.rule, "source": self.source,
                               "entries": [asdict(e) for e in self.entries]},
                              sort_keys=False, width=100)


def _label(formula: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._+-" else "_" for ch in formula)


def select_obelix(csv_path: Path | None = None,
                  potentials: tuple[str, ...] = PREFERRED_POTENTIALS,
                  supercell: tuple[int, int, int] = (1, 1, 1),
                  families: tuple[str, ...] | None = None,
                  name: str = "oxides-obelix") -> ValidationSet:
    """Apply the module's rule to the OBELiX table (the shipped copy by default),
    optionally to the members of some families only."""
    from ..errors import CompositionError
    from ..kb.experiment import obelix_measurements
    from ..families.compositions import PHYSICAL_BOUNDS, parse
    from ..families.structures import build
    from ..potentials import load as load_potential

    pots = [load_potential(p) for p in potentials]
    groups: dict[str, dict] = {}
    for r, sigma in obelix_measurements(csv_path):
        try:
            cand = parse(r["Reduced Composition"], PHYSICAL_BOUNDS)
        except CompositionError:
            continue
        if families is not None and cand.family not in families:
            continue
        pot = next((p for p in pots if not p.missing(set(cand.amounts))), None)
        if pot is None:
            continue
        realized = build(cand, supercell, seed=1).realized
        if any(abs(realized[k] - v) > 1e-6 for k, v in cand.variables.items()):
            continue
        g = groups.setdefault(cand.formula, {"cand": cand, "pot": pot.name, "logs": [],
                                             "ids": [], "dois": []})
        g["logs"].append(math.log10(sigma))
        g["ids"].append(r["ID"])
        if r["DOI"] not in g["dois"]:
            g["dois"].append(r["DOI"])
    entries = [Entry(_label(f), f, g["cand"].family, g["pot"],
                     round(float(np.median(g["logs"])), 4), round(min(g["logs"]), 4),
                     round(max(g["logs"]), 4), len(g["logs"]), g["ids"], g["dois"])
               for f, g in sorted(groups.items(), key=lambda t: (t[1]["cand"].family, t[0]))]
    rule = ("OBELiX rows with a numeric room-temperature conductivity, whose composition lies "
            "in a modelled composition space (physical limits), is covered by the first of "
            f"{', '.join(potentials)} that covers it, and is held exactly by a "
            f"{'x'.join(map(str, supercell))} cell of the prototype; grouped by composition, "
            "median log10 sigma (driver/validation/sets.py)")
    if families is not None:
        rule += f"; members of {', '.join(families)} only"
    return ValidationSet(name, rule,
                         "OBELiX (CC BY 4.0), driver/kb/data/obelix/SOURCE.md", entries)


def load_set(path: str | Path | None = None) -> ValidationSet:
    """A validation set file (YAML data, never code); a malformed one is a one-line error."""
    p = Path(path) if path else DEFAULT_SET
    if not p.is_file():
        raise UserError(f"--set {p}: file not found")
    d = safe_yaml(p.read_bytes(), f"--set {p}", UserError)   # YAML and encoding: one line
    from ..config import validate
    from ..errors import ConfigError
    try:
        doc = validate(SetFile, d if isinstance(d, dict) else {"entries": d}, f"--set {p}")
    except ConfigError as exc:
        detail = str(exc).removeprefix(f"--set {p}: ")
        raise UserError(f"--set {p}: not a validation set file ({detail}); see "
                        f"{DEFAULT_SET.name} for the format") from None
    entries = [Entry(**e.model_dump()) for e in doc.entries]
    vs = ValidationSet(doc.name, doc.rule, doc.source, entries)
    for i, e in enumerate(entries):
        fam = _family_of(e.formula)
        if fam != e.family:
            raise UserError(f"--set {p}: entries.{i}.family: {e.family!r}, but {e.formula} is "
                            f"{'not a member of any family' if fam is None else 'a ' + fam}; "
                            "give the family the formula parses to")
    if not vs.entries:
        raise UserError(f"--set {p}: no entries")
    labels = [e.label for e in vs.entries]
    if len(set(labels)) != len(labels):
        raise UserError(f"--set {p}: labels must be unique")
    return vs
