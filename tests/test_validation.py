"""Screening lists, MD presets, the validation set and its scores, `sse-driver validate`."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from conftest import assert_one_line_error, run_cli, write_campaign
from driver.validation import skill
from driver.validation.sets import DEFAULT_SET, load_set, select_obelix


# ------------------------------------------------------------------ scores (pure)
def test_rank_scores_match_hand_computed_values():
    # ranks differ by swapping (1,2) and (3,4): sum d^2 = 4 -> rho = 1 - 6*4/(5*24) = 0.8;
    # 2 of the 10 pairs discordant -> tau = (8 - 2)/10 = 0.6
    x, y = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    assert skill.spearman(x, y) == pytest.approx(0.8)
    assert skill.kendall(x, y) == pytest.approx(0.6)
    assert skill.spearman(x, x[::-1]) == pytest.approx(-1.0)
    assert math.isnan(skill.spearman([1, 2, 3], [4, 4, 4]))    # undefined, not 0


def test_error_bias_and_coverage_count_missing_predictions_as_uncovered():
    pairs = [skill.Pair("a", "f1", -3.0, -2.0, -4.0, 0.0),     # +1, covered
             skill.Pair("b", "f1", -4.0, -7.0, -8.0, -6.0),    # -3, not covered
             skill.Pair("c", "f2", -5.0, -5.5, -6.0, -4.9),    # -0.5, covered
             skill.Pair("d", "f2", -6.0, None)]                # no prediction
    s = skill.score(pairs, n_boot=200)
    assert (s.n, s.n_predicted, s.n_missing, s.n_covered) == (4, 3, 1, 2)
    assert s.mae_log10 == pytest.approx((1 + 3 + 0.5) / 3)
    assert s.bias_log10 == pytest.approx((1 - 3 - 0.5) / 3)
    assert s.coverage95 == pytest.approx(2 / 4)
    fam = skill.score_by_family(pairs, n_boot=50)
    assert set(fam) == {"all", "f1", "f2"} and fam["f2"].n_missing == 1


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(3)
    x = np.linspace(-8, -3, 15)
    y = x + rng.normal(0, 1.0, x.size)
    rho = skill.spearman(x, y)
    lo, hi = skill.bootstrap_interval(skill.spearman, x, y, n=500, seed=1)
    assert lo <= rho <= hi and hi - lo > 0.02
    assert (lo, hi) == skill.bootstrap_interval(skill.spearman, x, y, n=500, seed=1)
    assert skill.bootstrap_interval(skill.spearman, x, x, n=200) == pytest.approx((1.0, 1.0))


# ------------------------------------------------------------------ the declared set
def test_shipped_set_is_what_the_declared_rule_selects():
    shipped = yaml.safe_load(DEFAULT_SET.read_text())
    assert yaml.safe_load(select_obelix().to_yaml()) == shipped


def test_shipped_set_meets_the_issue_minimum_and_each_entry_is_covered():
    from driver.potentials import load

    vs = load_set()
    med = [e.log10_sigma_median for e in vs.entries]
    assert len({e.formula for e in vs.entries}) >= 12
    assert max(med) - min(med) >= 4.0
    for e in vs.entries:
        assert e.log10_sigma_min <= e.log10_sigma_median <= e.log10_sigma_max
        assert e.n_measurements == len(e.obelix_ids) >= 1
        from driver.md.compositions import PHYSICAL_BOUNDS, parse
        assert not load(e.potential).missing(set(parse(e.formula, PHYSICAL_BOUNDS).amounts))
    assert {e.family for e in vs.entries} >= {"garnet", "nasicon"}


@pytest.mark.parametrize("text, needle", [
    ("entries: [1, 2]\n", "not a validation set file"),
    ("name: x\nrule: r\nsource: s\nentries: []\n", "no entries"),
    ("\xff\xfe", "not a validation set file"),
])
def test_bad_set_file_is_one_line(tmp_path, text, needle):
    p = tmp_path / "set.yaml"
    p.write_bytes(text.encode("latin-1"))
    out = tmp_path / "out"
    r = run_cli("validate", "--set", str(p), "--out", str(out), "--preset", "smoke")
    assert_one_line_error(r, needle)
    assert not out.exists()


def test_unknown_only_label_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    r = run_cli("validate", "--only", "Li9Xx", "--out", str(out))
    assert_one_line_error(r, "--only Li9Xx", "not in the set")
    assert not out.exists()


# ------------------------------------------------------------------ presets
def test_preset_fills_run_settings_and_explicit_keys_win():
    from driver.schema import MD_PRESETS, MDSettings

    s = MDSettings(preset="screening")
    for k, v in MD_PRESETS["screening"].items():
        assert getattr(s, k) == v
    t = MDSettings(preset="screening", prod_ps=7.0)
    assert t.prod_ps == 7.0 and t.temperatures_k == MD_PRESETS["screening"]["temperatures_k"]
    assert MDSettings().prod_ps == 50.0          # no preset: the plain defaults


def test_unknown_preset_is_one_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("md: {preset: fast}\n")
    assert_one_line_error(run_cli("config", "validate", str(p)), "md.preset")


# ------------------------------------------------------------------ screening lists
@pytest.mark.parametrize("candidates, needle", [
    ([{"formula": "Li9Xx2O3"}], "campaign.candidates[0]"),
    ([{"formula": "Li1.5Al0.5Ge1.5(PO4)3"}, {"formula": "Li7La3Zr2O12"}],
     "campaign.candidates[1] (Li7La3Zr2O12)"),             # pedone2006 has no La
    ([{"formula": "Li7La3Zr2O12", "potential": "nosuch"}], "campaign.candidates[0]"),
    ([{"formula": "Li2O", "cif": "x.cif"}], "exactly one of formula or cif"),
    ([], "campaign.candidates"),
])
def test_bad_screening_list_is_refused_before_anything_is_written(tmp_path, candidates, needle):
    cfg = write_campaign(tmp_path, campaign={"candidates": candidates})
    assert_one_line_error(run_cli("config", "validate", str(cfg)), needle)
    out = tmp_path / "run"
    assert_one_line_error(run_cli("run", str(cfg), "--out", str(out)), needle)
    assert not out.exists()


def test_non_neutral_cif_in_a_screening_list_is_refused(tmp_path):
    from pymatgen.core import Lattice, Structure

    Structure(Lattice.cubic(4.0), ["Li", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(
        filename=str(tmp_path / "lio.cif"))
    lst = tmp_path / "list.txt"
    lst.write_text("lio.cif\n")
    out = tmp_path / "s"
    assert_one_line_error(run_cli("screen", str(lst), "--out", str(out)), "lio.cif", "neutral")
    assert not out.exists()


@pytest.mark.slow
def test_screen_a_list_of_a_formula_and_a_cif_end_to_end(tmp_path):
    """Two listed candidates (a NASICON formula under Pedone, a garnet CIF under softBV)
    go through the campaign machinery: ledger, labels, report, status; no optimizer proposal."""
    from driver.campaign.ledger import Ledger
    from driver.md.compositions import parse
    from driver.md.structures import build

    build(parse("Li6.5La3Zr1.5Ta0.5O12"), (1, 1, 1), seed=2).structure.to(
        filename=str(tmp_path / "llzto.cif"))
    lst = tmp_path / "list.txt"
    lst.write_text("# two candidates\nLi1.5Al0.5Ge1.5(PO4)3  pedone2006  LAGP\n"
                   "llzto.cif adams_rao2011   # garnet from a CIF\n")
    cfg = write_campaign(tmp_path)
    out = tmp_path / "s"
    r = run_cli("screen", str(lst), "--config", str(cfg), "--out", str(out), timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    evals = Ledger(out / "ledger.sqlite", readonly=True).evaluations()
    assert [e["status"] for e in evals] == ["done", "done"], [e["errors"] for e in evals]
    by_label = {e["x"]["label"]: e for e in evals}
    assert set(by_label) == {"LAGP", "Li13La6Zr3TaO24"}
    assert by_label["LAGP"]["outputs"]["potential"] == "pedone2006"
    assert by_label["Li13La6Zr3TaO24"]["outputs"]["potential"] == "adams_rao2011"
    assert by_label["Li13La6Zr3TaO24"]["x"]["cif"] == str(tmp_path / "llzto.cif")
    assert (out / "report.html").exists()
    st = run_cli("status", str(out))
    assert st.returncode == 0 and "done 2" in st.stdout
    again = run_cli("screen", str(lst), "--config", str(cfg), "--out", str(out))
    assert_one_line_error(again, "already holds a campaign")


# ------------------------------------------------------------------ sse-driver validate
@pytest.mark.slow
def test_validate_smoke_subset_scores_what_it_ran_and_resumes(tmp_path):
    out = tmp_path / "v"
    only = ["Li5La3Ta2O12", "Li6.5La3Zr1.5Ta0.5O12", "Li6.75La3Zr1.75Ta0.25O12"]
    r = run_cli("validate", "--preset", "smoke", "--out", str(out), "--only", *only, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Spearman" in r.stdout and "core-hours" in r.stdout
    res = json.loads((out / "validation.json").read_text())
    assert res["preset"] == "smoke" and res["md_settings"]["prod_ps"] == 20.0
    assert res["potentials"] == ["adams_rao2011"] and res["evaluations"] == 3
    vs = {e.label: e for e in load_set().entries}
    pairs = res["pairs"]
    assert [p["label"] for p in pairs] == [e for e in vs if e in only]
    have = [p for p in pairs if p["pred"] is not None]
    for p in pairs:                                   # experiment is the set's median
        assert p["exp"] == vs[p["label"]].log10_sigma_median
    # the scores are those of the pairs it wrote (recomputed independently here)
    a = res["scores"]["all"]
    if len(have) == 3:
        x = [p["exp"] for p in have]
        y = [p["pred"] for p in have]
        rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
        assert a["spearman"] == pytest.approx(1 - 6 * np.sum((rx - ry) ** 2) / (3 * 8))
        assert a["mae_log10"] == pytest.approx(np.mean(np.abs(np.subtract(y, x))))
    cov = sum(1 for p in have if p["pred_lo95"] <= p["exp"] <= p["pred_hi95"])
    assert a["coverage95"] == pytest.approx(cov / 3) and a["n_missing"] == 3 - len(have)
    assert res["cost_core_hours"] > 0
    assert (out / "parity.png").stat().st_size > 10_000
    assert "Spearman" in (out / "validation.html").read_text()
    # the same command again resumes: nothing is run twice
    again = run_cli("validate", "--preset", "smoke", "--out", str(out), "--only", *only, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming" in again.stdout and "submitted" not in again.stdout
    assert json.loads((out / "validation.json").read_text())["pairs"] == pairs
    # other settings into the same folder are refused
    other = run_cli("validate", "--preset", "screening", "--out", str(out), "--only", *only)
    assert_one_line_error(other, "other settings")
