"""Phase-field cost: time per time step versus degrees of freedom and MPI ranks, and the
direct solver (MUMPS) versus iterative ones (GMRES + block-Jacobi ILU, GMRES + ASM).

    .venv/bin/python bench/phasefield.py [--sizes 64 128 256 512] [--ranks 1 2] [--steps 5]

Each case runs in its own `mpirun -n K` process: a noise initial condition, fixed dt, the
same number of steps; the figure is wall time per step (Newton + assembly + solves)
measured after the first step (JIT compilation and set-up excluded). Copy the table with
its date into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def worker(n: int, solver: str, steps: int, boundary: str = "no_flux") -> None:
    from driver.mpi import MPI
    from driver.phasefield.settings import PhaseFieldSettings
    from driver.phasefield.solver import CahnHilliard

    s = PhaseFieldSettings.model_validate({
        "domain": {"nx": n, "ny": n}, "kappa": (2.0 / n) ** 2,
        "initial": {"mean": 0.5, "amplitude": 0.05, "seed": 1},
        "time": {"dt": 1e-6, "dt_min": 1e-9, "dt_max": 1e-6, "adaptive": False, "t_end": 1e-6,
                 "startup_euler_steps": 0},
        "solver": {"linear": solver}, "output": {"snapshots": 0}, "boundary": boundary})
    comm = MPI.COMM_WORLD
    ch = CahnHilliard(s, comm)
    ch.set_initial()
    ch.run()                       # first step: JIT, symbolic factorization, set-up
    s.time.t_end = 1e-6 * steps    # then `steps` more, timed
    ch.u0.x.array[:] = ch.u.x.array
    comm.Barrier()
    t0 = time.perf_counter()
    h = ch.run()
    comm.Barrier()
    dt = (time.perf_counter() - t0) / (len(h) - 1)
    if comm.rank == 0:
        print("BENCH " + json.dumps({"n": n, "dofs": 2 * (n + 1) ** 2, "ranks": comm.size,
                                     "solver": solver, "boundary": boundary, "s_per_step": dt,
                                     "newton_its": sum(r.newton_its for r in h[1:]) / (len(h) - 1)}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--solvers", nargs="+", default=["mumps", "gmres_ilu", "gmres_asm"])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--boundaries", nargs="+", default=["no_flux"], choices=["no_flux", "periodic"],
                   help="periodic adds the P^T J P projection (driver/phasefield/periodic.py)")
    p.add_argument("--worker", nargs=4, metavar=("N", "SOLVER", "STEPS", "BC"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        worker(int(a.worker[0]), a.worker[1], int(a.worker[2]), a.worker[3])
        return
    from driver.mpi import mpirun_command

    rows = []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for n in a.sizes:
        for solver in a.solvers:
            for bc in a.boundaries:
                for k in a.ranks:
                    cmd = mpirun_command(k, [__file__, "--worker", str(n), solver, str(a.steps), bc])
                    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
                    line = next((l for l in r.stdout.splitlines() if l.startswith("BENCH ")), None)
                    if line is None:
                        rows.append({"n": n, "solver": solver, "boundary": bc, "ranks": k,
                                     "error": r.stderr[-300:]})
                        continue
                    rows.append(json.loads(line[6:]))
                    print(line, file=sys.stderr, flush=True)
    print(f"# bench/phasefield {datetime.date.today()}: Cahn-Hilliard mixed P1xP1, triangles, "
          f"{a.steps} timed steps after one set-up step, OMP_NUM_THREADS=1")
    print("| mesh | dofs | solver | boundary | ranks | s/step | Newton its/step | speedup vs 1 rank |")
    print("|---|---|---|---|---|---|---|---|")
    one = {(r["n"], r["solver"], r["boundary"]): r.get("s_per_step") for r in rows
           if r["ranks"] == min(a.ranks)}
    for r in rows:
        if "error" in r:
            print(f"| {r['n']}^2 | | {r['solver']} | {r['boundary']} | {r['ranks']} | failed | | |")
            continue
        sp = one.get((r["n"], r["solver"], r["boundary"]))
        print(f"| {r['n']}^2 | {r['dofs']} | {r['solver']} | {r['boundary']} | {r['ranks']} | "
              f"{r['s_per_step']:.3g} | {r['newton_its']:.1f} | {sp / r['s_per_step']:.2f} |")


if __name__ == "__main__":
    main()
