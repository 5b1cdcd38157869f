"""The Li-penetration (critical current) model: verification of the DOLFINx current
distribution against analytic limits, mesh convergence, serial vs two ranks, the physics'
monotonicity and error propagation (driver/phasefield/flaw.py, penetration.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from driver.mpi import MPI  # noqa: F401  (mpi4py before dolfinx)
from driver.phasefield import penetration as pen
from driver.phasefield.flaw import FlawMesh, current_amplification

from conftest import assert_one_line_error, run_cli, run_mpi


@pytest.mark.parametrize("wa", [0.01, 0.1, 1.0, 10.0])
def test_resistive_half_circle_matches_the_exact_secondary_distribution(wa):
    # phi = E0 (r - B a^2 / r) cos(theta), B = (1 - Wa) / (1 + Wa): A = 2 / (1 + Wa)
    A = current_amplification(1.0, [wa], FlawMesh(64, 128), plane="dirichlet")[0]
    assert A == pytest.approx(2 / (1 + wa), rel=2e-3)


def test_half_ellipse_primary_limit_and_mesh_convergence():
    # Wa -> 0: the potential-flow tip field of an ellipse along its major axis, 1 + l / b
    errs = []
    for r in (32, 64, 128):
        A = current_amplification(10.0, [1e-6], FlawMesh(r, 2 * r))[0]
        errs.append(abs(A / 11.0 - 1))
    assert errs[-1] < 0.02                                   # default mesh: within 2 %
    assert errs[0] > 2 * errs[1] > 4 * errs[2]               # converging, ~first order or better
    A2 = current_amplification(2.0, [1e-6], FlawMesh(128, 256))[0]
    assert A2 == pytest.approx(3.0, rel=0.01)


def test_focusing_falls_smoothly_from_the_primary_to_the_uniform_limit():
    wa = np.logspace(-4, 3, 15)
    A = current_amplification(10.0, wa, FlawMesh(64, 128))
    low = wa <= 10
    assert np.all(np.diff(A[low]) < 0)                       # more interface resistance: less focusing
    assert A[0] > 10                                         # the primary limit, 1 + l/b = 11
    # uniform limit: within 3 % of 1 (the flaw's extra Li area draws current in 2-D, so the
    # tip sits just below the far-field density: 0.974 at Wa = 30, 0.990 at 1000)
    assert np.all(np.abs(A[~low] - 1) < 0.03)


def _settings(**over) -> pen.Penetration:
    base = dict(sigma_S_cm=1e-4, bulk_modulus_GPa=110.0, shear_modulus_GPa=40.0,
                interface_resistance_ohm_cm2=2.0, samples=16, radial_cells=48, angular_cells=96)
    return pen.Penetration(**{**base, **over})


def test_critical_current_responds_as_the_physics_says_and_never_saturates():
    sig = np.logspace(-8, -2, 7)       # D over 6 decades at a fixed Li density
    i = [pen.evaluate(_settings(sigma_S_cm=s))["critical_current_mA_cm2"]["nominal"] for s in sig]
    assert np.all(np.diff(i) > 0)                            # better conductor: less focusing
    assert i[-1] / i[0] > 3                                  # a real range, not a clipped score
    G = [pen.evaluate(_settings(shear_modulus_GPa=g))["critical_current_mA_cm2"]["nominal"]
         for g in (20, 40, 60, 80, 100)]
    assert np.all(np.diff(G) > 0)                            # stiffer: tougher (Griffith)
    L = [pen.evaluate(_settings(flaw_length_um=l))["critical_current_mA_cm2"]["nominal"]
         for l in (1, 10, 100)]
    assert np.all(np.diff(L) < 0)                            # larger flaws open first


def test_closed_form_parts():
    E, nu = pen.youngs_poisson(np.array(100.0), np.array(60.0))
    assert E == pytest.approx(150.0) and nu == pytest.approx(0.25)
    K = pen.griffith_toughness(150e9, 0.25, 1.0)
    assert K == pytest.approx(math.sqrt(2 * 150e9 / 0.9375))
    # eta_c = V_Li p_c / F, p_c = K / (Y sqrt(pi l)): 1 MPa m^1/2, 10 um -> p_c = 159.3 MPa;
    # x 12.998 cm3/mol / 96485 C/mol -> 21.46 mV
    assert pen.critical_overpotential(1e6, 1e-5) * 1e3 == pytest.approx(21.46, abs=0.01)


def test_uncertainty_is_propagated_from_the_md_intervals():
    exact = pen.evaluate(_settings())["critical_current_mA_cm2"]
    assert exact["interval_95"][0] == pytest.approx(exact["interval_95"][1])   # no MD error, no spread
    r = pen.evaluate(_settings(sigma_ln_err=1.0, samples=400))
    i = r["critical_current_mA_cm2"]
    assert i["interval_95"][0] < i["nominal"] < i["interval_95"][1]
    # delta method: d ln i / d ln sigma = - d ln A / d ln Wa, from the FEM table itself
    g = r["amplification_grid"]
    slope = np.gradient(np.log(g["A"]), np.log(g["wagner_number"]))
    k = int(np.argmin(np.abs(np.log(np.array(g["wagner_number"]) / r["wagner_number"]["nominal"]))))
    assert i["ln_sd"] == pytest.approx(abs(slope[k]) * 1.0, rel=0.35)


def _md_result(tmp_path, temps, formula="Li6.4La3Zr1.4Ta0.6O12"):
    p = tmp_path / "md_result.json"
    p.write_text(json.dumps({
        "formula": formula,
        "elastic": {"bulk_vrh_GPa": 110.0, "bulk_vrh_err_GPa": 10.0, "shear_vrh_GPa": 40.0,
                    "shear_vrh_err_GPa": 1.0},
        "temperatures": [{"temperature_K": T, "diffusive": True, "sigma_S_cm": s,
                          "sigma_err_S_cm": 0.1 * s} for T, s in temps]}))
    return p


def test_cli_from_an_md_result_serial_and_two_ranks_agree(tmp_path):
    md = _md_result(tmp_path, [(800, 0.01), (1000, 0.03), (1200, 0.06)])
    cfg = tmp_path / "p.yaml"
    cfg.write_text(yaml.safe_dump({"phasefield": {"penetration": {
        "md_result": str(md), "samples": 32, "radial_cells": 48, "angular_cells": 96}}}))
    r1 = run_cli("phasefield", str(cfg), "--out", str(tmp_path / "s"))
    assert r1.returncode == 0, r1.stderr
    assert "critical current density" in r1.stdout and "Arrhenius fit" in r1.stdout
    r2 = run_mpi(2, "-m", "driver.cli", "phasefield", str(cfg), "--out", str(tmp_path / "p"))
    assert r2.returncode == 0, r2.stderr
    a = json.loads((tmp_path / "s" / "result.json").read_text())
    b = json.loads((tmp_path / "p" / "result.json").read_text())
    assert b["provenance"]["mpi_ranks"] == 2
    assert a["metrics"]["amplification_grid"]["A"] == pytest.approx(
        b["metrics"]["amplification_grid"]["A"], rel=1e-8)
    m = a["metrics"]
    assert m["units"]["critical_current_mA_cm2"] == "mA/cm2"
    # a garnet's MD: the garnet family's measured Li | LLZO resistance, with its source
    assert m["inputs"]["interface_resistance_ohm_cm2"] == 2.0
    assert "Sharafi" in m["inputs"]["interface_resistance_source"]
    assert m["inputs"]["shear_modulus_err_GPa"] == 1.0
    lo, hi = m["critical_current_mA_cm2"]["interval_95"]
    assert 0 < lo < m["critical_current_mA_cm2"]["median"] < hi


@pytest.mark.parametrize("formula, family", [("Li6PS5Cl", "argyrodite"),
                                             ("Li3InCl6", "halide"),
                                             ("Li1.5Al0.5Ge1.5(PO4)3", "nasicon"),
                                             ("Li2O", None)])
def test_a_family_without_a_measured_interface_resistance_borrows_none(tmp_path, formula, family):
    """Issue 31: the Li | LLZO resistance belongs to the garnets. For any other family's
    MD the model is not measurable, saying why and how to give a value; a value the
    settings give is used, and said to be given."""
    md = _md_result(tmp_path, [(800, 0.01), (1000, 0.03), (1200, 0.06)], formula)
    with pytest.raises(pen.NotMeasurable, match="interface resistance") as exc:
        pen.evaluate(pen.Penetration(md_result=str(md), samples=16, radial_cells=48,
                                     angular_cells=96))
    assert (family or formula) in str(exc.value)
    assert "penetration.interface_resistance_ohm_cm2" in str(exc.value)
    if family != "argyrodite":
        return                           # the solve with a given value: once is enough
    got = pen.evaluate(pen.Penetration(md_result=str(md), interface_resistance_ohm_cm2=5.0,
                                       samples=16, radial_cells=48, angular_cells=96))
    assert got["inputs"]["interface_resistance_ohm_cm2"] == 5.0
    assert got["inputs"]["interface_resistance_source"].startswith("given")


def test_an_md_without_two_diffusive_temperatures_is_a_result_not_a_crash(tmp_path):
    md = _md_result(tmp_path, [(1500, 0.1)])
    cfg = tmp_path / "p.yaml"
    cfg.write_text(yaml.safe_dump({"phasefield": {"penetration": {"md_result": str(md)}}}))
    r = run_cli("phasefield", str(cfg), "--out", str(tmp_path / "o"))
    assert r.returncode == 0 and "not measurable" in r.stdout
    res = json.loads((tmp_path / "o" / "result.json").read_text())
    assert res["measurable"] is False and "Arrhenius" in res["not_measurable_reason"]
    from driver.campaign.tasks import stability_outputs
    from driver.phasefield.result import read
    out = stability_outputs(read(tmp_path / "o" / "result.json"))
    assert out["critical_current"] is None and "diffusive" in out["critical_current_note"]


@pytest.mark.parametrize("text,needle", [
    ("phasefield:\n  penetration: {flaw_length_um: 5}\n", "give md_result, or sigma_S_cm"),
    ("phasefield:\n  penetration: {md_result: NOPE}\n", "penetration.md_result"),
    ("phasefield:\n  penetration: {sigma_S_cm: 1e-4, flaw_aspect: 0.5}\n", "flaw_aspect"),
    ("phasefield:\n  penetration: {sigma_S_cm: 1e-4}\n  degradation: {interfacial_energy_J_m2: 1}\n",
     "not both"),
    ("campaign:\n  stability_model: degradation\n", "objective critical_current comes from"),
    ("campaign:\n  objectives: [{name: stability}]\n", "objective stability comes from"),
])
def test_bad_penetration_input_is_one_line(tmp_path, text, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    cmd = ("run", str(cfg), "--out", str(tmp_path / "o")) if text.startswith("campaign") \
        else ("phasefield", str(cfg), "--out", str(tmp_path / "o"))
    assert_one_line_error(run_cli(*cmd), needle)
    assert not (tmp_path / "o").exists()          # a refusal leaves no folder (issue 33)


def test_the_degradation_model_never_borrows_another_electrolytes_D():
    """stability_model: degradation in a campaign: D from the candidate's own MD Arrhenius
    fit, or the D the config fixes; with neither (fewer than two diffusive temperatures) the
    score is not measurable and said so, and no phase field runs on a default D."""
    from driver import config
    from driver.campaign.tasks import NO_DEGRADATION_D, _degradation_block
    from driver.schema import Settings

    objs = [{"name": "sigma_300K", "direction": "max", "log": True},
            {"name": "stability", "direction": "max"}]
    s = config.validate(Settings, {"campaign": {"stability_model": "degradation",
                                                "objectives": objs}})
    from tests.conftest import md_result
    temps = [{"temperature_K": T, "diffusive": True, "D_cm2_s": d} for T, d in ((1000, 1e-6),
                                                                              (1200, 3e-6))]
    two = md_result(temperatures=temps, elastic={"shear_vrh_GPa": 40.0})
    one = md_result(temperatures=temps[:1], elastic={"shear_vrh_GPa": 40.0})
    deg = _degradation_block(s, s.campaign, two, "/x/md/result.json")
    assert deg["md_result"] == "/x/md/result.json" and deg["_source"] == "MD Arrhenius"
    assert _degradation_block(s, s.campaign, one, "/x/md/result.json") is None
    assert "diffusive" in NO_DEGRADATION_D and "not measurable" in NO_DEGRADATION_D
    fixed = config.validate(Settings, {"campaign": {"stability_model": "degradation",
                                                    "objectives": objs},
                                       "phasefield": {"degradation": {"D_cm2_s": 1e-9,
                                                                      "interfacial_energy_J_m2": 0.5}}})
    deg = _degradation_block(fixed, fixed.campaign, one, "/x/md/result.json")
    assert deg["_source"] == "config" and deg["D_cm2_s"] == 1e-9
    assert deg["shear_modulus_GPa"] == 40.0 and "md_result" not in deg


def _bad_md_result(tmp_path, **changes):
    import json
    r = {"elastic": {"bulk_vrh_GPa": 100.0, "shear_vrh_GPa": 50.0, "bulk_vrh_err_GPa": 5.0,
                     "shear_vrh_err_GPa": 3.0},
         "temperatures": [{"temperature_K": T, "sigma_S_cm": s, "sigma_err_S_cm": 0.1 * s,
                           "diffusive": True} for T, s in ((900.0, 1e-2), (1100.0, 3e-2))]}
    for path, value in changes.items():
        node = r
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        node[keys[-1]] = value
    p = tmp_path / "result.json"
    p.write_text(json.dumps(r))
    return str(p)


@pytest.mark.parametrize("changes, needle", [
    ({"elastic__bulk_vrh_err_GPa": float("nan")}, "error bars"),      # used to hang
    ({"elastic__shear_vrh_err_GPa": -1.0}, "error bars"),
    ({"elastic__bulk_vrh_GPa": float("inf")}, "not the result.json"),
    ({"elastic__bulk_vrh_GPa": -1e300}, "not the result.json"),
    ({"temperatures__1__temperature_K": 900.0}, "distinct"),            # used to be LinAlgError
    ({"temperatures__0__temperature_K": -900.0}, "distinct and positive"),
    ({"temperatures__0__sigma_err_S_cm": -1e-3}, "finite error >= 0"),
    ({"temperatures__0__sigma_S_cm": float("inf")}, "sigma positive"),
])
def test_numbers_of_an_md_result_are_checked_where_they_enter(tmp_path, changes, needle):
    """Issue 33, class 3: a number in an MD result the phase field reads (NaN, inf, negative,
    a repeated temperature) is a one-line ConfigError naming the file, never a hang, a
    LinAlgError or a silently used value."""
    import time

    from driver.errors import ConfigError
    from driver.phasefield.penetration import inputs_from_md
    from driver.phasefield.settings import Penetration
    t0 = time.time()
    with pytest.raises(ConfigError, match=needle):
        inputs_from_md(Penetration(md_result=_bad_md_result(tmp_path, **changes)))
    assert time.time() - t0 < 10
    assert inputs_from_md(Penetration(md_result=_bad_md_result(tmp_path))).K_GPa == 100.0


@pytest.mark.parametrize("changes, needle", [
    ({"elastic__bulk_vrh_err_GPa": float("nan")}, "error bars"),
    ({"temperatures__1__temperature_K": 900.0}, "distinct"),
])
def test_a_phasefield_refused_for_its_md_result_leaves_no_folder(tmp_path, changes, needle):
    """Issue 33, class 8: `phasefield` refuses an MD result's numbers in one line (exit 2) and
    removes the --out folder it created for the run."""
    cfg = tmp_path / "pf.yaml"
    cfg.write_text(f"phasefield:\n  penetration: {{md_result: '{_bad_md_result(tmp_path, **changes)}'}}\n")
    out = tmp_path / "new" / "o"
    assert_one_line_error(run_cli("phasefield", str(cfg), "--out", str(out)), needle)
    assert not (tmp_path / "new").exists()
