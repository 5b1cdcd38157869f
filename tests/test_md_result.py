"""The MD result as a typed document (issue 31, item 4): what the writer produces is what
every reader loads; results of older shapes still load; a file that is not a result is one
line naming the field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from driver.md import result as R
from tests.conftest import MD_RESULT

OLD = Path(__file__).parent / "data" / "md_result_2026-11-28.json"


def test_a_result_round_trips_unchanged():
    data = json.loads(MD_RESULT.read_text())
    r = R.read(MD_RESULT)
    assert r.to_json() == data                  # every key, extras included, as written
    assert r.hottest().temperature_K == max(t["temperature_K"] for t in data["temperatures"])
    assert r.elastic.shear_vrh_GPa == data["elastic"]["shear_vrh_GPa"]
    assert r.diffusive_count() == sum(t["diffusive"] for t in data["temperatures"])


def test_a_result_of_the_older_shape_loads_and_its_collective_fit_is_remade():
    """Results written before the collective diffusivity (2026-11-29) and before formulas
    per formula unit (issue 32) load; the collective Arrhenius fit is remade from the
    temperatures (none here: no temperature was diffusive)."""
    r = R.read(OLD)
    assert r.cell_formula is None and r.formula == "Li9Al3Ge9P18O72"
    assert r.collective_arrhenius() is None
    from driver.campaign.tasks import outputs
    out = outputs(r, None, None)
    assert out["formula"] == "Li1.5Al0.5Ge1.5(PO4)3"       # normalised per formula unit
    assert out["sigma_300K"] is None and out["shear_modulus"] == r.elastic.shear_vrh_GPa


def test_the_collective_fit_of_an_old_result_equals_the_recorded_one():
    """Two diffusive temperatures: the fit remade for a result without
    ``arrhenius_collective`` is the one the writer records."""
    from tests.conftest import md_result
    from driver.md.workflow import arrhenius_summary
    temps = [{"temperature_K": T, "diffusive": True, "D_cm2_s": d, "D_err_cm2_s": 0.1 * d,
              "sigma_S_cm": s, "sigma_err_S_cm": 0.1 * s, "sigma_collective_S_cm": 2 * s,
              "sigma_collective_err_S_cm": 0.3 * s}
             for T, d, s in ((1000, 1e-6, 0.01), (1200, 3e-6, 0.025), (1400, 6e-6, 0.05))]
    data = md_result(temperatures=temps).to_json()
    recorded = arrhenius_summary(temps, "sigma_collective")[1]
    old = {k: v for k, v in data.items() if k != "arrhenius_collective"}
    remade = R.parse(old).collective_arrhenius()
    assert remade.sigma_300K_S_cm == pytest.approx(recorded["sigma_300K_S_cm"])
    assert R.parse({**data, "arrhenius_collective": None}).collective_arrhenius() is None


@pytest.mark.parametrize("change, needle", [
    (lambda d: d.pop("elastic"), "elastic"),
    (lambda d: d.update(temperatures=[]), "temperatures"),
    (lambda d: d["temperatures"][0].update(diffusive="maybe"), "temperatures.0.diffusive"),
    (lambda d: d.update(schema="sse-driver/md-result/9"), "schema"),
    (lambda d: d["elastic"].update(shear_vrh_GPa="soft"), "elastic.shear_vrh_GPa"),
])
def test_a_file_that_is_not_a_result_is_one_line_naming_the_field(tmp_path, change, needle):
    data = json.loads(MD_RESULT.read_text())
    change(data)
    p = tmp_path / "result.json"
    p.write_text(json.dumps(data))
    with pytest.raises(R.ResultFileError) as e:
        R.read(p)
    assert needle in str(e.value) and str(p) in str(e.value) and "\n" not in str(e.value)


def test_files_that_are_not_json_are_refused_in_one_line(tmp_path):
    for name, content in (("bin.json", b"\xff\xfe\x00"), ("list.json", b"[1, 2]"),
                          ("text.json", b"not json")):
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(R.ResultFileError, match="not a result.json"):
            R.read(p)
    with pytest.raises(R.ResultFileError, match="not found"):
        R.read(tmp_path / "missing.json")


def test_a_nan_error_bar_is_kept_as_written():
    """The writer's NaN (a temperature without an error bar) stays NaN through the model
    (pydantic's JSON mode would write null)."""
    from tests.conftest import md_result
    r = md_result(temperatures=[{"temperature_K": 900.0, "diffusive": False,
                                 "D_cm2_s": 1e-7, "D_err_cm2_s": float("nan")}])
    assert math.isnan(r.to_json()["temperatures"][0]["D_err_cm2_s"])


def _penetration(measurable: bool) -> dict:
    q = {"nominal": 2.0, "median": 2.1, "interval_68": [1.5, 2.9], "interval_95": [1.1, 4.0]}
    met = {"critical_current_mA_cm2": {**q, "ln_sd": 0.3}, "current_amplification": q,
           "fracture_toughness_MPa_m05": q, "wagner_number": q}
    return {"schema": "sse-driver/penetration-result/1", "model": "li_penetration",
            "settings": {}, "measurable": measurable,
            "not_measurable_reason": None if measurable else "1 diffusive MD temperature(s)",
            "metrics": met if measurable else None, "files": {}, "provenance": {"seconds": 1.0}}


def test_phase_field_results_of_both_models_are_told_apart_by_their_schema():
    """Issue 31, item 4: the phase-field result is one of two typed documents (degradation,
    Li penetration), chosen by the schema tag; the campaign's outputs read them by
    attribute; anything else is one line naming the field."""
    from driver.campaign.tasks import stability_outputs
    from driver.phasefield import result as P
    pen = P.parse(_penetration(True))
    assert isinstance(pen, P.PenetrationResult) and pen.to_json() == _penetration(True)
    out = stability_outputs(pen)
    assert out["critical_current"] == 2.1 and out["critical_current_err"] == pytest.approx(0.63)
    none = stability_outputs(P.parse(_penetration(False)))
    assert none["critical_current"] is None and "diffusive" in none["critical_current_note"]
    deg = P.parse({"schema": "sse-driver/phasefield-result/1", "settings": {},
                   "metrics": {"stability_score": 0.7, "degraded_fraction": 0.1,
                               "width_factor": None}, "provenance": {}})
    assert stability_outputs(deg) == {"stability": 0.7, "stability_err": None,
                                      "degraded_fraction": 0.1}
    bad = _penetration(True)
    del bad["metrics"]["critical_current_mA_cm2"]["ln_sd"]
    with pytest.raises(P.ResultFileError, match="critical_current_mA_cm2.ln_sd"):
        P.parse(bad)
    with pytest.raises(P.ResultFileError, match="schema"):
        P.parse({**_penetration(True), "schema": "sse-driver/md-result/1"})


def test_an_old_result_round_trips_without_new_keys():
    """Loading and writing back a result of the older shape adds no field it lacked."""
    assert R.read(OLD).to_json() == json.loads(OLD.read_text())
