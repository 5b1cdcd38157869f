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

import numpy as np
import yaml

from ..config import safe_yaml
from ..errors import UserError

HERE = Path(__file__).parent
DEFAULT_SET = HERE / "oxides_obelix.yaml"
#: the potentials tried in order; the first that covers a composition simulates it
PREFERRED_POTENTIALS = ("adams_rao2011", "pedone2006")


def family_sets() -> dict[str, dict]:
    """Per family that declares one (its module's ``VALIDATION_SET``: name and potentials),
    the keyword arguments of ``select_obelix`` for its own validation set."""
    from .. import families
    return {name: {**fam.VALIDATION_SET, "families": (name,)}
            for name, fam in families.FAMILIES.items() if hasattr(fam, "VALIDATION_SET")}


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
    try:
        entries = [Entry(**{**e, "log10_sigma_median": float(e["log10_sigma_median"]),
                            "log10_sigma_min": float(e["log10_sigma_min"]),
                            "log10_sigma_max": float(e["log10_sigma_max"])})
                   for e in d["entries"]]
        vs = ValidationSet(str(d["name"]), str(d["rule"]), str(d["source"]), entries)
    except (KeyError, TypeError, ValueError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise UserError(f"--set {p}: not a validation set file ({first}); see "
                        f"{DEFAULT_SET.name} for the format") from None
    if not vs.entries:
        raise UserError(f"--set {p}: no entries")
    labels = [e.label for e in vs.entries]
    if len(set(labels)) != len(labels):
        raise UserError(f"--set {p}: labels must be unique")
    return vs
