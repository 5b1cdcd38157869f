"""Interface stability in physical units: the critical current density for Li penetration
through a Li-filled surface flaw, from the candidate's MD conductivity and elastic constants.

Mechanism (L. Porz et al., Adv. Energy Mater. 7, 1701003 (2017), doi:10.1002/aenm.201701003):
Li plated into a surface flaw of the ceramic is confined; the deposition overpotential eta at
the flaw tip pressurizes it up to p = F eta / V_Li (the Li chemical potential a pressure p
adds is p V_Li), and the flaw opens as a pressurized edge crack once

    Y p sqrt(pi l) >= K_IC,      Y = 1.12 (edge crack; Tada, Paris & Irwin, The Stress
                                 Analysis of Cracks Handbook, 3rd ed. (2000))

With a linear interface resistance R the tip overpotential is eta = R i_tip = R A i, where A is
the current focusing at the tip (secondary current distribution, driver/phasefield/flaw.py,
solved by finite elements in DOLFINx; it depends on the flaw shape and on the Wagner number
Wa = sigma R / l, so the electrolyte's conductivity enters here). Hence the critical current
density

    i_crit = F K_IC / (V_Li Y sqrt(pi l) R A(sigma R / l)).

K_IC from the MD elastic constants by Griffith's energy balance in plane strain,
K_IC = sqrt(2 gamma_s E / (1 - nu^2)), E and nu from the VRH bulk and shear moduli (so the
stiffness the MD measured enters, as the Monroe-Newman argument has it, through fracture).

Inputs from the MD (sigma(T_op) by Arrhenius, K and G with their errors); assumptions stated
and varied in the docs' sensitivity table: flaw length and aspect, interface resistance
(2 Ohm cm2, clean Li | LLZO: A. Sharafi et al., Chem. Mater. 29, 7961 (2017),
doi:10.1021/acs.chemmater.7b03002), fracture surface energy (1 J/m2: an assumed order of
magnitude for oxide ceramics, not a measured value). Uncertainty: Monte Carlo over the MD
intervals (ln sigma normal, K and G normal), the same draws for every candidate (seeded).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .settings import EDGE_CRACK_Y, Penetration  # noqa: F401  (its settings, beside the stage's)

FARADAY = 96485.33212            # C/mol, CODATA 2018 (exact since the 2019 SI)
# Li molar volume: M = 6.941 g/mol over rho = 0.534 g/cm3 (CRC Handbook of Chemistry and
# Physics, lithium), 13.0 cm3/mol
LI_MOLAR_VOLUME_M3 = 6.941 / 0.534 * 1e-6


@dataclass(frozen=True)
class Inputs:
    """The MD quantities the model uses, with their standard errors and where they came from."""

    sigma_S_cm: float
    sigma_ln_err: float
    K_GPa: float
    K_err_GPa: float
    G_GPa: float
    G_err_GPa: float
    source: str
    #: the MD result's formula (None: every input given in the settings)
    formula: str | None = None


def youngs_poisson(K: np.ndarray, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic E and nu from bulk and shear moduli."""
    return 9 * K * G / (3 * K + G), (3 * K - 2 * G) / (2 * (3 * K + G))


def griffith_toughness(E_Pa, nu, gamma_J_m2):
    """Plane-strain K_IC = sqrt(2 gamma E / (1 - nu^2)) (Pa m^1/2)."""
    return np.sqrt(2 * gamma_J_m2 * E_Pa / (1 - nu * nu))


def critical_pressure(K_IC, l_m: float, Y: float = EDGE_CRACK_Y):
    """p_c = K_IC / (Y sqrt(pi l)) (Pa): the Li pressure that opens the flaw."""
    return K_IC / (Y * math.sqrt(math.pi * l_m))


def critical_overpotential(K_IC, l_m: float, Y: float = EDGE_CRACK_Y):
    """eta_c = V_Li p_c / F (V)."""
    return LI_MOLAR_VOLUME_M3 * critical_pressure(K_IC, l_m, Y) / FARADAY


def wagner_number(sigma_S_cm, R_ohm_cm2: float, l_m: float):
    """sigma R / l (dimensionless)."""
    return np.asarray(sigma_S_cm) * 100.0 * R_ohm_cm2 * 1e-4 / l_m


def inputs_from_md(s: Penetration) -> Inputs:
    """sigma(T_op), K and G from the settings, else from the MD result (the rule in the
    docstring of Penetration.max_interval_decades). Raises NotMeasurable."""
    from ..md.analysis import arrhenius_fit, diffusive_points
    from .mdresult import read
    given = (s.sigma_S_cm, s.bulk_modulus_GPa, s.shear_modulus_GPa)
    if s.md_result is None and None in given:
        raise ConfigError("penetration: give md_result, or sigma_S_cm, bulk_modulus_GPa and "
                          "shear_modulus_GPa")
    pts: list = []
    formula = None
    if s.md_result is not None:
        r, bad = read(s.md_result, "penetration.md_result",
                      "sigma_S_cm, bulk_modulus_GPa and shear_modulus_GPa")
        e = r.elastic
        if e is None or e.bulk_vrh_GPa is None or e.shear_vrh_GPa is None:
            raise ConfigError(f"{bad} (it has no elastic bulk_vrh_GPa and shear_vrh_GPa)")
        K, G = e.bulk_vrh_GPa, e.shear_vrh_GPa
        Ke, Ge = e.bulk_vrh_err_GPa or 0.0, e.shear_vrh_err_GPa or 0.0
        try:
            pts, T, y, y_err = diffusive_points(r.per_temperature(), "sigma_S_cm",
                                                "sigma_err_S_cm")
        except (ValueError, TypeError):
            raise ConfigError(bad) from None
        formula = r.formula
        if not all(math.isfinite(v) and v > 0 for v in (K, G)):
            raise ConfigError(bad)
        # every number read from the file is checked where it enters (issue 33): a NaN
        # error bar would never give a positive draw, two points at one temperature no fit
        if not all(math.isfinite(v) and v >= 0 for v in (Ke, Ge)):
            raise ConfigError(f"{bad} (its modulus error bars must be finite and >= 0)")
        if len(pts) and (not (np.all(np.isfinite(T)) and np.all(T > 0)
                              and np.all(np.isfinite(y)) and np.all(y > 0)
                              and np.all(np.isfinite(y_err)) and np.all(y_err >= 0))
                         or len(set(np.round(T, 6))) < len(T)):
            raise ConfigError(f"{bad} (its diffusive temperatures must be distinct and "
                              "positive, each sigma positive with a finite error >= 0)")
    if s.sigma_S_cm is not None:
        sig, sig_err, src = s.sigma_S_cm, s.sigma_ln_err, "given (penetration.sigma_S_cm)"
    else:
        if len(pts) < 2:
            raise NotMeasurable(f"{len(pts)} diffusive MD temperature(s): sigma({s.temperature_K:g}"
                                " K) needs an Arrhenius fit over >= 2")
        try:
            fit = arrhenius_fit(T, y, y_err, s.temperature_K)
        except ValueError as exc:
            raise NotMeasurable(f"sigma({s.temperature_K:g} K): {exc}") from None
        sig, sig_err = fit.value_target, fit.value_target_err_log
        width = 2 * 1.96 * sig_err / math.log(10)
        if not math.isfinite(width) or width > s.max_interval_decades:
            raise NotMeasurable(f"sigma({s.temperature_K:g} K) by Arrhenius has a 95 % interval "
                                f"of {width:.1f} decades (> max_interval_decades = "
                                f"{s.max_interval_decades:g})")
        src = (f"Arrhenius fit of MD sigma(T) over {', '.join(f'{t:g}' for t in T)} K "
               f"(Ea = {fit.Ea_eV:.3f} +- {fit.Ea_err_eV:.3f} eV) at {s.temperature_K:g} K")
    if s.bulk_modulus_GPa is not None:
        K, Ke = s.bulk_modulus_GPa, s.bulk_modulus_err_GPa
    if s.shear_modulus_GPa is not None:
        G, Ge = s.shear_modulus_GPa, s.shear_modulus_err_GPa
    return Inputs(sig, sig_err, K, Ke, G, Ge, src, formula)


class NotMeasurable(Exception):
    """The MD did not measure what the model needs, well enough (a result, not a crash)."""


def interface_resistance(s: Penetration, formula: str | None) -> tuple[float, str]:
    """The Li | electrolyte charge-transfer resistance (Ohm cm2) and its source: the
    setting, else the measured value of the family of the MD result's composition
    (``Family.INTERFACE_RESISTANCE``). A family without one (and a composition of no
    family) makes the model not measurable: the garnet value is a property of the Li |
    LLZO interface, not of Li | sulfide or Li | halide (issue 31)."""
    if s.interface_resistance_ohm_cm2 is not None:
        return s.interface_resistance_ohm_cm2, "given (penetration.interface_resistance_ohm_cm2)"
    from ..errors import CompositionError
    from ..families.compositions import PHYSICAL_BOUNDS, parse
    try:
        fam = parse(formula, PHYSICAL_BOUNDS).spec if formula else None
    except (CompositionError, KeyError, ValueError, ZeroDivisionError):
        fam = None
    known = fam.INTERFACE_RESISTANCE if fam is not None else None
    if known is None:
        what = (f"the {fam.NAME} family" if fam is not None
                else f"{formula[:60] if formula else 'a composition given by its numbers only'}"
                     " (no family)")
        raise NotMeasurable(f"no measured Li | electrolyte interface resistance for {what}; "
                            "set penetration.interface_resistance_ohm_cm2 (Ohm cm2) to use one")
    return known


def draws(inp: Inputs, n: int, seed: int) -> dict[str, np.ndarray]:
    """Monte Carlo draws of the MD inputs; the first is the nominal point. Moduli are drawn
    normal and kept where K, G > 0 and nu < 1/2 (redrawn otherwise)."""
    rng = np.random.default_rng(seed)
    ln_s = math.log(inp.sigma_S_cm) + inp.sigma_ln_err * rng.standard_normal(n)
    K = np.empty(0)
    G = np.empty(0)
    for _ in range(1000):                 # bounded: error bars may leave few positive draws
        if len(K) >= n:
            break
        k = inp.K_GPa + inp.K_err_GPa * rng.standard_normal(n)
        g = inp.G_GPa + inp.G_err_GPa * rng.standard_normal(n)
        ok = (k > 0) & (g > 0)
        K, G = np.concatenate([K, k[ok]]), np.concatenate([G, g[ok]])
    if len(K) < n:
        raise NotMeasurable(f"the moduli's error bars (K {inp.K_GPa:g} +- {inp.K_err_GPa:g}, "
                            f"G {inp.G_GPa:g} +- {inp.G_err_GPa:g} GPa) leave too few positive "
                            "draws")
    K, G = K[:n], G[:n]
    ln_s[0], K[0], G[0] = math.log(inp.sigma_S_cm), inp.K_GPa, inp.G_GPa
    return {"sigma_S_cm": np.exp(ln_s), "K_GPa": K, "G_GPa": G}


def amplification_table(l_over_b: float, wa: np.ndarray, s: Penetration, comm=None):
    """A(Wa) at every draw: solved on a grid of 4 points per decade spanning the draws and
    interpolated (monotone cubic in log-log); exact nodes when the draws span < 1 decade."""
    from scipy.interpolate import PchipInterpolator

    from .flaw import FlawMesh, current_amplification
    res = FlawMesh(s.radial_cells, s.angular_cells, 1, s.domain_factor)
    lo, hi = np.log10(wa.min()), np.log10(wa.max())
    n = max(2, int(math.ceil((hi - lo) * 4)) + 1)
    grid = np.logspace(lo, hi, n) if hi > lo else np.array([wa.min()])
    A = current_amplification(l_over_b, grid, res, comm=comm)
    if len(grid) == 1:
        return np.full_like(wa, A[0]), grid, A
    f = PchipInterpolator(np.log(grid), np.log(A))
    return np.exp(f(np.log(wa))), grid, A


def evaluate(s: Penetration, comm=None) -> dict:
    """The model's result (the same on every rank): the nominal value, the Monte Carlo
    median and intervals of i_crit and its parts, with units."""
    inp = inputs_from_md(s)
    R, R_source = interface_resistance(s, inp.formula)
    d = draws(inp, s.samples, s.seed)
    l_m = s.flaw_length_um * 1e-6
    wa = wagner_number(d["sigma_S_cm"], R, l_m)
    A, grid, A_grid = amplification_table(s.flaw_aspect, wa, s, comm)
    E, nu = youngs_poisson(d["K_GPa"], d["G_GPa"])
    K_IC = griffith_toughness(E * 1e9, nu, s.surface_energy_J_m2)
    eta_c = critical_overpotential(K_IC, l_m, s.geometry_factor)
    i_crit = eta_c / (R * 1e-4 * A) * 0.1          # A/m2 -> mA/cm2
    ln_i = np.log(i_crit)

    def summary(v: np.ndarray) -> dict:
        q = np.percentile(v, [2.5, 16, 50, 84, 97.5])
        return {"nominal": float(v[0]), "median": float(q[2]), "interval_68": [float(q[1]), float(q[3])],
                "interval_95": [float(q[0]), float(q[4])]}

    return {
        "critical_current_mA_cm2": {**summary(i_crit), "ln_sd": float(np.std(ln_i, ddof=1))},
        "current_amplification": summary(A),
        "wagner_number": summary(wa),
        "fracture_toughness_MPa_m05": summary(K_IC / 1e6),
        "critical_overpotential_mV": summary(eta_c * 1e3),
        "critical_pressure_MPa": summary(critical_pressure(K_IC, l_m, s.geometry_factor) / 1e6),
        "youngs_modulus_GPa": summary(E), "poisson_ratio": summary(nu),
        "inputs": {"sigma_S_cm": inp.sigma_S_cm, "sigma_ln_err": inp.sigma_ln_err,
                   "bulk_modulus_GPa": inp.K_GPa, "bulk_modulus_err_GPa": inp.K_err_GPa,
                   "shear_modulus_GPa": inp.G_GPa, "shear_modulus_err_GPa": inp.G_err_GPa,
                   "source": inp.source, "temperature_K": s.temperature_K,
                   "interface_resistance_ohm_cm2": R,
                   "interface_resistance_source": R_source},
        "amplification_grid": {"wagner_number": grid.tolist(), "A": A_grid.tolist()},
        "units": {"critical_current_mA_cm2": "mA/cm2", "current_amplification": "1 (tip over "
                  "far-field current density)", "wagner_number": "1 (sigma R / l)",
                  "fracture_toughness_MPa_m05": "MPa m^1/2", "critical_overpotential_mV": "mV",
                  "critical_pressure_MPa": "MPa", "youngs_modulus_GPa": "GPa",
                  "poisson_ratio": "1"},
    }
