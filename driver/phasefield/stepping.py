"""Error-based time-step control for the theta method (pure numpy; no DOLFINx).

Why a predictor: the solver's step must know its own local truncation error (LTE) to choose
the next step, not how hard Newton worked (a Newton count says nothing about accuracy, and
a tight Newton tolerance makes every step look "hard"). The classical device (Milne's; the
TR-AB2 scheme of Gresho, Lee & Sani, in Recent Advances in Numerical Methods in Fluids 1,
27 (1980), and Kay, Gresho, Griffiths & Silvester, SIAM J. Sci. Comput. 32, 111 (2010)) is to
compare the implicit solution with an explicit predictor of the same order: both errors are
multiples of the same derivative of the exact solution, so their difference gives the LTE.

Here the predictor is the Lagrange polynomial through the last p + 1 accepted states
(p = order of the scheme), which needs no time derivatives and holds for any step sequence:

    u(t) - P(t) = u^(p+1) / (p+1)! * prod_i (t - t_i)          (interpolation remainder)
    u_theta - u(t) = C k^(p+1) u^(p+1)                        (C = 1/12 Crank-Nicolson,
                                                                   theta - 1/2 otherwise)

so LTE = (u_theta - P) * C k^(p+1) / (C k^(p+1) + prod_i (t - t_i) / (p+1)!).
The predictor is also Newton's initial guess, which saves iterations.

Step rule: with err = RMS(LTE) / tolerance, a step is accepted when err <= 1. After an
accepted step the next is the PI rule dt * safety * err^(-0.7/(p+1)) * err_prev^(0.4/(p+1))
(Gustafsson, ACM TOMS 17, 533 (1991); Hairer & Wanner, Solving ODEs II, sec. IV.2); after a
rejection the elementary rule dt * safety * err^(-1/(p+1)) (Hairer, Norsett & Wanner, Solving
ODEs I, sec. II.4); the factor always within [SHRINK, GROW].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SAFETY = 0.9      # Hairer-Norsett-Wanner's usual factor (Solving ODEs I, sec. II.4)
GROW = 2.0        # at most x2 per step: the LTE model assumes a smooth step sequence (HNW
                  # allow up to 1.5-5; the smaller bound is our choice, not tuned to a result)
SHRINK = 0.2      # at least x0.2, HNW's facmin


def order_and_constant(theta: float) -> tuple[int, float]:
    """(order p, error constant C) of the theta method: Crank-Nicolson is second order with
    LTE k^3 u'''/12; any theta > 1/2 is first order with LTE (theta - 1/2) k^2 u''."""
    if abs(theta - 0.5) < 1e-12:
        return 2, 1.0 / 12.0
    return 1, theta - 0.5


def extrapolate(ts: list[float], us: list[np.ndarray], t: float) -> np.ndarray:
    """The Lagrange polynomial through (ts[i], us[i]) evaluated at t."""
    out = np.zeros_like(us[0])
    for i, (ti, ui) in enumerate(zip(ts, us)):
        w = 1.0
        for j, tj in enumerate(ts):
            if j != i:
                w *= (t - tj) / (ti - tj)
        out += w * ui
    return out


def lte_factor(ts: list[float], t: float, theta: float) -> float:
    """LTE / (u_theta - P(t)) for a step from ts[-1] to t with a predictor through ts."""
    p, C = order_and_constant(theta)
    k = t - ts[-1]
    prod = math.prod(t - ti for ti in ts)
    method = C * k ** (p + 1)
    return method / (method + prod / math.factorial(p + 1))


@dataclass
class ErrorController:
    """Keeps the last accepted states and proposes step sizes from their LTE estimate."""

    tolerance: float
    dt_min: float
    dt_max: float

    def __post_init__(self) -> None:
        self.ts: list[float] = []
        self.us: list[np.ndarray] = []
        self.err_prev: float | None = None

    def accepted(self, t: float, u: np.ndarray, keep: int = 3) -> None:
        self.ts.append(t)
        self.us.append(u.copy())
        del self.ts[:-keep], self.us[:-keep]

    def can_estimate(self, theta: float) -> bool:
        return len(self.ts) >= order_and_constant(theta)[0] + 1

    def predictor(self, t: float, theta: float) -> np.ndarray | None:
        """Newton's initial guess at t (the order-p extrapolation), or None without history."""
        p = order_and_constant(theta)[0]
        if len(self.ts) < 2:
            return None
        n = min(p + 1, len(self.ts))
        return extrapolate(self.ts[-n:], self.us[-n:], t)

    def error(self, u_new: np.ndarray, u_pred: np.ndarray, t: float, theta: float,
              rms) -> float:
        """err = RMS(LTE) / tolerance; ``rms`` reduces a local vector over all ranks."""
        p = order_and_constant(theta)[0]
        f = lte_factor(self.ts[-(p + 1):], t, theta)
        return rms(f * (u_new - u_pred)) / self.tolerance

    def next_dt(self, dt: float, err: float, theta: float, accepted: bool = True) -> float:
        """After an accepted step, the PI rule (Gustafsson, ACM TOMS 17, 533 (1991); Hairer &
        Wanner, Solving ODEs II, sec. IV.2): dt * safety * err^(-0.7/k) * err_prev^(0.4/k),
        k = p + 1, which damps the accept/reject oscillation of the plain rule; after a
        rejection, the plain rule dt * safety * err^(-1/k)."""
        k = order_and_constant(theta)[0] + 1
        err = max(err, 1e-10)
        if accepted and self.err_prev is not None:
            factor = SAFETY * err ** (-0.7 / k) * self.err_prev ** (0.4 / k)
        else:
            factor = SAFETY * err ** (-1.0 / k)
        if accepted:
            self.err_prev = max(err, 1e-4)
        factor = min(GROW, max(SHRINK, factor))
        return min(self.dt_max, max(self.dt_min, dt * factor))
