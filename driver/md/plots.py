"""Plots of the MD stage (matplotlib, Agg backend: no display on clusters)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .analysis import K_B_EV  # noqa: E402


def msd_plot(out: Path, per_T: list[dict]) -> Path:
    """Log-log MSD per temperature with the fitted diffusive window shaded."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for p in per_T:
        lag, msd = np.loadtxt(Path(p["run_dir"]) / "msd.dat", unpack=True)
        sel = lag > 0
        line, = ax.loglog(lag[sel], msd[sel], label=f"{p['temperature_K']:g} K")
        lo, hi = p["msd_window_ps"]
        ax.axvspan(lo, hi, color=line.get_color(), alpha=0.08)
    t = np.logspace(-1, 2, 10)
    ax.loglog(t, t, "k:", lw=0.8, label="slope 1")
    ax.set_xlabel("lag (ps)")
    ax.set_ylabel("Li MSD (A$^2$)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "msd.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def arrhenius_plot(path: Path, per_T: list[dict], fit: dict) -> Path:
    T = np.array([p["temperature_K"] for p in per_T])
    s = np.array([p["sigma_S_cm"] for p in per_T])
    e = np.array([p["sigma_err_S_cm"] for p in per_T])
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.errorbar(1000 / T, s * T, yerr=e * T, fmt="o", label="MD (Nernst-Einstein)")
    Tg = np.linspace(300, T.max(), 50)
    ax.plot(1000 / Tg, np.exp(fit["ln_sigmaT_prefactor"] - fit["Ea_eV"] / (K_B_EV * Tg)), "-",
            label=f"Ea = {fit['Ea_eV']:.2f} +- {fit['Ea_err_eV']:.2f} eV")
    lo, hi = fit["sigma_300K_interval_95"]
    ax.errorbar([1000 / 300], [fit["sigma_300K_S_cm"] * 300],
                yerr=[[(fit["sigma_300K_S_cm"] - lo) * 300], [(hi - fit["sigma_300K_S_cm"]) * 300]],
                fmt="s", color="C3", label="300 K extrapolation (95 %)")
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel(r"$\sigma T$ (S K / cm)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
