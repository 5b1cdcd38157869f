"""Optimizer quality and cost, side by side with its peers in one run.

    .venv/bin/python bench/optimizer.py --install-peers   # once: bench/.peers (skopt, BoTorch, CPU torch)
    .venv/bin/python bench/optimizer.py [--seeds 10] [--problems ...] [--no-peers]

1. Simple regret of the point each method recommends (noiseless f there minus f*), median
   and quartiles over seeds, after 1/3, 2/3 and all of the budget: Branin (2-D),
   Hartmann-6, Hartmann-6 with noise sd 0.1 (the noise sd told as each point's error), all
   50 evaluations, sequential and q = 4; and a campaign-shaped problem (two composition
   variables on a grid, heteroscedastic noise in log space told as error bars, budget 15).
   Every method starts from the same 5 scrambled-Sobol points of the seed and sees the same
   noise draws (bench/problems.py).
   - sse-driver: driver.optimize (defaults), recommending ``Optimizer.recommend()``; for
     q > 1 also with each other batch method (kriging believer, fantasies, local
     penalization: ``Optimizer.batch``);
   - skopt and BoTorch: bench/optimizer_peers.py, run by the peers' own Python
     (bench/.peers), never installed into the project's environment.
2. Proposal latency (one ask) versus the number of observations: 100, 1,000, 5,000.

Copy the tables with their date into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
PEERS = HERE / ".peers"
PEER_PACKAGES = ["torch==2.13.0", "botorch==0.18.1", "scikit-optimize==0.10.2"]

from driver.optimize.optimizer import BATCH_METHODS, Objective, Observation, Optimizer  # noqa: E402

DEFAULT_BATCH = Optimizer.batch     # the dataclass default: "sse-driver" rows use it
from driver.optimize.space import Space  # noqa: E402
from problems import PROBLEMS, hartmann6  # noqa: E402


def marks_of(p) -> list[int]:
    return [p.budget // 3, 2 * p.budget // 3, p.budget]


def run_ours(p, seed, q, marks, **settings):
    if p.steps:
        sp = Space.from_dict({"variables": {f"x{i}": [lo, hi, st] for i, ((lo, hi), st)
                                            in enumerate(zip(p.bounds, p.steps))}})
        # told like a campaign: sigma = 10^-f with its error, fitted in log10
        obj = Objective("sigma", "max", log=True)
    else:
        sp = Space.from_dict({"variables": {f"x{i}": list(b) for i, b in enumerate(p.bounds)}})
        obj = Objective("f", "min")
    opt = Optimizer(sp, [obj], seed=seed, n_initial=p.n_initial, **settings)
    draws = p.noise_draws(seed, p.budget)
    n, out = 0, []

    def tell(point):
        nonlocal n
        x = [point[f"x{i}"] for i in range(len(p.bounds))]
        sd = p.noise_sd(x)
        y = p.f(x) + sd * draws[n]
        if p.steps:
            s = 10.0 ** -y
            opt.tell(point, {"sigma": s}, {"sigma": s * np.log(10) * sd})
        else:
            opt.tell(point, {"f": y}, {"f": sd} if sd else None)
        n += 1
        if n in marks:
            rec = opt.recommend()
            out.append(p.regret([rec.x[f"x{i}"] for i in range(len(p.bounds))]))

    for x in p.initial(seed):          # the common starting points, not our own design
        tell({f"x{i}": float(v) for i, v in enumerate(x)} if not p.steps else
             sp.as_dicts(sp.from_unit(sp.to_unit(np.array([x]))))[0])
    opt.n_asked = p.n_initial
    while n < p.budget:
        for point in opt.ask(min(q, p.budget - n)):
            tell(point)
    return out


def _cache(method, name, q, seeds) -> Path:
    """Results are deterministic given the seeds, the problems and the method's code: they
    are cached under bench/.peers/results, keyed by the hash of those files (the peer
    script for the peers, driver/optimize/*.py for sse-driver), so a rerun after an
    unrelated change does not repeat an hour of BoTorch."""
    import hashlib
    code = ([HERE / "optimizer_peers.py"] if method in ("skopt", "botorch")
            else [HERE / "optimizer.py", *sorted((HERE.parent / "driver" / "optimize").glob("*.py"))])
    h = hashlib.sha256(b"".join(f.read_bytes() for f in [HERE / "problems.py", *code]))
    return PEERS / "results" / f"{method.replace(' ', '-')}-{name}-q{q}-s{seeds}-{h.hexdigest()[:12]}.json"


def cached(method, name, q, seeds, compute) -> tuple[list, float | None]:
    """(regret per seed and mark, seconds per run when measured) from the cache or computed."""
    path = _cache(method, name, q, seeds)
    if path.exists():
        d = json.loads(path.read_text())
        return (d, None) if isinstance(d, list) else (d["regret"], d["s_per_run"])
    t0 = time.perf_counter()
    result = compute()
    dt = (time.perf_counter() - t0) / seeds
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"regret": result, "s_per_run": dt}))
    return result, dt


def run_peer(method, name, q, seeds, marks):
    cmd = [str(PEERS / "bin" / "python"), str(HERE / "optimizer_peers.py"), "--method", method,
           "--problem", name, "--q", str(q), "--seeds", str(seeds), "--marks", *map(str, marks)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"peer {method} failed on {name}: {r.stderr.strip().splitlines()[-1:]}")
    return json.loads(r.stdout)


def install_peers():
    """A separate venv for the peers (CPU torch: the default PyPI torch brings ~6 GB of CUDA)."""
    subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
    pip = [str(PEERS / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--index-url", "https://download.pytorch.org/whl/cpu", PEER_PACKAGES[0]], check=True)
    subprocess.run(pip + PEER_PACKAGES[1:], check=True)


def latency(sizes=(100, 1000, 5000)):
    """Seconds of one ask(1) after n observations: exact results and no point running; and
    as in an asynchronous campaign, results told with error bars (sd 0.1) while 3 asked
    points are still running (the batch method then accounts for each of them)."""
    rows = []
    sp = Space.from_dict({"variables": {f"x{i}": [0.0, 1.0] for i in range(6)}})
    for n in sizes:
        times = []
        for noisy in (False, True):
            rng = np.random.default_rng(0)
            opt = Optimizer(sp, [Objective("f", "min")], seed=0, n_initial=1)
            for x in rng.random((n, 6)):
                opt.observations.append(Observation({f"x{i}": float(v) for i, v in enumerate(x)},
                                                    {"f": hartmann6(x)},
                                                    {"f": 0.1} if noisy else None))
            opt.n_asked = n
            if noisy:
                opt.pending = [{f"x{i}": float(v) for i, v in enumerate(x)} for x in rng.random((3, 6))]
            t0 = time.perf_counter()
            opt.ask(1)
            times.append(time.perf_counter() - t0)
        rows.append((n, *times))
    return rows


# ---------------------------------------------------------------- two objectives
BC_REF = np.array([18.0, 6.0])      # BoTorch's BraninCurrin reference point (minimization)
BC_MAX_HV = 59.36011874867746       # BoTorch's BraninCurrin.max_hv


def branin_currin(x: np.ndarray) -> np.ndarray:
    """BraninCurrin (Belakaria, Deshwal, Doppa, NeurIPS 2019; as in BoTorch's test
    functions): two objectives to minimize on the unit square."""
    x0, x1 = x
    u, v = 15 * x0 - 5, 15 * x1
    b = (v - 5.1 / (4 * np.pi ** 2) * u ** 2 + 5 / np.pi * u - 6) ** 2 \
        + 10 * (1 - 1 / (8 * np.pi)) * np.cos(u) + 10
    x1c = max(x1, 1e-12)
    c = (1 - np.exp(-1 / (2 * x1c))) * (2300 * x0 ** 3 + 1900 * x0 ** 2 + 2092 * x0 + 60) \
        / (100 * x0 ** 3 + 500 * x0 ** 2 + 4 * x0 + 20)
    return np.array([b, c])


def run_moo(seed: int, acquisition: str, budget: int = 30, n0: int = 5) -> float:
    """Hypervolume regret (max HV - HV of the evaluated points, w.r.t. BoTorch's reference
    point) after ``budget`` evaluations, sequential, from the common 5 Sobol points."""
    from scipy.stats import qmc

    from driver.optimize.multiobjective import hypervolume
    sp = Space.from_dict({"variables": {"x0": [0.0, 1.0], "x1": [0.0, 1.0]}})
    opt = Optimizer(sp, [Objective("b", "min"), Objective("c", "min")], seed=seed,
                    n_initial=n0, acquisition=acquisition)
    Y = []

    def tell(point):
        y = branin_currin(np.array([point["x0"], point["x1"]]))
        Y.append(y)
        opt.tell(point, {"b": float(y[0]), "c": float(y[1])})

    for u in qmc.Sobol(2, scramble=True, seed=seed).random_base2(3)[:n0]:
        tell({"x0": float(u[0]), "x1": float(u[1])})
    opt.n_asked = n0
    while len(Y) < budget:
        tell(opt.ask(1)[0])
    return BC_MAX_HV - hypervolume(-np.array(Y), -BC_REF)


CASES = [("branin", 1), ("branin", 4), ("hartmann6", 1), ("hartmann6", 4),
         ("hartmann6_noisy", 1), ("hartmann6_noisy", 4), ("campaign", 1), ("campaign", 4)]


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--seeds", type=int, default=10)
    a.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    a.add_argument("--q", type=int, nargs="+", default=[1, 4])
    a.add_argument("--no-peers", action="store_true", help="sse-driver only")
    a.add_argument("--no-latency", action="store_true")
    a.add_argument("--peers-only", action="store_true", help="run (and cache) the peers' results only")
    a.add_argument("--install-peers", action="store_true", help="make bench/.peers and exit")
    a.add_argument("--moo", action="store_true", help="two objectives only: EHVI vs the "
                   "weighted EI on BraninCurrin (hypervolume regret), then exit")
    args = a.parse_args()
    if args.moo:
        print(f"# bench/optimizer --moo {datetime.date.today()}: BraninCurrin, 30 evaluations "
              f"(5 common Sobol points), q = 1, hypervolume regret (max HV 59.36, BoTorch's "
              f"reference point), median [Q1, Q3] over {args.seeds} seeds\n")
        print("| acquisition | HV regret | s/run |")
        print("|---|---|---|")
        for acq in ("ehvi", "ei"):
            t0 = time.perf_counter()
            R = [run_moo(s, acq) for s in range(args.seeds)]
            q1, med, q3 = np.percentile(R, [25, 50, 75])
            print(f"| {acq} | {med:.3g} [{q1:.2g}, {q3:.2g}] | "
                  f"{(time.perf_counter() - t0) / args.seeds:.1f} |", flush=True)
        return
    if args.install_peers:
        install_peers()
        return
    warnings.simplefilter("ignore")
    peers = [] if args.no_peers else ["skopt", "botorch"]
    if peers and not (PEERS / "bin" / "python").exists():
        raise SystemExit("bench/.peers is missing: run bench/optimizer.py --install-peers (or --no-peers)")
    if args.peers_only:
        for name in args.problems:
            for q in args.q:
                for method in peers:
                    t0 = time.perf_counter()
                    cached(method, name, q, args.seeds,
                           lambda: run_peer(method, name, q, args.seeds, marks_of(PROBLEMS[name])))
                    print(f"{method} {name} q={q}: {time.perf_counter() - t0:.0f} s", flush=True)
        return
    print(f"# bench/optimizer {datetime.date.today()}: regret at the recommended point, "
          f"median [Q1, Q3] over {args.seeds} seeds, 5 common Sobol starting points")
    for name in args.problems:
        p = PROBLEMS[name]
        marks = marks_of(p)
        print(f"\n{name} (budget {p.budget})\n")
        print("| method | q | " + " | ".join(f"after {m}" for m in marks) + " | s/run |")
        print("|---|---|" + "---|" * len(marks) + "---|")
        for q in args.q:
            ours = ["sse-driver"] + ([f"sse-driver {b}" for b in BATCH_METHODS if b != DEFAULT_BATCH]
                                     if q > 1 else [])
            for method in [*ours, *peers]:
                if method in ours:
                    kw = {"batch": method.split()[1]} if " " in method else {}
                    R, dt = cached(method, name, q, args.seeds, lambda: [
                        run_ours(p, s, q, set(marks), **kw) for s in range(args.seeds)])
                else:
                    R, dt = cached(method, name, q, args.seeds,
                                   lambda: run_peer(method, name, q, args.seeds, marks))
                R = np.array(R)
                cells = []
                for k in range(len(marks)):
                    q1, med, q3 = np.percentile(R[:, k], [25, 50, 75])
                    cells.append(f"{med:.3g} [{q1:.2g}, {q3:.2g}]")
                print(f"| {method} | {q} | " + " | ".join(cells) + (f" | {dt:.1f} |" if dt else " | n/a |"),
                      flush=True)
    if not args.no_latency:
        print("\nproposal latency (one ask, 6-D Hartmann data)\n")
        print("| observations | seconds, exact results | seconds, error bars + 3 running |")
        print("|---|---|---|")
        for n, s, s_async in latency():
            print(f"| {n} | {s:.2f} | {s_async:.2f} |", flush=True)


if __name__ == "__main__":
    main()
