"""Phase-field pieces without DOLFINx: expressions, metrics, the degradation mapping."""

from __future__ import annotations

import numpy as np
import pytest

from driver.errors import ConfigError
from driver.md.analysis import nernst_einstein
from driver.phasefield import degradation, metrics
from driver.phasefield.expr import Expression
from driver.phasefield.settings import PhaseFieldSettings


def test_expression_evaluates_and_refuses_code():
    e = Expression("0.5 + 0.5*tanh((x - lx/2)/0.05) * where(y < 0.5, 1, -1)")
    v = e(x=np.array([0.0, 1.0]), y=np.array([0.2, 0.8]), lx=1.0, ly=1.0)
    assert v == pytest.approx([0.5 - 0.5 * np.tanh(10), 0.5 - 0.5 * np.tanh(10)])
    for bad in ("__import__('os').system('x')", "x.__class__", "open('f')", "[x for x in y]",
                "z + 1", "lambda: 0", "'text'"):
        with pytest.raises(ConfigError):
            Expression(bad)


def test_metrics_on_an_analytic_tanh_interface():
    n, w = 400, 0.03
    x = np.linspace(0, 1, n + 1)
    grid = np.repeat((0.5 + 0.5 * np.tanh((x - 0.5) / w))[:, None], n + 1, axis=1)
    h = 1.0 / n
    assert metrics.interface_width(grid, 0.0, 1.0, h) == pytest.approx(w, rel=0.01)
    m = metrics.stability(grid, 0.0, 1.0, h, w_eq=w)
    assert m["degraded_fraction"] == pytest.approx(0.5, abs=0.005)
    assert m["domains"]["count"] == 1
    assert m["stability_score"] == pytest.approx(0.5, abs=0.01)   # (1 - 0.5) * 1


def test_domains_of_disks():
    n = 200
    X, Y = np.meshgrid(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1), indexing="ij")
    grid = np.zeros_like(X)
    for cx, cy, r in ((0.25, 0.25, 0.1), (0.7, 0.7, 0.2)):
        grid[(X - cx) ** 2 + (Y - cy) ** 2 < r * r] = 1.0
    d = metrics.domains(grid, 0.5, 1.0 / n)
    assert d["count"] == 2
    assert d["diameters"] == pytest.approx([0.4, 0.2], rel=0.03)


def test_monroe_newman_factor():
    grid = np.ones((11, 11))
    stiff = metrics.stability(grid, 0.0, 1.0, 0.1, 0.05, shear_modulus_GPa=60.0)
    soft = metrics.stability(grid, 0.0, 1.0, 0.1, 0.05, shear_modulus_GPa=4.25)
    assert stiff["monroe_newman_factor"] == 1.0 and stiff["stability_score"] == 1.0
    assert soft["monroe_newman_factor"] == pytest.approx(0.5)
    assert metrics.stability(grid, 0.0, 1.0, 0.1, 0.05)["monroe_newman_factor"] is None


def test_double_well_interface_formulas_are_consistent():
    kappa, rho = 3e-4, 2.0
    w = metrics.equilibrium_width(kappa, rho, 0.0, 1.0)
    s = metrics.interfacial_energy(kappa, rho, 0.0, 1.0)
    # numerically: sigma = int kappa c'^2 dx over the tanh profile
    x = np.linspace(-20 * w, 20 * w, 200001)
    dc = 0.5 / w / np.cosh(x / w) ** 2
    assert np.trapezoid(kappa * dc ** 2, x) == pytest.approx(s, rel=1e-6)


def test_default_D_inverts_nernst_einstein():
    D, src = degradation.default_D_cm2_s(298.15)
    a, c = degradation.LAGP_CELL_A
    vol = a * a * np.sin(np.radians(120)) * c
    sigma, _ = nernst_einstein(D, 0.0, 9, vol, 298.15)
    assert sigma == pytest.approx(3.36e-4, rel=1e-12) and "10.1021/acsami.8b00842" in src
    assert 1e-9 < D < 1e-8


def test_degradation_mapping():
    s = PhaseFieldSettings.model_validate({"degradation": {
        "interfacial_energy_J_m2": 0.5, "width_nm": 4.0, "domain_nm": 100.0, "D_cm2_s": 1e-8,
        "reaction_rate_1_s": 2.0, "t_end_s": 0.5}})
    eff, sc = degradation.apply(s)
    t0 = (100e-9) ** 2 / 1e-12
    assert sc["time_s"] == pytest.approx(t0)
    assert eff.kappa == pytest.approx(0.04 ** 2 / 2)
    assert eff.reaction.kind == "linear" and eff.reaction.k == pytest.approx(2.0 * t0)
    assert eff.time.t_end == pytest.approx(0.5 / t0)
    assert eff.domain.nx >= 50 and eff.mobility.m0 == 0.5
    assert sc["energy_density_J_m3"] == pytest.approx(6 * 0.5 / 4e-9)


def test_degradation_needs_interfacial_energy():
    with pytest.raises(Exception, match="interfacial_energy_J_m2"):
        PhaseFieldSettings.model_validate({"degradation": {"width_nm": 3.0}})


def test_domains_join_across_periodic_edges():
    from driver.phasefield.metrics import domains

    g = np.zeros((9, 9))              # the last row/column repeat the first (x = lx is x = 0)
    g[0:2, 3:5] = g[7:9, 3:5] = 1.0   # one blob cut by the x edge
    g[3:5, 0] = g[3:5, 7:9] = 1.0     # one blob cut by the y edge
    assert domains(g, 0.5, 1.0)["count"] == 4
    assert domains(g, 0.5, 1.0, periodic=True)["count"] == 2


def test_md_result_with_unmeasured_temperatures_is_refused_clearly(tmp_path):
    import json
    r = {"temperatures": [{"temperature_K": 1000, "diffusive": False, "D_cm2_s": None, "D_err_cm2_s": None},
                          {"temperature_K": 1200, "diffusive": True, "D_cm2_s": 1e-5, "D_err_cm2_s": 1e-6}],
         "elastic": {"shear_vrh_GPa": 60.0}}
    p = tmp_path / "result.json"
    p.write_text(json.dumps(r))
    with pytest.raises(ConfigError, match="1 diffusive temperature"):
        degradation.from_md_result(str(p), 300.0)
    r["temperatures"][0].update(diffusive=True, D_cm2_s=2e-6, D_err_cm2_s=2e-7)
    p.write_text(json.dumps(r))
    D, G, src = degradation.from_md_result(str(p), 300.0)
    assert 0 < D < 2e-6 and G == 60.0 and "Arrhenius" in src


@pytest.mark.parametrize("degraded", [True, False])
def test_every_retry_scale_reaches_the_effective_steps(degraded):
    """A campaign's phase-field retry lowers time.dt_scale; the steps the solver takes (after
    degradation.apply recomputes dt and dt_max) must shrink with it, each retry anew."""
    from driver.phasefield.workflow import effective_settings

    base = {"degradation": {"interfacial_energy_J_m2": 0.5, "width_nm": 4.0, "domain_nm": 100.0,
                            "D_cm2_s": 1e-8, "reaction_rate_1_s": 2.0, "t_end_s": 0.5}} \
        if degraded else {}
    steps = []
    for scale in (1.0, 0.1, 0.01):
        s = PhaseFieldSettings.model_validate({**base, "time": {"dt_scale": scale}})
        eff = effective_settings(s)[0].time
        steps.append((eff.dt, eff.dt_min, eff.dt_max))
        assert eff.dt_min <= eff.dt <= eff.dt_max and eff.dt_scale == 1.0
    for before, after in zip(steps, steps[1:]):
        assert after == pytest.approx(tuple(v / 10 for v in before))


# ---------------------------------------------------------------- time-step control
@pytest.mark.parametrize("theta", [0.5, 0.75, 1.0])
def test_predictor_corrector_estimate_is_the_true_local_error(theta):
    """One theta step of u' = lambda u from the exact u(t_n), after an uneven step history:
    the estimate lte_factor * (u_theta - P) matches the true one-step error within 5 %
    (the estimator's derivation, driver/phasefield/stepping.py), for second (CN) and first
    order (theta > 1/2)."""
    from driver.phasefield.stepping import extrapolate, lte_factor

    lam = -3.0
    exact = lambda t: np.exp(lam * t)  # noqa: E731
    for k in (2e-3, 1e-3):
        ts = [0.5, 0.5 + 1.7 * k, 0.5 + 2.3 * k]          # uneven earlier steps
        t = ts[-1] + k
        un = exact(ts[-1])
        u_theta = un * (1 + (1 - theta) * k * lam) / (1 - theta * k * lam)
        p = 2 if theta == 0.5 else 1
        P = extrapolate(ts[-(p + 1):], [np.array([exact(s)]) for s in ts[-(p + 1):]], t)[0]
        est = lte_factor(ts[-(p + 1):], t, theta) * (u_theta - P)
        assert est == pytest.approx(u_theta - exact(t), rel=0.05)


def test_extrapolation_is_exact_for_polynomials_of_its_order():
    from driver.phasefield.stepping import extrapolate

    ts = [0.0, 0.3, 1.0]
    poly = lambda t: 2 - t + 0.5 * t * t  # noqa: E731
    assert extrapolate(ts, [np.array([poly(t)]) for t in ts], 1.7)[0] == pytest.approx(poly(1.7))


def test_step_rule_grows_shrinks_and_respects_limits():
    from driver.phasefield.stepping import GROW, SAFETY, ErrorController

    c = ErrorController(tolerance=1e-3, dt_min=1e-6, dt_max=0.5)
    assert c.next_dt(0.1, 1.0, 0.5, accepted=False) == pytest.approx(0.1 * SAFETY)
    assert c.next_dt(0.1, 1e-12, 0.5) == pytest.approx(0.1 * GROW)    # capped growth
    assert c.next_dt(0.4, 1e-12, 0.5) == 0.5                            # dt_max
    assert c.next_dt(1e-6, 1e6, 0.5, accepted=False) == 1e-6            # dt_min
    # PI: at the same error, a step after a smaller error grows less than after a larger one
    a = ErrorController(1e-3, 1e-6, 1.0)
    a.next_dt(0.1, 0.1, 0.5)
    b = ErrorController(1e-3, 1e-6, 1.0)
    b.next_dt(0.1, 0.9, 0.5)
    assert a.next_dt(0.1, 0.5, 0.5) < b.next_dt(0.1, 0.5, 0.5)


def test_outputs_after_t_end_are_refused():
    with pytest.raises(ValueError, match="outputs: 2 lies after t_end"):
        PhaseFieldSettings.model_validate({"time": {"t_end": 1.0, "outputs": [0.5, 2.0]}})
    with pytest.raises(ValueError, match="outputs_s: 2000 s lies after"):
        PhaseFieldSettings.model_validate({"degradation": {"interfacial_energy_J_m2": 0.5,
                                                           "outputs_s": [2000.0]}})


@pytest.mark.parametrize("text, needle", [
    ("+".join(["x"] * 50_000), "characters"),          # issue 33, class 7
    ("-" * 100_000 + "x", "characters"),
    ("-" * 5_000 + "x", "cannot be parsed"),           # Python's own parser gives up
    ("(" * 300 + "x" + ")" * 300, "cannot be parsed"),
    ("+".join(["y"] * 500), "nested 501 deep"),
])
def test_expression_size_is_bounded_before_it_is_walked(text, needle):
    """A huge or deeply nested expression is a one-line ConfigError, never a RecursionError
    or MemoryError; an ordinary long formula still evaluates."""
    from driver.errors import ConfigError
    from driver.phasefield.expr import Expression
    with pytest.raises(ConfigError, match=needle):
        Expression(text)
    e = Expression("+".join(["x"] * 300))
    assert e(x=np.ones(3), y=np.ones(3), lx=1.0, ly=1.0)[0] == pytest.approx(300.0)
