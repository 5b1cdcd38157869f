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
from ..md.cif_input import read_cif

SCREEN_KEY = "screen"   # the key that marks a screening proposal's x


def is_screen(x: dict) -> bool:
    return SCREEN_KEY in x


def read_list(path: Path) -> list[dict]:
    """A screening list: one candidate per line, ``FORMULA|FILE.cif [POTENTIAL] [LABEL]``;
    ``#`` starts a comment. CIF paths are relative to the list's folder."""
    if not path.is_file():
        raise UserError(f"{path}: screening list not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file (one formula or CIF path per line)") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 3:
            raise UserError(f"{path}:{n}: expected FORMULA|FILE.cif [POTENTIAL] [LABEL], got "
                            f"{len(words)} words")
        key = "cif" if words[0].lower().endswith(".cif") else "formula"
        value = str((path.parent / words[0]).resolve()) if key == "cif" else words[0]
        c = {key: value}
        if len(words) > 1:
            c["potential"] = words[1]
        if len(words) > 2:
            c["label"] = words[2]
        out.append(c)
    if not out:
        raise UserError(f"{path}: no candidates (one formula or CIF path per line)")
    return out


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
