"""Progress inside an evaluation and the watchdog that stops a stage only when it stops
progressing (issue 32, items 2 and 3)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from driver.campaign.tasks import error_class, run_stage
from driver.campaign.watchdog import Watchdog
from driver.md import progress as P


def _md_folder(tmp_path, index=2, of=4, phase="nvt", step=500, equil=1000, prod=2000,
               started=None):
    P.write_plan(tmp_path, "T1000K", index, of, "T1000K", 2.0)
    if started is not None:                 # back-date the plan step's start
        import json
        doc = json.loads((tmp_path / P.PLAN_FILE).read_text())
        doc["started"] = started
        (tmp_path / P.PLAN_FILE).write_text(json.dumps(doc))
    run = tmp_path / "T1000K"
    run.mkdir(exist_ok=True)
    lines = ["# Fix print output for fix progress"]
    lines += [f"npt {s} {equil} {prod}" for s in range(0, equil + 1, 100)]
    if phase == "nvt":
        lines += [f"nvt {s} {equil} {prod}" for s in range(0, step + 1, 100)]
    (run / P.STEPS_FILE).write_text("\n".join(lines) + "\n")


def test_progress_is_read_from_the_plan_and_lammps_own_lines(tmp_path):
    assert P.read(tmp_path) is None                          # nothing said yet
    _md_folder(tmp_path)
    p = P.read(tmp_path)
    assert (p.step, p.phase, p.step_no, p.done, p.run_steps) == ("T1000K", "nvt", 500, 1500, 3000)
    assert p.describe() == "md T1000K nvt 1/4 ps (3/4)"      # 500 of 2000 steps of 2 fs
    assert p.remaining_md_steps() == 1500 + 3000               # this run and the one after
    assert p.fraction == pytest.approx((2 + 0.5) / 4)
    (tmp_path / "T1000K" / P.STEPS_FILE).write_text("garbage here\n")
    assert P.read(tmp_path).phase is None                     # a plan step without MD lines
    assert P.heartbeat(tmp_path) is not None


def test_watchdog_stops_a_stall_and_an_overrun_but_not_a_slow_stage():
    now = 10_000.0
    prog = P.Progress("T1000K", 2, 4, started=now - 100, timestep_fs=1.0, phase="nvt",
                      step_no=200, equil=100, prod=900)         # 300 of 1000 steps in 100 s
    dog = Watchdog(stall_s=60, overrun=4)
    assert dog.verdict(elapsed=150, since_beat=5, progress=prog, now=now) is None
    # its own pace: 3 steps/s; 700 + 1000 steps left -> expected 150 + 567 s
    assert dog.expected_s == pytest.approx(150 + 1700 / 3)
    # twice as slow as predicted (a busy machine) is not stopped; 4x is
    assert dog.verdict(2 * dog.expected_s, 5, prog, now) is None
    assert dog.verdict(4.1 * dog.expected_s, 5, prog, now).startswith("TaskTimeout")
    stalled = Watchdog(stall_s=60).verdict(100, 61, prog, now)
    assert stalled.startswith("TaskStalled") and "T1000K" in stalled
    assert Watchdog(stall_s=None, overrun=None, hard_s=50).verdict(51, 0, None).startswith(
        "TaskTimeout")
    assert P.eta_s(prog, now) == pytest.approx(1700 / 3)


_WRITER = """
import sys, time
from pathlib import Path
out = Path(sys.argv[1]); out.mkdir(exist_ok=True)
for i in range(int(sys.argv[2])):
    (out / "log.txt").write_text(str(i)); time.sleep(float(sys.argv[3]))
time.sleep(float(sys.argv[4]))
"""


def test_run_stage_kills_a_stage_that_stops_writing_and_spares_a_slow_one(tmp_path):
    """The real polling loop: a stage that writes every 0.5 s for 6 s runs to the end under
    a 2 s stall limit (slow is not stuck); one that then goes silent for 30 s is killed
    after ~2 s of silence as TaskStalled (not retried), long before it would end."""
    script = tmp_path / "stage.py"
    script.write_text(_WRITER)
    dog = Watchdog(stall_s=2.0, overrun=None)
    import driver.campaign.tasks as T
    T.POLL_S, old = 0.5, T.POLL_S
    try:
        rc, err = run_stage([sys.executable, str(script), str(tmp_path / "a"), "12", "0.5", "0"],
                            None, tmp_path / "a.log", tmp_path / "a", dog)
        assert rc == 0, err
        t0 = time.time()
        rc, err = run_stage([sys.executable, str(script), str(tmp_path / "b"), "2", "0.5", "30"],
                            None, tmp_path / "b.log", tmp_path / "b", Watchdog(2.0, None))
        took = time.time() - t0
    finally:
        T.POLL_S = old
    assert rc == -9 and err.startswith("TaskStalled") and took < 10
    assert error_class(rc, err) == "TaskStalled"


def test_stage_of_an_evaluation_in_flight(tmp_path):
    """What the console and `status` say of a running evaluation: its newest attempt's
    stage with the MD stage's progress and the time left at its pace."""
    from driver.campaign.tasks import stage_of
    assert stage_of(tmp_path, 3) == "queued"
    md = tmp_path / "p0003" / "attempt1" / "md"
    md.mkdir(parents=True)
    assert stage_of(tmp_path, 3) == "md starting"
    _md_folder(md, started=time.time() - 100)
    said = stage_of(tmp_path, 3)
    assert said.startswith("md T1000K nvt 1/4 ps (3/4)") and "min left" in said
    (tmp_path / "p0003" / "attempt2" / "pf").mkdir(parents=True)
    assert stage_of(tmp_path, 3) == "attempt 2: phase field"


def test_a_failed_stage_says_its_class_and_retry_in_error_json(tmp_path):
    """Issue 31, item 4: a stage that fails writes error.json (class, message, the class's
    own retry policy); the campaign applies that policy, never a class recovered from the
    text of stderr: a lost-atoms failure halves the time step with a new seed, a deck error
    is not retried, a crash without a record gets a new seed, and a renamed or new subclass
    keeps its parent's policy."""
    from driver.campaign.tasks import _md_retry, stage_error
    from driver.cli import _write_error
    from driver.errors import RETRY_KEYS, SSEError
    from driver.md import runner as R
    from driver.phasefield import solver  # noqa: F401  (ConvergenceError registers)

    md = {"timestep_fs": 2.0, "seed": 11}
    folder = tmp_path / "md"
    folder.mkdir()
    _write_error(str(folder), R.LostAtomsError("Lost atoms: original 24 current 23"))
    err = stage_error(3, "anything at all on stderr", folder)
    assert err["class"] == "LostAtomsError" and "Lost atoms" in err["message"]
    nxt = _md_retry(err, md, attempt=1)
    assert nxt["timestep_fs"] == 1.0 and nxt["seed"] != md["seed"]
    _write_error(str(folder), R.DeckError("Unknown command"))
    assert _md_retry(stage_error(3, "", folder), md, 1) is None
    (folder / "error.json").unlink()
    crash = stage_error(1, "Segmentation fault", folder)
    assert crash["class"] == "Crash(rc=1)" and _md_retry(crash, md, 2)["timestep_fs"] == 2.0
    assert stage_error(2, "sse-driver md: error: bad", folder)["retry"] is None

    class RenamedLost(R.LostAtomsError):
        pass
    _write_error(str(folder), RenamedLost("x"))
    assert _md_retry(stage_error(3, "", folder), md, 1)["timestep_fs"] == 1.0

    def every(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)
    policies = {c.__name__: c.retry for c in every(SSEError)}
    assert policies["ConvergenceError"] == {"dt_scale_factor": 0.1}
    assert all(set(p) <= RETRY_KEYS for p in policies.values() if p), policies


def _report_twice(runs: str) -> list[bool]:
    from driver.campaign import tasks as T
    (Path(runs) / "p0003" / "attempt1").mkdir(parents=True)
    rep = T.progress_reporter(runs, 3)
    rep()
    rep()                      # unchanged and within PROGRESS_EVERY_S: not said again
    (Path(runs) / "p0003" / "attempt1" / "pf").mkdir()
    rep()                      # the stage changed: said
    return [T.publish_progress(3, "probe")]


def test_progress_reaches_the_dask_event_stream(tmp_path):
    """Issue 32: inside a Dask worker an evaluation's stage is published to the
    PROGRESS_TOPIC event stream (and the worker log the dashboard shows) when it changes;
    outside a worker nothing is published."""
    from distributed import Client

    from driver.campaign.tasks import PROGRESS_TOPIC, publish_progress
    assert publish_progress(1, "outside") is False
    with Client(processes=False, n_workers=1, threads_per_worker=1,
                dashboard_address=None) as client:
        assert client.submit(_report_twice, str(tmp_path), pure=False).result() == [True]
        events = [msg for _, msg in client.get_events(PROGRESS_TOPIC)]
    assert [e["stage"] for e in events] == ["md starting", "phase field", "probe"]
    assert all(e["proposal"] == 3 for e in events)


class _Terminal:
    """A stream that says it is a terminal and keeps what is written to it."""

    def __init__(self):
        import io
        self.buf = io.StringIO()

    def write(self, s):
        return self.buf.write(s)

    def flush(self):
        pass

    def isatty(self):
        return True


def test_the_console_shows_a_bar_at_a_terminal_and_plain_lines_in_a_log():
    """campaign/console.py: at a terminal a bar of evaluations finished of the budget whose
    tail names each evaluation's stage, the campaign's lines printed above it; in a log (not a
    terminal) no bar at all, the lines untouched."""
    import io

    from driver.campaign.console import EvaluationsBar
    term = _Terminal()
    bar = EvaluationsBar(5, done=1, stream=term)
    assert bar.enabled
    say = bar.say(print)
    say("[2/5] candidate 2 done: Li6.5La3Zr1.5Ta0.5O12")
    bar.finished(2)
    bar.running(["p3 md T1000K nvt 45/100 ps (5/6), ~6 min left"])
    bar.close()
    text = term.buf.getvalue()
    assert "2/5" in text and "p3 md T1000K nvt 45/100 ps" in text
    assert "candidate 2 done: Li6.5La3Zr1.5Ta0.5O12\n" in text

    log = io.StringIO()
    lines: list[str] = []
    quiet = EvaluationsBar(5, stream=log)
    assert not quiet.enabled and quiet.say(lines.append) == lines.append
    quiet.finished(3)
    quiet.running(["p3 md"])
    quiet.close()
    assert log.getvalue() == "" and lines == []
