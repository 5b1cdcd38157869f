"""One phase-field run: settings -> solve -> metrics -> ``result.json`` (atomic, last)."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from .. import __version__
from ..fileio import atomic_write_json
from ..mpi import MPI
from . import degradation, metrics
from .result import parse as parse_result
from .settings import PhaseFieldSettings

RESULT = "result.json"


def phase_bounds(s: PhaseFieldSettings) -> tuple[float, float, float | None]:
    """(c_alpha, c_beta, equilibrium width) of the free energy, for the metrics."""
    fe = s.free_energy
    if fe.kind == "double_well":
        return fe.c_alpha, fe.c_beta, metrics.equilibrium_width(s.kappa, fe.rho, fe.c_alpha, fe.c_beta)
    # symmetric regular solution: binodal from f'(c) = 0, theta ln(c/(1-c)) + chi(1-2c) = 0
    from scipy.optimize import brentq
    if fe.chi <= 2 * fe.theta:
        return 0.0, 1.0, None
    g = lambda c: fe.theta * np.log(c / (1 - c)) + fe.chi * (1 - 2 * c)  # noqa: E731
    ca = brentq(g, 1e-12, 0.5 - 1e-9)
    return ca, 1 - ca, None


def field_png(path: Path, grid: np.ndarray, s: PhaseFieldSettings, met: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4))
    im = ax.imshow(grid.T, origin="lower", extent=(0, s.domain.lx, 0, s.domain.ly), cmap="viridis")
    fig.colorbar(im, ax=ax, label="c")
    ax.set_title(f"degraded {met['degraded_fraction']:.2f}, S = {met['stability_score']:.2f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def effective_settings(settings: PhaseFieldSettings) -> tuple[PhaseFieldSettings, dict | None]:
    """What the solver runs: the degradation model's units and steps (when configured), then
    time.dt_scale, so a retry's smaller scale always reaches the steps actually taken."""
    scales = None
    if settings.degradation is not None:
        settings, scales = degradation.apply(settings)
    settings = settings.model_copy(deep=True)
    settings.time = settings.time.scaled()
    return settings, scales


def field_plot_penetration(path: Path, r: dict) -> None:
    """A(Wa) with the draws' range: where the candidate sits on the current-focusing curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = r["metrics"]
    g = m["amplification_grid"]
    fig, ax = plt.subplots(figsize=(4.6, 3.6))
    ax.semilogx(g["wagner_number"], g["A"], "o-", ms=3, label="FEM, A(Wa)")
    lo, hi = m["wagner_number"]["interval_95"]
    ax.axvspan(lo, hi, alpha=0.2, label="95 % of the MD draws")
    ax.set_xlabel("Wagner number sigma R / l")
    ax.set_ylabel("tip current focusing A")
    i = m["critical_current_mA_cm2"]
    ax.set_title(f"i_crit = {i['median']:.3g} mA/cm2 (95 %: {i['interval_95'][0]:.3g}-"
                 f"{i['interval_95'][1]:.3g})", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_penetration(settings: PhaseFieldSettings, out: Path, comm) -> dict:
    """The critical-current model: ``result.json`` with every metric and its unit. A
    candidate whose MD did not measure sigma well enough gets a result saying so
    (``measurable: false`` and why), not an error: that is data for the campaign."""
    import time

    from . import penetration as pen
    t0 = time.time()
    try:
        met, why = pen.evaluate(settings.penetration, comm), None
    except pen.NotMeasurable as exc:
        met, why = None, str(exc)
    result = None
    if comm.rank == 0:
        result = {"schema": "sse-driver/penetration-result/1", "model": "li_penetration",
                  "settings": settings.model_dump(mode="json"), "measurable": met is not None,
                  "not_measurable_reason": why, "metrics": met,
                  "files": {"image": "field.png"} if met else {},
                  "provenance": {"sse_driver": __version__, "python": platform.python_version(),
                                 "mpi_ranks": comm.size, "seconds": time.time() - t0}}
        if met:
            field_plot_penetration(out / "field.png", result)
        atomic_write_json(out / RESULT, parse_result(result).to_json())   # the readers' contract
    return comm.bcast(result, root=0)


def run_phasefield(settings: PhaseFieldSettings, out: str | Path, comm=None, progress=None) -> dict:
    comm = comm or MPI.COMM_WORLD
    out = Path(out).resolve()
    if settings.penetration is None:
        settings, scales = effective_settings(settings)   # config errors before any folder
    if comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    comm.Barrier()
    if settings.penetration is not None:
        return run_penetration(settings, out, comm)
    from .solver import CahnHilliard

    ch = CahnHilliard(settings, comm)
    ch.set_initial()
    history = ch.run(out, progress)
    n = settings.metrics.grid
    grid = ch.sample_grid(n)
    result = None
    if comm.rank == 0:
        ca, cb, w_eq = phase_bounds(settings)
        h = settings.domain.lx / n
        G = scales["shear_modulus_GPa"] if scales else None
        met = metrics.stability(grid, ca, cb, h, w_eq if w_eq else np.inf, G,
                                periodic=settings.boundary == "periodic")
        if w_eq is None:
            met["width_factor"] = None
        E = np.array([r.energy for r in history])
        m = np.array([r.mass for r in history])
        np.save(out / "c_final_grid.npy", grid)
        field_png(out / "field.png", grid, settings, met)
        result = {
            "schema": "sse-driver/phasefield-result/1",
            "settings": settings.model_dump(mode="json"),
            "scales": scales,
            "steps": len(history) - 1, "t_end": history[-1].t,
            "newton_iterations_total": int(sum(r.newton_its for r in history)),
            "rejected_steps": ch.rejected,
            "outputs": ch.outputs,
            "dt_min_used": float(min(r.dt for r in history[1:])) if len(history) > 1 else None,
            "dt_max_used": float(max(r.dt for r in history[1:])) if len(history) > 1 else None,
            "free_energy_initial": float(E[0]), "free_energy_final": float(E[-1]),
            "free_energy_max_increase": float(np.max(np.diff(E), initial=0.0)),
            "mass_initial": float(m[0]), "mass_final": float(m[-1]),
            "mass_relative_drift": float(abs(m[-1] - m[0]) / abs(m[0])) if m[0] else None,
            "c_min_final": history[-1].c_min, "c_max_final": history[-1].c_max,
            "metrics": met,
            "files": {"history": "history.csv", "grid": "c_final_grid.npy", "image": "field.png",
                      "fields": "fields.xdmf" if settings.output.format == "xdmf" else "fields.bp"},
            "provenance": {"sse_driver": __version__, "python": platform.python_version(),
                           "mpi_ranks": comm.size,
                           # the mixed space's index map counts both fields already
                           "dofs": int(ch.ME.dofmap.index_map.size_global
                                       * ch.ME.dofmap.index_map_bs),
                           "seconds": ch.seconds},
        }
        atomic_write_json(out / RESULT, parse_result(result).to_json())   # the readers' contract
    return comm.bcast(result, root=0)
