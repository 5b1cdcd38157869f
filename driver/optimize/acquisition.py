"""Acquisition functions, all for maximization, in standardized units.

- log expected improvement, computed stably for very negative z (S. Ament, S. Daulton,
  D. Eriksson, M. Balandat, E. Bakshy, "Unexpected Improvements to Expected Improvement
  for Bayesian Optimization", NeurIPS 2023): EI underflows to 0 far from the incumbent and
  then gives no gradient or ranking; its logarithm keeps both;
- upper confidence bound mu + beta sigma;
- maximum variance (pure active learning, the second source document's mode);
each weighted by the probability of feasibility.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx, log_ndtr, logsumexp, ndtr

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z Phi(z)), stable for all z."""
    z = np.asarray(z, float)
    out = np.empty_like(z)
    hi = z > -1
    zh = z[hi]
    out[hi] = np.log(np.exp(-0.5 * zh ** 2 - _LOG_SQRT_2PI) + zh * ndtr(zh))
    mid = (~hi) & (z > -1e6)
    zm = z[mid]
    # phi(z) (1 + z Phi(z)/phi(z)), with Phi/phi = sqrt(pi/2) erfcx(-z/sqrt 2)
    out[mid] = (-0.5 * zm ** 2 - _LOG_SQRT_2PI
                + np.log1p(zm * np.sqrt(np.pi / 2) * erfcx(-zm / np.sqrt(2))))
    lo = ~(hi | mid)
    zl = z[lo]
    out[lo] = -0.5 * zl ** 2 - _LOG_SQRT_2PI - 2 * np.log(-zl)   # asymptote
    return out


def log_ei(mu: np.ndarray, sigma: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    z = (mu - best - xi) / sigma
    return np.log(sigma) + log_h(z)


def ucb(mu: np.ndarray, sigma: np.ndarray, beta: float = 2.0) -> np.ndarray:
    return mu + beta * sigma


def log_augmentation(sigma: np.ndarray, noise_sd: float) -> np.ndarray:
    """log(1 - tau / sqrt(sigma^2 + tau^2)): the factor of augmented EI (D. Huang,
    T. T. Allen, W. I. Notz, N. Zeng, J. Glob. Optim. 34, 441 (2006)) for a noisy objective.
    Where the model already knows the latent value (sigma << tau, a point sampled many
    times), one more noisy evaluation teaches little, and plain EI would keep re-sampling
    the incumbent (measured: noisy Hartmann-6 runs stuck re-evaluating one corner)."""
    if noise_sd <= 0:
        return np.zeros_like(np.asarray(sigma, float))
    return np.log1p(-noise_sd / np.sqrt(np.asarray(sigma, float) ** 2 + noise_sd ** 2))


def score(kind: str, mu: np.ndarray, sigma: np.ndarray, best: float, p_feas: np.ndarray,
          beta: float = 2.0, xi: float = 0.0, floor: float = -5.0,
          noise_sd: float = 0.0) -> np.ndarray:
    """The quantity to maximize, feasibility-weighted.

    ei: log EI + log p, augmented for noise (``noise_sd`` of one new evaluation, 0 for
    none); ucb: p (ucb - floor), the bound shifted to be positive (floor = a low
    standardized value) so that the weight acts as a probability. variance:
    log sigma + log p.
    """
    logp = np.log(np.clip(p_feas, 1e-300, 1.0))
    if kind == "ei":
        return log_ei(mu, sigma, best, xi) + log_augmentation(sigma, noise_sd) + logp
    if kind == "ucb":
        return np.clip(p_feas, 0, 1) * (ucb(mu, sigma, beta) - floor)
    if kind == "variance":
        return np.log(sigma) + logp
    raise ValueError(f"unknown acquisition {kind!r} (ei, ucb, variance)")


def average(kind: str, scores: np.ndarray) -> np.ndarray:
    """The mean over fantasy worlds (the last axis) of an acquisition given as ``score``
    returns it: log scores (ei, variance) are averaged as values (log-mean-exp), ucb
    directly."""
    S = np.asarray(scores, float)
    if kind == "ucb":
        return S.mean(axis=-1)
    return logsumexp(S, axis=-1) - np.log(S.shape[-1])


def probability_of_improvement_log(mu, sigma, best):
    return log_ndtr((mu - best) / sigma)
