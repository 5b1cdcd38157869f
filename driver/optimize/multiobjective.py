"""Multi-objective tools: AHP weights with consistency ratio, Pareto front, hypervolume,
and exact Shapley attribution of a fused score to its components."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from ..errors import ConfigError

# Saaty's random consistency indices RI(n), n = 1..10 (T. L. Saaty, The Analytic
# Hierarchy Process, McGraw-Hill, 1980).
RANDOM_INDEX = [0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def ahp_weights(matrix) -> dict:
    """Weights from a reciprocal pairwise-comparison matrix (principal eigenvector),
    lambda_max, consistency index CI = (lambda_max - n)/(n - 1) and ratio CR = CI / RI(n).
    Warns when CR > 0.1 (Saaty's threshold for acceptable consistency)."""
    A = np.asarray(matrix, float)
    n = A.shape[0]
    if A.ndim != 2 or A.shape != (n, n) or n < 1 or n > len(RANDOM_INDEX):
        raise ConfigError(f"AHP matrix must be square, 1..{len(RANDOM_INDEX)} wide; got {A.shape}")
    if np.any(A <= 0) or not np.allclose(A * A.T, 1.0, rtol=1e-6):
        raise ConfigError("AHP matrix must be positive and reciprocal (a_ji = 1 / a_ij)")
    vals, vecs = np.linalg.eig(A)
    k = int(np.argmax(vals.real))
    w = np.abs(vecs[:, k].real)
    w /= w.sum()
    lam = float(vals[k].real)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    cr = ci / RANDOM_INDEX[n - 1] if RANDOM_INDEX[n - 1] > 0 else 0.0
    if cr > 0.1:
        warnings.warn(f"AHP consistency ratio {cr:.3f} > 0.1: the pairwise judgements "
                      "contradict each other; revise the matrix", stacklevel=2)
    return {"weights": w.tolist(), "lambda_max": lam, "CI": float(ci), "CR": float(cr),
            "consistent": bool(cr <= 0.1)}


def pareto_mask(Y) -> np.ndarray:
    """Non-dominated rows of Y (all objectives maximized)."""
    Y = np.asarray(Y, float)
    mask = np.ones(len(Y), bool)
    for i in range(len(Y)):
        if mask[i]:
            dominated = np.all(Y <= Y[i], axis=1) & np.any(Y < Y[i], axis=1)
            mask[dominated] = False
    return mask


def hypervolume(Y, ref) -> float:
    """Volume dominated by the rows of Y (maximization) and bounded below by ``ref``.
    Exact, by recursive slicing over the first objective (fine for the front sizes of a
    campaign: tens to hundreds of points, 2-4 objectives)."""
    Y = np.asarray(Y, float)
    ref = np.asarray(ref, float)
    Y = Y[np.all(Y > ref, axis=1)]
    if len(Y) == 0:
        return 0.0
    Y = Y[pareto_mask(Y)]
    if Y.shape[1] == 1:
        return float(Y[:, 0].max() - ref[0])
    order = np.argsort(-Y[:, 0])
    Y = Y[order]
    vol = 0.0
    for i in range(len(Y)):
        lo = Y[i + 1, 0] if i + 1 < len(Y) else ref[0]
        width = Y[i, 0] - lo
        if width > 0:
            vol += width * hypervolume(Y[:i + 1, 1:], ref[1:])
    return float(vol)


def shapley(value, x, baseline) -> np.ndarray:
    """Exact Shapley values of ``value`` at components ``x`` against ``baseline``:
    phi_i = sum over subsets S without i of |S|! (n-|S|-1)! / n! [v(S+i) - v(S)], where
    v(S) evaluates ``value`` with components in S from x and the rest from baseline.
    They sum to value(x) - value(baseline) (efficiency)."""
    x, b = np.asarray(x, float), np.asarray(baseline, float)
    n = len(x)
    if n > 12:
        raise ValueError("exact Shapley values need 2^n evaluations; n <= 12")
    cache = {}

    def v(S: frozenset) -> float:
        if S not in cache:
            z = b.copy()
            idx = list(S)
            z[idx] = x[idx]
            cache[S] = float(value(z))
        return cache[S]

    phi = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for r in range(n):
            for S in itertools.combinations(others, r):
                w = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
                S = frozenset(S)
                phi[i] += w * (v(S | {i}) - v(S))
    return phi


# ---------------------------------------------------------- hypervolume improvement (EHVI)
# Why: with two or three objectives that trade off (conductivity against stability or
# stiffness), a weighted sum needs weights the user rarely knows; expected hypervolume
# improvement (EHVI; M. Emmerich, K. Giannakoglou, B. Naujoks, IEEE Trans. Evol. Comput. 10,
# 421 (2006)) rewards any candidate that would push the Pareto front outwards. The optimizer
# takes the expectation by Monte Carlo over the independent GP posteriors (as BoTorch's qEHVI
# does with its samples; S. Daulton, M. Balandat, E. Bakshy, NeurIPS 2020), so it needs the
# improvement of many sampled points over one fixed front, vectorized here and exact:
# - 2-D: the region the front does not dominate is a staircase of vertical strips; a point's
#   improvement is the sum over strips of its overlap with each;
# - 3-D: slicing along the third objective, the front's cross-section changes only at its
#   points' third coordinates, so the improvement is a sum of 2-D improvements times slab
#   thicknesses.

def reference_point(Y, margin: float = 0.1) -> np.ndarray:
    """The worst value of each objective minus ``margin`` of its range (BoTorch's
    infer_reference_point rule): points on the data's edge still add volume."""
    Y = np.asarray(Y, float)
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    return lo - margin * np.maximum(hi - lo, 1e-9)


def _relevant(P, r: np.ndarray) -> np.ndarray:
    """The non-dominated points of P that dominate some volume above r."""
    P = np.asarray(P, float).reshape(-1, len(r))
    P = P[np.all(P > r, axis=1)]
    return P[pareto_mask(P)] if len(P) else P


def _hvi_2d(Y: np.ndarray, P: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Improvement of each row of Y (..., 2) over the relevant 2-D front P."""
    if len(P) == 0:
        return np.prod(np.clip(Y - r, 0, None), axis=-1)
    P = P[np.argsort(P[:, 0])]                       # v1 ascending, so v2 descending
    a = np.concatenate([[r[0]], P[:, 0]])            # strip i: v1 in [a_i, a_next_i)
    a_next = np.concatenate([P[:, 0], [np.inf]])
    b = np.concatenate([P[:, 1], [r[1]]])            # undominated above v2 = b_i
    width = np.clip(np.minimum(Y[..., 0:1], a_next) - a, 0, None)
    height = np.clip(Y[..., 1:2] - b, 0, None)
    return np.sum(width * height, axis=-1)


def hvi(Y, P, r) -> np.ndarray:
    """Hypervolume improvement of each point of Y (..., d) over the points P, w.r.t. the
    reference point r (maximization; d = 1, 2 or 3)."""
    Y, r = np.asarray(Y, float), np.asarray(r, float)
    d = len(r)
    P = _relevant(P, r)
    if d == 1:
        best = P[:, 0].max() if len(P) else r[0]
        return np.clip(Y[..., 0] - best, 0, None)
    if d == 2:
        return _hvi_2d(Y, P, r)
    if d != 3:
        raise ValueError(f"hypervolume improvement for 1-3 objectives, got {d}")
    levels = np.unique(np.concatenate([[r[2]], P[:, 2]]))
    tops = np.concatenate([levels[1:], [np.inf]])
    out = np.zeros(Y.shape[:-1])
    for lo, hi in zip(levels, tops):
        thick = np.clip(np.minimum(Y[..., 2], hi) - lo, 0, None)
        if not np.any(thick > 0):
            continue
        above = _relevant(P[P[:, 2] >= hi][:, :2], r[:2]) if np.isfinite(hi) else P[:0, :2]
        out += thick * _hvi_2d(Y[..., :2], above, r[:2])
    return out
