"""Gaussian-process surrogates (scikit-learn) with the transformations they need.

- inputs: the free variables scaled to the unit cube (the optimizer does this);
- outputs: optional log10 (conductivities span decades), then standardized;
- kernel: Constant x Matern(nu = 5/2, one length scale per input: ARD) + White noise;
- per-point noise: each result's own uncertainty becomes its ``alpha`` (variance in the
  standardized output units), so a noisy MD estimate pulls the mean less than a sharp one;
- hyperparameters: marginal-likelihood maximization with several restarts, on a random
  subset of at most ``max_fit_points`` (300) observations when there are more (the O(n^3)
  optimizer is the cost; the final model conditions on all points with those
  hyperparameters fixed).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

JITTER = 1e-8


class GPSurrogate:
    def __init__(self, dim: int, log_transform: bool = False, n_restarts: int = 5,
                 seed: int = 0, max_fit_points: int = 300):
        self.dim, self.log, self.n_restarts, self.seed = dim, log_transform, n_restarts, seed
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

    def _kernel(self):
        return (ConstantKernel(1.0, (1e-3, 1e3))
                * Matern(length_scale=np.full(self.dim, 0.3), length_scale_bounds=(0.03, 30.0), nu=2.5)
                + WhiteKernel(1e-4, (1e-9, 1e-1)))

    def fit(self, U: np.ndarray, y: np.ndarray, y_err: np.ndarray | None = None) -> "GPSurrogate":
        U = np.asarray(U, float)
        t = self.transform(y)
        self.mean, self.std = float(t.mean()), float(t.std()) or 1.0
        z = (t - self.mean) / self.std
        e = np.zeros_like(z) if y_err is None else np.nan_to_num(self.transform_err(y, y_err)) / self.std
        alpha = e ** 2 + JITTER
        rng = np.random.default_rng(self.seed)
        kernel = self._kernel()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if len(z) > self.max_fit_points:
                sub = rng.choice(len(z), self.max_fit_points, replace=False)
                hp = GaussianProcessRegressor(kernel, alpha=alpha[sub], normalize_y=False,
                                              n_restarts_optimizer=self.n_restarts,
                                              random_state=self.seed).fit(U[sub], z[sub])
                kernel = hp.kernel_
                self.gp = GaussianProcessRegressor(kernel, alpha=alpha, optimizer=None).fit(U, z)
            else:
                self.gp = GaussianProcessRegressor(kernel, alpha=alpha, normalize_y=False,
                                                   n_restarts_optimizer=self.n_restarts,
                                                   random_state=self.seed).fit(U, z)
        self.U, self.z, self.alpha = U, z, alpha
        return self

    def condition(self, U_new: np.ndarray, z_new: np.ndarray) -> "GPSurrogate":
        """A copy conditioned on extra (standardized) observations, hyperparameters fixed:
        the kriging-believer step of batch proposal."""
        other = object.__new__(GPSurrogate)
        other.__dict__.update(self.__dict__)
        U = np.vstack([self.U, U_new])
        z = np.concatenate([self.z, z_new])
        alpha = np.concatenate([self.alpha, np.full(len(z_new), JITTER)])
        other.gp = GaussianProcessRegressor(self.gp.kernel_, alpha=alpha, optimizer=None).fit(U, z)
        other.U, other.z, other.alpha = U, z, alpha
        return other

    def predict_z(self, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation in standardized transformed units."""
        m, s = self.gp.predict(np.atleast_2d(U), return_std=True)
        return m, np.maximum(s, 1e-12)

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
