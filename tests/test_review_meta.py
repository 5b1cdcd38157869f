"""Feasibility scores, expert review (veto as a constraint), and the meta loop."""

from __future__ import annotations

import json

import numpy as np
import pytest

from driver.campaign.ledger import Ledger
from driver.campaign.loop import apply_reviews
from driver.campaign.meta import calibration_decision, md_extension, residuals
from driver.kb.feasibility import feasibility
from driver.kb.ingest import ingest, obelix_csv
from driver.kb.store import KB
from driver.families import get as _family
from driver.families import compositions as C
from driver.optimize.optimizer import Objective, Optimizer
from driver.optimize.space import Space
from tests.conftest import run_cli

G, N = _family("garnet"), _family("nasicon")


def test_feasibility_scores_with_reasons(tmp_path):
    kb = KB(tmp_path / "kb.sqlite")
    ingest(kb, obelix_csv())
    made = feasibility(G.make(0.0, 0.25, T="Ga"), kb)         # synthesized: evidence wins
    assert made.score == pytest.approx(1.0) and any("doi:" in r for r in made.reasons)
    heur = feasibility(G.make(0.5, 0.2, "Nb", "Al"))          # no KB: heuristics only
    assert heur.factors["radius"] < 0.5 and heur.score == pytest.approx(heur.factors["radius"])
    assert any("Shannon radius mismatch 33.9 %" in r for r in heur.reasons)
    assert feasibility(N.make(0.5)).factors["radius"] == 1.0  # Al/Ge: 0.9 % mismatch
    assert feasibility(N.make(0.0)).score == 1.0


def test_md_extension_rule():
    from tests.conftest import md_result
    r = md_result(temperatures=[{"temperature_K": 1300, "diffusive": False},
                                {"temperature_K": 1500, "diffusive": True}])
    assert md_extension(r, 20, 200)[0] == 40 and "1300" in md_extension(r, 20, 200)[1]
    assert md_extension(r, 150, 200)[0] is None and "cap" in md_extension(r, 150, 200)[1]
    ok = md_result(temperatures=[{"temperature_K": 1500, "diffusive": True}])
    assert md_extension(ok, 20, 200)[0] is None


def test_calibration_rule():
    assert calibration_decision([9.0] * 4, "ei", 0.0, 2.0) == (0.0, 2.0, None)   # window not full
    xi, beta, why = calibration_decision([9.0] * 5, "ei", 0.0, 2.0)
    assert xi == 0.5 and "overconfident" in why
    xi, beta, why = calibration_decision([9.0] * 5, "ucb", 0.0, 2.0)
    assert beta == pytest.approx(3.0)
    xi, beta, why = calibration_decision([0.5] * 5, "ei", 1.0, 2.0)
    assert xi == 0.5 and "calibrated" in why
    assert calibration_decision([2.0] * 5, "ei", 0.0, 2.0)[2] is None


def test_residuals_of_a_gp_prediction():
    sp = Space.from_dict({"variables": {"x": [0, 1]}})
    opt = Optimizer(sp, [Objective("f")], seed=0, n_initial=4)
    for p in opt.ask(4):
        opt.tell(p, {"f": np.sin(3 * p["x"])}, {"f": 0.01})
    pred = opt.predict([{"x": 0.5}])
    z_good = residuals(pred, {"f": float(np.sin(1.5))}, opt.objectives)
    z_bad = residuals(pred, {"f": 10.0}, opt.objectives)
    assert abs(z_bad[0]) > 5 * abs(z_good[0])


def _ledger_with_candidates(path):
    sp = Space.from_dict({"variables": {"x": [0, 0.8, 1 / 6]}})
    opt = Optimizer(sp, [Objective("f")], seed=1, n_initial=2)
    led = Ledger(path)
    xs = opt.ask(2)
    ids = led.add_proposals(xs, opt.to_json())
    for pid, x in zip(ids, xs):
        opt.tell(x, {"f": x["x"]})
        led.record(pid, "done", {"formula": "LAGP", "sigma_hot": 0.1 + x["x"], "stability": 0.3},
                   [], 1, "/r", 0.0, 1.0, {}, opt.to_json())
    return led, opt, ids, xs


def test_veto_becomes_a_constraint_on_later_proposals(tmp_path):
    led, opt, ids, xs = _ledger_with_candidates(tmp_path / "ledger.sqlite")
    # veto everything at or above x = 0.5: a wide ball around x = 0.8 (unit 1.0), radius 0.45
    led.add_review(None, "veto", 0.45, "AlPO4 impurity above x = 0.5", {"x": 0.8})
    added = apply_reviews(opt, led)
    assert len(added) == 1 and apply_reviews(opt, led) == []        # idempotent
    for _ in range(3):
        for p in opt.ask(1):
            assert p["x"] < 0.8 - 0.45 * 0.8 + 1e-9
            opt.tell(p, {"f": p["x"]})          # f rises toward the vetoed end


def test_review_cli_on_a_ledger(tmp_path):
    led, _, ids, _ = _ledger_with_candidates(tmp_path / "ledger.sqlite")
    led.close()
    r = run_cli("review", str(tmp_path))
    assert r.returncode == 0 and "LAGP" in r.stdout
    r = run_cli("review", str(tmp_path), "--veto", str(ids[0]), "--note", "impurity")
    assert r.returncode == 0 and "excluded" in r.stdout
    r = run_cli("review", str(tmp_path), "--rate", str(ids[1]), "4.5")
    assert r.returncode == 0
    rows = Ledger(tmp_path / "ledger.sqlite", readonly=True).reviews()
    assert [(x["action"], x["rating"]) for x in rows] == [("veto", 0.1), ("rate", 4.5)]
    assert json.loads(rows[0]["x_json"])
    r = run_cli("review", str(tmp_path), "--rate", str(ids[1]), "9")
    assert r.returncode == 2 and "between 0 and 5" in r.stderr
    r = run_cli("review", str(tmp_path), "--accept", "999")
    assert r.returncode == 2 and "no candidate 999" in r.stderr


def test_experimental_prior_is_labelled_bounded_and_never_best():
    from driver.kb.prior import experimental_prior
    from driver.schema import Settings

    s = Settings.model_validate({"campaign": {"objectives": [{"name": "sigma_300K", "log": True}],
                                              "prior": {"enabled": True}}})
    pts = experimental_prior(s.campaign)
    assert len(pts) == 14 and all(0 <= x["x"] <= 0.8 and doi.startswith("10.") for x, _, doi in pts)
    opt = Optimizer(Space.from_dict({"variables": {"x": [0.2, 0.8]}}), [Objective("sigma_300K", log=True)],
                    seed=0, n_initial=2)
    for x, sig, _ in pts:
        opt.tell_prior(x, {"sigma_300K": sig}, {"sigma_300K": sig * 2.3})
    assert all(0.2 <= o.x["x"] <= 0.8 for o in opt.observations)           # out-of-space dropped
    assert opt.best() is None                                                # priors are never best
    p = opt.ask(1)[0]
    opt.tell(p, {"sigma_300K": 1e-9})
    assert opt.best().source == "evaluation"


def test_prior_needs_the_room_temperature_objective():
    from driver.schema import Settings

    with pytest.raises(Exception, match="comparable only to a single objective sigma_300K"):
        Settings.model_validate({"campaign": {"prior": {"enabled": True}}})


def test_ratings_are_an_objective_that_steers_later_proposals(tmp_path):
    """Reviewers like high x; the measured objective is flat: only the ratings can pull
    proposals to high x. Unrated points do not block the rating's surrogate."""
    sp = Space.from_dict({"variables": {"x": [0.0, 1.0, 0.05]}})
    opt = Optimizer(sp, [Objective("f", weight=0.2), Objective("expert_rating", optional=True)],
                    seed=3, n_initial=4)
    led = Ledger(tmp_path / "ledger.sqlite")
    xs = [{"x": 0.1}, {"x": 0.3}, {"x": 0.5}, {"x": 0.7}]
    ids = led.add_proposals(xs, opt.to_json())
    for pid, x in zip(ids, xs):
        opt.tell(x, {"f": 1.0 + 0.01 * np.sin(7 * x["x"])})    # told without a rating
        led.record(pid, "done", {"formula": "LAGP", "f": 1.0}, [], 1, "/r", 0.0, 1.0, {}, opt.to_json())
    opt.n_asked = len(xs)                           # these four were the initial design
    assert opt.best() is None                       # no point has every objective yet
    for pid, x, stars in zip(ids, xs, (0.5, 1.5, 3.0, 4.5)):
        led.add_review(pid, "rate", stars, "", x)
    led.add_review(ids[3], "rate", 3.5, "second reviewer", xs[3])
    msgs = apply_reviews(opt, led, rating_noise=0.5)
    assert len(msgs) == 4 and apply_reviews(opt, led, 0.5) == []          # idempotent
    o = next(o for o in opt.observations if o.x == xs[3])
    assert o.y["expert_rating"] == 4.0 and o.y_err["expert_rating"] == pytest.approx(0.5 / np.sqrt(2))
    assert opt.best().x == xs[3]
    props = opt.ask(3)
    assert min(p["x"] for p in props) > 0.5, props   # toward the well-rated end
    # the report shows the ratings and the reviews
    from driver.campaign.report import with_ratings
    ev = with_ratings(led.evaluations(), led.ratings())
    assert [e["outputs"].get("n_ratings") for e in ev] == [1, 1, 1, 2]


def test_expert_rating_is_an_allowed_objective_and_report_lists_reviews(tmp_path):
    from driver.campaign.report import write_report
    from driver.campaign.settings import CampaignSettings

    CampaignSettings(objectives=[{"name": "sigma_hot", "log": True}, {"name": "expert_rating"}])
    led, _, ids, _ = _ledger_with_candidates(tmp_path / "ledger.sqlite")
    led.add_review(ids[0], "rate", 4.0, "clean XRD <script>", {"x": 0.0})
    led.close()
    page = write_report(tmp_path).read_text()
    assert "Expert reviews" in page and "clean XRD &lt;script&gt;" in page


def test_report_shows_the_first_objective_beside_the_fused_score_and_names_who_is_left_out(tmp_path):
    """Issue 32, item 4: the best-so-far figure plots sigma(300 K) with its interval beside
    the fused score, and says which candidates a panel leaves out and why."""
    from driver.campaign.report import write_report
    sp = Space.from_dict({"variables": {"x": [0, 0.8, 1 / 6]}})
    opt = Optimizer(sp, [Objective("sigma_300K", log=True), Objective("critical_current", log=True)],
                    seed=1, n_initial=3)
    led = Ledger(tmp_path / "ledger.sqlite")
    xs = opt.ask(3)
    ids = led.add_proposals(xs, opt.to_json())
    for k, (pid, x) in enumerate(zip(ids, xs)):
        cc = None if k == 1 else 1.0 + x["x"]             # not measurable for the second
        y = {"sigma_300K": 1e-4 * (1 + x["x"]), "critical_current": cc,
             "critical_current_interval_95": None if cc is None else [0.5 * cc, 2 * cc],
             "critical_current_note": "no diffusive temperature" if cc is None else None}
        if cc is not None:
            opt.tell(x, {"sigma_300K": y["sigma_300K"], "critical_current": cc})
        led.record(pid, "done", {"formula": "Li1.5Al0.5Ge1.5(PO4)3",
                                 "sigma_300K_interval_95": [1e-5, 1e-3], **y},
                   [], 1, "/r", 0.0, 1.0, {}, opt.to_json())
    led.close()
    page = write_report(tmp_path).read_text()
    assert "Best so far versus evaluations: sigma_300K and the fused score" in page
    assert f"#{ids[1]}: fused score (not measurable: critical_current)" in page
    assert f"Left out (critical current not measurable): #{ids[1]} (no diffusive temperature)" in page
