"""Screening lists, MD presets, the validation set and its scores, `sse-driver validate`."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import yaml

from conftest import assert_one_line_error, run_cli, write_campaign
from driver.validation import skill
from driver.kb.skill_records import describe, load_records, records_from_result, skill_lines
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
    assert s.medae_log10 == pytest.approx(1.0)
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


def test_argyrodite_set_is_what_the_rule_selects_under_the_ml_potential():
    """driver/validation/argyrodites_obelix.yaml: the same rule, the ML potential alone,
    argyrodites only: 9 compositions (Cl/Br and Br/I series) over 3.4 decades."""
    from driver.validation.sets import HERE, family_sets
    shipped = yaml.safe_load((HERE / "argyrodites_obelix.yaml").read_text())
    assert yaml.safe_load(select_obelix(**family_sets()["argyrodite"]).to_yaml()) == shipped
    vs = load_set(HERE / "argyrodites_obelix.yaml")
    logs = [e.log10_sigma_median for e in vs.entries]
    assert len(vs.entries) == 9 and {e.potential for e in vs.entries} == {"sevennet0"}
    assert max(logs) - min(logs) > 3.0


def test_halide_set_is_what_the_rule_selects_under_the_ml_potential():
    """driver/validation/halides_obelix.yaml, declared before any prediction (issue 30, item
    4): the same rule, halides only: Li3InCl6, Li3YBr6, Li3YCl6."""
    from driver.validation.sets import HERE, family_sets
    shipped = yaml.safe_load((HERE / "halides_obelix.yaml").read_text())
    assert yaml.safe_load(select_obelix(**family_sets()["halide"]).to_yaml()) == shipped
    vs = load_set(HERE / "halides_obelix.yaml")
    assert [e.formula for e in vs.entries] == ["Li3InCl6", "Li3YBr6", "Li3YCl6"]
    assert {e.family for e in vs.entries} == {"halide"}


def test_shipped_set_meets_the_issue_minimum_and_each_entry_is_covered():
    from driver.potentials import load

    vs = load_set()
    med = [e.log10_sigma_median for e in vs.entries]
    assert len({e.formula for e in vs.entries}) >= 12
    assert max(med) - min(med) >= 4.0
    for e in vs.entries:
        assert e.log10_sigma_min <= e.log10_sigma_median <= e.log10_sigma_max
        assert e.n_measurements == len(e.obelix_ids) >= 1
        from driver.families.compositions import PHYSICAL_BOUNDS, parse
        assert not load(e.potential).missing(set(parse(e.formula, PHYSICAL_BOUNDS).amounts))
    assert {e.family for e in vs.entries} >= {"garnet", "nasicon"}


@pytest.mark.parametrize("text, needle", [
    ("entries: [1, 2]\n", "not a validation set file"),
    ("name: x\nrule: r\nsource: s\nentries: []\n", "no entries"),
    ("\xff\xfe", "not UTF-8 text"),
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
    from driver.schema import Settings
    # stages are stopped by their progress (campaign/watchdog.py), not by a wall clock
    # sized per preset; an explicit cap is kept
    assert Settings().campaign.task_timeout_s is None
    assert Settings(md={"preset": "screening"}).campaign.task_timeout_s is None
    assert Settings(md={"preset": "screening"},
                    campaign={"task_timeout_s": 60}).campaign.task_timeout_s == 60.0


def test_unknown_preset_is_one_line(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("md: {preset: fast}\n")
    assert_one_line_error(run_cli("config", "validate", str(p)), "md.preset")


# ------------------------------------------------------------------ screening lists
@pytest.mark.parametrize("candidates, needle", [
    ([{"formula": "Li9Xx2O3"}], "campaign.candidates[0]"),
    ([{"formula": "Li7La3Zr2O12"}, {"formula": "Li1.5Al0.5Ge1.5(PO4)3"}],
     "campaign.candidates[1] (Li1.5Al0.5Ge1.5P3O12)"),     # adams_rao2011 has no Ge, P
    ([{"formula": "Li7La3Zr2O12", "potential": "nosuch"}], "campaign.candidates[0]"),
    ([{"formula": "Li2O", "cif": "x.cif"}], "exactly one of formula or cif"),
    ([], "campaign.candidates"),
    ([{"formula": "Li7La3Zr2O12"}, {"formula": "Li7La3Zr2O12"}],      # same seeds, same run
     "campaign.candidates[1] repeats campaign.candidates[0]"),
    ([{"formula": "Li7La3Zr2O12", "label": "a"}, {"formula": "Li5La3Ta2O12", "label": "a"}],
     "label 'a' already names campaign.candidates[0]"),
])
def test_bad_screening_list_is_refused_before_anything_is_written(tmp_path, candidates, needle):
    cfg = write_campaign(tmp_path, campaign={"candidates": candidates})
    assert_one_line_error(run_cli("config", "validate", str(cfg)), needle)
    out = tmp_path / "run"
    assert_one_line_error(run_cli("run", str(cfg), "--out", str(out)), needle)
    assert not out.exists()


def test_screening_labels_name_each_entry_alone():
    """One formula under two force fields (side by side) gets the potential in its default
    label; an explicit label is kept."""
    from driver.campaign.screening import screen_items
    from driver.schema import Settings

    s = Settings(md={"potential": "adams_rao2011"}, campaign={"candidates": [
        {"formula": "Li7La3Zr2O12"}, {"formula": "Li7La3Zr2O12", "potential": "deng_du2019"},
        {"formula": "Li5La3Ta2O12"}, {"formula": "Li6La3ZrTaO12", "label": "LLZT1"}]})
    assert [x["label"] for x in screen_items(s)] == [
        "Li7La3Zr2O12_adams_rao2011", "Li7La3Zr2O12_deng_du2019", "Li5La3Ta2O12", "LLZT1"]


def test_non_neutral_cif_in_a_screening_list_is_refused(tmp_path):
    from pymatgen.core import Lattice, Structure

    Structure(Lattice.cubic(4.0), ["Li", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(
        filename=str(tmp_path / "lio.cif"))
    lst = tmp_path / "list.txt"
    lst.write_text("lio.cif\n")
    out = tmp_path / "s"
    assert_one_line_error(run_cli("screen", str(lst), "--out", str(out)), "lio.cif", "neutral")
    assert not out.exists()


def test_a_cif_with_overlapping_sites_is_refused_before_anything_runs(tmp_path):
    """A duplicated site (here 0.005 A from its original) would be pushed apart by the relax
    with huge forces and the run would model no material: one line, exit 2, no folder."""
    from pymatgen.core import Lattice, Structure

    from driver.md.cif_input import read_cif
    from driver.errors import CompositionError
    from driver.potentials import load

    st = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.61), ["O", "Li"],
                                   [[0, 0, 0], [0.25, 0.25, 0.25]])      # Li2O, neutral
    st.to(filename=str(tmp_path / "ok.cif"))
    assert len(read_cif(tmp_path / "ok.cif", "--cif", load("pedone2006"))) == 12
    for el, xyz in (("Li", [0.251, 0.25, 0.25]), ("Li", [0.751, 0.25, 0.25]), ("O", [0.001, 0, 0])):
        st.append(el, xyz)                                              # still neutral: Li10O5
    st.to(filename=str(tmp_path / "dupe.cif"))
    with pytest.raises(CompositionError, match="0.005 A apart, closer than 0.5 A"):
        read_cif(tmp_path / "dupe.cif", "--cif", load("pedone2006"))
    out = tmp_path / "md"
    assert_one_line_error(run_cli("md", "--cif", str(tmp_path / "dupe.cif"), "--potential",
                                  "pedone2006", "--out", str(out)), "duplicated site")
    assert not out.exists()


@pytest.mark.slow
def test_screen_a_list_of_a_formula_and_a_cif_end_to_end(tmp_path):
    """Two listed candidates (a NASICON formula under Pedone, a garnet CIF under softBV)
    go through the campaign machinery: ledger, labels, report, status; no optimizer proposal."""
    from driver.campaign.ledger import Ledger
    from driver.families.compositions import parse
    from driver.families.structures import build

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
    page = (out / "report.html").read_text()
    # predictions beside experiment: LAGP's three OBELiX measurements, median 2.8e-4 S/cm
    assert "Predictions beside experiment" in page and "2.80e-04 (3: 1.9e-04 .. 3.4e-04)" in page
    # how far to trust them: these tiny test settings were never validated, and it says so
    assert "Skill of these settings against experiment" in page
    assert "no validation on record with this protocol; nearest (" in page
    st = run_cli("status", str(out))
    assert st.returncode == 0 and "done 2" in st.stdout
    assert "skill on record (nasicon, pedone2006): no validation on record with this protocol" in st.stdout
    again = run_cli("screen", str(lst), "--config", str(cfg), "--out", str(out))
    assert_one_line_error(again, "already holds a campaign")


# ------------------------------------------------------------------ skill on record (pure)
def _result(prod_ps=100.0, garnet_spearman=0.5):
    md = {"supercell": [1, 1, 1], "temperatures_k": [800, 1000], "timestep_fs": 1,
          "equil_ps": 10, "prod_ps": prod_ps, "replicas": 1, "haven_ratio": 1, "seed": 3}
    sc = {"n": 4, "n_predicted": 3, "n_missing": 1, "spearman": garnet_spearman,
          "spearman_ci95": [-0.2, 1.0], "kendall": 0.33, "kendall_ci95": [-0.5, 1.0],
          "mae_log10": 2.5, "medae_log10": 2.0, "bias_log10": -2.5, "coverage95": 0.25,
          "n_covered": 1}
    nan = dict(sc, n=1, n_predicted=0, spearman=float("nan"), spearman_ci95=[float("nan")] * 2,
               kendall=None, kendall_ci95=None, mae_log10=float("nan"), medae_log10=None,
               bias_log10=None, coverage95=0.0)
    return {"date": "2026-11-30", "set": "s", "preset": "screening", "md_settings": md,
            "scores": {"all": sc, "garnet": sc, "nasicon": nan}, "scores_collective": None,
            "cost_core_hours": 1.5}


def test_skill_records_from_a_result_and_their_lookup():
    recs = records_from_result(_result(), {"garnet": "adams_rao2011", "nasicon": "pedone2006"},
                               commit="abcdef1")
    # one record per family ("all" mixes potentials), undefined scores become None
    assert [(r.family, r.potential, r.estimator) for r in recs] == [
        ("garnet", "adams_rao2011", "tracer"), ("nasicon", "pedone2006", "tracer")]
    assert recs[1].scores.spearman is None and recs[1].scores.spearman_ci95 is None
    assert "Spearman n/a" in describe(recs[1])
    md = {**_result()["md_settings"], "potential": "x", "kspace_accuracy": 1e-4}  # not protocol
    exact = skill_lines("garnet", "adams_rao2011", md, recs)
    assert len(exact) == 1 and exact[0].startswith("measured with this protocol")
    assert "Spearman 0.50 [-0.20, 1.00]" in exact[0] and "bias -2.50" in exact[0]
    # another run length: the nearest record, with what differs
    near = skill_lines("garnet", "adams_rao2011", {**md, "prod_ps": 200}, recs)
    assert len(near) == 1 and "prod_ps 100.0 on record, 200.0 here" in near[0]
    # another potential or family: nothing on record, said plainly
    for fam, pot in (("garnet", "deng_du2019"), ("halide", "sevennet0")):
        (none,) = skill_lines(fam, pot, md, recs)
        assert none.startswith("no validation on record") and "unmeasured" in none


def test_the_skill_lookup_reads_the_protocol_from_the_ledger_not_every_result(tmp_path):
    """report.skill_by_protocol takes family, potential and protocol from an evaluation's
    outputs (kept there by tasks.outputs), so status need not open every result.json; an
    evaluation recorded before that reads its result.json, and one with neither is skipped."""
    from driver.campaign.report import skill_by_protocol
    from driver.campaign.tasks import md_protocol
    from driver.kb.skill_records import protocol_of

    from tests.conftest import md_result
    md = {**_result()["md_settings"], "potential": "x"}
    result = md_result(formula="Li6.5La3Zr1.5Ta0.5O12", settings=md,
                       potential={"name": "adams_rao2011", "sha256": "0" * 64},
                       provenance={"family": "garnet", "variables": {"y": 0.5, "z": 0.0}})
    mp = md_protocol(result)
    assert mp == {"family": "garnet", "potential": "adams_rao2011",
                  "protocol": protocol_of(md)}
    # the family the stage recorded, not one parsed back from the formula (issue 31); a
    # result without one (older, or a CIF's) has its formula parsed
    older = md_result(formula="Li6.5La3Zr1.5Ta0.5O12", settings=md, provenance={},
                      potential={"name": "adams_rao2011", "sha256": "0" * 64})
    assert md_protocol(older) == mp
    assert md_protocol(md_result(formula="NaCl", provenance={"family": "cif"})) is None
    old = tmp_path / "old"
    (old / "md").mkdir(parents=True)
    (old / "md" / "result.json").write_text(json.dumps(result.to_json()))
    evals = [{"status": "done", "run_dir": str(tmp_path / "gone"), "outputs": {"md_protocol": mp}},
             {"status": "done", "run_dir": str(old), "outputs": {}},
             {"status": "done", "run_dir": str(tmp_path / "gone"), "outputs": {}},
             {"status": "failed", "run_dir": None, "outputs": None}]
    seen = skill_by_protocol(evals)
    assert len(seen) == 1                     # both the same protocol; the rest skipped
    ((fam, pot, _), (proto, lines)), = seen.items()
    assert (fam, pot, proto) == ("garnet", "adams_rao2011", protocol_of(md)) and lines


def test_shipped_skill_records_load_and_match_the_documented_runs():
    """Every shipped record parses, names a documented run, and its scores are the ones
    docs/validation.md prints (the file and the docs cannot drift apart)."""
    from pathlib import Path

    docs = (Path(__file__).parents[1] / "docs" / "validation.md").read_text()
    recs = load_records()
    assert len(recs) >= 6
    for r in recs:
        assert r.reference.startswith("docs/validation.md")
        s = r.scores
        if s.spearman is not None:
            assert f"{s.spearman:.2f}" in docs, describe(r)
        if s.mae_log10 is not None:     # a table cell: the MAE, or one composition's error
            assert re.search(rf"(\| |[+-]){s.mae_log10:.2f} \|", docs), describe(r)


def test_one_force_field_for_the_whole_set_keeps_what_it_covers():
    from driver.errors import UserError
    from driver.validation.run import with_potential

    vs = load_set()
    same, skipped = with_potential(vs, None)
    assert same is vs and skipped == []
    # Teter/Du has Li, Al, La, Zr, O: of the set only undoped LLZO; the rest named with a gap
    dd, skipped = with_potential(vs, "deng_du2019")
    assert [(e.label, e.potential) for e in dd.entries] == [("Li7La3Zr2O12", "deng_du2019")]
    assert len(skipped) == len(vs.entries) - 1 and any("Ta" in x for x in skipped)
    llzo = next(e for e in vs.entries if e.label == "Li7La3Zr2O12")
    assert dd.entries[0].log10_sigma_median == llzo.log10_sigma_median   # experiment unchanged
    with pytest.raises(UserError, match="covers none"):
        with_potential(type(vs)(vs.name, vs.rule, vs.source, [llzo]), "pedone2006")
    r = run_cli("validate", "--preset", "smoke", "--potential", "nosuch", "--out", "/nonexistent/x")
    assert_one_line_error(r, "unknown potential 'nosuch'")


def test_a_bad_skill_record_file_is_one_line(tmp_path):
    from driver.errors import UserError

    bad = tmp_path / "r.yaml"
    for text, needle in (("- {date: 2026-11-30}", "set"), ("a: 1", "list"),
                         ("- 3", "r.yaml"), (": :", "r.yaml")):
        bad.write_text(text)
        with pytest.raises(UserError) as ei:
            load_records(bad)
        assert needle in str(ei.value) and "\n" not in str(ei.value)


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
    # both conductivity estimators are scored: tracer (the objective) and collective
    assert [p["label"] for p in res["pairs_collective"]] == [p["label"] for p in pairs]
    assert set(res["scores_collective"]) == set(res["scores"])
    assert "collective (charge) diffusivity" in r.stdout or "collective diffusivity" in r.stdout
    assert (out / "parity.png").stat().st_size > 10_000
    assert "Spearman" in (out / "validation.html").read_text()
    # the same scores as records a campaign report can quote: one per family and estimator,
    # the run's protocol and the commit the campaign started at
    recs = load_records(out / "skill_records.yaml")
    assert [(x.family, x.potential, x.estimator) for x in recs] == [
        ("garnet", "adams_rao2011", "tracer"), ("garnet", "adams_rao2011", "collective")]
    assert recs[0].protocol.prod_ps == 20.0 and recs[0].protocol.temperatures_k == [1300.0, 1500.0]
    assert recs[0].scores.n == 3 and recs[0].scores.n_predicted == len(have)
    assert recs[0].scores.coverage95 == pytest.approx(res["scores"]["garnet"]["coverage95"])
    assert recs[0].commit is None or recs[0].commit == res["git_commit"]
    # the same command again resumes: nothing is run twice
    again = run_cli("validate", "--preset", "smoke", "--out", str(out), "--only", *only, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "resuming" in again.stdout and "submitted" not in again.stdout
    assert json.loads((out / "validation.json").read_text())["pairs"] == pairs
    # other settings into the same folder are refused
    other = run_cli("validate", "--preset", "screening", "--out", str(out), "--only", *only)
    assert_one_line_error(other, "other settings")
    # --score-only on a finished run scores the same pairs and runs nothing
    so = run_cli("validate", "--preset", "smoke", "--out", str(out), "--only", *only,
                 "--score-only")
    assert so.returncode == 0, so.stderr[-2000:]
    assert "validate:" not in so.stdout and "partial" not in so.stdout
    res_so = json.loads((out / "validation.json").read_text())
    assert res_so["pairs"] == pairs and res_so["partial"] is None
    # ... and on a run still going (one composition's evaluation not in the ledger yet): the
    # pending one is named, left out of the scores (not counted as missed), and the family
    # with it gets no skill record
    import shutil
    import sqlite3

    part = tmp_path / "part"
    shutil.copytree(out, part)
    db = sqlite3.connect(part / "campaign" / "ledger.sqlite")
    pid = next(i for i, xj in db.execute("SELECT id, x_json FROM proposals")
               if json.loads(xj).get("label") == only[-1])
    db.execute("DELETE FROM evaluations WHERE proposal_id = ?", (pid,))
    db.execute("UPDATE proposals SET status = 'running' WHERE id = ?", (pid,))
    db.commit()
    db.close()
    sp = run_cli("validate", "--preset", "smoke", "--out", str(part), "--only", *only,
                 "--score-only")
    assert sp.returncode == 0, sp.stderr[-2000:]
    assert f"partial: 2 of 3 evaluated; pending: {only[-1]}" in sp.stdout
    rp = json.loads((part / "validation.json").read_text())
    assert rp["partial"] == {"evaluated": 2, "of": 3, "pending": [only[-1]]}
    assert [p["label"] for p in rp["pairs"]] == only[:2]
    assert rp["scores"]["garnet"]["n"] == 2
    assert load_records(part / "skill_records.yaml") == []
    assert "Not finished" in (part / "validation.html").read_text()
    # --score-only where no run is: one line, nothing written
    empty = tmp_path / "none"
    ne = run_cli("validate", "--preset", "smoke", "--out", str(empty), "--only", *only,
                 "--score-only")
    assert_one_line_error(ne, "holds no validation run")
    assert not empty.exists()


# ------------------------------------------------------------------ honest D statistics
def _md_result(tmp_path, name, *args, config: dict | None = None):
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(yaml.safe_dump(config or {"md": {}}))
    out = tmp_path / name
    r = run_cli("md", *args, "--config", str(cfg), "--out", str(out), timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads((out / "result.json").read_text()), out


@pytest.mark.slow
def test_driver_D_agrees_with_kinisi_through_its_own_parser_on_real_trajectories(tmp_path):
    """Three real LAMMPS trajectories (one garnet at three temperatures): kinisi run through
    its own pymatgen parser on the dumped Li positions (default intervals, no adapter of ours)
    puts the driver's D* inside its 68 % credible interval."""
    import scipp as sc
    from kinisi.diffusion_analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure

    from driver.md.workflow import _li_msd_positions

    res, out = _md_result(tmp_path, "k", "--composition", "Li6.5La3Zr1.5Ta0.5O12",
                          "--potential", "adams_rao2011", "--temperatures", "1100", "1300", "1500",
                          "--equil-ps", "2", "--prod-ps", "20")
    for t in res["temperatures"]:
        run = out / f"T{t['temperature_K']:g}K"
        steps, pos = _li_msd_positions(run, res["n_li"])
        lat = Lattice.from_parameters(*t["lattice_A"], *t["angles_deg"])
        structs = [Structure(lat, ["Li"] * pos.shape[1], p, coords_are_cartesian=True) for p in pos]
        traj = type("Traj", (), {"structures": structs})()
        step_skip = int(steps[1] - steps[0])
        an = DiffusionAnalyzer.from_xdatcar(traj, specie="Li", time_step=sc.scalar(1.0, unit="fs"),
                                            step_skip=sc.scalar(step_skip), progress=False)
        an.diffusion(sc.scalar(t["msd_window_ps"][0], unit="ps"), progress=False,
                     random_state=np.random.RandomState(7))
        ks = sc.to_unit(an.D, "cm^2/s").values
        lo, hi = np.quantile(ks, [0.16, 0.84])
        assert lo <= t["D_cm2_s"] <= hi, (t["temperature_K"], t["D_cm2_s"], lo, hi)
        assert t["D_ci68_cm2_s"][0] < t["D_cm2_s"] < t["D_ci68_cm2_s"][1]
        assert t["n_hops"] > 0 and "kinisi" in t["D_estimator"]


@pytest.mark.slow
def test_replica_intervals_cover_independent_replica_estimates(tmp_path):
    """Eight independent 3-replica estimates of one composition (all seeds distinct): the
    reported 68 % interval of each holds the mean of the other seven in 55-80 % of cases.
    (Single trajectories fail this: measured 2 of 8, see driver/md/replicas.py.)"""
    import concurrent.futures as cf

    def one(seed):
        return _md_result(tmp_path, f"r{seed}", "--composition", "Li6.5La3Zr1.5Ta0.5O12",
                          "--potential", "adams_rao2011", "--temperatures", "1400",
                          "--equil-ps", "1", "--prod-ps", "12", "--seed", str(seed),
                          config={"md": {"replicas": 3}})[0]

    with cf.ThreadPoolExecutor(2) as ex:
        results = list(ex.map(one, range(1, 9)))
    D = np.array([r["temperatures"][0]["D_cm2_s"] for r in results])
    ci = [r["temperatures"][0]["D_ci68_cm2_s"] for r in results]
    held = [ci[i][0] <= np.mean(np.delete(D, i)) <= ci[i][1] for i in range(len(D))]
    assert 0.55 <= np.mean(held) <= 0.80, (D, ci, held)
    assert all(len(r["temperatures"][0]["replicas"]) == 3 for r in results)


# ------------------------------------------------------------------ objectives
def test_unmeasured_sigma_300K_is_told_as_highly_uncertain_not_dropped():
    from driver.campaign.loop import UNMEASURED_SPREAD, _tell
    from driver.optimize.optimizer import Objective, Optimizer
    from driver.optimize.space import Space

    opt = Optimizer(Space.from_dict({"variables": {"x": [0, 1]}}),
                    [Objective("sigma_300K", log=True)], seed=1, n_initial=2)
    done = lambda v: {"status": "done", "outputs": {"sigma_300K": v,  # noqa: E731
                                                     "sigma_300K_err": None if v is None else v}}
    _tell(opt, {"x": 0.1}, done(None))          # nothing measured yet: infeasible, as before
    assert opt.observations[-1].feasible is False
    _tell(opt, {"x": 0.2}, done(1e-4))
    _tell(opt, {"x": 0.3}, done(1e-6))
    _tell(opt, {"x": 0.4}, done(None))
    o = opt.observations[-1]
    assert o.feasible and o.source == "unmeasured"
    assert o.y["sigma_300K"] == pytest.approx(1e-5)               # geometric median
    # its error is UNMEASURED_SPREAD decades in log space (delta method)
    assert o.y_err["sigma_300K"] / (o.y["sigma_300K"] * np.log(10)) == pytest.approx(UNMEASURED_SPREAD)
    assert opt.best().x == {"x": 0.2}                              # never the best


def test_collective_arrhenius_fits_the_charge_conductivity_over_the_same_temperatures():
    from driver.md.workflow import arrhenius_summary

    per_T = [{"temperature_K": T, "diffusive": d, "sigma_S_cm": s, "sigma_err_S_cm": 0.1 * s,
              "sigma_collective_S_cm": 2.5 * s, "sigma_collective_err_S_cm": 0.25 * s}
             for T, s, d in ((800.0, 1e-3, True), (1000.0, 5e-3, True), (1200.0, 1.2e-2, True),
                             (1400.0, 9.0, False))]
    _, tr, _ = arrhenius_summary(per_T)
    used, co, _ = arrhenius_summary(per_T, "sigma_collective")
    assert [p["temperature_K"] for p in used] == [800.0, 1000.0, 1200.0]   # diffusive only
    assert co["Ea_eV"] == pytest.approx(tr["Ea_eV"])                       # a constant H_R
    assert co["sigma_300K_S_cm"] == pytest.approx(2.5 * tr["sigma_300K_S_cm"])
    per_T[0]["sigma_collective_S_cm"] = per_T[1]["sigma_collective_S_cm"] = None
    assert arrhenius_summary(per_T, "sigma_collective")[1] is None          # < 2 temperatures


def test_combine_replicas_uses_the_between_replica_spread_with_student_t():
    from scipy.stats import t as student

    from driver.md.replicas import combine

    def result(D, seed):
        per_T = [{"temperature_K": T, "D_cm2_s": d, "D_err_cm2_s": 0.01 * d, "volume_A3": 2000.0,
                  "lattice_A": [12.9, 12.9, 12.9], "diffusive": True, "diffusive_reason": "ok",
                  "n_hops": 10, "hops_estimate": 5.0, "run_dir": f"r{seed}/T{T}",
                  "D_estimator": "kinisi", "D_collective_cm2_s": None,
                  "D_collective_err_cm2_s": None, "sigma_S_cm": 0.0, "sigma_err_S_cm": 0.0}
                 for T, d in zip((1000.0, 1200.0, 1400.0), D)]
        C = (np.eye(6) * 100 + 10).tolist()
        el = {"C_GPa": C, "shear_vrh_GPa": 40.0, "shear_vrh_err_GPa": 1.0}
        return {"n_li": 52, "haven_ratio": 1.0, "temperatures": per_T, "elastic": el,
                "settings": {"seed": seed}, "provenance": {"seconds": 10.0, "run_dir": f"r{seed}"},
                "formula": "X", "arrhenius": None, "checks": {}}

    reps = [result([1e-7, 4e-7, 1e-6], 1), result([2e-7, 6e-7, 1.4e-6], 2),
            result([1.5e-7, 5e-7, 1.2e-6], 3)]
    c = combine(reps)
    t0 = c["temperatures"][0]
    assert t0["D_cm2_s"] == pytest.approx(1.5e-7)
    se = np.std([1e-7, 2e-7, 1.5e-7], ddof=1) / np.sqrt(3)
    assert t0["D_err_cm2_s"] == pytest.approx(se)
    q = student.ppf(0.84, 2)
    assert t0["D_ci68_cm2_s"] == pytest.approx([1.5e-7 - q * se, 1.5e-7 + q * se])
    assert t0["D_err_within_cm2_s"] == pytest.approx(np.sqrt(1e-18 + 4e-18 + 2.25e-18) / 3)
    assert t0["sigma_S_cm"] > 0 and len(t0["replicas"]) == 3
    assert c["arrhenius"] is not None and c["arrhenius"]["Ea_eV"] > 0      # refit on the means
    assert c["provenance"]["seconds"] == 30.0 and len(c["replicas"]) == 3
    assert combine(reps[:1]) is reps[0]


def test_default_campaign_uses_sigma_300K_with_the_screening_preset():
    """The demo's objective is the room-temperature conductivity, on a preset that makes it
    measurable; its config passes every check `run` makes."""
    from driver import config
    from driver.campaign.loop import load_checked
    from driver.schema import Settings

    path = __import__("driver").__path__[0] + "/default_campaign.yaml"
    s, screen = load_checked(path)
    assert screen is None and s.md.preset == "screening" and s.md.temperatures_k[0] == 800.0
    assert s.campaign.objectives[0].name == "sigma_300K" and s.campaign.objectives[0].log
    assert isinstance(config.load(Settings, path), Settings)
    assert run_cli("config", "validate", path).returncode == 0


def test_resume_checks_the_saved_config_file_not_the_schema_version(tmp_path):
    """A campaign resumes from its unchanged config.yaml even when the settings schema has
    gained keys since (file hash); an edited file, or a different --config, is refused."""
    from driver import config
    from driver.campaign.loop import config_hash, resume_settings
    from driver.errors import ConfigError
    from driver.schema import Settings

    cfg = write_campaign(tmp_path)
    saved = tmp_path / "config.yaml"
    saved.write_text(config.dump_yaml(config.load(Settings, cfg)))
    import hashlib

    meta = {"config_sha256": hashlib.sha256(saved.read_bytes()).hexdigest(),
            "config_hash": "from-an-older-schema"}
    s = resume_settings(saved, meta)
    assert s.campaign.name == "t"
    assert resume_settings(saved, meta, str(cfg)).campaign.seed == 5
    other = write_campaign(tmp_path / "o" if (tmp_path / "o").mkdir() is None else tmp_path,
                           campaign={"seed": 6})
    with pytest.raises(ConfigError, match="differs from the config"):
        resume_settings(saved, meta, str(other))
    saved.write_text(saved.read_text().replace("seed: 5", "seed: 9"))
    with pytest.raises(ConfigError, match="differs from the config"):
        resume_settings(saved, meta)
    legacy = {"config_hash": config_hash(config.load(Settings, saved))}   # before the file hash
    assert resume_settings(saved, legacy).campaign.seed == 9


def test_validate_settings_take_every_key_of_the_preset_unless_the_config_sets_it(tmp_path):
    from driver.schema import MD_PRESETS
    from driver.validation.run import build_settings, select_entries

    vs = select_entries(load_set(), ["Li7La3Zr2O12"], None)
    s = build_settings(vs, "production", None)
    for k, v in MD_PRESETS["production"].items():
        assert getattr(s.md, k) == v                  # replicas 3 included
    assert s.campaign.candidates[0].potential == "adams_rao2011"
    assert not s.campaign.phasefield and not s.campaign.meta.extend_md
    cfg = tmp_path / "c.yaml"
    cfg.write_text("md: {prod_ps: 7.0, ranks: 2}\n")
    t = build_settings(vs, "screening", str(cfg))
    assert t.md.prod_ps == 7.0 and t.md.ranks == 2
    # no wall-clock cap unless the config sets one: the watchdog stops stalled stages
    assert s.campaign.task_timeout_s is None and t.campaign.task_timeout_s is None
    cfg.write_text("campaign: {task_timeout_s: 600}\n")
    assert build_settings(vs, "screening", str(cfg)).campaign.task_timeout_s == 600.0
    assert t.md.temperatures_k == MD_PRESETS["screening"]["temperatures_k"]


@pytest.mark.parametrize("key, value, needle", [
    ("log10_sigma_median", float("nan"), "finite number"),
    ("log10_sigma_max", float("inf"), "finite number"),
    ("log10_sigma_median", "nan", "valid number"),
    ("log10_sigma_median", 1e308, "less than or equal to 3"),
    ("log10_sigma_min", 2.0, "log10_sigma_min <= log10_sigma_median"),
    ("label", ["a", "b"], "label"),
    ("family", "perovskite", "family"),
    ("family", "nasicon", "give the family the formula parses to"),
    ("n_measurements", -5, "n_measurements"),
    ("n_measurements", "many", "n_measurements"),
])
def test_validation_set_entries_are_typed_finite_and_consistent(tmp_path, key, value, needle):
    """Issue 33, class 2: every field of a set entry is checked when the set is read (a NaN,
    an inverted range, a wrong family, a list as label), in one line, before any run."""
    import yaml as _yaml

    from driver.errors import UserError
    from driver.validation.sets import DEFAULT_SET
    doc = _yaml.safe_load(DEFAULT_SET.read_text())
    garnet = next(e for e in doc["entries"] if e["family"] == "garnet")
    garnet[key] = value
    p = tmp_path / "set.yaml"
    p.write_text(_yaml.safe_dump(doc))
    with pytest.raises(UserError) as e:
        load_set(p)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_scoring_outputs_are_written_together_or_not_at_all(tmp_path, monkeypatch):
    """Issue 33, class 5: write_outputs renders validation.json, skill_records.yaml,
    parity.png and validation.html first and writes them together; a scoring that fails
    while rendering (the plot) leaves an earlier scoring's files exactly as they were."""
    from driver import config
    from driver.schema import Settings
    from driver.validation import run as V
    from driver.validation.skill import Pair

    vs = load_set()
    s = config.load(Settings, None)
    pairs = [Pair(e.label, e.family, e.log10_sigma_median, e.log10_sigma_median - 1.0,
                  e.log10_sigma_median - 2.0, e.log10_sigma_median) for e in vs.entries[:4]]
    evals = [{"seconds": 10.0, "status": "done", "x": {"label": p.label}} for p in pairs]
    V.write_outputs(tmp_path, vs, "screening", s, pairs, evals)
    names = ["validation.json", "skill_records.yaml", "parity.png", "validation.html"]
    before = {n: (tmp_path / n).read_bytes() for n in names}
    assert all(before.values())

    def broken(*a, **k):
        raise RuntimeError("matplotlib could not draw this")
    monkeypatch.setattr(V, "_parity_png", broken)
    worse = [Pair(p.label, p.family, p.exp, p.exp + 3.0, p.exp + 2.0, p.exp + 4.0) for p in pairs]
    with pytest.raises(RuntimeError):
        V.write_outputs(tmp_path, vs, "screening", s, worse, evals)
    assert {n: (tmp_path / n).read_bytes() for n in names} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)     # no temp file left
