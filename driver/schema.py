"""The settings schema. Every default names its source or the reasoning behind it.

Sections are small models with ``extra="forbid"`` so a misspelt key is an error, not a
silently ignored setting. Later stages (phase field, optimizer, campaign) add sections.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from .campaign.settings import CampaignSettings
from .phasefield.settings import PhaseFieldSettings
from .schema_base import Strict


Kelvin = Annotated[float, Field(gt=0, le=5000)]


class MDSettings(Strict):
    """LAMMPS molecular dynamics: what ``sse-driver md`` and the campaign run."""

    potential: str = Field(
        "pedone2006", description="name of a file in potentials/ (without .yaml)")
    temperatures_k: list[Kelvin] = Field(
        [900.0, 1100.0, 1300.0], min_length=1,
        description="production temperatures. Hot, so that short runs see enough Li hops "
        "for a diffusive MSD (He et al., npj Comput. Mater. 4, 18 (2018)); >= 3 for an "
        "Arrhenius fit with an error bar")
    supercell: list[PositiveInt] = Field([1, 1, 1], min_length=3, max_length=3)
    timestep_fs: PositiveFloat = Field(
        1.0, le=5.0, description="the fastest mode here, the PO4 stretch near 1000-1100 "
        "cm^-1 (period ~30 fs), gets ~30 steps per period; the usual rule is >= 10-20")
    minimize: bool = Field(True, description="relax positions and cell (box/relax) first")
    equil_ps: PositiveFloat = Field(10.0, description="NPT equilibration per temperature")
    prod_ps: PositiveFloat = Field(50.0, description="NVT production per temperature")
    pressure_bar: float = Field(1.01325, description="1 atm = 1.01325 bar (definition)")
    tdamp_steps: PositiveInt = Field(
        100, description="Nose-Hoover thermostat damping; LAMMPS fix nh docs: ~100 steps")
    pdamp_steps: PositiveInt = Field(
        1000, description="barostat damping; LAMMPS fix nh docs: ~1000 steps")
    kspace_accuracy: PositiveFloat = Field(
        1.0e-5, lt=1e-2, description="PPPM relative force accuracy (LAMMPS pedone example)")
    coul_cutoff_a: PositiveFloat = Field(10.0, description="real-space Coulomb cutoff (A)")
    sample_every_fs: PositiveFloat = Field(
        100.0, description="interval between stored Li positions for the MSD")
    rdf_bins: PositiveInt = 200
    elastic_strain: PositiveFloat = Field(
        0.01, le=0.05, description="+-strain for central-difference elastic constants: the "
        "nonlinear error is O(eps^2) while minimizer stress noise (~100s of bar) enters as "
        "1/eps, so 1 % balances them for oxides with C ~ 100 GPa")
    haven_ratio: PositiveFloat = Field(
        1.0, le=1.0, description="H_R in D_sigma = D*/H_R. 1.0 = uncorrelated (tracer-based "
        "estimate); measured garnet/NASICON values are ~0.3-0.7, so 1.0 is a lower bound "
        "on sigma")
    seed: int = Field(1, ge=1, lt=2**31, description="velocities and decoration")
    ranks: PositiveInt = Field(1, description="MPI ranks per LAMMPS run")
    timeout_s: PositiveFloat | None = Field(None, description="per run; None = no limit")

    @model_validator(mode="after")
    def _times(self) -> "MDSettings":
        if self.sample_every_fs < self.timestep_fs:
            raise ValueError("sample_every_fs must be >= timestep_fs")
        return self


class DaskSettings(Strict):
    """Where tasks run. The scheduler and dashboard bind to localhost unless asked."""

    scheduler_address: str | None = Field(None, description="join an existing scheduler")
    n_workers: PositiveInt | None = Field(None, description="None = one per core")
    host: str = Field("127.0.0.1", description="scheduler/worker bind address")
    dashboard_address: str = Field("127.0.0.1:8787", description="':0' picks a free port")


class Settings(Strict):
    """The whole configuration file: one section per stage."""

    campaign: CampaignSettings = CampaignSettings()
    md: MDSettings = MDSettings()
    phasefield: PhaseFieldSettings = PhaseFieldSettings()
    dask: DaskSettings = DaskSettings()
