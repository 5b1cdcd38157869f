"""The meta loop: a controller that adapts the campaign from evidence, logging each decision
with its reason (ledger events). No magic: two rules, both documented in docs/campaign.md.

1. MD extension: an evaluation whose MSD never reached the diffusive regime at some
   temperature is re-run with twice the production time, up to ``max_prod_ps``.
2. Exploration vs exploitation: after each result the surrogate's prediction for that point
   (made before it was told) gives standardized residuals z = (y - mu) / sigma per objective.
   If the mean of z^2 over the last ``window`` results exceeds 4 (the model is overconfident:
   errors twice its own uncertainty), exploration is raised (EI: xi += 0.5; UCB: beta x 1.5);
   when it falls below 1 again, exploration decays back (xi x 0.5, beta toward 2).
"""

from __future__ import annotations

import numpy as np

from ..md.result import MDResult


def md_extension(md_result: MDResult, prod_ps: float,
                 max_prod_ps: float) -> tuple[float | None, str]:
    bad = [t.temperature_K for t in md_result.temperatures if not t.diffusive]
    if not bad:
        return None, "every temperature diffusive"
    new = 2 * prod_ps
    if new > max_prod_ps:
        return None, (f"not diffusive at {bad} K but doubling {prod_ps:g} ps would exceed the cap "
                      f"of {max_prod_ps:g} ps; kept as is (flagged)")
    return new, f"not diffusive at {bad} K: production extended {prod_ps:g} -> {new:g} ps"


def residuals(pred: dict, y: dict, objectives) -> list[float]:
    """Standardized residuals of a new result against the prediction made before telling it."""
    z = []
    for o in objectives:
        if o.name not in pred or not o.measurable(y.get(o.name)):
            continue
        m, s = pred[o.name]
        v = np.log10(y[o.name]) if o.log else y[o.name]
        z.append(float((v - m[0]) / max(s[0], 1e-12)))
    return z


def calibration_decision(z2_history: list[float], acquisition: str, xi: float, beta: float,
                         window: int = 5) -> tuple[float, float, str | None]:
    if len(z2_history) < window or acquisition not in ("ei", "ucb"):
        return xi, beta, None          # only EI's xi and UCB's beta steer exploration
    mz = float(np.mean(z2_history[-window:]))
    if mz > 4.0:
        if acquisition == "ucb":
            return xi, beta * 1.5, f"surrogate overconfident (mean z^2 = {mz:.1f} > 4 over {window}): UCB beta {beta:.2f} -> {beta * 1.5:.2f}"
        return xi + 0.5, beta, f"surrogate overconfident (mean z^2 = {mz:.1f} > 4 over {window}): EI xi {xi:.2f} -> {xi + 0.5:.2f}"
    if mz < 1.0 and (xi > 0 or beta > 2.0):
        nxi, nb = (xi * 0.5 if xi > 1e-3 else 0.0), max(2.0, beta / 1.5)
        return nxi, nb, f"surrogate calibrated (mean z^2 = {mz:.2f} < 1): exploration back to xi {nxi:.2f}, beta {nb:.2f}"
    return xi, beta, None
