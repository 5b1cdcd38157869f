"""Phase-field cost: time per time step versus degrees of freedom and MPI ranks, and the
direct solver (MUMPS) versus iterative ones (GMRES + block-Jacobi ILU, GMRES + ASM).

    .venv/bin/python bench/phasefield.py [--sizes 64 128 256 512] [--ranks 1 2] [--steps 5]

Time stepping, side by side in one run (``--pfhub``): PFHub benchmark 1b to t = 1000 by
the driver's solver (error controller, and the Newton-count rule it replaced) and by a
reference DOLFINx BDF2 implementation written apart from the driver (bench/pfhub_reference.py),
each under `mpirun -n K`, with wall time, steps, Newton iterations and F at t = 1, 100, 1000:

    .venv/bin/python bench/phasefield.py --pfhub [--mesh 200] [--ranks 2] [--tolerance 3e-4]
        [--reference-tolerances 3e-4 1e-4] [--converged 74.33]

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


PFHUB_OUTPUTS = [1.0, 100.0, 1000.0]


def pfhub_worker(impl: str, n: int, tol: float) -> None:
    """One PFHub 1b run to t = 1000; prints one BENCH line on rank 0."""
    from driver.mpi import MPI

    comm = MPI.COMM_WORLD
    if impl == "reference":
        import pfhub_reference as ref
        r = ref.run(n, 1000.0, PFHUB_OUTPUTS, tol, comm=comm)
        F = {f"{t:g}": v for t, v in r["F"].items()}
        row = {"steps": r["steps"], "newton": r["newton"], "rejected": r["rejected"],
               "seconds": r["seconds"], "F": F}
    else:
        from driver.phasefield.settings import PhaseFieldSettings
        from driver.phasefield.solver import CahnHilliard
        from pfhub_reference import CA, CB, KAPPA, L, MOB, PFHUB_IC, RHO

        s = PhaseFieldSettings.model_validate({
            "domain": {"lx": L, "ly": L, "nx": n, "ny": n},
            "free_energy": {"rho": RHO, "c_alpha": CA, "c_beta": CB}, "kappa": KAPPA,
            "mobility": {"m0": MOB}, "initial": {"kind": "expression", "expression": PFHUB_IC},
            "time": {"dt": 1e-2, "dt_min": 1e-8, "dt_max": 100.0, "t_end": 1000.0,
                     "controller": impl, "tolerance": tol, "outputs": PFHUB_OUTPUTS},
            "output": {"snapshots": 0}})
        ch = CahnHilliard(s, comm)
        ch.set_initial()
        h = ch.run()
        row = {"steps": len(h) - 1, "newton": sum(r.newton_its for r in h),
               "rejected": ch.rejected, "seconds": ch.seconds,
               "F": {f"{o['t']:g}": o["free_energy"] for o in ch.outputs}}
    if comm.rank == 0:
        print("BENCH " + json.dumps({"impl": impl, "n": n, "ranks": comm.size, "tol": tol, **row}))


def pfhub_main(a) -> None:
    from driver.mpi import mpirun_command

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows = []
    runs = [(impl, tol) for impl in a.impls
            for tol in (a.reference_tolerances or [a.tolerance] if impl == "reference" else [a.tolerance])]
    for k in a.ranks:
        for impl, tol in runs:
            cmd = mpirun_command(k, [__file__, "--pfhub-worker", impl, str(a.mesh), str(tol)])
            r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=7200)
            line = next((l for l in r.stdout.splitlines() if l.startswith("BENCH ")), None)
            if line is None:
                raise SystemExit(f"{impl} on {k} ranks failed: {r.stderr[-500:]}")
            rows.append(json.loads(line[6:]))
            print(line, file=sys.stderr, flush=True)
    print(f"# bench/phasefield --pfhub {datetime.date.today()}: PFHub 1b, {a.mesh}x{a.mesh} P1 "
          "triangles, MUMPS, to t = 1000, local error tolerance (RMS of c) as listed; "
          "OMP_NUM_THREADS=1")

    def accurate(r):
        return a.converged is None or abs(r["F"]["1000"] - a.converged) <= 0.1

    print("| implementation | tolerance | ranks | steps | rejected | Newton its | wall (s) | "
          "vs reference | F(1) | F(100) | F(1000) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    names = {"reference": "reference BDF2 (bench/pfhub_reference.py)",
             "error": "sse-driver, error controller (CN)",
             "newton": "sse-driver, Newton-count rule (before)"}
    for r in rows:
        # the reference: its loosest tolerance whose F(1000) is within 0.1 of --converged
        ref = next((x for x in rows if x["impl"] == "reference" and x["ranks"] == r["ranks"]
                    and accurate(x)), None)
        F = r["F"]
        vs = f"{r['seconds'] / ref['seconds']:.2f}x" if ref else "n/a"
        tol = f"{r['tol']:g}" if r["impl"] != "newton" else "(Newton its)"
        flag = "" if accurate(r) else " (off by > 0.1)"
        print(f"| {names[r['impl']]} | {tol} | {r['ranks']} | {r['steps']} | {r['rejected']} | "
              f"{r['newton']} | {r['seconds']:.1f} | {vs} | "
              f"{F['1']:.3f} | {F['100']:.2f} | {F['1000']:.3f}{flag} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--solvers", nargs="+", default=["mumps", "gmres_ilu", "gmres_asm"])
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--boundaries", nargs="+", default=["no_flux"], choices=["no_flux", "periodic"],
                   help="periodic adds the P^T J P projection (driver/phasefield/periodic.py)")
    p.add_argument("--worker", nargs=4, metavar=("N", "SOLVER", "STEPS", "BC"), help=argparse.SUPPRESS)
    p.add_argument("--pfhub", action="store_true", help="time stepping: PFHub 1b to t = 1000, "
                   "the driver beside a reference BDF2 implementation")
    p.add_argument("--mesh", type=int, default=200, help="--pfhub: elements per side")
    p.add_argument("--tolerance", type=float, default=3e-4, help="--pfhub: local error tolerance")
    p.add_argument("--reference-tolerances", type=float, nargs="+", default=None,
                   help="--pfhub: run the reference at each (loosest first)")
    p.add_argument("--converged", type=float, default=None, help="--pfhub: converged F(1000) "
                   "from a tight run; the speed ratio is taken against the loosest reference "
                   "tolerance within 0.1 of it")
    p.add_argument("--impls", nargs="+", default=["reference", "error", "newton"],
                   choices=["reference", "error", "newton"], help="--pfhub: which to run")
    p.add_argument("--pfhub-worker", nargs=3, metavar=("IMPL", "N", "TOL"), help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.pfhub_worker:             # bench/ is on sys.path: this script's own folder
        pfhub_worker(a.pfhub_worker[0], int(a.pfhub_worker[1]), float(a.pfhub_worker[2]))
        return
    if a.pfhub:
        if a.ranks == [1, 2] and "--ranks" not in sys.argv:
            a.ranks = [2]
        pfhub_main(a)
        return
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
