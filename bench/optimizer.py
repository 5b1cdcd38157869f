"""Optimizer quality and cost.

    .venv/bin/python bench/optimizer.py [--seeds 10] [--quick]

1. Simple regret (true f at the best observed point minus the optimum) versus
   evaluations, median and quartiles over seeds, on Branin (2-D), Hartmann-6 (6-D) and
   Branin with additive Gaussian noise (sd 1.0), sequential (q = 1) and batch (q = 4),
   for sse-driver's optimizer, random search, and scikit-optimize's GP optimizer
   (skopt.Optimizer, GP + EI; batch by its constant liar). scikit-optimize is installed for
   the benchmark only, into bench/.peer (not into the project's environment).
2. Proposal latency (one ask) versus the number of observations: 100, 1,000, 5,000.

Copy the tables with their date into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
PEER = HERE / ".peer"

from driver.optimize.optimizer import Objective, Optimizer  # noqa: E402
from driver.optimize.space import Space  # noqa: E402


def branin(x):
    x1, x2 = x
    a, b, c, r, s, t = 1, 5.1 / (4 * np.pi ** 2), 5 / np.pi, 6, 10, 1 / (8 * np.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * np.cos(x1) + s


_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(x):
    x = np.asarray(x, float)
    return -float(_H6_ALPHA @ np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)))


PROBLEMS = {  # name: (f, bounds, optimum, noise sd, budget, n_initial)
    "branin": (branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887, 0.0, 30, 6),
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6, -3.32237, 0.0, 60, 12),
    "branin_noisy": (branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887, 1.0, 30, 6),
}


def run_ours(name, seed, q):
    f, bounds, fstar, noise, budget, n0 = PROBLEMS[name]
    sp = Space.from_dict({"variables": {f"x{i}": list(b) for i, b in enumerate(bounds)}})
    opt = Optimizer(sp, [Objective("f", "min")], seed=seed, n_initial=n0)
    rng = np.random.default_rng(1000 + seed)
    regret, xs, ys = [], [], []
    while len(ys) < budget:
        for p in opt.ask(min(q, budget - len(ys))):
            x = [p[f"x{i}"] for i in range(len(bounds))]
            y = f(x) + noise * rng.normal()
            opt.tell(p, {"f": y}, {"f": noise} if noise else None)
            xs.append(x)
            ys.append(y)
            regret.append(f(xs[int(np.argmin(ys))]) - fstar)
    return regret


def run_random(name, seed, q):
    f, bounds, fstar, noise, budget, _ = PROBLEMS[name]
    rng = np.random.default_rng(seed)
    lo, hi = np.array(bounds).T
    X = lo + rng.random((budget, len(bounds))) * (hi - lo)
    y = np.array([f(x) for x in X]) + noise * np.random.default_rng(1000 + seed).normal(size=budget)
    return [f(X[int(np.argmin(y[:k + 1]))]) - fstar for k in range(budget)]


def run_skopt(name, seed, q):
    sys.path.insert(0, str(PEER))
    from skopt import Optimizer as SkOpt

    f, bounds, fstar, noise, budget, n0 = PROBLEMS[name]
    opt = SkOpt(bounds, base_estimator="GP", acq_func="EI", n_initial_points=n0, random_state=seed)
    rng = np.random.default_rng(1000 + seed)
    xs, ys, regret = [], [], []
    while len(ys) < budget:
        k = min(q, budget - len(ys))
        pts = opt.ask(n_points=k) if k > 1 else [opt.ask()]
        vals = [f(x) + noise * rng.normal() for x in pts]
        opt.tell(pts, vals)
        for x, y in zip(pts, vals):
            xs.append(x)
            ys.append(y)
            regret.append(f(xs[int(np.argmin(ys))]) - fstar)
    return regret


def ensure_peer():
    if not (PEER / "skopt").is_dir():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(PEER),
                        "--no-deps", "scikit-optimize==0.10.2", "pyaml"], check=True)


def latency(sizes=(100, 1000, 5000)):
    rows = []
    sp = Space.from_dict({"variables": {f"x{i}": [0.0, 1.0] for i in range(6)}})
    rng = np.random.default_rng(0)
    for n in sizes:
        opt = Optimizer(sp, [Objective("f", "min")], seed=0, n_initial=1, n_restarts=1)
        X = rng.random((n, 6))
        for x in X:
            opt.observations.append(__import__("driver.optimize.optimizer", fromlist=["Observation"]).Observation(
                {f"x{i}": float(v) for i, v in enumerate(x)}, {"f": hartmann6(x)}))
        opt.n_asked = n
        t0 = time.perf_counter()
        opt.ask(1)
        rows.append((n, time.perf_counter() - t0))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--quick", action="store_true", help="branin only, 3 seeds")
    a = p.parse_args()
    warnings.simplefilter("ignore")
    ensure_peer()
    problems = ["branin"] if a.quick else list(PROBLEMS)
    seeds = range(3 if a.quick else a.seeds)
    print(f"# bench/optimizer {datetime.date.today()}: simple regret, median [Q1, Q3] over "
          f"{len(seeds)} seeds")
    for name in problems:
        budget = PROBLEMS[name][4]
        marks = [budget // 3, 2 * budget // 3, budget]
        print(f"\n{name} (budget {budget}, initial design {PROBLEMS[name][5]})\n")
        print("| method | q | " + " | ".join(f"after {m}" for m in marks) + " | s/run |")
        print("|---|---|" + "---|" * len(marks) + "---|")
        for label, fn in (("sse-driver", run_ours), ("skopt GP", run_skopt), ("random", run_random)):
            for q in (1, 4):
                if label == "random" and q == 4:
                    continue
                t0 = time.perf_counter()
                R = np.array([fn(name, s, q) for s in seeds])
                dt = (time.perf_counter() - t0) / len(seeds)
                cells = []
                for m in marks:
                    q1, med, q3 = np.percentile(R[:, m - 1], [25, 50, 75])
                    cells.append(f"{med:.3g} [{q1:.2g}, {q3:.2g}]")
                print(f"| {label} | {q} | " + " | ".join(cells) + f" | {dt:.1f} |", flush=True)
    if not a.quick:
        print("\nproposal latency (one ask, Hartmann-6 data, hyperparameters fitted on <= 300 points)\n")
        print("| observations | seconds |")
        print("|---|---|")
        for n, s in latency():
            print(f"| {n} | {s:.2f} |")


if __name__ == "__main__":
    main()
