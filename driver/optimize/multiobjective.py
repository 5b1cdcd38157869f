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
