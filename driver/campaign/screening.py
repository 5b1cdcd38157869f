"""Screening: a campaign that evaluates a list the user gives (``campaign.candidates``)
instead of the optimizer's proposals, through the same Dask execution, ledger, resume,
retries, status and report.

Each list entry becomes one ledger proposal whose ``x`` is a typed record
(:func:`screen_items`): its place in the list, the normalized formula or the absolute CIF
path, the potential that will simulate it and its label. Everything is checked before the
campaign writes anything (:func:`check_candidates`): a bad entry is one line naming its index.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import CompositionError, UserError

SCREEN_KEY = "screen"   # the key that marks a screening proposal's x


def is_screen(x: dict) -> bool:
    return SCREEN_KEY in x


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


def screen_items(settings, base: Path | None = None) -> list[dict]:
    """The checked, normalized proposals of a screening campaign, in list order.

    ``base`` resolves relative CIF paths (the config file's folder); the records hold
    absolute paths so a resumed campaign finds them from any working directory."""
    from ..families.compositions import PHYSICAL_BOUNDS, parse
    from ..potentials import load as load_potential

    items = []
    for i, c in enumerate(settings.campaign.candidates or []):
        where = f"campaign.candidates[{i}]"
        pot_name = c.potential or settings.md.potential
        try:
            pot = load_potential(pot_name)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        if c.formula is not None:
            try:
                cand = parse(c.formula, PHYSICAL_BOUNDS)
            except CompositionError as exc:
                raise CompositionError(f"{where}: {exc}") from None
            species = set(cand.amounts)
            rec = {"formula": cand.formula}
        else:
            path = Path(c.cif)
            if not path.is_absolute() and base is not None:
                path = base / path
            path = path.resolve()
            st = read_cif(path, where, pot)
            species = {el.symbol for el in st.composition}
            rec = {"cif": str(path), "formula": st.composition.reduced_formula}
        try:
            pot.check_covers(species)
        except UserError as exc:
            raise UserError(f"{where} ({rec['formula']}): {exc}") from None
        items.append({SCREEN_KEY: i, **rec, "potential": pot.name, "label": c.label})
    return _labelled(items)


def _labelled(items: list[dict]) -> list[dict]:
    """Give every item a label that names it alone in the results: the formula, or formula
    and potential where one formula is screened with several force fields (side by side).
    The same structure twice with the same potential would run the same seeds to the same
    result, and one label on two entries would make the results ambiguous: both refused."""
    def what(x):
        return (x.get("cif") or x["formula"], x["potential"])

    seen: dict = {}
    for x in items:
        first = seen.setdefault(what(x), x[SCREEN_KEY])
        if first != x[SCREEN_KEY]:
            raise UserError(
                f"campaign.candidates[{x[SCREEN_KEY]}] repeats campaign.candidates[{first}] "
                f"({what(x)[0]} with {x['potential']}): the same seeds give the same run; "
                "list it once (md.replicas repeats runs with new seeds)")
    group: dict = {}
    for x in items:
        if x["label"] is None:
            group.setdefault(x["formula"], []).append(x)
    for formula, xs in group.items():
        by_pot = len({x["potential"] for x in xs}) > 1
        for x in xs:
            parts = [formula]
            if by_pot:
                parts.append(x["potential"])
            if "cif" in x and sum(y["potential"] == x["potential"] for y in xs) > 1:
                parts.append(re.sub(r"[^A-Za-z0-9_.+-]", "_", Path(x["cif"]).stem))
            x["label"] = "_".join(parts)
    labels: dict = {}
    for x in items:
        first = labels.setdefault(x["label"], x[SCREEN_KEY])
        if first != x[SCREEN_KEY]:
            raise UserError(
                f"campaign.candidates[{x[SCREEN_KEY]}]: label {x['label']!r} already names "
                f"campaign.candidates[{first}]; give each entry its own label")
    return items


def md_source_args(x: dict) -> list[str]:
    """The ``sse-driver md`` arguments naming the structure of a screening proposal."""
    return ["--cif", x["cif"]] if "cif" in x else ["--composition", x["formula"]]


def checks(x: dict, md, supercell) -> list:
    """The logic-consistency checks of a screening proposal (kb/checks.py), run before MD."""
    from ..kb.checks import candidate_checks, charge_neutrality, md_ranges, potential_coverage
    from ..families.compositions import PHYSICAL_BOUNDS

    if "cif" in x:
        out = [charge_neutrality(x["formula"])]
        if out[0].ok:
            out.append(potential_coverage(x["formula"], x["potential"]))
        return out + md_ranges(md)
    return candidate_checks(x["formula"], x["potential"], md, supercell, bounds=PHYSICAL_BOUNDS)
