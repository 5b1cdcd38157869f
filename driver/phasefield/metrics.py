"""Stability metrics of a simulated composition field (pure functions on a sampled grid).

Definitions (docs/phasefield.md):
- phases: c above the midpoint c_mid = (c_alpha + c_beta)/2 is the pristine/ordered phase
  beta, below it the depleted/degraded phase alpha.
- degraded fraction phi: area fraction of alpha.
- domains ("grains"): 4-connected components of beta (scipy.ndimage.label), joined across
  opposite edges when the boundaries are periodic; sizes as equivalent-circle diameters
  d = 2 sqrt(A / pi).
- interface width w: for a tanh profile c = c_mid + (dc/2) tanh(s / w), the slope at the
  centre is dc / (2 w), so w = dc / (2 |grad c|) on grid points within 5 % of dc of c_mid
  (median over them).
- stability score S = (1 - phi) * min(1, w_eq / w) * g_MN, in [0, 1]: degraded area lowers
  it, interfaces broadened beyond their equilibrium width w_eq (diffuse degradation) lower
  it, and g_MN = min(1, G / (2 G_Li)) applies the Monroe-Newman criterion (an electrolyte
  shear modulus of about twice lithium's suppresses dendrites; G_Li = 4.25 GPa; Monroe &
  Newman, J. Electrochem. Soc. 152, A396 (2005), doi:10.1149/1.1850854). Without a shear
  modulus g_MN is left out and reported as null. Grain sizes are reported, not scored:
  their effect on stability has no single sign (grain-boundary transport vs mechanics).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

G_LI_GPA = 4.25       # shear modulus of Li used by Monroe & Newman (2005)
MN_RATIO = 2.0        # G_electrolyte / G_Li above which interfaces are stable (same source)


def _wrap_labels(labels: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Merge labels that touch across opposite edges (periodic domain); renumber 1..m."""
    parent = np.arange(n + 1)

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in zip(np.concatenate([labels[0, :], labels[:, 0]]),
                    np.concatenate([labels[-1, :], labels[:, -1]])):
        if a and b:
            parent[find(a)] = find(b)
    roots = np.array([find(a) for a in range(n + 1)])
    uniq, new = np.unique(roots[1:], return_inverse=True)
    remap = np.concatenate([[0], new + 1])
    return remap[labels], len(uniq)


def domains(grid: np.ndarray, c_mid: float, h: float, periodic: bool = False) -> dict:
    """Connected beta domains: count and equivalent diameters (in domain length units).
    ``periodic``: the grid's last row and column repeat its first ones (x = lx is x = 0);
    domains crossing an edge are one domain."""
    if periodic:
        grid = grid[:-1, :-1]
    labels, n = ndimage.label(grid > c_mid)
    if periodic and n:
        labels, n = _wrap_labels(labels, n)
    if n == 0:
        return {"count": 0, "diameters": [], "mean": 0.0, "median": 0.0, "std": 0.0}
    areas = ndimage.sum_labels(np.ones_like(grid), labels, index=np.arange(1, n + 1)) * h * h
    d = 2 * np.sqrt(areas / np.pi)
    return {"count": int(n), "diameters": [float(v) for v in np.sort(d)[::-1]],
            "mean": float(d.mean()), "median": float(np.median(d)), "std": float(d.std())}


def interface_width(grid: np.ndarray, c_alpha: float, c_beta: float, h: float) -> float | None:
    dc = c_beta - c_alpha
    c_mid = 0.5 * (c_alpha + c_beta)
    gx, gy = np.gradient(grid, h)
    g = np.hypot(gx, gy)
    band = (np.abs(grid - c_mid) < 0.05 * dc) & (g > 0)
    if not band.any():
        return None
    return float(np.median(dc / (2 * g[band])))


def stability(grid: np.ndarray, c_alpha: float, c_beta: float, h: float, w_eq: float,
              shear_modulus_GPa: float | None = None, periodic: bool = False) -> dict:
    c_mid = 0.5 * (c_alpha + c_beta)
    phi = float(np.mean((grid[:-1, :-1] if periodic else grid) < c_mid))
    w = interface_width(grid, c_alpha, c_beta, h)
    g_w = 1.0 if w is None else float(min(1.0, w_eq / w))
    g_mn = None if shear_modulus_GPa is None else float(min(1.0, shear_modulus_GPa / (MN_RATIO * G_LI_GPA)))
    S = (1 - phi) * g_w * (1.0 if g_mn is None else g_mn)
    return {"degraded_fraction": phi, "interface_width": w, "interface_width_equilibrium": w_eq,
            "width_factor": g_w, "monroe_newman_factor": g_mn,
            "monroe_newman_ratio": None if shear_modulus_GPa is None else shear_modulus_GPa / G_LI_GPA,
            "domains": domains(grid, c_mid, h, periodic), "stability_score": float(S),
            "c_mean": float(grid.mean()), "c_min": float(grid.min()), "c_max": float(grid.max())}


def equilibrium_width(kappa: float, rho: float, c_alpha: float, c_beta: float) -> float:
    """tanh width w of the double-well interface: c = c_mid + (dc/2) tanh(x / w) with
    w = sqrt(2 kappa / rho) / (c_beta - c_alpha) (from kappa c'^2 / 2 = f(c))."""
    return float(np.sqrt(2 * kappa / rho) / (c_beta - c_alpha))


def interfacial_energy(kappa: float, rho: float, c_alpha: float, c_beta: float) -> float:
    """sigma = sqrt(2 kappa rho) (c_beta - c_alpha)^3 / 6 for the double well."""
    return float(np.sqrt(2 * kappa * rho) * (c_beta - c_alpha) ** 3 / 6)
