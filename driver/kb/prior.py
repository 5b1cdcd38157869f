"""Measured members of a campaign's space in the shipped OBELiX table: the data behind
``campaign.prior`` and the report's experiment column. In the knowledge-base layer, so the
campaign loop and its report both read it from below (issue 31: no loop <-> report circle).
"""

from __future__ import annotations


def experimental_prior(camp) -> list[tuple[dict, float, str]]:
    """(x, sigma_S_cm, doi) of OBELiX members of the campaign's family and framework whose
    composition lies in the campaign space (``camp``: the campaign settings section)."""
    import csv

    from ..errors import CompositionError
    from ..families.compositions import PHYSICAL_BOUNDS, parse
    from .ingest import obelix_csv

    out = []
    with open(obelix_csv(), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            try:
                cand = parse(r["Reduced Composition"], bounds=PHYSICAL_BOUNDS)
                sigma = float(r["Ionic conductivity (S cm-1)"])
            except (CompositionError, ValueError):
                continue
            if cand.family != camp.family or not cand.spec.matches_campaign(camp, cand):
                continue
            x = {k: cand.variables[k] for k in camp.variables}
            if all(camp.variables[k][0] <= v <= camp.variables[k][1] for k, v in x.items()):
                out.append((x, sigma, r["DOI"]))
    return out
