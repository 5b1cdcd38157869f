"""Skill scores of predictions against experiment, as pure functions on log10 values.

- rank agreement: Spearman rho and Kendall tau-b (scipy.stats, ties averaged), each with a
  percentile bootstrap 95 % interval over compositions (pairs resampled with replacement;
  Efron & Tibshirani, An Introduction to the Bootstrap (1993), ch. 13);
- error: mean and median absolute error and mean signed error (bias, prediction minus
  experiment) of log10 sigma, in decades;
- calibration: the fraction of experimental values (the median of a composition's
  measurements) inside the predicted 95 % interval.

A composition without a prediction (no Arrhenius fit) cannot be ranked or scored for
error; it is counted in ``n_missing`` and, for coverage, as outside its interval: an
absent interval covers nothing.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Pair:
    """One composition: experiment and prediction (log10 S/cm; prediction None if absent)."""

    label: str
    family: str
    exp: float
    pred: float | None
    pred_lo95: float | None = None
    pred_hi95: float | None = None


def spearman(x, y) -> float:
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def kendall(x, y) -> float:
    from scipy.stats import kendalltau

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(kendalltau(x, y).statistic)   # tau-b


def bootstrap_interval(stat, x, y, n: int = 2000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of ``stat(x*, y*)`` over ``n`` resamples of the pairs; resamples
    on which the statistic is undefined (all ties) are dropped."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n):
        i = rng.integers(0, len(x), len(x))
        v = stat(x[i], y[i])
        if math.isfinite(v):
            vals.append(v)
    if not vals:
        return (float("nan"), float("nan"))
    a = (1 - level) / 2
    return (float(np.quantile(vals, a)), float(np.quantile(vals, 1 - a)))


@dataclass
class Scores:
    n: int                 # compositions in the set
    n_predicted: int
    n_missing: int
    spearman: float
    spearman_ci95: tuple[float, float]
    kendall: float
    kendall_ci95: tuple[float, float]
    mae_log10: float
    medae_log10: float     # median absolute error: robust to one far-off composition
    bias_log10: float
    coverage95: float      # over all n compositions (a missing prediction covers nothing)
    n_covered: int

    def as_dict(self) -> dict:
        return asdict(self)


def score(pairs: list[Pair], n_boot: int = 2000, seed: int = 0) -> Scores:
    have = [p for p in pairs if p.pred is not None and math.isfinite(p.pred)]
    x = np.array([p.exp for p in have], float)
    y = np.array([p.pred for p in have], float)
    covered = sum(1 for p in have if p.pred_lo95 is not None and p.pred_hi95 is not None
                  and p.pred_lo95 <= p.exp <= p.pred_hi95)
    err = y - x
    return Scores(
        n=len(pairs), n_predicted=len(have), n_missing=len(pairs) - len(have),
        spearman=spearman(x, y), spearman_ci95=bootstrap_interval(spearman, x, y, n_boot, seed),
        kendall=kendall(x, y), kendall_ci95=bootstrap_interval(kendall, x, y, n_boot, seed),
        mae_log10=float(np.mean(np.abs(err))) if len(have) else float("nan"),
        medae_log10=float(np.median(np.abs(err))) if len(have) else float("nan"),
        bias_log10=float(np.mean(err)) if len(have) else float("nan"),
        coverage95=covered / len(pairs) if pairs else float("nan"), n_covered=covered)


def score_by_family(pairs: list[Pair], n_boot: int = 2000, seed: int = 0) -> dict[str, Scores]:
    """Scores of all pairs (key ``all``) and of each family's pairs."""
    out = {"all": score(pairs, n_boot, seed)}
    for fam in sorted({p.family for p in pairs}):
        out[fam] = score([p for p in pairs if p.family == fam], n_boot, seed)
    return out
