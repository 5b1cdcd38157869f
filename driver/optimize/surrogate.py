"""Gaussian-process surrogates (scikit-learn) with the transformations they need.

- inputs: the free variables scaled to the unit cube (the optimizer does this);
- outputs: optional log10 (conductivities span decades), then standardized;
- kernel: Constant x Matern(nu = 5/2, one length scale per input: ARD) + White noise;
- hyperparameter priors (``prior_set``; ``gamma`` by default: BoTorch's SingleTaskGP set
  up to 0.11; ``dimension-scaled``: Hvarfner et al., ICML 2024). The fit is maximum a
  posteriori (marginal likelihood times prior), so 2-10 points cannot collapse the length
  scales to the data spacing (maximum likelihood went to the 0.01 bound and the surrogate
  became a flat line with spikes);
- multi-start: the MAP search starts from the priors' modes and from ``n_restarts`` draws
  of the priors (seeded), L-BFGS-B with the analytic gradient;
- per-point noise: each result's own uncertainty becomes its ``alpha`` (variance in the
  standardized output units), so a noisy MD estimate pulls the mean less than a sharp one;
  the White term learns what the error bars do not say;
- large data: the hyperparameters are fitted on a random subset of at most
  ``max_fit_points`` (200) observations (the O(n^3) search is the cost); the final model
  conditions on all points with those hyperparameters fixed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

JITTER = 1e-8
#: bounds of the search (log space): wide, the priors do the regularizing
LENGTH_BOUNDS = (1e-2, 1e3)
NOISE_BOUNDS = (1e-8, 1.0)
OUTPUTSCALE_BOUNDS = (1e-2, 1e3)
_PRIORS = {   # name -> (output scale, length scale as a function of dim, noise variance)
    "gamma": (("gamma", 2.0, 0.15), lambda dim: ("gamma", 3.0, 6.0), ("gamma", 1.1, 0.05)),
    "dimension-scaled": (("gamma", 2.0, 0.15),
                         lambda dim: ("lognormal", math.sqrt(2.0) + 0.5 * math.log(dim), math.sqrt(3.0)),
                         ("lognormal", -4.0, 1.0)),
}
PRIOR_SETS = tuple(_PRIORS)


def prior_set(name: str, dim: int) -> tuple[tuple, tuple, tuple]:
    """(output scale, length scale, noise variance) priors, each ("gamma", shape, rate) or
    ("lognormal", mu, sigma), on the unit cube with standardized outputs.

    - ``gamma``: BoTorch's SingleTaskGP default up to 0.11 (botorch.models.utils.gpytorch_
      modules: Gamma(2, 0.15) output scale, Gamma(3, 6) length scales, Gamma(1.1, 0.05)
      noise), which BoTorch's own documentation calls well suited to low-dimensional,
      noisy problems: campaigns have 1-3 composition variables and MD error bars;
    - ``dimension-scaled``: the length-scale prior LogNormal(sqrt 2 + ln(d)/2, sqrt 3) and
      noise prior LogNormal(-4, 1) of C. Hvarfner, E. O. Hellsten, L. Nardi, ICML 2024
      (arXiv:2402.02229), BoTorch's default since 0.12, with the Gamma(2, 0.15) output
      scale (the paper drops the output scale; without it two standardized points, always
      at +-1, drive the length scale to their spacing - measured)."""
    if name not in _PRIORS:
        raise ValueError(f"unknown GP prior set {name!r} ({', '.join(PRIOR_SETS)})")
    c, ell, noise = _PRIORS[name]
    return c, ell(dim), noise


def _log_prior(theta: np.ndarray, priors: list[tuple]) -> tuple[float, np.ndarray]:
    """Sum of the priors' log densities at v = exp(theta) (the hyperparameters' own
    densities, as GPyTorch adds them to the marginal likelihood, so the MAP point is
    BoTorch's), and the gradient with respect to theta."""
    lp, g = np.zeros(len(theta)), np.zeros(len(theta))
    for i, (kind, a, b) in enumerate(priors):
        t = theta[i]
        if kind == "gamma":          # log p(v) = (a - 1) log v - b v
            lp[i], g[i] = (a - 1) * t - b * math.exp(t), (a - 1) - b * math.exp(t)
        else:                        # lognormal: log p(v) = -log v - (log v - a)^2 / 2b^2
            lp[i], g[i] = -t - 0.5 * ((t - a) / b) ** 2, -1.0 - (t - a) / b ** 2
    return float(lp.sum()), g


def _prior_centre(kind: str, a: float, b: float) -> float:
    """log of the prior's mode (where the search starts)."""
    if kind == "gamma":
        return math.log(max(a - 1, 0.1) / b)
    return a - b ** 2


def _prior_draw(rng, kind: str, a: float, b: float) -> float:
    return math.log(rng.gamma(a, 1.0 / b)) if kind == "gamma" else rng.normal(a, b)


class GPSurrogate:
    def __init__(self, dim: int, log_transform: bool = False, n_restarts: int = 5,
                 seed: int = 0, max_fit_points: int = 200, priors: str = "gamma"):
        self.dim, self.log, self.n_restarts, self.seed = dim, log_transform, n_restarts, seed
        self.priors = priors
        prior_set(priors, dim)   # a bad name fails here, not at the first fit
        self.max_fit_points = max_fit_points
        self.gp: GaussianProcessRegressor | None = None

    def transform(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, float)
        if self.log:
            if np.any(y <= 0):
                raise ValueError("log-transformed objective needs positive values")
            return np.log10(y)
        return y

    def transform_err(self, y: np.ndarray, err: np.ndarray) -> np.ndarray:
        """Standard error in the transformed units (delta method for log10)."""
        err = np.asarray(err, float)
        return err / (np.asarray(y, float) * np.log(10)) if self.log else err

    def _priors(self) -> list[tuple]:
        """One prior per entry of the kernel's theta: output scale, d length scales, noise."""
        c, ell, noise = prior_set(self.priors, self.dim)
        return [c] + [ell] * self.dim + [noise]

    def _kernel(self):
        centre = [math.exp(_prior_centre(*p)) for p in self._priors()]
        return (ConstantKernel(centre[0], OUTPUTSCALE_BOUNDS)
                * Matern(length_scale=np.array(centre[1:-1]), length_scale_bounds=LENGTH_BOUNDS, nu=2.5)
                + WhiteKernel(float(np.clip(centre[-1], *NOISE_BOUNDS)), NOISE_BOUNDS))

    def _map_optimizer(self, n_restarts: int):
        """A scikit-learn ``optimizer`` callable: MAP instead of maximum likelihood,
        multi-started from the priors' modes and ``n_restarts`` prior draws (seeded)."""
        priors = self._priors()
        rng = np.random.default_rng(self.seed)

        def optimize(obj_func, theta0, bounds):
            def neg_log_post(theta):
                nll, grad = obj_func(theta, eval_gradient=True)
                lp, dlp = _log_prior(theta, priors)
                return nll - lp, grad - dlp

            starts = [np.array([_prior_centre(*p) for p in priors])]
            starts += [np.array([_prior_draw(rng, *p) for p in priors]) for _ in range(n_restarts)]
            best = None
            for s in starts:
                r = minimize(neg_log_post, np.clip(s, bounds[:, 0], bounds[:, 1]), jac=True,
                             method="L-BFGS-B", bounds=bounds)
                if np.isfinite(r.fun) and (best is None or r.fun < best.fun):
                    best = r
            return (best.x, best.fun) if best is not None else (starts[0], np.inf)
        return optimize

    def fit(self, U: np.ndarray, y: np.ndarray, y_err: np.ndarray | None = None) -> "GPSurrogate":
        U = np.asarray(U, float)
        t = self.transform(y)
        self.mean, self.std = float(t.mean()), float(t.std()) or 1.0
        z = (t - self.mean) / self.std
        e = np.zeros_like(z) if y_err is None else np.nan_to_num(self.transform_err(y, y_err)) / self.std
        alpha = e ** 2 + JITTER
        rng = np.random.default_rng(self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sub = (rng.choice(len(z), self.max_fit_points, replace=False)
                   if len(z) > self.max_fit_points else slice(None))
            # small data: several starts guard against a poor local optimum of the
            # posterior; with > 100 points the data pin the hyperparameters, one extra start
            restarts = self.n_restarts if len(z[sub]) <= 100 else min(self.n_restarts, 1)
            hp = GaussianProcessRegressor(self._kernel(), alpha=alpha[sub], normalize_y=False,
                                          optimizer=self._map_optimizer(restarts)).fit(U[sub], z[sub])
            self.gp = (hp if isinstance(sub, slice)
                       else GaussianProcessRegressor(hp.kernel_, alpha=alpha, optimizer=None).fit(U, z))
        self.U, self.z, self.alpha, self.told_alpha = U, z, alpha, alpha
        return self

    @property
    def length_scales(self) -> np.ndarray:
        """The fitted length scales (unit-cube units)."""
        return np.atleast_1d(self.gp.kernel_.k1.k2.length_scale).astype(float)

    @property
    def noise(self) -> float:
        """The fitted White-noise variance (standardized units)."""
        return float(self.gp.kernel_.k2.noise_level)

    def condition(self, U_new: np.ndarray, z_new: np.ndarray,
                  noise_var: float = 0.0) -> "GPSurrogate":
        """A copy conditioned on extra (standardized) observations with measurement-noise
        variance ``noise_var``, hyperparameters fixed: the kriging-believer (exact) or
        fantasy (noisy) step of batch proposal."""
        return self._refit(
            np.vstack([self.U, U_new]),
            np.concatenate([self.z, np.asarray(z_new, float).reshape(-1, *self.z.shape[1:])]),
            np.concatenate([self.alpha, np.full(len(z_new), noise_var + JITTER)]))

    def fantasies(self, m: int) -> "GPSurrogate":
        """A copy whose targets are m identical columns (fantasy worlds to be told different
        outcomes by ``condition``); predictions then have one column per world."""
        return self._refit(self.U, np.repeat(self.z[:, None], m, axis=1), self.alpha)

    def _refit(self, U: np.ndarray, z: np.ndarray, alpha: np.ndarray) -> "GPSurrogate":
        """A copy on these data with the fitted hyperparameters kept (one Cholesky)."""
        other = object.__new__(GPSurrogate)
        other.__dict__.update(self.__dict__)
        other.gp = GaussianProcessRegressor(self.gp.kernel_, alpha=alpha, optimizer=None).fit(U, z)
        other.U, other.z, other.alpha = U, z, alpha
        return other

    def predict_z(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the latent function (the noise-free value, what
        an acquisition improves on) in standardized transformed units: scikit-learn's
        predictive std includes the White term, which is removed here."""
        m, s = self.gp.predict(np.atleast_2d(U), return_std=True)
        return m, np.sqrt(np.maximum(s ** 2 - self.noise, 1e-24))

    @property
    def new_noise_z(self) -> float:
        """Standard deviation of one new evaluation's measurement noise (standardized
        units): the median of the errors the results were told with (0 when none were
        told; the White term is then model misfit, not a property of the next run)."""
        return float(np.sqrt(max(np.median(self.told_alpha) - JITTER, 0.0)))

    def predict(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation in transformed units (log10 y when log)."""
        m, s = self.predict_z(U)
        return m * self.std + self.mean, s * self.std

    def to_z(self, y: np.ndarray) -> np.ndarray:
        return (self.transform(y) - self.mean) / self.std


class FeasibilityModel:
    """P(success) from past evaluations (a GP classifier); 1 everywhere until a failure."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.clf = None
        self.constant = 1.0

    def fit(self, U: np.ndarray, ok: np.ndarray) -> "FeasibilityModel":
        ok = np.asarray(ok, bool)
        if ok.all() or len(ok) == 0:
            self.clf, self.constant = None, 1.0
        elif (~ok).all():
            self.clf, self.constant = None, 0.5   # nothing has worked: no information where
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.clf = GaussianProcessClassifier(
                    1.0 * Matern(length_scale=np.full(U.shape[1], 0.3), length_scale_bounds=(1e-2, 1e2), nu=2.5),
                    random_state=self.seed, n_restarts_optimizer=2).fit(U, ok.astype(int))
        return self

    def prob(self, U: np.ndarray) -> np.ndarray:
        if self.clf is None:
            return np.full(len(np.atleast_2d(U)), self.constant)
        return self.clf.predict_proba(np.atleast_2d(U))[:, 1]
