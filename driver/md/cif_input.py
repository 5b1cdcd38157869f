"""A structure given as a CIF file to simulate (`sse-driver md --cif`, a screening list's
CIF entries): read, and refused in one line unless it is an ordered, Li-bearing cell, neutral
both by formal oxidation states and under the potential's own charges, with no overlapping
sites and of a size a CIF of one cell has. The same checks as a formula gets."""

from __future__ import annotations

from pathlib import Path

from ..errors import CompositionError, UserError


#: Largest CIF read for a simulation: a conventional cell of ~10^4 atoms is ~1 MB.
MAX_CIF_BYTES = 16 * 1024 * 1024


def read_cif(path: Path, where: str, pot):
    """An ordered, Li-bearing structure from a CIF that ``pot`` covers and that is neutral
    both by formal oxidation states and under ``pot``'s own charges, or a one-line UserError
    starting with ``where`` (``--cif`` or ``campaign.candidates[i]``). The same checks as a
    formula gets, for every CIF the driver simulates."""
    from pymatgen.core import Structure

    from ..kb.checks import charge_neutrality

    import warnings

    if not path.is_file():
        raise UserError(f"{where} {path}: file not found")
    if path.stat().st_size > MAX_CIF_BYTES:
        raise UserError(f"{where} {path}: {path.stat().st_size} bytes, more than a CIF of one "
                        f"cell needs ({MAX_CIF_BYTES}); give the conventional cell")
    try:
        with warnings.catch_warnings():   # pymatgen's parse warnings: the error is one line
            warnings.simplefilter("ignore")
            st = Structure.from_file(str(path))
    except Exception as exc:
        first = (str(exc).splitlines() or ["unreadable"])[0][:120]
        raise UserError(f"{where} {path}: cannot read as a CIF ({first})") from None
    if not st.is_ordered:
        raise CompositionError(f"{where} {path}: has partial occupancies; order it first (e.g. "
                               "pymatgen OrderDisorderedStructureTransformation) or give its "
                               "formula instead")
    st.remove_oxidation_states()
    _check_no_overlap(st, f"{where} {path}")
    formula = st.composition.reduced_formula
    neutral = charge_neutrality(formula)
    if not neutral.ok:
        raise CompositionError(f"{where} {path}: {neutral.reason}")
    if st.composition["Li"] == 0:
        raise CompositionError(f"{where} {path} ({formula}) has no Li: nothing to diffuse")
    try:
        pot.check_covers({el.symbol for el in st.composition})
    except UserError as exc:
        raise UserError(f"{where} {path} ({formula}): {exc}") from None
    check_model_neutral(pot, st, f"{where} {path}")
    return st


#: Closest approach of two sites taken as an overlap (pymatgen's Structure.is_valid default);
#: the shortest bonds of these electrolytes (P-O ~1.5 A, Li-O ~1.9 A) are three times longer.
MIN_SITE_DISTANCE_A = 0.5


def _check_no_overlap(st, where: str) -> None:
    """Refuse a cell with two sites closer than MIN_SITE_DISTANCE_A (a duplicated site, a
    symmetry operation applied twice, a wrong cell): the relax would push them apart with
    huge forces and the run would model no material."""
    i, j, _, d = st.get_neighbor_list(MIN_SITE_DISTANCE_A)
    pairs = [(a, b, x) for a, b, x in zip(i, j, d) if a < b or (a == b and x > 0)]
    if pairs:
        a, b, x = min(pairs, key=lambda p: p[2])
        raise CompositionError(
            f"{where}: sites {a + 1} ({st[a].specie}) and {b + 1} ({st[b].specie}) are "
            f"{x:.3f} A apart, closer than {MIN_SITE_DISTANCE_A} A ({len(pairs)} such pair"
            f"{'s' if len(pairs) > 1 else ''}): a duplicated site or a wrong cell; fix the CIF")


def check_model_neutral(pot, structure, where: str) -> None:
    """Refuse a cell that is not neutral under the potential's own charges: Ewald sums of a
    charged cell add a uniform background and the run is no model of the material. (A formula
    can be neutral with other oxidation states, e.g. LiO as the peroxide Li2O2, and still be
    charged for a rigid-ion model whose O is -2 in proportion.)"""
    counts = {el.symbol: n for el, n in structure.composition.items()}
    q = pot.net_charge(counts)
    if abs(q) > 1e-6 * max(1.0, sum(counts.values())):
        raise CompositionError(
            f"{where} ({structure.composition.reduced_formula}) is not charge-neutral under "
            f"{pot.name}'s charges (net {q:+.4g} e per cell); fix its composition")
