"""Optimizer: GP accuracy, acquisitions, batches, constraints, state, multi-objective."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from driver.errors import ConfigError
from driver.optimize import acquisition as acq
from driver.optimize.multiobjective import ahp_weights, hypervolume, pareto_mask, shapley
from driver.optimize.optimizer import Objective, Optimizer
from driver.optimize.space import Space
from driver.optimize.surrogate import FeasibilityModel, GPSurrogate


def f1(x):
    return np.sin(6 * x) + 0.5 * x


def test_gp_recovers_smooth_function_within_its_uncertainty():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (15, 1))
    noise = 0.05
    y = f1(X[:, 0]) + rng.normal(0, noise, 15)
    gp = GPSurrogate(1, seed=0).fit(X, y, np.full(15, noise))
    Xt = np.linspace(0, 1, 200)[:, None]
    m, s = gp.predict(Xt)
    z = np.abs(m - f1(Xt[:, 0])) / np.sqrt(s ** 2 + noise ** 2)
    assert np.mean(z < 2) > 0.9                      # calibrated: ~95 % inside 2 sigma
    assert np.sqrt(np.mean((m - f1(Xt[:, 0])) ** 2)) < 0.1


def test_log_transform_and_per_point_noise():
    X = np.linspace(0, 1, 8)[:, None]
    y = 10 ** (-4 + 2 * X[:, 0])                     # spans two decades
    gp = GPSurrogate(1, log_transform=True).fit(X, y, 0.1 * y)
    m, _ = gp.predict(np.array([[0.5]]))
    assert m[0] == pytest.approx(-3.0, abs=0.1)      # log10 units
    # a noisier point pulls the fit less
    sharp = GPSurrogate(1).fit(X, np.r_[np.zeros(7), 1.0], np.r_[np.full(7, 0.01), 0.01])
    vague = GPSurrogate(1).fit(X, np.r_[np.zeros(7), 1.0], np.r_[np.full(7, 0.01), 1.0])
    assert vague.predict(X[-1:])[0][0] < sharp.predict(X[-1:])[0][0]


def test_log_ei_is_stable_and_prefers_the_right_point():
    z = np.array([5.0, 0.0, -1.0, -10.0, -50.0, -1e4, -1e8])
    v = acq.log_h(z)
    assert np.all(np.isfinite(v)) and np.all(np.diff(v) < 0)
    # two candidates: same mean, more uncertainty wins; same sigma, higher mean wins
    assert acq.log_ei(np.array([0.0, 0.0]), np.array([0.1, 1.0]), best=1.0).argmax() == 1
    assert acq.log_ei(np.array([0.5, 2.0]), np.array([0.3, 0.3]), best=1.0).argmax() == 1
    # EI on a toy GP: the proposal lands near the known maximum of f1 on [0, 1]
    sp = Space.from_dict({"variables": {"x": [0, 1]}})
    opt = Optimizer(sp, [Objective("f")], seed=3, n_initial=6)
    for _ in range(6):
        p = opt.ask()[0]
        opt.tell(p, {"f": float(f1(np.array([p["x"]]))[0])})
    for _ in range(6):
        p = opt.ask()[0]
        opt.tell(p, {"f": float(f1(np.array([p["x"]]))[0])})
    xs = np.linspace(0, 1, 10001)
    assert abs(opt.best().x["x"] - xs[np.argmax(f1(xs))]) < 0.02


def test_batch_points_are_distinct_and_respect_constraints():
    sp = Space.from_dict({"variables": {"y": [0, 2], "z": [0, 0.25]},
                          "constraints": [{"coeffs": {"y": 1, "z": 3}, "upper": 1.5}]})
    opt = Optimizer(sp, [Objective("s", log=True)], seed=5, n_initial=5)
    for p in opt.ask(5):
        opt.tell(p, {"s": float(10 ** (-4 + p["y"] - 4 * p["z"]))}, {"s": 1e-6})
    batch = opt.ask(4)
    X = sp.as_array(batch)
    assert len(batch) == 4 and sp.feasible(X).all()
    assert np.all(X[:, 0] + 3 * X[:, 1] <= 1.5 + 1e-9)
    U = sp.to_unit(X)
    d = np.linalg.norm(U[:, None] - U[None], axis=-1) + np.eye(4)
    assert d.min() > opt.min_distance
    assert len(opt.pending) == 4


def test_equality_constraint_fixes_the_dependent_variable():
    # charge neutrality of Li(1+x)Al(x)Ge(2-x): Li - Al = 1 with Li dependent
    sp = Space.from_dict({"variables": {"al": [0, 0.8], "li": [1, 1.8]},
                          "equalities": [{"coeffs": {"li": 1, "al": -1}, "value": 1, "solve_for": "li"}]})
    assert sp.dim == 1
    X = sp.design(16, seed=2)
    assert np.allclose(X[:, 1] - X[:, 0], 1.0)


def test_state_round_trips_and_restart_proposes_the_same():
    sp = Space.from_dict({"variables": {"a": [0, 1], "b": [-1, 1]}})
    f = lambda p: -(p["a"] - 0.3) ** 2 - (p["b"] + 0.2) ** 2  # noqa: E731
    opt = Optimizer(sp, [Objective("f")], seed=11, n_initial=4)
    for p in opt.ask(4):
        opt.tell(p, {"f": f(p)})
    opt.ask(2)                                        # two pending
    text = opt.to_json()
    clone = Optimizer.from_json(text)
    assert json.loads(clone.to_json()) == json.loads(text)
    assert clone.ask(3) == opt.ask(3)


def test_veto_excludes_a_region():
    sp = Space.from_dict({"variables": {"a": [0, 1], "b": [0, 1]},
                          "exclusions": [{"center": {"a": 0.8, "b": 0.8}, "radius": 0.25,
                                          "reason": "vetoed by reviewer"}]})
    opt = Optimizer(sp, [Objective("f")], seed=2, n_initial=4)
    for p in opt.ask(4):
        opt.tell(p, {"f": p["a"] + p["b"]})            # would drive toward (1, 1)
    for _ in range(4):
        p = opt.ask()[0]
        assert np.hypot(p["a"] - 0.8, p["b"] - 0.8) > 0.25 - 1e-9
        opt.tell(p, {"f": p["a"] + p["b"]})


def test_feasibility_model_learns_failed_region():
    U = np.random.default_rng(0).uniform(0, 1, (40, 2))
    ok = U[:, 0] < 0.5
    fm = FeasibilityModel().fit(U, ok)
    p = fm.prob(np.array([[0.2, 0.5], [0.9, 0.5]]))
    # the Laplace GP classifier averages over its latent uncertainty: probabilities are
    # compressed toward 0.5, but on the right side of it, with a clear gap
    assert p[0] > 0.5 > p[1] and p[0] - p[1] > 0.2
    assert FeasibilityModel().fit(U, np.ones(40, bool)).prob(U[:3]).tolist() == [1.0] * 3


@pytest.mark.parametrize("space,needle", [
    ({}, "variables"),
    ({"variables": {"x": [1, 0]}}, "low 1 must be below high 0"),
    ({"variables": {"x": [0, "a"]}}, "as numbers"),
    ({"variables": {"x": [0, 1]}, "constraints": [{"coeffs": {"q": 1}, "upper": 1}]}, "unknown variable"),
    ({"variables": {"x": [0, 1]}, "constraints": [{"coeffs": {"x": 1}, "upper": -1}]}, "no feasible point"),
    ({"variables": {"x": [0, 1]}, "bounds": {}}, "unknown key"),
])
def test_bad_space_is_a_clear_error(space, needle):
    with pytest.raises(ConfigError, match=needle):
        Space.from_dict(space)


def test_ahp_weights_and_consistency():
    # consistent matrix from weights 0.6, 0.3, 0.1
    w = np.array([0.6, 0.3, 0.1])
    A = w[:, None] / w[None, :]
    r = ahp_weights(A)
    assert r["weights"] == pytest.approx(w.tolist()) and r["CR"] == pytest.approx(0, abs=1e-9)
    bad = np.array([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])   # cyclic judgements
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = ahp_weights(bad)
    assert r["CR"] > 0.1 and not r["consistent"] and any("consistency" in str(x.message) for x in rec)
    with pytest.raises(ConfigError):
        ahp_weights([[1, 2], [2, 1]])                # not reciprocal


def test_pareto_and_hypervolume():
    Y = np.array([[1, 5], [2, 4], [3, 1], [1.5, 3], [0.5, 0.5]])
    assert pareto_mask(Y).tolist() == [True, True, True, False, False]
    # union of boxes from ref (0,0): 1*5 + (2-1)*4 + (3-2)*1 = 10
    assert hypervolume(Y, [0, 0]) == pytest.approx(10.0)
    assert hypervolume(np.array([[1, 1, 1]]), [0, 0, 0]) == pytest.approx(1.0)
    assert hypervolume(np.array([[2, 1, 1], [1, 2, 1]]), [0, 0, 0]) == pytest.approx(3.0)


def test_shapley_attribution():
    w = np.array([0.5, 0.3, 0.2])
    add = lambda z: float(w @ z)  # noqa: E731
    x, b = np.array([1.0, 2.0, 3.0]), np.zeros(3)
    assert shapley(add, x, b) == pytest.approx(w * x)          # additive: w_i (x_i - b_i)
    geo = lambda z: float(np.prod(np.maximum(z, 1e-9) ** w))  # noqa: E731
    phi = shapley(geo, x, np.ones(3))
    assert phi.sum() == pytest.approx(geo(x) - geo(np.ones(3)))  # efficiency


def test_stepped_variable_snaps_and_exhausts():
    """x in [0, 0.8] on the 1/6 grid of one NASICON cell: 5 realizable compositions."""
    sp = Space.from_dict({"variables": {"x": [0, 0.8, 1 / 6]}})
    opt = Optimizer(sp, [Objective("f")], seed=0, n_initial=3)
    seen = []
    for _ in range(4):
        batch = opt.ask(2)
        for p in batch:
            assert abs(p["x"] * 6 - round(p["x"] * 6)) < 1e-9 and 0 <= p["x"] <= 0.8 + 1e-9
            opt.tell(p, {"f": -(p["x"] - 0.5) ** 2})
            seen.append(round(p["x"] * 6))
    assert len(seen) == len(set(seen)) == 5        # all five, no duplicate, then nothing left
    assert opt.ask(1) == []


# ------------------------------------------------ small data, noise, acquisition (issue 16)

@pytest.mark.parametrize("n", [2, 3, 5, 7, 10])
def test_surrogate_never_collapses_on_few_points(n):
    """The demo's failure mode: maximum likelihood on a handful of points drove the length
    scale to the data spacing and the surrogate became a flat line with spikes. With the
    dimension-scaled priors (MAP) the model interpolates smoothly between its points."""
    f = lambda x: np.sin(3 * x) + x          # noqa: E731  (smooth, spans ~1.5 in y)
    # the campaign's own initial design (scrambled Sobol) on one composition variable
    X = np.sort(Space.from_dict({"variables": {"x": [0, 1]}}).design(n, seed=n), axis=0)
    gp = GPSurrogate(1, seed=0).fit(X, f(X[:, 0]))
    assert gp.length_scales[0] > 0.15         # a collapse is ~0.01-0.03
    mid = 0.5 * (X[1:, 0] + X[:-1, 0])
    m, s = gp.predict(mid[:, None])
    # between two data points the mean stays near the straight line joining them (a
    # collapsed model falls back to the data mean there) and the band is narrow
    line = 0.5 * (f(X[1:, 0]) + f(X[:-1, 0]))
    span = np.ptp(f(X[:, 0]))
    assert np.max(np.abs(m - line)) < 0.35 * span
    if n >= 3:   # two points leave the middle honestly uncertain
        # a collapsed model is back at its full prior sd between the points
        prior_sd = np.sqrt(gp.gp.kernel_.k1.k1.constant_value) * gp.std
        assert np.max(s) < 0.6 * prior_sd


def test_surrogate_length_scales_stay_sensible_in_six_dimensions():
    X = np.random.default_rng(1).uniform(0, 1, (6, 6))
    y = -np.sum((X - 0.4) ** 2, axis=1)
    gp = GPSurrogate(6, seed=2).fit(X, y)
    assert np.all(gp.length_scales > 0.1)    # prior mode 0.2 sqrt(6) = 0.5; a collapse is ~0.01


def test_recommend_is_not_fooled_by_a_lucky_noisy_draw():
    """best() returns the best observed value; recommend() the best posterior mean. One
    lucky draw at a poor point must not become the recommendation."""
    sp = Space.from_dict({"variables": {"x": [0, 1]}})
    opt = Optimizer(sp, [Objective("f")], seed=0, n_initial=1)
    rng = np.random.default_rng(4)
    true = lambda x: 1.0 - 4 * (x - 0.6) ** 2           # noqa: E731  max 1.0 at x = 0.6
    xs = np.linspace(0, 1, 21)
    for x in xs:
        opt.tell({"x": float(x)}, {"f": float(true(x) + rng.normal(0, 0.05))}, {"f": 0.3})
    opt.tell({"x": 0.05}, {"f": 1.6}, {"f": 0.3})       # true value there -0.21
    assert opt.best().x["x"] == 0.05
    rec = opt.recommend()
    assert abs(rec.x["x"] - 0.6) <= 0.1
    # without noise both agree
    exact = Optimizer(sp, [Objective("f")], seed=0, n_initial=1)
    for x in xs:
        exact.tell({"x": float(x)}, {"f": float(true(x))})
    assert exact.recommend().x == exact.best().x


def test_augmented_ei_factor():
    s = np.array([1e-3, 0.1, 1.0, 10.0])
    assert np.all(acq.log_augmentation(s, 0.0) == 0.0)
    a = acq.log_augmentation(s, 0.3)
    assert np.all(np.diff(a) > 0) and np.all(a < 0)    # a point the model knows gains little
    assert a[-1] > -0.05 and a[0] < -5


def test_gradient_refinement_improves_on_the_pool():
    sp = Space.from_dict({"variables": {"a": [0, 1], "b": [0, 1]}})
    opt = Optimizer(sp, [Objective("f")], seed=3, n_initial=6)
    for p in opt.ask(6):
        opt.tell(p, {"f": -((p["a"] - 0.37) ** 2) - (p["b"] - 0.61) ** 2})
    models, feasm, _ = opt._fit()
    Uf = sp.to_unit(sp.as_array([o.x for o in opt.observations]))
    best = float(np.max(opt.fused(models, Uf)[0]))

    def acq_of(U):
        mu, sd = opt.fused(models, U)
        return acq.score("ei", mu, sd, best, feasm.prob(U))

    pool = sp.sobol_unit(64, 0)
    a0 = acq_of(pool)
    pool2, a2 = opt._refine(pool, a0, acq_of)
    assert len(pool2) > len(pool) and a2.max() > a0.max()
    assert np.all((pool2 >= 0) & (pool2 <= 1))


def test_old_state_without_new_settings_still_loads():
    sp = Space.from_dict({"variables": {"a": [0, 1]}})
    opt = Optimizer(sp, [Objective("f")], seed=1, n_initial=2)
    d = json.loads(opt.to_json())
    d.pop("n_starts")                        # a campaign saved before the setting existed
    assert Optimizer.from_json(json.dumps(d)).n_starts == opt.n_starts


def _garnet_like(batch: str, rel_err: float) -> tuple[Space, Optimizer]:
    """A constrained 2-variable space with a log-scale conductivity told with relative
    errors, after its 5-point design."""
    sp = Space.from_dict({"variables": {"y": [0, 2], "z": [0, 0.25]},
                          "constraints": [{"coeffs": {"y": 1, "z": 3}, "upper": 1.5}]})
    f = lambda p: float(10 ** (-4 + p["y"] - 4 * p["z"]))      # noqa: E731
    opt = Optimizer(sp, [Objective("s", log=True)], seed=5, n_initial=5, batch=batch)
    for p in opt.ask(5):
        opt.tell(p, {"s": f(p)}, {"s": rel_err * f(p)})
    return sp, opt


def _assert_feasible_spread_batch(sp: Space, opt: Optimizer, batch: list) -> None:
    X = sp.as_array(batch)
    assert len(batch) == 4 and sp.feasible(X).all()
    U = sp.to_unit(X)
    assert (np.linalg.norm(U[:, None] - U[None], axis=-1) + np.eye(4)).min() > opt.min_distance


def test_local_penalization_batches():
    from driver.optimize.optimizer import _LocalPenalty
    sp, opt = _garnet_like("penalize", 0.1)
    _assert_feasible_spread_batch(sp, opt, opt.ask(4))
    # the penalizer: strongest at a chosen point, vanishing far from it
    models, _, _ = opt._fit()
    Uf = sp.to_unit(sp.as_array([o.x for o in opt.observations]))
    pen = _LocalPenalty(opt, models, Uf, np.random.default_rng(0))
    pen.add(np.array([0.5, 0.5]))
    a = pen.log(np.array([[0.5, 0.5], [0.55, 0.5], [0.0, 0.0]]))
    assert a[0] <= a[1] < a[2] <= 0 and a[0] <= np.log(0.5) + 1e-9 and a[2] > -1e-3
    assert json.loads(opt.to_json())["batch"] == "penalize"
    with pytest.raises(ConfigError, match="batch"):
        Optimizer(sp, [Objective("s")], batch="qei")


def test_fantasy_batches_keep_a_noisy_result_uncertain_and_resume_identically():
    """Fantasies (Snoek et al. 2012): a world told a noisy outcome keeps more latent
    uncertainty at that point than the believer's noise-free belief, and less than before;
    the worlds disagree about the outcome; a batch is feasible and spread; the state
    round-trips to the same next batch."""
    from driver.optimize.optimizer import FANTASIES, _fantasize
    sp, opt = _garnet_like("fantasy", 0.3)
    models, _, _ = opt._fit()
    gp = models[0][1]
    u = np.array([0.9, 0.9])
    told = _fantasize([(o, g.fantasies(FANTASIES)) for o, g in models], u, np.random.default_rng(0))
    mu_w, sd_w = told[0][1].predict_z(u[None, :])          # one column per world
    assert mu_w.shape == sd_w.shape == (1, FANTASIES)
    sds, means = sd_w[0], mu_w[0]
    believer = gp.condition(u[None, :], gp.predict_z(u[None, :])[0]).predict_z(u[None, :])[1][0]
    tau = gp.new_noise_z
    before = gp.predict_z(u[None, :])[1][0]
    assert tau > 0 and all(believer * 1.05 < s < before for s in sds), (believer, sds, before)
    assert np.std(means) > 0.1 * tau                    # the worlds disagree about u
    state = opt.to_json()
    batch = opt.ask(4)
    _assert_feasible_spread_batch(sp, opt, batch)
    assert Optimizer.from_json(state).ask(4) == batch


# ------------------------------------------------------------------ multi-objective: EHVI
def test_hypervolume_improvement_is_exact():
    """2-D by hand; 3-D against counting the cells of a 0.01 grid (the boxes lie on the
    0.1 grid, so counting is exact)."""
    from driver.optimize.multiobjective import hvi, reference_point
    P = np.array([[1.0, 2.0], [2.0, 1.0], [0.5, 0.5]])          # the last is dominated
    assert pareto_mask(P).sum() == 2
    assert hypervolume(P, np.zeros(2)) == pytest.approx(3.0)   # 2 + 2 - 1
    assert hvi(np.array([[2.0, 2.0], [0.5, 0.5], [3.0, 0.5]]), P, np.zeros(2)) == \
        pytest.approx([1.0, 0.0, 0.5])
    P3 = np.array([[0.9, 0.3, 0.5], [0.4, 0.8, 0.6], [0.6, 0.6, 0.2], [0.2, 0.2, 0.9]])
    g = (np.arange(100) + 0.5) / 100
    X, Y, Z = np.meshgrid(g, g, g, indexing="ij")
    cells = np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=1)
    dom = np.zeros(len(cells), bool)
    for p in P3:
        dom |= np.all(cells <= p, axis=1)
    assert hypervolume(P3, np.zeros(3)) == pytest.approx(dom.mean(), abs=1e-9)
    y = np.array([0.7, 0.7, 0.7])
    gain = (dom | np.all(cells <= y, axis=1)).mean() - dom.mean()
    assert hvi(y[None, :], P3, np.zeros(3))[0] == pytest.approx(gain, abs=1e-9)
    r = reference_point(np.array([[0.0, 1.0], [1.0, 3.0]]))
    assert r == pytest.approx([-0.1, 0.8])


def test_ehvi_spreads_proposals_along_the_pareto_front():
    """Two objectives that trade off along x and both fall off in y: the Pareto set is
    y = 0. After a 5-point design, EHVI proposals go near y = 0 and spread along x; the
    observed front grows."""
    sp = Space.from_dict({"variables": {"x": [0, 1], "y": [-1, 1]}})
    f = lambda p: {"a": p["x"] - p["y"] ** 2, "b": 1 - p["x"] - p["y"] ** 2}  # noqa: E731
    opt = Optimizer(sp, [Objective("a"), Objective("b")], seed=3, n_initial=5,
                    acquisition="ehvi")
    for p in opt.ask(5):
        opt.tell(p, f(p))
    V = lambda: np.array([[o.y["a"], o.y["b"]] for o in opt.observations])  # noqa: E731
    hv0 = hypervolume(V(), np.array([-2.0, -2.0]))
    props = []
    for _ in range(6):
        p = opt.ask(1)[0]
        props.append(p)
        opt.tell(p, f(p))
    assert np.median([abs(p["y"]) for p in props]) < 0.15, props
    assert np.ptp([p["x"] for p in props]) > 0.4, props
    assert hypervolume(V(), np.array([-2.0, -2.0])) > hv0 + 0.2
    assert pareto_mask(V()).sum() >= 4
    with pytest.raises(ConfigError, match="1-3 objectives"):
        Optimizer(sp, [Objective(c) for c in "abcd"], acquisition="ehvi")
    with pytest.raises(ConfigError, match="not fantasy"):
        Optimizer(sp, [Objective("a")], acquisition="ehvi", batch="fantasy")
