"""Speed and memory of the student's fit (driver/distil/fit.py: normal equations accumulated
per frame, one eigendecomposition per fold serving every ridge) beside the reference it
replaced, in the same run: the SVD of the stacked, column-scaled design matrix, one SVD per
fold serving every ridge (the best use of an SVD here, not one solve per ridge), and the
final fit by SVD. Both choose the ridge on the same folds and grid; the bench checks that
they give the same coefficients and the same held-out losses.

    .venv/bin/python bench/distil_fit.py [--frames 217] [--atoms 52] [--columns 1780]

The defaults are the Li6PS5Cl record's fit (217 frames of 52 atoms, POD (6, 6) at 5 A,
1780 columns; records/distil/li6ps5cl_pod_7net0); ``--frames 1023 --atoms 24 --columns
3305`` is the halide family's generation 2. The rows are random numbers of those shapes:
the cost of either solver depends on the shapes, not on the values. Prints a table; copy it
with its date into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from driver.distil import fit as FIT  # noqa: E402
from driver.distil.descriptors import Rows  # noqa: E402
from driver.distil.frames import Frame  # noqa: E402


def synthetic(frames: int, atoms: int, columns: int, seed: int = 0):
    """Rows and labelled frames of those shapes: labels of a random linear model plus noise
    (so the ridge has something to choose)."""
    rng = np.random.default_rng(seed)
    beta = rng.normal(0, 1.0, columns) / np.sqrt(columns)
    rows, out = [], []
    for k in range(frames):
        r = Rows(energy=rng.normal(0, 1, columns) * atoms,
                 forces=rng.normal(0, 1, (3 * atoms, columns)),
                 virial=rng.normal(0, 1, (6, columns)) * atoms,
                 ref_energy=0.0, ref_forces=np.zeros(3 * atoms), ref_virial=np.zeros(6),
                 n=atoms, volume=12.0 * atoms)
        f = Frame(("Li",) * atoms, rng.random((atoms, 3)) * 10, np.eye(3) * 10,
                  {"kind": "student md"})
        e = float(r.energy @ beta) + rng.normal(0, 0.005) * atoms
        forces = (r.forces @ beta + rng.normal(0, 0.1, 3 * atoms)).reshape(atoms, 3)
        stress = -(r.virial @ beta) / r.volume
        rows.append(r)
        out.append(f.with_labels(e, forces, stress))
    return rows, out


def svd_reference(rows, frames, tol, folds=5, seed=0, grid=FIT.RIDGE_GRID):
    """Ridge choice (the same folds, median rule and bootstrap as ``fit.choose_ridge``) and
    final fit by SVD of the stacked, column-scaled weighted design."""
    n = len(frames)
    w = FIT.balanced_weights(frames)
    fold_of = np.random.default_rng(seed).permutation(n) % folds

    def fit(idx, ridges):
        a, b = FIT._system([rows[i] for i in idx], [frames[i] for i in idx], tol, w[idx])
        scale = np.sqrt((a ** 2).mean(axis=0))
        scale[scale == 0] = 1.0
        u, s, vt = np.linalg.svd(a / scale, full_matrices=False)
        ub = u.T @ b
        return [vt.T @ (s * ub / (s ** 2 + r * len(b))) / scale for r in ridges]

    loss = np.zeros((n, len(grid)))
    for k in range(folds):
        train = np.flatnonzero(fold_of != k)
        xs = np.stack(fit(train, grid), axis=1)
        for i in np.flatnonzero(fold_of == k):
            at, bt = FIT._system([rows[i]], [frames[i]], tol)
            loss[i] = ((at @ xs - bt[:, None]) ** 2).mean(axis=0)
    median = np.median(loss, axis=0)
    boot = np.random.default_rng(seed + 1).integers(0, n, (400, n))
    se = np.median(loss[boot], axis=1).std(axis=0, ddof=1)
    best = int(np.argmin(median))
    chosen = max(j for j in range(len(grid)) if median[j] <= median[best] + se[best])
    return grid[chosen], median, fit(np.arange(n), [grid[chosen]])[0]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=217)
    ap.add_argument("--atoms", type=int, default=52)
    ap.add_argument("--columns", type=int, default=1780)
    a = ap.parse_args()
    tol = FIT.Tolerances()
    rows, frames = synthetic(a.frames, a.atoms, a.columns)
    base = peak_mb()
    t0 = time.perf_counter()
    ridge, cv = FIT.choose_ridge(rows, frames, tol, seed=0)
    beta = FIT.solve(rows, frames, tol, ridge)
    t_normal = time.perf_counter() - t0
    mem_normal = peak_mb() - base
    t0 = time.perf_counter()
    ridge_svd, median_svd, beta_svd = svd_reference(rows, frames, tol)
    t_svd = time.perf_counter() - t0
    mem_svd = peak_mb() - base - mem_normal
    median = np.array([cv[f"{r:g}"]["median"] for r in FIT.RIDGE_GRID])
    agree = float(np.abs(beta - beta_svd).max() / np.abs(beta_svd).max())
    loss_rel = float(np.abs(median - median_svd).max() / median_svd.max())
    nrows = sum(1 + r.forces.shape[0] + 6 for r in rows)
    print(f"Measured {datetime.date.today()}, one core (OMP_NUM_THREADS=1); {a.frames} frames "
          f"x {a.atoms} atoms ({nrows} rows), {a.columns} columns; ridge grid "
          f"{len(FIT.RIDGE_GRID)} strengths, 5 folds, then the final fit.\n")
    print("| solver | ridge chosen | time (s) | peak memory added (MB) |")
    print("|---|---|---|---|")
    print(f"| normal equations over blocks of frames (fit.py) | {ridge:g} | {t_normal:.1f} | {mem_normal:.0f} |")
    print(f"| SVD of the stacked design (reference) | {ridge_svd:g} | {t_svd:.1f} | "
          f"{max(mem_svd, 0):.0f} (beyond the first's) |")
    print(f"\nspeed-up {t_svd / t_normal:.1f}x; coefficients agree to {agree:.1e} (largest "
          f"difference / largest coefficient), held-out median losses to {loss_rel:.1e}")
    return 0 if ridge == ridge_svd and agree < 1e-6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
