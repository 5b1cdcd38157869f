"""The interface-degradation model of the second source document, made dimensionless.

Physical picture: c is the normalized Li content of the electrolyte (c_beta = 1 pristine,
c_alpha = 0 depleted/degraded). A double well with interfacial energy gamma and interface
width delta has rho = 6 gamma / delta and kappa = 3 gamma delta (sigma = sqrt(2 kappa rho)/6,
w = sqrt(2 kappa / rho)). The mobility follows from the Li diffusivity, M = D / f''(c_beta)
= D / (2 rho). First-order degradation consumes Li at rate k: source -k (c - c_alpha).

Scales: length L (domain side), time t0 = L^2 / D, energy density rho. Then

    kappa~ = delta^2 / (2 L^2),   M~ = 1/2,   k~ = k L^2 / D,   t_end~ = t_end / t0,

so only delta / L and k L^2 / D shape the dynamics; gamma sets the energy scale of the
reported free energy (rho L^2 per unit depth).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..md.analysis import E_CHARGE, K_B, arrhenius_fit
from .settings import PhaseFieldSettings

# Default D: LAGP, Li1.5Al0.5Ge1.5(PO4)3, measured sigma(25 C) = 3.36e-4 S/cm
# (doi:10.1021/acsami.8b00842), converted with Nernst-Einstein (H_R = 1) using the Li
# density of its refined cell (9 Li in a = 8.25658, c = 20.6523 A, ICSD 263763).
LAGP_SIGMA_S_CM = 3.36e-4
LAGP_CELL_A = (8.25658, 20.6523)
LAGP_LI_PER_CELL = 9


def default_D_cm2_s(T: float = 298.15) -> tuple[float, str]:
    a, c = LAGP_CELL_A
    vol_cm3 = a * a * math.sin(math.radians(120)) * c * 1e-24
    n = LAGP_LI_PER_CELL / vol_cm3
    D = LAGP_SIGMA_S_CM * K_B * T / (n * E_CHARGE ** 2)
    return D, ("LAGP sigma(25 C) = 3.36e-4 S/cm (doi:10.1021/acsami.8b00842) via "
               "Nernst-Einstein with H_R = 1 and n(Li) of ICSD 263763")


def from_md_result(path: str, T: float) -> tuple[float, float | None, str]:
    """D(T) from an MD result's diffusive temperatures (Arrhenius fit of D), and its
    shear modulus."""
    from ..md.analysis import diffusive_points
    from .mdresult import read
    p = Path(path)
    r, not_md = read(path, "degradation.md_result", "D_cm2_s")
    try:
        pts, T_, D, D_err = diffusive_points(r.per_temperature(), "D_cm2_s", "D_err_cm2_s")
        G = r.elastic.shear_vrh_GPa if r.elastic is not None else None
    except (ValueError, TypeError):
        raise ConfigError(not_md) from None
    if len(pts) < 2:
        raise ConfigError(f"degradation.md_result: {p} has {len(pts)} diffusive temperature(s); "
                          "an Arrhenius D(T) needs 2 (run the MD longer) or give D_cm2_s")
    fit = arrhenius_fit(T_, D, D_err, T, times_T=False, quantity="D")
    return fit.value_target, G, (f"Arrhenius fit of MD D(T) from {p} (Ea = {fit.Ea_eV:.3f} "
                                 f"+- {fit.Ea_err_eV:.3f} eV) at {T:g} K")


def apply(settings: PhaseFieldSettings) -> tuple[PhaseFieldSettings, dict]:
    """Dimensionless settings for the degradation block, and the scales used."""
    d = settings.degradation
    G = d.shear_modulus_GPa
    if d.D_cm2_s is not None:
        D, D_src = d.D_cm2_s, "given (degradation.D_cm2_s)"
    elif d.md_result:
        D, G_md, D_src = from_md_result(d.md_result, d.temperature_K)
        G = G if G is not None else G_md
    else:
        D, D_src = default_D_cm2_s(d.temperature_K)
    L = d.domain_nm * 1e-9
    delta = d.width_nm * 1e-9
    if delta >= 0.25 * L:
        raise ConfigError("degradation.width_nm must be well below the domain size (< 1/4)")
    D_si = D * 1e-4
    t0 = L * L / D_si
    gamma = d.interfacial_energy_J_m2
    rho = 6 * gamma / delta
    w = delta / L
    n = max(settings.domain.nx, math.ceil(2.0 / w))   # >= 2 elements per tanh width
    bounds = type(settings.domain).model_fields["nx"].metadata   # the mesh's own bound
    limit = min(m.le for m in bounds if getattr(m, "le", None) is not None)
    if n > limit:
        raise ConfigError(f"degradation: an interface of {d.width_nm:g} nm in a "
                          f"{d.domain_nm:g} nm domain needs {n:.3g} elements per side (2 per "
                          f"interface width), more than the mesh's {limit}; widen width_nm or "
                          "shrink domain_nm")
    upd = settings.model_copy(deep=True)
    upd.domain.lx = upd.domain.ly = 1.0
    upd.domain.nx = upd.domain.ny = n
    upd.free_energy.kind, upd.free_energy.rho = "double_well", 1.0
    upd.free_energy.c_alpha, upd.free_energy.c_beta = 0.0, 1.0
    upd.kappa = w * w / 2
    upd.mobility.kind, upd.mobility.m0 = "constant", 0.5
    upd.reaction.kind, upd.reaction.k = ("linear", d.reaction_rate_1_s * t0) if d.reaction_rate_1_s > 0 else ("none", 0.0)
    upd.time.t_end = d.t_end_s / t0
    upd.time.outputs = [t / t0 for t in d.outputs_s]
    # step limits in the new time unit: at most t_end/100 per step, start well below it
    upd.time.dt_max = upd.time.t_end / 100
    upd.time.dt = min(upd.time.dt_max, 1e-3 * w * w)   # ~ relaxation time of the interface
    upd.time.dt_min = min(upd.time.dt_min, upd.time.dt * 1e-3)
    if settings.initial.kind == "noise" and "mean" not in settings.initial.model_fields_set:
        upd.initial.mean = 0.95   # pristine electrolyte, slightly off c_beta
    scales = {"length_m": L, "time_s": t0, "energy_density_J_m3": rho,
              "energy_per_depth_J_m": rho * L * L, "D_cm2_s": D, "D_source": D_src,
              "interfacial_energy_J_m2": gamma, "width_m": delta, "kappa_J_m": 3 * gamma * delta,
              "mobility_m5_J_s": D_si / (2 * rho), "reaction_rate_1_s": d.reaction_rate_1_s,
              "shear_modulus_GPa": G, "temperature_K": d.temperature_K,
              "dimensionless": {"kappa": upd.kappa, "mobility": 0.5, "k": upd.reaction.k,
                                "t_end": upd.time.t_end, "width": w, "mesh": n}}
    return upd, scales
