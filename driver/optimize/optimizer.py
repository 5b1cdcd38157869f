"""Ask/tell Bayesian optimization over a :class:`Space`, deterministic for a seed.

- the first ``n_initial`` proposals are a scrambled Sobol design (space-filling);
- then one GP per objective; objectives are fused by weights on their standardized
  (and, where asked, log) scales: mean sum(w_i mu_i), variance sum(w_i^2 s_i^2);
- the acquisition (log EI, augmented for noisy results; UCB or max variance) times
  P(feasible) is maximized over a Sobol pool plus local perturbations of its best points
  and of the incumbent, then by multi-start L-BFGS-B from the pool's best points, snapped
  to the composition grid and checked against the constraints;
- a batch of q is built by kriging believer: each chosen point is added to the GPs at
  its predicted mean (hyperparameters fixed) before the next is chosen; pending points
  (asked, not told) are believed the same way, so a campaign can ask while others run;
  or by fantasies (Snoek, Larochelle & Adams, NeurIPS 2012): FANTASIES copies of the GPs,
  each told a noisy outcome drawn from its own posterior at every chosen or pending
  point, and the acquisition averaged over the copies; or by local penalization;
- proposals closer than ``min_distance`` (unit-cube) to evaluated, pending or already
  chosen points are skipped.

``best()`` is the best observed evaluation, ``recommend()`` the evaluated point of best
posterior mean (the one to trust when results are noisy).

All randomness comes from ``numpy.random.default_rng([seed, n_asked])``; the state
(``to_json``) holds everything, so a restarted campaign proposes exactly what it would have.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_ndtr

from ..errors import ConfigError
from . import acquisition, multiobjective
from .space import Space
from .surrogate import PRIOR_SETS, FeasibilityModel, GPSurrogate

BATCH_METHODS = ("believer", "fantasy", "penalize")
ACQUISITIONS = ("ei", "ucb", "variance", "ehvi")
#: Monte Carlo samples of the objectives' joint posterior per candidate for EHVI (fixed
#: base samples per proposal, so the acquisition is smooth for the gradient step); 64 is a
#: cost choice (the MC error of a mean of 64 is 1/8 of one sample's spread), not tuned
EHVI_SAMPLES = 64
#: fantasy worlds per batch (Snoek et al. 2012 average their acquisition over a few); they
#: share one covariance, so each GP carries them as target columns of one fit; 8 is a cost
#: choice, not tuned (docs/benchmarks.md measures the method as built)
FANTASIES = 8


@dataclass
class Objective:
    name: str
    direction: str = "max"       # max | min
    log: bool = False            # fit log10(y): conductivities, diffusivities
    weight: float = 1.0
    optional: bool = False       # arrives later or never (e.g. a reviewer's rating)

    def __post_init__(self):
        if self.direction not in ("max", "min"):
            raise ConfigError(f"objective {self.name}: direction must be max or min")
        if not (self.weight >= 0):
            raise ConfigError(f"objective {self.name}: weight must be >= 0")

    @property
    def signed_weight(self) -> float:
        """Weight with the direction's sign: the fused score is maximized."""
        return self.weight * (1.0 if self.direction == "max" else -1.0)

    def measurable(self, v) -> bool:
        """A value this objective can use: present, finite, and positive when fitted in log."""
        return v is not None and bool(np.isfinite(v)) and not (self.log and v <= 0)

    def scaled(self, v: float) -> float:
        """The value on the scale the surrogate fits (log10 where ``log``)."""
        return float(np.log10(v)) if self.log else float(v)


@dataclass
class Observation:
    x: dict[str, float]
    y: dict[str, float] | None = None
    y_err: dict[str, float] | None = None
    feasible: bool = True
    source: str = "evaluation"   # or "prior" (experimental data, larger noise) or "unmeasured"
    #: (an evaluation with an objective it could not measure, told with a wide error)


@dataclass
class Optimizer:
    space: Space
    objectives: list[Objective]
    seed: int = 0
    n_initial: int = 8
    acquisition: str = "ei"
    beta: float = 2.0
    xi: float = 0.0
    min_distance: float = 1e-3
    pool_size: int = 2048
    n_restarts: int = 3
    n_starts: int = 10           # gradient refinements of the acquisition per proposal
    priors: str = "gamma"        # GP hyperparameter priors (surrogate.prior_set)
    batch: str = "believer"      # believer | fantasy | penalize (docs/optimizer.md)
    observations: list[Observation] = field(default_factory=list)
    pending: list[dict[str, float]] = field(default_factory=list)
    n_asked: int = 0

    def __post_init__(self):
        if self.acquisition not in ACQUISITIONS:
            raise ConfigError(f"acquisition must be one of {', '.join(ACQUISITIONS)}, "
                              f"got {self.acquisition!r}")
        if not self.objectives:
            raise ConfigError("at least one objective is needed")
        if self.n_initial < 1:
            raise ConfigError("n_initial must be >= 1")
        if self.batch not in BATCH_METHODS:
            raise ConfigError(f"batch must be one of {', '.join(BATCH_METHODS)}, got {self.batch!r}")
        if self.acquisition == "ehvi" and len(self.objectives) > 3:
            raise ConfigError(f"acquisition ehvi handles 1-3 objectives, got {len(self.objectives)}; "
                              "use ei (weighted objectives) or fewer objectives")
        if self.acquisition == "ehvi" and self.batch == "fantasy":
            raise ConfigError("acquisition ehvi batches by believer or penalize, not fantasy")
        if self.priors not in PRIOR_SETS:
            raise ConfigError(f"priors must be one of {', '.join(PRIOR_SETS)}, got {self.priors!r}")

    # ------------------------------------------------------------ state
    def to_json(self) -> str:
        return json.dumps({
            "space": self.space.to_dict(), "objectives": [asdict(o) for o in self.objectives],
            "seed": self.seed, "n_initial": self.n_initial, "acquisition": self.acquisition,
            "beta": self.beta, "xi": self.xi, "min_distance": self.min_distance,
            "pool_size": self.pool_size, "n_restarts": self.n_restarts, "n_starts": self.n_starts,
            "priors": self.priors, "batch": self.batch,
            "observations": [asdict(o) for o in self.observations], "pending": self.pending,
            "n_asked": self.n_asked})

    @classmethod
    def from_json(cls, text: str) -> "Optimizer":
        d = json.loads(text)
        d["space"] = Space.from_dict(d["space"])
        d["objectives"] = [Objective(**o) for o in d["objectives"]]
        d["observations"] = [Observation(**o) for o in d["observations"]]
        return cls(**d)

    # ------------------------------------------------------------- tell
    def tell(self, x: dict[str, float], y: dict[str, float] | None = None,
             y_err: dict[str, float] | None = None, feasible: bool = True,
             source: str = "evaluation") -> None:
        required = [o.name for o in self.objectives if not o.optional]
        if feasible and (y is None or any(n not in y for n in required)):
            raise ConfigError(f"tell: a feasible result needs every objective "
                              f"({', '.join(required)})")
        self.space.as_array([x])  # names check
        self._drop_pending(x)
        self.observations.append(Observation(dict(x), dict(y) if y is not None else None,
                                             dict(y_err) if y_err else None, feasible, source))

    def update(self, x: dict[str, float], name: str, value: float, err: float) -> bool:
        """Set (or replace) one objective of the evaluated point x, e.g. a rating that arrived
        after the result. Returns False when x was not evaluated (or was infeasible)."""
        for o in self.observations:
            if o.source == "evaluation" and o.feasible and o.y is not None and o.x == x:
                o.y[name] = float(value)
                o.y_err = {**(o.y_err or {}), name: float(err)}
                return True
        return False

    def tell_prior(self, x: dict[str, float], y: dict[str, float], y_err: dict[str, float]) -> None:
        """Prior knowledge (e.g. measured conductivities of known compositions): enters the
        surrogates with its (large) uncertainty, is labelled, and never counts as 'best'.
        Prior points outside the space (bounds, constraints, vetoes) are ignored."""
        if not self.space.feasible(self.space.as_array([x]))[0]:
            return
        self.observations.append(Observation(dict(x), dict(y), dict(y_err), True, "prior"))

    def _drop_pending(self, x: dict[str, float]) -> None:
        if not self.pending:
            return
        P = self.space.to_unit(self.space.as_array(self.pending))
        u = self.space.to_unit(self.space.as_array([x]))[0]
        d = np.linalg.norm(P - u, axis=1)
        i = int(np.argmin(d))
        if d[i] < 1e-9:
            self.pending.pop(i)

    # -------------------------------------------------------------- ask
    def ask(self, q: int = 1) -> list[dict[str, float]]:
        if q < 1:
            raise ConfigError("ask: q must be >= 1")
        rng = np.random.default_rng([self.seed, self.n_asked])
        out: list[dict[str, float]] = []
        n_design_left = max(0, self.n_initial - self.n_asked)
        if n_design_left:
            design = self.space.design(self.n_initial, self.seed)
            take = design[self.n_asked:self.n_asked + min(q, n_design_left)]
            out += self.space.as_dicts(take)
        if len(out) < q:
            out += self._propose(q - len(out), rng, extra_pending=out)
        self.n_asked += len(out)
        self.pending += out
        return out

    def _fit(self):
        feas = [o for o in self.observations if o.feasible and o.y is not None]
        U_all = self.space.to_unit(self.space.as_array([o.x for o in self.observations])) \
            if self.observations else np.zeros((0, self.space.dim))
        models = []
        for k, obj in enumerate(self.objectives):
            # each objective from the points that have it (an optional one may be missing)
            # (until two points have it, it does not steer proposals)
            have = [o for o in feas if obj.name in o.y]
            if len(have) < 2:
                continue
            U = self.space.to_unit(self.space.as_array([o.x for o in have]))
            y = np.array([o.y[obj.name] for o in have], float)
            err = np.array([(o.y_err or {}).get(obj.name, 0.0) for o in have], float)
            gp = GPSurrogate(self.space.dim, log_transform=obj.log, n_restarts=self.n_restarts,
                             seed=self.seed + 17 * k, priors=self.priors)
            gp.fit(U, y, err)
            models.append((obj, gp))
        feasm = FeasibilityModel(self.seed).fit(U_all, np.array([o.feasible for o in self.observations], bool))
        return models, feasm, U_all

    def fused(self, models, U) -> tuple[np.ndarray, np.ndarray]:
        """Fused standardized mean and std of the weighted objectives (independent GPs);
        with fantasy GPs, one column per fantasy world."""
        m = v = np.zeros(len(U))
        for obj, gp in models:
            mu, s = gp.predict_z(U)
            if mu.ndim > m.ndim:            # fantasy GPs: broadcast to (points, worlds)
                m, v = m[:, None], v[:, None]
            m = m + obj.signed_weight * mu
            v = v + (obj.weight * s) ** 2
        return m, np.sqrt(v)

    def _propose(self, q: int, rng, extra_pending) -> list[dict[str, float]]:
        models, feasm, U_all = self._fit()
        if not models:  # not enough results yet: continue the space-filling sequence
            U = self.space.sobol_unit(self.n_asked + q + 64, self.seed + 1)
            X = self.space.from_unit(U)
            X = self.space._unique(X[self.space.feasible(X)])
            known = self.space.as_array([o.x for o in self.observations] + self.pending + list(extra_pending)) \
                if (self.observations or self.pending or extra_pending) else np.zeros((0, X.shape[1]))
            fresh = [x for x in X if len(known) == 0 or np.min(np.abs(known - x).sum(axis=1)) > 1e-12]
            return self.space.as_dicts(np.array(fresh[:q])) if fresh else []
        pend = self.pending + list(extra_pending)
        taken = [U_all] + ([self.space.to_unit(self.space.as_array(pend))] if pend else [])
        taken = np.vstack(taken) if taken else np.zeros((0, self.space.dim))
        Up = self.space.to_unit(self.space.as_array(pend)) if pend else np.zeros((0, self.space.dim))
        if pend and self.batch == "believer":   # believe pending points at their predicted means
            models = [(o, gp.condition(Up, gp.predict_z(Up)[0])) for o, gp in models]
        # the incumbent comes from our own evaluations, never from prior (e.g. experimental) data
        feas_obs = [o for o in self.observations if o.feasible and o.y is not None
                    and o.source == "evaluation"] or [o for o in self.observations if o.feasible and o.y]
        Uf = self.space.to_unit(self.space.as_array([o.x for o in feas_obs]))
        chosen = []
        # one new evaluation's noise on the fused scale (augmented EI)
        tau = float(np.sqrt(sum((o.weight * gp.new_noise_z) ** 2 for o, gp in models)))
        penalty = _LocalPenalty(self, models, Uf, rng) if self.batch == "penalize" else None
        if penalty is not None:
            for u in Up:
                penalty.add(u)
        # fantasies: every GP carries FANTASIES target columns (one per world) over shared
        # inputs, so the worlds share one covariance and one Cholesky factor
        fmodels, Uw = None, Uf
        if self.batch == "fantasy":
            fmodels = [(o, gp.fantasies(FANTASIES)) for o, gp in models]
            for u in Up:
                fmodels, Uw = _fantasize(fmodels, u, rng), np.vstack([Uw, u[None, :]])
        ehvi = _EHVI(models, Uf, rng) if self.acquisition == "ehvi" else None
        front_U = np.vstack([Uf, Up]) if self.batch == "believer" else Uf
        for _ in range(q):
            if ehvi is not None:       # the front: believed points count as evaluated
                ehvi.set_front(models, front_U)

                def base(U, models=models):
                    return ehvi.log(models, U) + np.log(np.clip(feasm.prob(U), 1e-300, 1.0))
            else:
                # the incumbent: the evaluated point of best mu - sigma, its mean the
                # threshold (augmented EI's "effective best"; the best mean when the data
                # are exact); each fantasy world has its own (its told points count as
                # evaluated there)
                mu_f, sd_f = self.fused(fmodels or models, Uw)
                if mu_f.ndim == 2:
                    bests = mu_f[np.argmax(mu_f - sd_f, axis=0), np.arange(mu_f.shape[1])][None, :]
                else:
                    bests = float(mu_f[int(np.argmax(mu_f - sd_f))])

                def base(U, fmodels=fmodels, bests=bests, models=models):
                    mu, sd = self.fused(fmodels or models, U)
                    p = feasm.prob(U)
                    a = acquisition.score(self.acquisition, mu, sd, bests,
                                          p[:, None] if mu.ndim == 2 else p,
                                          beta=self.beta, xi=self.xi, noise_sd=tau)
                    # with fantasies, the mean over the worlds
                    return acquisition.average(self.acquisition, a) if a.ndim == 2 else a

            def acq_of(U, base=base):
                return base(U) + penalty.log(U) if penalty is not None else base(U)

            pool = self._pool(rng, models, Uf)
            acq = acq_of(pool)
            pool, acq = self._refine(pool, acq, acq_of)
            order = np.argsort(-acq)
            pick = None
            for i in order:
                if len(taken) == 0 or np.min(np.linalg.norm(taken - pool[i], axis=1)) > self.min_distance:
                    pick = pool[i]
                    break
            if pick is None:
                break
            chosen.append(pick)
            taken = np.vstack([taken, pick])
            if penalty is not None:
                penalty.add(pick)
            elif self.batch == "fantasy":
                fmodels, Uw = _fantasize(fmodels, pick, rng), np.vstack([Uw, pick[None, :]])
            else:
                models = [(o, gp.condition(pick[None, :], gp.predict_z(pick[None, :])[0]))
                          for o, gp in models]
                front_U = np.vstack([front_U, pick[None, :]])
        return self.space.as_dicts(self.space.from_unit(np.array(chosen))) if chosen else []

    def _refine(self, pool: np.ndarray, acq: np.ndarray, acq_of) -> tuple[np.ndarray, np.ndarray]:
        """Gradient-based local maximization of the acquisition from the pool's best points.

        The ``n_starts`` best distinct pool points start one L-BFGS-B run over the unit box
        together (the sum of independent acquisitions, so each start follows its own
        gradient; the gradient by forward differences of one batched prediction per
        iteration). The optima are then snapped to the variables' grid and kept only where
        the space is feasible (constraints, vetoes): the search is continuous, the
        proposals realizable. The multi-start gradient step is what BoTorch's optimize_acqf
        does from its raw samples (Balandat et al., NeurIPS 2020)."""
        if self.n_starts <= 0 or not np.isfinite(acq).any():
            return pool, acq
        order = np.argsort(-acq)
        starts: list[np.ndarray] = []
        for i in order:
            if not np.isfinite(acq[i]):
                break
            if all(np.linalg.norm(pool[i] - s) > 0.1 for s in starts):
                starts.append(pool[i])
            if len(starts) == self.n_starts:
                break
        S, d = len(starts), self.space.dim

        def neg(flat):
            a0, grad = _value_and_gradient(acq_of, flat.reshape(S, d), 1e-6)
            bad = ~np.isfinite(a0)
            grad = np.where(bad[:, None] | ~np.isfinite(grad), 0.0, grad)
            return -float(np.where(bad, -1e6, a0).sum()), -grad.ravel()

        r = minimize(neg, np.array(starts).ravel(), jac=True, method="L-BFGS-B",
                     bounds=[(0.0, 1.0)] * (S * d), options={"maxiter": 200})
        U = self.space.snap_unit(np.clip(r.x.reshape(S, d), 0.0, 1.0))
        U = U[self.space.feasible(self.space.from_unit(U))]
        if not len(U):
            return pool, acq
        return np.vstack([pool, U]), np.concatenate([acq, acq_of(U)])

    def _pool(self, rng, models, Uf) -> np.ndarray:
        """Feasible candidates: a fresh Sobol pool, then Gaussian perturbations (0.05 and
        0.01) of its 10 best points and of the 5 best observed points."""
        U = self.space.sobol_unit(self.pool_size, int(rng.integers(2**31)))
        mu, sd = self.fused(models, U)
        top = U[np.argsort(-(mu + sd))[:10]]
        inc = Uf[np.argsort(-self.fused(models, Uf)[0])[:5]]
        seeds = np.vstack([top, inc])
        local = np.vstack([seeds[None, :, :] + rng.normal(0, s, (16, *seeds.shape)) for s in (0.05, 0.01)])
        U = np.clip(np.vstack([U, local.reshape(-1, self.space.dim)]), 0, 1)
        U = self.space.snap_unit(U)   # distances are measured where points really are
        return U[self.space.feasible(self.space.from_unit(U))]

    # --------------------------------------------------------- queries
    def best(self) -> Observation | None:
        feas = self._measured()
        if not feas:
            return None
        return max(feas, key=lambda o: sum(ob.signed_weight * ob.scaled(o.y[ob.name])
                                           for ob in self.objectives))

    def recommend(self) -> Observation | None:
        """The evaluated point the model believes best: the highest fused posterior mean
        among measured evaluations (not prior data, not unmeasured objectives).

        Unlike :meth:`best`, which returns the best *observed* value, this is not fooled by
        a lucky draw of a noisy objective: an MD estimate told with its error bar is
        shrunk towards its neighbours before the comparison (the "best posterior mean among
        evaluated points" recommendation of noisy BO, e.g. BoTorch's tutorials; D. Huang
        et al., J. Glob. Optim. 34, 441 (2006)). With fewer than two such points, or
        noise-free data, it agrees with :meth:`best` up to the model's smoothing."""
        return self.recommend_with_prediction()[0]

    def recommend_with_prediction(self) -> tuple[Observation | None, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """:meth:`recommend` and the model's per-objective mean and std there (as
        :meth:`predict`), from one fit; the prediction is empty when the recommendation
        falls back to :meth:`best`."""
        feas = self._measured()
        if len(feas) < 2:
            return self.best(), {}
        models, _, _ = self._fit()
        if len(models) < len(self.objectives):
            return self.best(), {}
        U = self.space.to_unit(self.space.as_array([o.x for o in feas]))
        i = int(np.argmax(self.fused(models, U)[0]))
        return feas[i], {o.name: gp.predict(U[i:i + 1]) for o, gp in models}

    def _measured(self) -> list[Observation]:
        """Measured evaluations only: not prior data, not points whose objective was
        unmeasured or that failed."""
        return [o for o in self.observations if o.feasible and o.y is not None
                and o.source == "evaluation" and all(ob.name in o.y for ob in self.objectives)]

    def predict(self, points: list[dict[str, float]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per-objective mean and std (transformed units: log10 where ``log``)."""
        models, _, _ = self._fit()
        U = self.space.to_unit(self.space.as_array(points))
        return {o.name: gp.predict(U) for o, gp in models}


def _value_and_gradient(f, U: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """f at each row of U (points in the unit box) and its gradient by forward differences
    (backward at the upper face), from one batched call of f: f maps (n, d) -> (n,)."""
    n, d = U.shape
    step = np.where(U + h <= 1.0, h, -h)
    shifted = (U[:, None, :] + step[:, None, :] * np.eye(d)[None]).reshape(-1, d)
    a = f(np.vstack([U, shifted]))
    a0 = a[:n]
    return a0, (a[n:].reshape(n, d) - a0[:, None]) / step


def _fantasize(models, u: np.ndarray, rng) -> list:
    """Every fantasy world (target column) of each GP told one outcome at ``u`` drawn from
    that world's posterior predictive (latent sd and one new evaluation's noise), and
    conditioned with that noise: the real result will be noisy, so each world keeps the
    uncertainty a noisy result leaves near u."""
    out = []
    for obj, gp in models:
        mu, sd = gp.predict_z(u[None, :])           # (1, worlds) each
        tau = gp.new_noise_z
        y = mu + np.sqrt(sd ** 2 + tau ** 2) * rng.standard_normal(mu.shape)
        out.append((obj, gp.condition(u[None, :], y, noise_var=tau ** 2)))
    return out


class _EHVI:
    """Expected hypervolume improvement of the objectives (standardized, signed so that
    larger is better) over the Pareto front of the models' means at the evaluated points
    (driver/optimize/multiobjective.py), by Monte Carlo with fixed base samples: each
    candidate's independent GP posteriors are sampled EHVI_SAMPLES times. Objective
    weights do not enter: the front is what is improved."""

    def __init__(self, models, Uf: np.ndarray, rng):
        self.sign = np.array([1.0 if o.direction == "max" else -1.0 for o, _ in models])
        self.Z = rng.standard_normal((EHVI_SAMPLES, len(models)))
        self.r = multiobjective.reference_point(self._predict(models, Uf)[0])

    def _predict(self, models, U) -> tuple[np.ndarray, np.ndarray]:
        """Signed means and sds, (points, objectives), one prediction per GP."""
        pred = [gp.predict_z(U) for _, gp in models]
        return (np.stack([m for m, _ in pred], axis=-1) * self.sign,
                np.stack([s for _, s in pred], axis=-1))

    def set_front(self, models, U: np.ndarray) -> None:
        V = self._predict(models, U)[0]
        self.P = V[multiobjective.pareto_mask(V)]

    def log(self, models, U: np.ndarray) -> np.ndarray:
        mu, sd = self._predict(models, U)
        Y = mu[:, None, :] + sd[:, None, :] * self.Z[None, :, :]
        e = multiobjective.hvi(Y, self.P, self.r).mean(axis=1)
        return np.log(np.maximum(e, 1e-300))


class _LocalPenalty:
    """Local penalization of a batch (J. Gonzalez, Z. Dai, P. Hennig, N. Lawrence, "Batch
    Bayesian Optimization via Local Penalization", AISTATS 2016): each point already chosen
    or pending, x_j, multiplies the acquisition by
        phi_j(x) = Phi((L |x - x_j| - M + mu(x_j)) / s(x_j)),
    the probability that x lies outside the ball x_j's result could still exclude, with L
    a Lipschitz constant of the fused mean (the largest gradient norm over a Sobol sample)
    and M the best mean at the evaluated points. Unlike the believer it does not pretend
    the pending result is known, which matters when results are noisy."""

    def __init__(self, opt: Optimizer, models, Uf: np.ndarray, rng):
        self.opt, self.models = opt, models
        U = opt.space.sobol_unit(256, int(rng.integers(2**31)))
        _, g = _value_and_gradient(lambda V: opt.fused(models, V)[0], U, 1e-5)
        self.L = max(float(np.max(np.linalg.norm(g, axis=1))), 1e-7)
        self.M = float(np.max(opt.fused(models, Uf)[0]))
        self.centres: list[np.ndarray] = []
        self.mu: list[float] = []
        self.sd: list[float] = []

    def add(self, u: np.ndarray) -> None:
        mu, sd = self.opt.fused(self.models, u[None, :])
        self.centres.append(np.asarray(u, float))
        self.mu.append(float(mu[0]))
        self.sd.append(max(float(sd[0]), 1e-9))

    def log(self, U: np.ndarray) -> np.ndarray:
        out = np.zeros(len(U))
        for c, mu, sd in zip(self.centres, self.mu, self.sd):
            z = (self.L * np.linalg.norm(U - c, axis=1) - self.M + mu) / sd
            out += log_ndtr(z)
        return out
