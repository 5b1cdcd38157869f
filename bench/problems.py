"""Test problems of bench/optimizer.py, numpy only: imported both by the project's side and
by the peers' environment (bench/optimizer_peers.py), so every method sees the same
functions, noise draws and initial points.

All problems are minimized; ``regret(x)`` is f(x) - f* with the noiseless f.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc


def branin(x):
    x1, x2 = x[0], x[1]
    a, b, c, r, s, t = 1, 5.1 / (4 * np.pi ** 2), 5 / np.pi, 6, 10, 1 / (8 * np.pi)
    return float(a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * np.cos(x1) + s)


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x):
    x = np.asarray(x, float)
    return -float(_H6_ALPHA @ np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)))


# A problem shaped like a campaign: two composition variables on the grid a 1x1x1 garnet
# cell realizes (Ta per formula unit in steps of 1/8, Ga in steps of 1/16), the objective
# -log10 sigma (minimized) with a smooth interior optimum, measured with an error that grows
# with the Ga content (slower, noisier MD), told to the optimizer as log10 sigma +- err.
# Invented for the benchmark: it is not a model of any material.
GRID = (0.125, 0.0625)


def snap(x):
    return [round(x[0] / GRID[0]) * GRID[0], round(x[1] / GRID[1]) * GRID[1]]


def campaign_neg_log_sigma(x):
    y, z = snap(x)
    return float(3.2 + 1.2 * (y - 0.6) ** 2 + 6.0 * (z - 0.2) ** 2 - 0.25 * np.sin(3.0 * y) * (1 - z))


def campaign_noise_sd(x):
    return 0.1 + 0.6 * snap(x)[1]          # decades: 0.1 .. 0.4


def _grid_min(f, bounds):
    ys = np.arange(bounds[0][0], bounds[0][1] + 1e-9, GRID[0])
    zs = np.arange(bounds[1][0], bounds[1][1] + 1e-9, GRID[1])
    return min(f([y, z]) for y in ys for z in zs)


@dataclass(frozen=True)
class Problem:
    name: str
    f: object
    bounds: list
    fstar: float
    noise: object = 0.0        # sd, a number or a function of x
    budget: int = 50
    n_initial: int = 5
    steps: tuple | None = None  # a grid (composition steps), None when continuous

    def noise_sd(self, x) -> float:
        return float(self.noise(x)) if callable(self.noise) else float(self.noise)

    def regret(self, x) -> float:
        return self.f(x) - self.fstar

    def initial(self, seed: int) -> np.ndarray:
        """The 5 scrambled-Sobol starting points every method gets for this seed."""
        lo, hi = np.array(self.bounds, float).T
        u = qmc.Sobol(len(self.bounds), scramble=True, seed=seed).random_base2(3)[:self.n_initial]
        return lo + u * (hi - lo)

    def noise_draws(self, seed: int, n: int) -> np.ndarray:
        """Standard normal draws of evaluation k (the same for every method)."""
        return np.random.default_rng(10_000 + seed).normal(size=n)


_CB = [(0.0, 2.0), (0.0, 0.5)]
PROBLEMS = {
    "branin": Problem("branin", branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887),
    "hartmann6": Problem("hartmann6", hartmann6, [(0.0, 1.0)] * 6, -3.32237),
    "hartmann6_noisy": Problem("hartmann6_noisy", hartmann6, [(0.0, 1.0)] * 6, -3.32237, noise=0.1),
    "campaign": Problem("campaign", campaign_neg_log_sigma, _CB, _grid_min(campaign_neg_log_sigma, _CB),
                        noise=campaign_noise_sd, budget=15, steps=GRID),
}
