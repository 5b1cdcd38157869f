"""What `sse-driver review DIR` lists: each candidate's status, formula, point, hot
conductivity, interface stability and the reviews it has had (accept, veto, rate)."""

from __future__ import annotations

import json


def table(led) -> list[str]:
    """The listing's lines, header first, from an open ledger."""
    reviews: dict[int, list[str]] = {}
    for r in led.reviews():
        reviews.setdefault(r["proposal_id"], []).append(
            r["action"] + (f" {r['rating']:g}" if r["rating"] is not None
                           and r["action"] == "rate" else ""))
    lines = [f"{'id':>4}  {'status':<7} {'formula':<28} {'x':<22} {'sigma_hot':>10} "
             f"{'stability':>12}  reviews"]
    for e in led.evaluations():
        o = e["outputs"] or {}
        sig = o.get("sigma_hot")
        stab = (f"{o['critical_current']:.3g} mA/cm2" if o.get("critical_current") is not None
                else "" if o.get("stability") is None else f"{o['stability']:.3f}")
        x = json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in e["x"].items()})
        lines.append(f"{e['proposal_id']:>4}  {e['status']:<7} {str(o.get('formula', '')):<28} "
                     f"{x:<22} {'' if sig is None else f'{sig:.3g}':>10} {stab:>12}  "
                     f"{', '.join(reviews.get(e['proposal_id'], []))}")
    return lines


def show(folder) -> None:
    """``sse-driver review DIR``: the table, from the ledger opened read-only."""
    from .ledger import Ledger
    led = Ledger.open(folder, readonly=True)
    try:
        print("\n".join(table(led)))
    finally:
        led.close()


def record(folder, pid: int, act: str, rate: float | None, radius: float, note: str) -> None:
    """Record an accept, veto (a constraint on future proposals within ``radius``,
    unit-scaled) or rating of candidate ``pid``, through the ledger's own transactions, so
    it is safe on a running campaign. The caller has checked every flag."""
    from ..errors import UserError
    from .ledger import Ledger
    led = Ledger.open(folder)
    try:
        x = led.proposal_x(pid)
        if x is None:
            raise UserError(f"review: no candidate {pid} in {folder} (see `sse-driver review "
                            f"{folder}`)")
        led.add_review(pid, act, {"rate": rate, "veto": radius, "accept": None}[act], note, x)
    finally:
        led.close()
    print(f"recorded {act} of candidate {pid} ({x})" + (
        f"; proposals within {radius:g} (unit-scaled) of it are excluded from now on"
        if act == "veto" else ""))

