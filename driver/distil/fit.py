"""Weighted ridge least squares of a linear SNAP student on teacher labels, a bootstrap
committee for its uncertainty, and the error metrics every check reads. Pure numpy.

Each residual is measured in units of its acceptance tolerance (energy per atom, force
component, stress component: the thresholds of the trust checks, issue 30), so one
weighting serves all three and none is tuned by hand. The columns are scaled to unit
spread before the ridge term, which then only steadies directions the data do not fix
(the per-element constants of a single composition, for one). This is the linear solve of
FitSNAP (A. P. Thompson et al. 2015; FitSNAP's ``solver: SVD/ridge``) on the rows LAMMPS's
``compute snap`` gives (descriptors.py); FitSNAP itself (``fitsnap3`` on PyPI) was last
released in 2023 and is not needed for a linear fit.

The solve goes through the normal equations, accumulated frame by frame (``Normal``), and
one symmetric eigendecomposition of the column-scaled Gram matrix serves every ridge
strength: its cost grows with the square of the basis per labelled row and the cube of the
basis once, where an SVD of the stacked rows grows with rows x basis^2 several times over
(five folds, a committee): measured on the Li6PS5Cl record (217 frames, 34k rows, 1780
columns, 2026-12-03) the ridge choice took 182 s by SVD. The squared condition number is
harmless here: the weakest ridge of the grid (1e-8 of the scaled diagonal) is far above
double precision's 1e-16.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .descriptors import Rows, predict
from .frames import EV_A3_GPA, Frame


@dataclass(frozen=True)
class Tolerances:
    """Acceptance thresholds of issue 30, item 2 (also the fit's residual units)."""

    energy_ev_atom: float = 0.005
    force_ev_a: float = 0.15
    force_rel: float = 0.15          # of the teacher's force RMS
    stress_gpa: float = 0.5


EQUILIBRIUM_KINDS = ("teacher relaxed", "near equilibrium")


def balanced_weights(frames: list[Frame]) -> np.ndarray:
    """Per-frame weights of the squared residuals: the teacher's relaxed cells and their
    strained neighbours (the 0 K minimum the lattice check compares) weigh, as a set, as
    much as all the other frames together (hot, rattled), which outnumber them ~10:1 and
    would otherwise decide the shape of the minimum by their own compromise (measured on
    Li3InCl6, docs/distil.md: 2.5 % in b unweighted). No number is tuned: the two aims of the
    fit, the 0 K structure and the hot dynamics, get equal say."""
    eq = np.array([str(f.meta.get("kind", "")).startswith(EQUILIBRIUM_KINDS) for f in frames])
    w = np.ones(len(frames))
    if 0 < eq.sum() < len(frames):
        w[eq] = max(1.0, (~eq).sum() / eq.sum())
    return w


def _system(rows: list[Rows], frames: list[Frame], tol: Tolerances, weights=None):
    """Stacked weighted design matrix and target (each row in tolerance units, times the
    square root of its frame's weight)."""
    blocks, targets = [], []
    w = np.ones(len(frames)) if weights is None else np.asarray(weights, float)
    for r, f, wf in zip(rows, frames, np.sqrt(w)):
        blocks.append(wf * r.energy[None, :] / r.n / tol.energy_ev_atom)
        targets.append(wf * np.array([(f.energy - r.ref_energy) / r.n / tol.energy_ev_atom]))
        blocks.append(wf * r.forces / tol.force_ev_a)
        targets.append(wf * (f.forces.reshape(-1) - r.ref_forces) / tol.force_ev_a)
        s_tol = tol.stress_gpa / EV_A3_GPA
        blocks.append(wf * r.virial / r.volume / s_tol)          # W / V = -stress
        targets.append(wf * (-f.stress - r.ref_virial / r.volume) / s_tol)
    return np.vstack(blocks), np.concatenate(targets)


@dataclass
class Normal:
    """The normal equations of a weighted set of frames: the Gram matrix ``g`` (a^T W a),
    ``h`` (a^T W b), the weighted row count ``rows`` (the ridge's unit) and each column's
    weighted sum of squares ``colsq`` (its scale); sums over frames, so folds and bootstrap
    resamples are sums of per-frame parts."""

    g: np.ndarray
    h: np.ndarray
    rows: float
    colsq: np.ndarray

    @classmethod
    def zeros(cls, ncols: int) -> "Normal":
        return cls(np.zeros((ncols, ncols)), np.zeros(ncols), 0.0, np.zeros(ncols))

    def add(self, rows: list[Rows], frames: list[Frame], tol: Tolerances,
            weights) -> "Normal":
        """Adds a block of frames with per-frame ``weights``: one product for the block."""
        a, b = _system(rows, frames, tol, weights)
        self.g += a.T @ a
        self.h += a.T @ b
        self.rows += float(sum(w * (r.forces.shape[0] + 7) for r, w in zip(rows, weights)))
        self.colsq += (a ** 2).sum(axis=0)
        return self

    def __add__(self, other: "Normal") -> "Normal":
        return Normal(self.g + other.g, self.h + other.h, self.rows + other.rows,
                      self.colsq + other.colsq)

    def __sub__(self, other: "Normal") -> "Normal":
        return Normal(self.g - other.g, self.h - other.h, self.rows - other.rows,
                      self.colsq - other.colsq)

    def solver(self, frozen: np.ndarray | None = None):
        """A function ridge -> coefficients: one eigendecomposition for every strength.
        Columns are scaled to unit RMS over the rows, the ridge is ``ridge`` times the row
        count on the scaled coefficients (``solve``). ``frozen``: columns held at zero
        whatever the data (a bool mask; descriptors.PodBasis.untrained says which).

        A column the data touch only at round-off level (its sum of squares below double
        precision's epsilon times the largest column's) gets no coefficient, as an empty
        one: scaled to unit spread it would be fitted like any other and its coefficient,
        divided back by its tiny scale, explodes. Measured on the halide family
        (records/distil/halide_pod_7net0, generation 2, 2026-12-03): the Y-Y columns,
        touched only by pairs in the last 0.08 A of the 5 A cutoff, were 1e-20 of the
        largest column and took coefficients of 1e15; without them (132 of 3305 columns)
        the held-out errors are unchanged to 1e-4 eV/A and the largest coefficient is 2e3.
        Below such a pair distance the data walls, not the fit, answer."""
        live = self.colsq > self.colsq.max(initial=0.0) * np.finfo(float).eps
        if frozen is not None:
            live &= ~np.asarray(frozen, bool)
        if not live.any():                  # no data: nothing to fit
            return lambda ridge: np.zeros(len(self.h))
        scale = np.sqrt(self.colsq[live] / max(self.rows, 1.0))
        e, v = np.linalg.eigh(self.g[np.ix_(live, live)] / np.outer(scale, scale))
        # directions at round-off level are the basis's exact redundancies (equivalent
        # explicit multi-element SNAP components): no coefficient along them, as lstsq's
        # minimum norm would give (pair_style snap needs equal coefficients on equivalent
        # components); the threshold is numpy's matrix_rank tolerance
        keep = e > e.max() * len(e) * np.finfo(float).eps
        e, v = e[keep], v[:, keep]
        vh = v.T @ (self.h[live] / scale)

        def coefficients(ridge: float) -> np.ndarray:
            out = np.zeros(len(self.h))
            out[live] = v @ (vh / (e + ridge * self.rows)) / scale
            return out
        return coefficients


#: rows stacked before one product updates the Gram matrix (``normal``): one large
#: symmetric product instead of one per frame is ~5x faster at the same result (measured,
#: 40 frames of 79 x 3305 rows, one core, 2026-12-03: 10.3 s -> 2.1 s, equal to 3e-12),
#: for a block of at most 4096 x columns doubles (108 MB at 3305 columns)
BLOCK_ROWS = 4096


def normal(rows: Sequence[Rows], frames: list[Frame], tol: Tolerances, weights) -> Normal:
    """The normal equations of ``frames`` with per-frame ``weights`` (frames of zero weight
    left out, their rows never read), accumulated over blocks of frames of at most
    ``BLOCK_ROWS`` rows: only one block's rows are in memory at a time."""
    out = Normal.zeros(rows[0].energy.shape[0])
    block: list[int] = []

    def flush() -> None:
        if block:
            out.add([rows[i] for i in block], [frames[i] for i in block], tol,
                    [weights[i] for i in block])
            block.clear()

    size = 0
    for i, w in enumerate(weights):
        if not w:
            continue
        n = 3 * frames[i].n + 7           # from the frame: rows may live on disk (rowstore)
        if size + n > BLOCK_ROWS:
            flush()
            size = 0
        block.append(i)
        size += n
    flush()
    return out


def solve(rows: Sequence[Rows], frames: list[Frame], tol: Tolerances = Tolerances(),
          ridge: float = 1e-6, weights=None, frozen: np.ndarray | None = None) -> np.ndarray:
    """Coefficients (ncols,) minimizing the weighted residual plus ``ridge`` times the
    row count times the squared norm of the column-scaled coefficients (``weights``: per
    frame, default ``balanced_weights``; ``frozen``: columns held at zero)."""
    w = balanced_weights(frames) if weights is None else weights
    return normal(rows, frames, tol, w).solver(frozen)(ridge)


#: too few frames to cross-validate (fewer than two per fold): the fixed strength every
#: distillation used before cross-validation (``solve``'s default)
FALLBACK_RIDGE = 1e-6
#: the ridge strengths cross-validation chooses among (column-scaled, see ``solve``)
RIDGE_GRID = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2)


def choose_ridge(rows: Sequence[Rows], frames: list[Frame], tol: Tolerances = Tolerances(),
                 folds: int = 5, seed: int = 0, grid=RIDGE_GRID,
                 resamples: int = 400, frozen: np.ndarray | None = None) -> tuple[float, dict]:
    """The ridge strength of ``grid`` chosen by ``folds``-fold cross-validation (frames held
    out whole) with the one-standard-error rule on the median held-out frame: the strongest
    ridge whose median per-frame loss is within one standard error of the smallest median
    (T. Hastie, R. Tibshirani, J. Friedman, The Elements of Statistical Learning, 2nd ed.,
    Springer 2009, ch. 7.10; the median and its bootstrap standard error: B. Efron, R.
    Tibshirani, An Introduction to the Bootstrap, Chapman & Hall 1993, ch. 6). A frame's
    loss is its mean squared residual in tolerance units (energy, forces, stress).

    Why the rule: the cross-validated error of a student is flat over decades of ridge
    (frames held out at random resemble the training frames), and where it is flat the
    minimum wanders to the weakest ridge, which the data cannot tell apart from a stronger
    one but the student's extrapolation can: on Li6PS5Cl (POD, 1100 coefficients) the
    minimum fell to 1e-8 and every exploration with it lost atoms within 1200 steps
    (records/distil/li6ps5cl_pod_7net0, 2026-12-03).

    Why the median, not the mean over folds: the held-out losses are heavy-tailed. A few
    frames that an earlier, broken student explored (collisions, forces up to the cap) are
    each unlike any other, and held out they are extrapolations at every ridge; on the
    Li6PS5Cl record (217 frames, POD (6, 6)) six of them carried most of the mean, the
    fold-to-fold spread with them, and the rule took the grid's strongest ridge (1e-2):
    0.177 eV/A on the next generation's frames, where 1e-6 gives 0.130 (docs/distil.md).
    The median follows the ordinary frame, the one the trust checks measure. Returns the
    strength and, per strength, the median loss, its standard error and the RMS residual
    over all held-out rows (tolerance units)."""
    n = len(frames)
    if n < 2 * folds:
        return FALLBACK_RIDGE, {}
    w = balanced_weights(frames)
    fold_of = np.random.default_rng(seed).permutation(n) % folds
    loss = np.zeros((n, len(grid)))
    # a fold is the frames weighted, the others at zero weight (skipped): one frame's rows
    # at a time, whether ``rows`` is a list or a store on disk (rowstore.RowStore)
    parts = [normal(rows, frames, tol, np.where(fold_of == k, w, 0.0)) for k in range(folds)]
    total = sum(parts[1:], parts[0])
    for k in range(folds):
        test = [i for i in range(n) if fold_of[i] == k]
        coefficients = (total - parts[k]).solver(frozen)
        xs = np.stack([coefficients(ridge) for ridge in grid], axis=1)   # (ncols, grid)
        for i in test:
            at, bt = _system([rows[i]], [frames[i]], tol)
            loss[i] = ((at @ xs - bt[:, None]) ** 2).mean(axis=0)
    median = np.median(loss, axis=0)
    boot = np.random.default_rng(seed + 1).integers(0, n, (resamples, n))
    se = np.median(loss[boot], axis=1).std(axis=0, ddof=1)
    best = int(np.argmin(median))
    chosen = max(j for j in range(len(grid)) if median[j] <= median[best] + se[best])
    return float(grid[chosen]), {f"{r:g}": {"median": float(m), "median_se": float(e),
                                            "rms": float(np.sqrt(l.mean()))}
                                 for r, m, e, l in zip(grid, median, se, loss.T)}


def committee(rows: Sequence[Rows], frames: list[Frame], size: int, seed: int,
              tol: Tolerances = Tolerances(), ridge: float = 1e-6,
              frozen: np.ndarray | None = None) -> np.ndarray:
    """``size`` fits on bootstrap resamples of the frames: (ncols, size). Their spread is the
    student's uncertainty (query by committee), used to choose what the teacher labels next."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(size):
        idx = rng.integers(0, len(frames), len(frames))
        # a frame drawn k times counts k times (its balanced weight in the resample, summed)
        w = np.zeros(len(frames))
        np.add.at(w, idx, balanced_weights([frames[i] for i in idx]))
        out.append(solve(rows, frames, tol, ridge, weights=w, frozen=frozen))
    return np.array(out).T


def force_spread(r: Rows, betas: np.ndarray) -> float:
    """Largest per-atom committee standard deviation of the force vector (eV/A)."""
    _, f, _ = predict(r, betas)                 # (M, N, 3)
    return float(np.sqrt((f.std(axis=0) ** 2).sum(axis=1)).max())


def errors(rows: list[Rows], frames: list[Frame], beta: np.ndarray) -> dict:
    """The student against the teacher on ``frames``: force RMSE (all and Li atoms), the
    teacher's force RMS, their ratio, energy RMSE per atom, stress RMSE (GPa)."""
    df, fli, ft, de, ds = [], [], [], [], []
    for r, fr in zip(rows, frames):
        e, f, s = predict(r, beta)
        diff = f - fr.forces
        df.append(diff.reshape(-1))
        li = np.array([x == "Li" for x in fr.symbols])
        fli.append(diff[li].reshape(-1))
        ft.append(fr.forces.reshape(-1))
        de.append((e - fr.energy) / fr.n)
        ds.append((s - fr.stress) * EV_A3_GPA)
    rms = lambda x: float(np.sqrt(np.mean(np.concatenate(x) ** 2))) if len(x) else float("nan")  # noqa: E731
    force = rms(df)
    teacher = rms(ft)
    return {"frames": len(frames), "force_rmse_ev_a": force,
            "force_rmse_li_ev_a": rms(fli), "teacher_force_rms_ev_a": teacher,
            "force_rel": force / teacher if teacher > 0 else float("nan"),
            "energy_rmse_mev_atom": 1e3 * float(np.sqrt(np.mean(np.square(de)))),
            "stress_rmse_gpa": rms(ds)}


def passes(err: dict, tol: Tolerances) -> list[str]:
    """Which error thresholds ``err`` fails, as readable reasons (empty: all pass)."""
    out = []
    if not err["force_rmse_ev_a"] <= tol.force_ev_a:
        out.append(f"force RMSE {err['force_rmse_ev_a']:.3f} eV/A > {tol.force_ev_a}")
    if not err["force_rel"] <= tol.force_rel:
        out.append(f"force RMSE {100 * err['force_rel']:.1f} % of the teacher's force RMS "
                   f"> {100 * tol.force_rel:.0f} %")
    if not err["energy_rmse_mev_atom"] <= 1e3 * tol.energy_ev_atom:
        out.append(f"energy RMSE {err['energy_rmse_mev_atom']:.1f} meV/atom > "
                   f"{1e3 * tol.energy_ev_atom:.0f}")
    if not err["stress_rmse_gpa"] <= tol.stress_gpa:
        out.append(f"stress RMSE {err['stress_rmse_gpa']:.2f} GPa > {tol.stress_gpa}")
    return out
