"""Composition spaces as data, charge-neutral by construction.

A point in a space is a few continuous variables (the dopant amounts); the formula
follows from them, so every point is neutral with formal oxidation states. Parsing a
user formula goes the other way and refuses formulas that are not in the space or not
neutral, saying what the right amount would be. What each space is belongs to its family
module (``driver/families/``); this module names none of them.
"""

from __future__ import annotations

from pymatgen.core import Composition as PmgComposition

from .. import families
from ..errors import CompositionError
from .base import TOL, Candidate, OutOfBounds, check_range  # noqa: F401  (the public names)

#: The chemistry's own limits of every family, for compositions a user names
#: (``md --composition``, a screening list); each family's ``BOUNDS`` is the optimizer's
#: default search box, these only refuse what cannot exist.
PHYSICAL_BOUNDS = families.physical_bounds()


#: the longest formula taken (a family member's is < 40 characters); longer text is refused
#: before it is parsed or echoed (issue 33: a 10 kB formula was echoed in full)
MAX_FORMULA = 200


def parse(formula: str, bounds: dict | None = None) -> Candidate:
    """The candidate of a formula such as ``Li1.5Al0.5Ge1.5(PO4)3``: the first family of
    ``families.FAMILIES`` that claims its elements parses it, with amounts per formula unit
    (normalized to the family's anion count). Surrounding blanks and a UTF-8 byte-order mark
    (what spreadsheets put before the first cell) are not part of the formula."""
    formula = formula.strip().lstrip("\ufeff").strip()
    if len(formula) > MAX_FORMULA:
        raise CompositionError(f"a formula of {len(formula)} characters ({formula[:30]!r}...) "
                               f"is not one (at most {MAX_FORMULA}); write it like "
                               "Li6.4La3Zr1.4Ta0.6O12")
    try:
        comp = PmgComposition(formula)
    except Exception:
        raise CompositionError(f"cannot parse formula {formula!r}; write it like "
                               "Li1.5Al0.5Ge1.5(PO4)3 or Li6.4La3Zr1.4Ta0.6O12") from None
    els = {e.symbol for e in comp.elements}
    fam = next((m for m in families.FAMILIES.values() if m.claims(els)), None)
    if fam is None:
        raise CompositionError(f"{formula}: neither " + " nor ".join(
            m.CLAIM for m in families.FAMILIES.values()) + "; no family's space holds it")
    anions = (fam.ANION,) if isinstance(fam.ANION, str) else fam.ANION   # one or a choice
    n_anion = sum(comp[a] for a in anions)
    n = {e: comp[e] * fam.ANION_COUNT / n_anion for e in els}   # per formula unit
    g = lambda e: n.get(e, 0.0)  # noqa: E731
    cand = fam.from_formula(formula, els, g, bounds)
    if abs(g("Li") - cand.amounts["Li"]) > 1e-3:
        raise CompositionError(
            f"{formula} is not charge-neutral: Li must be {cand.amounts['Li']:.4g} for this "
            f"dopant content (formula has Li{g('Li'):.4g}), i.e. {cand.formula}")
    return cand


def per_formula_unit(formula: str) -> str:
    """Any formula of a family member (a simulated cell's ``Li55La24Zr15TaO96`` or its reduced
    integer form) as the family writes it per formula unit (``Li6.875La3Zr1.875Ta0.125O12``);
    a formula no family parses is returned unchanged (it is shown, not used)."""
    try:
        return parse(formula, PHYSICAL_BOUNDS).display
    except (CompositionError, KeyError, ValueError, ZeroDivisionError):
        return formula
