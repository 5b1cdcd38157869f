"""The campaign: ledger, a real tiny closed loop, kill -9 + resume, failures, dashboard."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from driver.campaign.ledger import Ledger
from tests.conftest import (BIN, NASICON, TINY_CAMPAIGN, assert_one_line_error, run_cli,
                            write_campaign)

def test_ledger_commits_proposals_and_results_with_the_optimizer_state(tmp_path):
    led = Ledger(tmp_path / "l.sqlite")
    ids = led.add_proposals([{"x": 0.1}, {"x": 0.2}], '{"n_asked": 2}')
    assert [p for p, _ in led.pending()] == ids and led.optimizer_state() == '{"n_asked": 2}'
    led.record(ids[0], "done", {"sigma_hot": 0.1}, [], 1, "/r", 0.0, 1.0, {}, '{"n_asked": 2, "told": 1}')
    ro = Ledger(tmp_path / "l.sqlite", readonly=True)          # a reader while the writer is open
    assert ro.counts() == {"done": 1, "failed": 0, "pending": 1}
    assert ro.optimizer_state().endswith('"told": 1}')
    with pytest.raises(sqlite3.IntegrityError):                  # one evaluation per proposal
        led.record(ids[0], "done", {}, [], 1, "/r", 0.0, 1.0, {}, "{}")
    assert led.counts()["done"] == 1                             # the failed tx left nothing
    with pytest.raises(sqlite3.OperationalError):
        ro.db.execute("INSERT INTO meta VALUES ('a', '1')")     # readers cannot write


@pytest.mark.slow
def test_tiny_campaign_end_to_end(tmp_path):
    # the default interface-stability model (critical current from each candidate's MD);
    # two hot temperatures so an Arrhenius sigma(300 K) can exist
    cfg = write_campaign(tmp_path, campaign={"phasefield": True, "mode": "sync", "objectives": [
                             {"name": "sigma_hot", "log": True, "weight": 0.7},
                             {"name": "critical_current", "log": True, "weight": 0.3}]},
                         md={"temperatures_k": [1300, 1500]},
                         # 4 ps give wide Arrhenius intervals; the cap is lifted here so the
                         # model's value path runs on real MD output too (default: 4 decades)
                         phasefield={"penetration": {"samples": 32, "radial_cells": 48,
                                                     "angular_cells": 96,
                                                     "max_interval_decades": 40}})
    out = tmp_path / "c"
    r = run_cli("run", str(cfg), "--out", str(out), timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    led = Ledger(out / "ledger.sqlite", readonly=True)
    ev = led.evaluations()
    assert len(ev) == 3 and all(e["status"] == "done" for e in ev)
    xs = [e["x"]["y"] for e in ev]
    assert len(set(xs)) == 3 and all(abs(8 * y - round(8 * y)) < 1e-9 for y in xs)  # realizable grid
    for e in ev:
        o = e["outputs"]
        # a value inside its own 95 % interval, or a stated reason (too few diffusive T)
        if o["critical_current"] is not None:
            lo, hi = o["critical_current_interval_95"]
            assert 0 < lo <= o["critical_current"] <= hi and o["critical_current_err"] > 0
        else:
            assert "diffusive" in o["critical_current_note"] or "interval" in o["critical_current_note"]
        pf = json.loads((Path(e["run_dir"]) / "pf" / "result.json").read_text())
        assert pf["model"] == "li_penetration"
        assert pf["settings"]["penetration"]["md_result"].endswith("md/result.json")
        assert o["shear_modulus"] > 0 and o["formula"]
    # the first batch is the seeded Sobol design: the same seed proposes the same
    from driver import config
    from driver.campaign.loop import build_optimizer
    from driver.schema import Settings
    first = build_optimizer(config.load(Settings, cfg)).ask(2)
    assert [p["y"] for p in first] == xs[:2] or sorted(p["y"] for p in first) == sorted(xs[:2])
    page = (out / "report.html").read_text()
    measured = [e for e in ev if e["outputs"]["critical_current"] is not None]
    assert page.count("data:image/png;base64") >= 2 + bool(measured)
    assert "interface stability" in page
    assert bool(measured) == ("Interface stability: critical current density" in page)
    assert len((out / "results.csv").read_text().strip().splitlines()) == 4
    s = run_cli("status", str(out))
    assert s.returncode == 0 and "done 3" in s.stdout and "best so far" in s.stdout
    # the model's pick (best posterior mean) is one of the evaluated candidates
    rec = [ln for ln in s.stdout.splitlines() if "recommended (best posterior mean): candidate" in ln]
    assert len(rec) == 1 and any(f"x={{'y': {y}" in rec[0] for y in xs), s.stdout
    assert "<b>Recommended</b>" in page


@pytest.mark.slow
def test_kill_minus_nine_then_resume_loses_nothing_and_reruns_nothing(tmp_path):
    cfg = write_campaign(tmp_path, campaign={"budget": {"evaluations": 4}})
    out = tmp_path / "k"
    proc = subprocess.Popen([str(BIN / "sse-driver"), "run", str(cfg), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    # the dashboard answers on localhost while the campaign runs
    line = proc.stdout.readline()
    assert line.startswith("dask dashboard: http://127.0.0.1:"), line
    with urllib.request.urlopen(line.split(": ", 1)[1].strip(), timeout=30) as resp:
        assert resp.status == 200
    ledger = out / "ledger.sqlite"
    before = []
    deadline = time.time() + 600
    while time.time() < deadline:
        if ledger.exists():
            before = Ledger(ledger, readonly=True).evaluations()
            if before:
                break
        time.sleep(1)
    assert before, "no evaluation finished in time"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(1)
    r = run_cli("run", "--resume", str(out), timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    after = Ledger(ledger, readonly=True).evaluations()
    assert len(after) == 4
    ids = [e["proposal_id"] for e in after]
    assert len(ids) == len(set(ids))                               # none evaluated twice
    assert len({json.dumps(e["x"]) for e in after}) == 4            # no duplicate composition
    by_id = {e["proposal_id"]: e for e in after}
    for e in before:                                               # finished before: untouched
        assert by_id[e["proposal_id"]]["finished"] == e["finished"]
        assert by_id[e["proposal_id"]]["outputs"] == e["outputs"]
    # an evaluation the kill interrupted resumed in a fresh attempt folder and adopted the
    # runs its killed attempt had finished (same inputs) instead of running them again
    for e in after:
        run = Path(e["run_dir"])
        attempts = sorted(run.glob("attempt*"))
        if len(attempts) < 2 or e["status"] != "done":
            continue
        killed = attempts[0] / "md"
        last = sorted(attempts, key=lambda p: int(p.name[7:]))[-1]
        res = json.loads((last / "md" / "result.json").read_text())
        reused = [x.split()[0] for x in res["provenance"]["reused_runs"]]
        finished = [n for n, m in (("relax", "relax_done.txt"), ("elastic", "elastic_done.txt"))
                    if (killed / n / m).exists()]
        assert reused[:len(finished)] == finished, (reused, finished)


@pytest.mark.slow
def test_injected_failure_is_retried_with_new_inputs_then_recorded(tmp_path):
    from driver.resources import data_dir

    bad = tmp_path / "collapse.yaml"
    bad.write_text((data_dir("potentials") / "pedone2006.yaml").read_text()
                   .replace("name: pedone2006", "name: collapse-test")
                   .replace("[O,  O, 0.042395, 1.379316, 3.618701, 22.0]", "[O,  O, 50.0, 1.0, 1.0, 0.0]"))
    cfg = write_campaign(tmp_path, md={"potential": str(bad)},
                         campaign={**NASICON, "budget": {"evaluations": 2}})
    out = tmp_path / "f"
    r = run_cli("run", str(cfg), "--out", str(out), timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]   # the campaign goes on
    ev = Ledger(out / "ledger.sqlite", readonly=True).evaluations()
    assert len(ev) == 2 and all(e["status"] == "failed" for e in ev)
    for e in ev:
        assert e["attempts"] == 2
        assert [x["class"] for x in e["errors"]] == ["NonFiniteError", "NonFiniteError"]
        run = Path(e["run_dir"])
        md1 = yaml.safe_load((run / "attempt1" / "md.yaml").read_text())["md"]
        md2 = yaml.safe_load((run / "attempt2" / "md.yaml").read_text())["md"]
        assert md2["timestep_fs"] == pytest.approx(0.75 * md1["timestep_fs"]) and md2["seed"] != md1["seed"]
        assert not (run / "attempt2" / "md" / "result.json").exists()
        # the class and its retry came from the stage's typed record, not from stderr
        rec = json.loads((run / "attempt1" / "md" / "error.json").read_text())
        assert rec["class"] == "NonFiniteError" and rec["retry"]["timestep_factor"] == 0.75
    state = json.loads(Ledger(out / "ledger.sqlite", readonly=True).optimizer_state())
    assert [o["feasible"] for o in state["observations"]] == [False, False]   # feeds feasibility


@pytest.mark.parametrize("text,needle", [
    ("campaign:\n  family: perovskite\n", "campaign.family"),
    ("campaign:\n  variables: {q: [0, 1]}\n", "variables for nasicon are x"),
    ("campaign:\n  objectives: [{name: beauty}]\n", "campaign.objectives.0.name"),
    ("campaign:\n  budget: {evaluations: 0}\n", "campaign.budget.evaluations"),
    # a space the potential cannot simulate is refused up front, naming the pairs
    ("campaign: {family: garnet, variables: {z: [0, 0.25]}}\n", "pedone2006 has no term for La, La-O"),
    ("campaign: {family: garnet, dopant_M: Nb, variables: {y: [0, 0.5]}}\n"
     "md: {potential: deng_du2019}\n", "deng_du2019 has no term for Nb, Nb-O"),
    ("campaign:\n  acquisition: ehvi\n  phasefield: true\n  objectives: [{name: sigma_300K}, "
     "{name: Ea}, {name: shear_modulus}, {name: critical_current}]\n", "ehvi handles 1-3 objectives"),
])
def test_bad_campaign_config_is_one_line(tmp_path, text, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    assert_one_line_error(run_cli("run", str(cfg), "--out", str(tmp_path / "o")), needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("space,potential", [
    ("dopant_T: Al, variables: {z: [0, 0.25]}", "deng_du2019"),
    ("dopant_M: Ta, dopant_T: Ga, variables: {y: [0, 0.6], z: [0, 0.2]}", "adams_rao2011"),
    ("dopant_M: Nb, variables: {y: [0, 0.5]}", "adams_rao2011"),
])
def test_garnet_campaign_with_a_covering_potential_validates(tmp_path, space, potential):
    cfg = tmp_path / "g.yaml"
    cfg.write_text(f"campaign: {{family: garnet, {space}}}\nmd: {{potential: {potential}}}\n")
    r = run_cli("config", "validate", str(cfg))
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr
    r = run_cli("config", "validate", str(cfg.with_name("none.yaml")))
    assert r.returncode == 2


def test_resume_without_ledger_and_double_start_are_refused(tmp_path):
    r = run_cli("run", "--resume", str(tmp_path / "none"))
    assert r.returncode == 2 and "no ledger.sqlite" in r.stderr
    (tmp_path / "c").mkdir()
    Ledger(tmp_path / "c" / "ledger.sqlite").close()
    r = run_cli("run", str(write_campaign(tmp_path)), "--out", str(tmp_path / "c"))
    assert r.returncode == 2 and "--resume" in r.stderr


@pytest.mark.slow
def test_meta_loop_extends_a_non_diffusive_md_run(tmp_path):
    """Rule 1 of the meta loop through the real evaluation: a run not yet diffusive is
    re-run with twice the production time, up to the cap, and the decision is recorded."""
    from driver.campaign.tasks import evaluate
    from driver.schema import Settings

    d = json.loads(json.dumps(TINY_CAMPAIGN))
    d["campaign"]["meta"] = {"max_prod_ps": 8.0}
    s = Settings.model_validate(d)
    rec = evaluate(1, {"y": 0.5}, s.model_dump(mode="json"), str(tmp_path / "runs"))
    assert rec["status"] == "done" and rec["decisions"]
    run = tmp_path / "runs" / "p0001"
    prods = [yaml.safe_load((a / "md.yaml").read_text())["md"]["prod_ps"]
             for a in sorted(run.glob("attempt*"))]
    if "extended" in rec["decisions"][0]:
        assert prods == [4, 8] and "4 -> 8" in rec["decisions"][0]
        assert rec["run_dir"].endswith("attempt2")
        assert "cap" in rec["decisions"][1] or "every temperature diffusive" in rec["decisions"][1]
    else:
        assert prods == [4] and "every temperature diffusive" in rec["decisions"][0]
    assert rec["checks"] and all(c["ok"] for c in rec["checks"] if c["name"] != "production_length")


def test_a_stage_dies_with_the_worker_that_started_it(tmp_path):
    """A worker killed alone (kill -9 of its PID, not the group) takes its running stage with
    it: no orphan keeps computing into a run folder the resumed campaign no longer tracks."""
    import sys

    pidfile = tmp_path / "stage.pid"
    code = ("import sys; from pathlib import Path; from driver.campaign.tasks import run_stage; "
            f"run_stage([sys.executable, '-c', \"import os, time; "
            f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(120)\"], "
            f"300, Path({str(tmp_path / 'log')!r}))")
    worker = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    try:
        for _ in range(200):
            if pidfile.exists() and pidfile.read_text():
                break
            time.sleep(0.05)
        stage = int(pidfile.read_text())
        os.kill(stage, 0)                               # the stage runs
        worker.kill()                                   # the worker alone, not its group
        worker.wait(timeout=10)
        for _ in range(100):
            try:
                os.kill(stage, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(stage, signal.SIGKILL)
            pytest.fail("the stage outlived its worker")
    finally:
        if worker.poll() is None:
            worker.kill()


def test_a_plugin_objective_runs_a_tiny_campaign(tmp_path):
    """Issue 31, item 5: an objective is one module. A package installed beside sse-driver
    (a dist-info with an ``sse_driver.objectives`` entry point, as pip would leave it) adds a
    toy objective read from the MD stage's lattice; a tiny campaign optimises it, records it
    with each evaluation and reports it in results.csv; without the package the name is an
    unknown objective, one line, exit 2."""
    plug = tmp_path / "plug"
    (plug / "toy_objective-0.1.dist-info").mkdir(parents=True)
    (plug / "toy_objective.py").write_text(
        "from driver.objectives import Objective\n"
        "OBJECTIVE = Objective('mean_lattice_a', 'A', 'mean NPT lattice length (a toy)',\n"
        "                      read=lambda o: sum(o['lattice_A']) / len(o['lattice_A']))\n")
    (plug / "toy_objective-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: toy-objective\nVersion: 0.1\n")
    (plug / "toy_objective-0.1.dist-info" / "entry_points.txt").write_text(
        "[sse_driver.objectives]\nmean_lattice_a = toy_objective\n")
    cfg = write_campaign(tmp_path, campaign={
        "objectives": [{"name": "mean_lattice_a", "direction": "min"}],
        "budget": {"evaluations": 2}})
    assert_one_line_error(run_cli("config", "validate", str(cfg)),
                          "unknown objective 'mean_lattice_a'")
    env = {"PYTHONPATH": os.pathsep.join([str(plug), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "c"
    r = run_cli("run", str(cfg), "--out", str(out), timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    ev = Ledger(out / "ledger.sqlite", readonly=True).evaluations()
    assert len(ev) == 2 and all(e["status"] == "done" for e in ev)
    for e in ev:
        o = e["outputs"]
        assert o["mean_lattice_a"] == pytest.approx(sum(o["lattice_A"]) / 3)
        assert 10 < o["mean_lattice_a"] < 15          # a garnet cube, ~12.9-13.0 A
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert "mean_lattice_a" in header and "mean_lattice_a=" in r.stdout
