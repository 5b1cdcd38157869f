"""Campaign execution: speedup of 1 -> 2 Dask workers, and what Dask + the ledger cost per task.

    .venv/bin/python bench/scaling.py [--tasks 6] [--noop 200]

Three ways to run the same N tiny MD evaluations (driver.campaign.tasks.evaluate: checks,
structure, LAMMPS relax + elastic + NPT/NVT at 1500 K in a subprocess, analysis; LAGP x on a
grid, 111 atoms, no phase field, no meta extension, so each task does the same work):

  bare      a Python for-loop calling evaluate() one after another (the reference);
  dask-1    what a campaign does: each proposal committed to a SQLite ledger, evaluate()
            submitted to a LocalCluster with 1 worker, each result committed to the ledger;
  dask-2    the same with 2 workers.

Figures (the minimum over --repeat interleaved rounds): wall time of each, speedup dask-1 / dask-2, overhead ratio dask-1 / bare and the
per-task overhead (dask-1 - bare) / N. The overhead of a few ms is invisible next to a 10 s
task, so it is also measured on --noop tasks that do nothing (the same submit/commit path).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from driver.campaign.ledger import Ledger  # noqa: E402
from driver.campaign.tasks import evaluate  # noqa: E402
from driver.schema import Settings  # noqa: E402

SETTINGS = Settings.model_validate({
    "campaign": {"variables": {"x": [0.0, 0.8]}, "phasefield": False,
                 "objectives": [{"name": "sigma_hot", "log": True}],
                 "meta": {"extend_md": False}, "retry": {"max_attempts": 1}},
    "md": {"temperatures_k": [1500], "equil_ps": 0.5, "prod_ps": 3},
}).model_dump(mode="json")


def noop(pid: int, x: dict, settings: dict, out: str) -> dict:
    return {"status": "done", "outputs": {}, "errors": [], "attempts": 1, "run_dir": out,
            "started": 0.0, "finished": 0.0}


def _warm() -> None:
    """Import what evaluate() imports lazily, so neither mode times Python imports."""
    import driver.kb.checks  # noqa: F401
    import pymatgen.core  # noqa: F401


def bare(fn, xs: list[dict], out: Path) -> float:
    _warm()
    t = time.perf_counter()
    for i, x in enumerate(xs):
        fn(i, x, SETTINGS, str(out))
    return time.perf_counter() - t


def through_dask(fn, xs: list[dict], out: Path, workers: int) -> float:
    """Proposals and results through the ledger, tasks through a LocalCluster (as the loop)."""
    from dask.distributed import Client, LocalCluster, as_completed

    with LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=":0", resources={"MPI": 1}) as cluster, Client(cluster) as c:
        c.run(_warm)                                 # workers up before the clock starts
        led = Ledger(out / "ledger.sqlite")
        t = time.perf_counter()
        ids = led.add_proposals(xs, "{}")
        futs = [c.submit(fn, pid, x, SETTINGS, str(out), resources={"MPI": 1}, pure=False)
                for pid, x in zip(ids, xs)]
        pid_of = {f.key: pid for f, pid in zip(futs, ids)}
        for f in as_completed(futs):
            r = f.result()
            led.record(pid_of[f.key], r["status"], r["outputs"], r["errors"], r["attempts"],
                       r["run_dir"], r["started"], r["finished"], {}, "{}")
        dt = time.perf_counter() - t
        assert led.counts()["done"] + led.counts()["failed"] == len(xs)
        led.close()
    return dt


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tasks", type=int, default=6, help="tiny MD evaluations per mode")
    p.add_argument("--noop", type=int, default=200, help="no-op tasks for the per-task overhead")
    p.add_argument("--repeat", type=int, default=1, help="rounds (modes interleaved); min kept")
    a = p.parse_args()
    xs = [{"x": round(i / 6, 6) % 0.8} for i in range(a.tasks)]
    print(f"# bench/scaling {datetime.date.today()} on {os.cpu_count()} cores; "
          f"{a.tasks} tiny MD tasks (LAGP, 111 atoms, 1500 K, 0.5 + 3 ps)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows: dict[str, float] = {}
        for k in range(a.repeat):
            for name, run in (("bare", lambda o: bare(evaluate, xs, o)),
                              ("dask-1", lambda o: through_dask(evaluate, xs, o, 1)),
                              ("dask-2", lambda o: through_dask(evaluate, xs, o, 2))):
                o = tmp / f"{name}-{k}"
                o.mkdir()
                t = run(o)
                rows[name] = min(t, rows.get(name, t))
                print(f"round {k + 1} {name:7s} {t:8.1f} s  ({t / a.tasks:.1f} s/task)", flush=True)
        print(f"speedup 1 -> 2 workers: {rows['dask-1'] / rows['dask-2']:.2f}x")
        print(f"dask-1 / bare: {rows['dask-1'] / rows['bare']:.3f}  "
              f"(overhead {(rows['dask-1'] - rows['bare']) / a.tasks * 1e3:+.0f} ms/task)")
        nx = [{"x": 0.1}] * a.noop
        o = tmp / "noop"
        o.mkdir()
        tb = bare(noop, nx, o)
        td = through_dask(noop, nx, o, 1)
        print(f"no-op tasks x {a.noop}: bare {tb / a.noop * 1e3:.3f} ms/task, Dask + ledger "
              f"{td / a.noop * 1e3:.1f} ms/task (overhead {(td - tb) / a.noop * 1e3:.1f} ms/task)")


if __name__ == "__main__":
    main()
