"""Measured room-temperature conductivities of a composition, from the shipped OBELiX table
(CC BY 4.0, driver/kb/data/obelix/SOURCE.md), matched by composition (atom fractions), so a
simulated cell (Li13La6Zr3TaO24) finds the measurements of Li6.5La3Zr1.5Ta0.5O12."""

from __future__ import annotations

import csv
import math
from functools import lru_cache

from pymatgen.core import Composition


def composition_key(formula: str, digits: int = 3) -> tuple | None:
    """Atom fractions rounded to ``digits``: equal for formulas of the same composition."""
    try:
        frac = Composition(formula).fractional_composition
    except Exception:
        return None
    return tuple(sorted((el.symbol, round(float(n), digits)) for el, n in frac.items()))


SIGMA_COLUMN = "Ionic conductivity (S cm-1)"


def obelix_measurements(csv_path=None):
    """(row, sigma S/cm) of every OBELiX row with a finite, positive conductivity value (upper
    bounds such as "<1E-10" are not values); the shipped table unless ``csv_path``."""
    from .ingest import obelix_csv

    with open(csv_path or obelix_csv(), encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            try:
                sigma = float(r[SIGMA_COLUMN])
            except ValueError:
                continue
            if math.isfinite(sigma) and sigma > 0:
                yield r, sigma


@lru_cache(maxsize=1)
def _table() -> dict[tuple, list[tuple[float, str]]]:
    out: dict[tuple, list[tuple[float, str]]] = {}
    for r, sigma in obelix_measurements():
        key = composition_key(r["Reduced Composition"])
        if key is not None:
            out.setdefault(key, []).append((sigma, r["DOI"]))
    return out


def measured(formula: str) -> list[tuple[float, str]]:
    """(sigma S/cm, DOI) of every OBELiX measurement of this composition (empty if none)."""
    key = composition_key(formula)
    return list(_table().get(key, [])) if key else []
