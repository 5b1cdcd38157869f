"""Phase-field settings (pure pydantic: importable without DOLFINx).

Dimensionless by default (lengths in units of the domain scale, time in units of the
diffusion time); the ``degradation`` block maps physical inputs onto them
(:mod:`driver.phasefield.degradation`, docs/phasefield.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from ..schema_base import Strict

EDGE_CRACK_Y = 1.12              # Tada, Paris & Irwin (2000), single edge crack


class Penetration(Strict):
    """Inputs of the Li-penetration (critical current) model; docs/phasefield.md."""

    md_result: str | None = Field(None, description="path of an MD result.json: sigma(T) by "
                                  "Arrhenius over its diffusive temperatures, K and G (VRH)")
    sigma_S_cm: PositiveFloat | None = Field(None, description="conductivity at temperature_K "
                                             "(overrides md_result)")
    sigma_ln_err: float = Field(0.0, ge=0, le=50, description="standard error of ln sigma")
    bulk_modulus_GPa: PositiveFloat | None = None
    bulk_modulus_err_GPa: float = Field(0.0, ge=0)
    shear_modulus_GPa: PositiveFloat | None = None
    shear_modulus_err_GPa: float = Field(0.0, ge=0)
    temperature_K: PositiveFloat = Field(300.0, le=2000)
    max_interval_decades: PositiveFloat = Field(
        4.0, description="an Arrhenius sigma(temperature_K) whose 95 % interval spans more "
        "decades than this is not used (the model is then not measurable for that candidate): "
        "4 decades is the whole transition of the current focusing A(Wa), so a wider interval "
        "tells the model nothing")
    interface_resistance_ohm_cm2: PositiveFloat | None = Field(
        None, le=1e6, description="Li | electrolyte charge-transfer resistance (Ohm cm2); "
        "unset: the measured value of the MD result's family where one is known (garnets: 2, "
        "clean Li | LLZO, Sharafi et al., Chem. Mater. 2017, doi:10.1021/acs.chemmater.7b03002), "
        "else the model is not measurable")
    surface_energy_J_m2: PositiveFloat = Field(
        1.0, description="fracture surface energy in Griffith's K_IC: an assumed order of "
        "magnitude for oxide ceramics (no measured value is claimed)")
    flaw_length_um: PositiveFloat = Field(10.0, le=1e4, description="depth of the Li-filled "
                                          "surface flaw (assumption; varied in the docs)")
    flaw_aspect: float = Field(10.0, ge=1.0, le=100.0, description="flaw depth over half width")
    geometry_factor: PositiveFloat = Field(EDGE_CRACK_Y, description="Y in K = Y p sqrt(pi l)")
    samples: PositiveInt = Field(256, ge=8, le=100_000, description="Monte Carlo draws")
    seed: int = 0
    radial_cells: PositiveInt = Field(128, ge=8, le=2048)
    angular_cells: PositiveInt = Field(256, ge=8, le=4096)
    domain_factor: PositiveFloat = Field(100.0, ge=10.0, le=1e5, description="far boundary "
                                         "distance over the flaw depth")



#: a domain side (in the model's length unit) is kept within 12 decades around 1: a mesh
#: spacing of 1e-300 (domain.lx: 1e-300) underflows in DOLFINx's geometry checks, one of
#: 1e300 overflows the assembled gradients; both are typos, not physics
SIDE = Field(1.0, ge=1e-6, le=1e6)


class Domain(Strict):
    lx: float = SIDE
    ly: float = SIDE
    nx: PositiveInt = Field(64, le=4096)
    ny: PositiveInt = Field(64, le=4096)
    cell: Literal["triangle", "quadrilateral"] = "triangle"


class FreeEnergy(Strict):
    """double_well: f = rho (c - c_alpha)^2 (c_beta - c)^2.
    regular_solution: f = theta [c ln c + (1 - c) ln(1 - c)] + chi c (1 - c) (chi > 2 theta
    separates; c is kept inside (0, 1) by the logarithms)."""

    kind: Literal["double_well", "regular_solution"] = "double_well"
    rho: PositiveFloat = 1.0
    c_alpha: float = 0.0
    c_beta: float = 1.0
    theta: PositiveFloat = 1.0
    chi: PositiveFloat = 3.0

    @model_validator(mode="after")
    def _order(self) -> "FreeEnergy":
        if self.kind == "double_well" and not self.c_alpha < self.c_beta:
            raise ValueError("c_alpha must be < c_beta")
        return self


class Mobility(Strict):
    """constant: M = m0. degenerate: M = m0 (c (1 - c) + m_min), the variable mobility of
    bulk-diffusion-limited coarsening (Cahn-Taylor)."""

    kind: Literal["constant", "degenerate"] = "constant"
    m0: PositiveFloat = 1.0
    m_min: float = Field(1e-3, ge=0)


class Reaction(Strict):
    """Source -k g(c): none; linear g = c - c_alpha (first-order consumption toward the
    degraded state c_alpha); logistic g = (c - c_alpha)(c_beta - c) (autocatalytic)."""

    kind: Literal["none", "linear", "logistic"] = "none"
    k: float = Field(0.0, ge=0)


class Initial(Strict):
    """noise: mean + amplitude x a sum of random Fourier modes (seeded; the same field on
    any mesh or rank count). expression: a formula in x, y, lx, ly (driver.phasefield.expr)."""

    kind: Literal["noise", "expression"] = "noise"
    mean: float = 0.5
    amplitude: float = Field(0.05, ge=0)
    modes: PositiveInt = Field(16, le=256, description="wavenumbers per axis")
    seed: int = 1
    expression: str | None = None

    @model_validator(mode="after")
    def _expr(self) -> "Initial":
        if self.kind == "expression":
            if not self.expression:
                raise ValueError("kind: expression needs an 'expression' string")
            from .expr import Expression
            Expression(self.expression)  # parse now: a bad formula is a config error
        return self


class Time(Strict):
    """Time stepping. ``scaled()`` gives the steps the solver takes."""

    scheme: Literal["theta", "backward_euler"] = "theta"
    theta: float = Field(0.5, ge=0.5, le=1.0, description="0.5 Crank-Nicolson, 1 backward Euler")
    dt: PositiveFloat = 1e-6
    dt_min: PositiveFloat = 1e-12
    dt_max: PositiveFloat = 1e-2
    dt_scale: PositiveFloat = Field(
        1.0, le=1.0, description="multiplies dt, dt_min and dt_max after every other rule has "
        "set them (degradation.apply included), so a retry that lowers it always takes "
        "smaller steps; a campaign's phase-field retry divides it by 10")
    adaptive: bool = True
    controller: Literal["error", "newton"] = Field(
        "error", description="how an adaptive run chooses dt: 'error' from the local "
        "truncation error of each step (predictor-corrector estimate, driver/phasefield/"
        "stepping.py), 'newton' from the Newton iteration count (x1.25 after <= 3, x0.7 "
        "after >= 8; the rule before 2026-11-30)")
    tolerance: PositiveFloat = Field(
        3e-4, description="error controller: allowed local error per step, RMS over the mesh, "
        "in units of c (3e-4 from the PFHub 1b convergence test in docs/phasefield.md: F within "
        "0.06 of converged at every output)")
    t_end: PositiveFloat = 1e-4
    outputs: list[PositiveFloat] = Field(
        default_factory=list, max_length=10000, description="times the steps land on exactly "
        "(checkpoints): the free energy and mass there are kept in result.json and a snapshot "
        "is written; every value must lie in (0, t_end]")
    max_steps: PositiveInt = 100000

    def scaled(self) -> "Time":
        """These settings with dt, dt_min and dt_max multiplied by dt_scale (then 1)."""
        f = self.dt_scale
        return self.model_copy(update={"dt": self.dt * f, "dt_min": self.dt_min * f,
                                       "dt_max": self.dt_max * f, "dt_scale": 1.0})
    startup_euler_steps: int = Field(
        2, ge=0, le=10, description="backward Euler steps before theta < 1 (Rannacher, "
        "Numer. Math. 43, 309 (1984)): without them Crank-Nicolson keeps the stiff mesh-scale "
        "modes of the initial data (amplification ~ -1) and loses its second order")

    @property
    def theta_value(self) -> float:
        return 1.0 if self.scheme == "backward_euler" else self.theta

    @model_validator(mode="after")
    def _outputs(self) -> "Time":
        bad = [t for t in self.outputs if t > self.t_end]
        if bad:
            raise ValueError(f"outputs: {bad[0]:g} lies after t_end = {self.t_end:g}; list "
                             "times in (0, t_end]")
        return self


class Solver(Strict):
    linear: Literal["mumps", "superlu_dist", "gmres_ilu", "gmres_asm"] = "mumps"
    snes_rtol: PositiveFloat = 1e-9
    snes_atol: PositiveFloat = 1e-12
    max_it: PositiveInt = 25


class Output(Strict):
    snapshots: int = Field(10, ge=0, description="XDMF snapshots over the run (0 = none)")
    format: Literal["xdmf", "vtx"] = "xdmf"


class Degradation(Strict):
    """Physical inputs of the interface-degradation model; see docs/phasefield.md."""

    domain_nm: PositiveFloat = Field(100.0, description="square side (second source document)")
    width_nm: PositiveFloat = Field(3.0, description="diffuse-interface width: a numerical "
                                    "model choice resolved by >= 3 elements, not a material value")
    interfacial_energy_J_m2: PositiveFloat = Field(description="required: interfacial or grain-"
                                                   "boundary energy of the phase boundary")
    D_cm2_s: PositiveFloat | None = Field(None, description="Li diffusivity at the operating "
                                          "temperature; or taken from md_result")
    md_result: str | None = Field(None, description="path of an MD result.json: D(T) from its "
                                  "per-temperature diffusivities (Arrhenius fit) and its shear modulus")
    temperature_K: PositiveFloat = 300.0
    reaction_rate_1_s: float = Field(0.0, ge=0, description="first-order degradation rate k")
    shear_modulus_GPa: PositiveFloat | None = Field(None, description="electrolyte shear modulus "
                                                    "(or from md_result) for the Monroe-Newman factor")
    t_end_s: PositiveFloat = Field(1000.0, description="simulated time (second source document)")
    outputs_s: list[PositiveFloat] = Field(
        default_factory=list, max_length=10000, description="times (s) the steps land on "
        "exactly; each in (0, t_end_s] (time.outputs in the model's own time unit)")

    @model_validator(mode="after")
    def _outputs(self) -> "Degradation":
        bad = [t for t in self.outputs_s if t > self.t_end_s]
        if bad:
            raise ValueError(f"outputs_s: {bad[0]:g} s lies after t_end_s = {self.t_end_s:g}")
        return self


class Metrics(Strict):
    grid: PositiveInt = Field(256, le=2048, description="sampling grid per axis for labelling")


class PhaseFieldSettings(Strict):
    domain: Domain = Domain()
    free_energy: FreeEnergy = FreeEnergy()
    kappa: PositiveFloat = 1e-3
    mobility: Mobility = Mobility()
    reaction: Reaction = Reaction()
    boundary: Literal["no_flux", "periodic"] = "no_flux"
    initial: Initial = Initial()
    time: Time = Time()
    solver: Solver = Solver()
    output: Output = Output()
    metrics: Metrics = Metrics()
    degradation: Degradation | None = None
    penetration: Penetration | None = Field(
        None, description="when given, the run is the Li-penetration (critical current) model "
        "on a Li-filled flaw (driver/phasefield/penetration.py) instead of Cahn-Hilliard")

    @model_validator(mode="after")
    def _checks(self) -> "PhaseFieldSettings":
        if self.time.dt_min > self.time.dt or self.time.dt > self.time.dt_max:
            raise ValueError("time: need dt_min <= dt <= dt_max")
        if self.penetration is not None and self.degradation is not None:
            raise ValueError("give either penetration (critical current) or degradation "
                             "(Cahn-Hilliard), not both")
        return self
