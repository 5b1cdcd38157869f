"""MD analysis as pure functions: MSD, diffusive window, D +- err, Nernst-Einstein,
Arrhenius, RDF, elastic constants. No files, no MPI; readers live at the bottom.

Units follow LAMMPS ``metal``: A, ps, K, bar; results are converted where named.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# CODATA 2018 exact values (SI redefinition, 2019)
E_CHARGE = 1.602176634e-19      # C
K_B = 1.380649e-23              # J/K
K_B_EV = 8.617333262e-5         # eV/K
A2_PER_PS_TO_CM2_PER_S = 1e-4   # 1 A^2/ps = 1e-16 cm^2 / 1e-12 s
BAR_TO_GPA = 1e-4


# ----------------------------------------------------------------------------- MSD
def msd_fft(positions: np.ndarray) -> np.ndarray:
    """MSD(lag) averaged over all time origins and atoms, for unwrapped ``positions``
    of shape (frames, atoms, 3). O(N log N) per atom (Calandrini et al., Collection SFN 12,
    201 (2011), the algorithm used by MDAnalysis and kinisi)."""
    x = np.asarray(positions, float)
    n = x.shape[0]
    if n < 2:
        raise ValueError("need at least two frames for an MSD")
    # S2: sum over dims of autocorrelation, via FFT with zero padding
    f = np.fft.rfft(x, n=2 * n, axis=0)
    acf = np.fft.irfft(f * f.conj(), axis=0)[:n].sum(axis=2)      # (n, atoms)
    acf /= (n - np.arange(n))[:, None]
    d = (x ** 2).sum(axis=2)                                       # (n, atoms)
    d = np.vstack([d, np.zeros((1, d.shape[1]))])
    q = 2 * d[:n].sum(axis=0)
    s1 = np.empty((n, x.shape[1]))
    for m in range(n):
        q = q - d[m - 1] - d[n - m]
        s1[m] = q / (n - m)
    return (s1 - 2 * acf).mean(axis=1)


@dataclass
class DiffusiveWindow:
    start_ps: float
    end_ps: float
    slope: float          # d log MSD / d log t fitted over the window
    diffusive: bool       # slope within 1 +- tolerance
    reason: str


def diffusive_window(lag_ps: np.ndarray, msd: np.ndarray, min_start_ps: float = 1.0,
                     max_fraction: float = 0.5, tol: float = 0.25) -> DiffusiveWindow:
    """The lag window where MSD ~ t: after the ballistic/caged start and before the noisy
    tail (lags beyond ``max_fraction`` of the run have few independent origins).

    The start is the first lag >= ``min_start_ps`` from which the running log-log slope
    stays within ``1 +- tol`` on average; ``diffusive`` says whether the fitted slope over
    the window is within tolerance (the meta loop extends runs that fail it).
    """
    lag_ps, msd = np.asarray(lag_ps, float), np.asarray(msd, float)
    t_end = max_fraction * lag_ps[-1]
    ok = (lag_ps >= min_start_ps) & (lag_ps <= t_end) & (msd > 0)
    idx = np.flatnonzero(ok)
    if len(idx) < 4:
        return DiffusiveWindow(float(min_start_ps), float(t_end), float("nan"), False,
                               "run too short: fewer than 4 lags between the ballistic "
                               f"cut ({min_start_ps} ps) and half the trajectory")
    lt, lm = np.log(lag_ps[idx]), np.log(msd[idx])
    # local slope at each lag over a factor-of-2 span of lag times; the window starts at
    # the first lag whose local slope is within tolerance (past the ballistic/caged part)
    for k in range(len(idx) - 3):
        if lt[k] + np.log(2.0) > lt[-1]:   # the window must span at least a factor of 2
            break
        span = (lt >= lt[k]) & (lt <= lt[k] + np.log(2.0))
        if span.sum() < 3:
            break
        local = np.polyfit(lt[span], lm[span], 1)[0]
        if abs(local - 1) <= tol:
            slope = float(np.polyfit(lt[k:], lm[k:], 1)[0])
            ok_fit = abs(slope - 1) <= tol
            return DiffusiveWindow(float(lag_ps[idx[k]]), float(lag_ps[idx[-1]]), slope, ok_fit,
                                   "log-log slope within tolerance" if ok_fit else
                                   f"local slope reaches 1 at {lag_ps[idx[k]]:.2g} ps but the "
                                   f"window's slope is {slope:.2f}: not converged; extend the run")
    slope = float(np.polyfit(lt, lm, 1)[0])
    return DiffusiveWindow(float(lag_ps[idx[0]]), float(lag_ps[idx[-1]]), slope, False,
                           f"log-log slope {slope:.2f} not within 1 +- {tol}: sub-diffusive "
                           "(too few hops) or not converged; extend the run or raise T")


def _slope_through_window(lag: np.ndarray, msd: np.ndarray, lo: float, hi: float) -> float:
    sel = (lag >= lo) & (lag <= hi)
    if sel.sum() < 2:
        return float("nan")
    return float(np.polyfit(lag[sel], msd[sel], 1)[0])


@dataclass
class Diffusivity:
    D_A2_ps: float
    D_err_A2_ps: float
    D_cm2_s: float
    D_err_cm2_s: float
    window: DiffusiveWindow
    n_blocks: int
    block_D_A2_ps: list[float]
    msd_end_A2: float
    hops_estimate: float  # N_Li * MSD(t_end) / (hop length)^2: statistics available


def diffusivity(positions: np.ndarray, dt_ps: float, n_blocks: int = 5, dim: int = 3,
                min_start_ps: float = 1.0, tol: float = 0.25,
                hop_length_A: float = 2.5) -> tuple[Diffusivity, np.ndarray, np.ndarray]:
    """Tracer D from unwrapped positions sampled every ``dt_ps``.

    D is the slope of the all-origins MSD over the diffusive window divided by 2*dim.
    Its error is the standard error over ``n_blocks`` contiguous blocks of the trajectory,
    each fitted over the same window (block averaging over time origins; Flyvbjerg &
    Petersen, J. Chem. Phys. 91, 461 (1989)). Returns (result, lags, msd).
    """
    pos = np.asarray(positions, float)
    n = pos.shape[0]
    lag = np.arange(n) * dt_ps
    msd = msd_fft(pos)
    win = diffusive_window(lag, msd, min_start_ps, 0.5, tol)
    D = _slope_through_window(lag, msd, win.start_ps, win.end_ps) / (2 * dim)
    blocks = []
    size = n // n_blocks
    for b in range(n_blocks):
        seg = pos[b * size:(b + 1) * size]
        if len(seg) < 4:
            break
        lb = np.arange(len(seg)) * dt_ps
        hi = min(win.end_ps, 0.5 * lb[-1])
        lo = min(win.start_ps, 0.5 * hi)
        blocks.append(_slope_through_window(lb, msd_fft(seg), lo, hi) / (2 * dim))
    blocks = [b for b in blocks if np.isfinite(b)]
    err = float(np.std(blocks, ddof=1) / np.sqrt(len(blocks))) if len(blocks) >= 2 else float("nan")
    end_idx = int(np.searchsorted(lag, win.end_ps))
    msd_end = float(msd[min(end_idx, n - 1)])
    res = Diffusivity(float(D), err, float(D) * A2_PER_PS_TO_CM2_PER_S,
                      err * A2_PER_PS_TO_CM2_PER_S, win, len(blocks), [float(b) for b in blocks],
                      msd_end, float(pos.shape[1] * msd_end / hop_length_A ** 2))
    return res, lag, msd


# ------------------------------------------------------------------ conductivity
def nernst_einstein(D_cm2_s: float, D_err_cm2_s: float, n_ions: int, volume_A3: float,
                    T: float, charge: float = 1.0, haven_ratio: float = 1.0) -> tuple[float, float]:
    """sigma = n q^2 D / (H_R k_B T) in S/cm, with its propagated error.

    ``D`` is the tracer diffusivity D*; D_sigma = D*/H_R. The formal Li charge (+1 e) is
    used even with partial-charge potentials (the carrier charge, not the model charge).
    """
    n_cm3 = n_ions / (volume_A3 * 1e-24)
    pref = n_cm3 * (charge * E_CHARGE) ** 2 / (haven_ratio * K_B * T)
    return pref * D_cm2_s, pref * D_err_cm2_s


@dataclass
class Arrhenius:
    Ea_eV: float
    Ea_err_eV: float
    ln_prefactor: float
    ln_prefactor_err: float
    cov: list[list[float]]
    chi2_per_dof: float | None
    T_target: float
    value_target: float
    value_target_err_log: float   # standard error of ln(value)
    interval_68: tuple[float, float]
    interval_95: tuple[float, float]
    extrapolation_factor: float   # T range min / T_target: > 1 means extrapolating down
    quantity: str


def diffusive_points(per_T: list[dict], value: str, error: str):
    """The temperatures an Arrhenius fit may use: diffusive, with a positive ``value`` and a
    finite ``error``; returned as (those entries, T, value, error arrays). Values pass through
    float(), so an MD result read from a file that holds something else raises ValueError,
    TypeError or KeyError for the caller to report."""
    used = [p for p in per_T if p.get("diffusive") and float(p.get(value) or 0) > 0
            and p.get(error) is not None and np.isfinite(float(p[error]))]
    T, y, e = (np.array([float(p[k]) for p in used]) for k in ("temperature_K", value, error))
    return used, T, y, e


def arrhenius_fit(T: np.ndarray, y: np.ndarray, y_err: np.ndarray, T_target: float = 300.0,
                  times_T: bool = True, quantity: str = "sigma") -> Arrhenius:
    """Weighted fit of ln(y T) = ln A - Ea/(k_B T) (``times_T``; conductivity) or
    ln y = ln A - Ea/(k_B T) (diffusivity); prediction at ``T_target`` with error.

    Per-point errors are propagated as var(ln y) = (err/y)^2. With dof > 0 and
    chi^2/dof > 1 the covariance is scaled by chi^2/dof (scatter beyond the error bars is
    not hidden). Extrapolating Ea errors to 300 K is large by nature: see potentials.md.
    """
    T, y, e = (np.asarray(v, float) for v in (T, y, y_err))
    if len(T) < 2:
        raise ValueError("an Arrhenius fit needs at least two temperatures")
    if np.any(y <= 0):
        raise ValueError("Arrhenius fit needs positive values at every temperature")
    x = 1.0 / (K_B_EV * T)
    ly = np.log(y * T) if times_T else np.log(y)
    sl = np.where(np.isfinite(e) & (e > 0), e / y, np.nan)
    if np.any(~np.isfinite(sl)):
        # no per-point error: unweighted fit, covariance from the residuals
        sl = np.ones_like(ly)
        weighted = False
    else:
        weighted = True
    X = np.column_stack([np.ones_like(x), -x])
    # weighted least squares through the SVD of the weighted design, not the inverse of the
    # normal matrix: error bars that differ by many orders of magnitude leave the normal
    # matrix numerically singular (a LinAlgError), while the fit itself is determined and
    # its covariance honestly huge
    Xw, lw = X / sl[:, None], ly / sl
    u, sv, vt = np.linalg.svd(Xw, full_matrices=False)
    if not (np.all(np.isfinite(sv)) and sv[-1] > sv[0] * 1e-15):
        raise ValueError("the points leave the Arrhenius fit undetermined (equal "
                         "temperatures, or error bars that differ by ~15 orders of magnitude)")
    beta = vt.T @ ((u.T @ lw) / sv)
    cov = (vt.T / sv ** 2) @ vt
    resid = ly - X @ beta
    dof = len(T) - 2
    chi2 = float(np.sum((resid / sl) ** 2) / dof) if dof > 0 else None
    if not weighted:
        cov = cov * (chi2 if chi2 is not None else np.nan)
    elif chi2 is not None and chi2 > 1:
        cov = cov * chi2
    xt = 1.0 / (K_B_EV * T_target)
    g = np.array([1.0, -xt])
    ln_t = float(g @ beta) - (np.log(T_target) if times_T else 0.0)
    se = float(np.sqrt(g @ cov @ g))
    val = float(np.exp(ln_t))
    with np.errstate(over="ignore"):          # a huge error: an interval to infinity, said so
        return Arrhenius(float(beta[1]), float(np.sqrt(cov[1, 1])), float(beta[0]),
                         float(np.sqrt(cov[0, 0])), cov.tolist(), chi2, T_target, val, se,
                         (val * np.exp(-se), val * np.exp(se)),
                         (val * np.exp(-1.96 * se), val * np.exp(1.96 * se)),
                         float(T.min() / T_target), quantity)


# ----------------------------------------------------------------------- elastic
def elastic_constants(stress_bar: dict[str, np.ndarray], strain: float) -> np.ndarray:
    """6x6 stiffness (GPa) by central differences: C_ij = dsigma_i/deps_j, sigma = -P.

    ``stress_bar`` maps 'e{j}p'/'e{j}m' (j = 1..6) to LAMMPS pressure components
    (pxx, pyy, pzz, pyz, pxz, pxy) in bar. The matrix is symmetrized.
    """
    C = np.zeros((6, 6))
    for j in range(6):
        sp = -np.asarray(stress_bar[f"e{j + 1}p"], float)
        sm = -np.asarray(stress_bar[f"e{j + 1}m"], float)
        C[:, j] = (sp - sm) / (2 * strain) * BAR_TO_GPA
    return 0.5 * (C + C.T)


def elastic_uncertainty(stress_bar: dict[str, np.ndarray], strain: float) -> dict:
    """Half the spread between forward (+eps vs reference) and backward (reference vs
    -eps) differences, for each modulus: minimizer stress noise plus the nonlinearity that
    the central difference cancels, so a conservative error bar (GPa)."""
    ref = -np.asarray(stress_bar["ref"], float)
    fwd, bwd = np.zeros((6, 6)), np.zeros((6, 6))
    for j in range(6):
        fwd[:, j] = (-np.asarray(stress_bar[f"e{j + 1}p"], float) - ref) / strain * BAR_TO_GPA
        bwd[:, j] = (ref + np.asarray(stress_bar[f"e{j + 1}m"], float)) / strain * BAR_TO_GPA
    mf, mb = moduli(0.5 * (fwd + fwd.T)), moduli(0.5 * (bwd + bwd.T))
    return {f"{k}_err": abs(mf[k] - mb[k]) / 2 for k in
            ("C11", "C12", "C44", "bulk_vrh", "shear_vrh", "youngs_vrh")}


def moduli(C: np.ndarray) -> dict:
    """Cubic-averaged C11, C12, C44, Voigt-Reuss-Hill bulk/shear, Young's, Poisson (GPa),
    and Born stability (all eigenvalues of C positive)."""
    C = np.asarray(C, float)
    S = np.linalg.inv(C)
    KV = (C[0, 0] + C[1, 1] + C[2, 2] + 2 * (C[0, 1] + C[1, 2] + C[0, 2])) / 9
    GV = (C[0, 0] + C[1, 1] + C[2, 2] - (C[0, 1] + C[1, 2] + C[0, 2])
          + 3 * (C[3, 3] + C[4, 4] + C[5, 5])) / 15
    KR = 1 / (S[0, 0] + S[1, 1] + S[2, 2] + 2 * (S[0, 1] + S[1, 2] + S[0, 2]))
    GR = 15 / (4 * (S[0, 0] + S[1, 1] + S[2, 2]) - 4 * (S[0, 1] + S[1, 2] + S[0, 2])
               + 3 * (S[3, 3] + S[4, 4] + S[5, 5]))
    K, G = (KV + KR) / 2, (GV + GR) / 2
    E = 9 * K * G / (3 * K + G)
    nu = (3 * K - 2 * G) / (2 * (3 * K + G))
    eig = np.linalg.eigvalsh(C)
    return {"C11": float(np.mean(np.diag(C)[:3])),
            "C12": float(np.mean([C[0, 1], C[0, 2], C[1, 2]])),
            "C44": float(np.mean(np.diag(C)[3:])),
            "bulk_voigt": float(KV), "bulk_reuss": float(KR), "bulk_vrh": float(K),
            "shear_voigt": float(GV), "shear_reuss": float(GR), "shear_vrh": float(G),
            "youngs_vrh": float(E), "poisson_vrh": float(nu),
            "born_stable": bool(eig.min() > 0), "min_eigenvalue": float(eig.min())}


# ----------------------------------------------------------------------- readers
def read_dump_positions(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(timesteps, positions[frames, atoms, 3]) from a LAMMPS ``custom id xu yu zu`` dump
    sorted by id (``dump_modify sort id``)."""
    steps, frames = [], []
    with open(path) as fh:
        lines = fh.read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("ITEM: TIMESTEP"):
            steps.append(int(lines[i + 1]))
            n = int(lines[i + 3])
            start = i + 9
            block = np.array(" ".join(lines[start:start + n]).split(), float).reshape(n, 4)
            frames.append(block[np.argsort(block[:, 0]), 1:4])
            i = start + n
        else:
            i += 1
    return np.array(steps), np.array(frames)


def read_ave_time(path: str | Path) -> np.ndarray:
    """Rows of a ``fix ave/time`` scalar file (comment lines skipped)."""
    return np.loadtxt(path, comments="#", ndmin=2)


def read_rdf(path: str | Path, n_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """(r, g[pairs, bins]) from a ``fix ave/time ... c_rdf[*] mode vector`` file (last block)."""
    lines = [l for l in Path(path).read_text().splitlines() if l and not l.startswith("#")]
    nbins = int(lines[-1].split()[0]) if lines else 0
    nbins = int(lines[0].split()[1]) if len(lines[0].split()) == 2 else nbins
    data = np.array([l.split() for l in lines[-nbins:]], float)
    r = data[:, 1]
    g = data[:, 2:2 + 2 * n_pairs:2].T
    return r, g


def first_peak(r: np.ndarray, g: np.ndarray) -> float | None:
    """Position of the first maximum of g(r): the highest point of the first contiguous
    region where g > 1 (None when g never exceeds 1, e.g. too few pairs sampled)."""
    above = np.flatnonzero(np.asarray(g) > 1.0)
    if len(above) == 0:
        return None
    start = above[0]
    gaps = np.flatnonzero(np.diff(above) > 1)
    end = above[gaps[0]] if len(gaps) else above[-1]
    return float(r[start + int(np.argmax(g[start:end + 1]))])


def to_dict(obj) -> dict:
    return asdict(obj)


def arrhenius_summary(per_T: list[dict], key: str = "sigma") -> tuple[list[dict], dict | None, str]:
    """The Arrhenius fit of sigma over the temperatures that reached the diffusive regime with
    an error bar: (temperatures used, fit dict or None, note saying how or why not).
    ``key='sigma_collective'`` fits the conductivity from the collective (charge) diffusivity
    instead (measured Haven ratio), over the same diffusive temperatures where it exists."""
    used, T, y, e = diffusive_points(per_T, f"{key}_S_cm", f"{key}_err_S_cm")
    if len(used) < 2:
        return used, None, (f"not fitted: {len(used)} of {len(per_T)} temperatures reached the "
                            "diffusive regime with an error bar; >= 2 are needed (extend prod_ps, "
                            "raise T or enlarge the supercell)")
    fit = arrhenius_fit(T, y, e, 300.0)
    arr = {"Ea_eV": fit.Ea_eV, "Ea_err_eV": fit.Ea_err_eV,
           "ln_sigmaT_prefactor": fit.ln_prefactor, "ln_prefactor_err": fit.ln_prefactor_err,
           "chi2_per_dof": fit.chi2_per_dof,
           "sigma_300K_S_cm": fit.value_target, "sigma_300K_ln_err": fit.value_target_err_log,
           "sigma_300K_interval_68": list(fit.interval_68),
           "sigma_300K_interval_95": list(fit.interval_95),
           "extrapolation_Tmin_over_300K": fit.extrapolation_factor,
           "temperatures_used_K": [p["temperature_K"] for p in used]}
    return used, arr, ("weighted fit of ln(sigma T) vs 1/(k_B T) over the temperatures that "
                       "reached the diffusive regime")
