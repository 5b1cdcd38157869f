"""MD settings and presets, beside the stage that runs them (``md/``): what ``sse-driver md``
and the campaign run. Every default names its source or the reasoning behind it; the root
settings (``driver/schema.py``) assemble this section with the others.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from ..schema_base import Strict


Kelvin = Annotated[float, Field(gt=0, le=5000)]
#: LAMMPS `run N`: N is a 32-bit signed integer
MAX_RUN_STEPS = 2**31 - 1
#: Li samples of one production run held for the MSD (1e7 x 100 Li x 3 doubles = 24 GB:
#: a ceiling for typos such as prod_ps 1e12, far above any run this package plans)
MAX_SAMPLES = 10_000_000

#: Named MD presets (``md.preset``): run settings chosen from cost and statistics, written
#: down before any validation run (docs/validation.md records what each one scored). Keys
#: given explicitly in a config override the preset's.
#: - smoke: the pipeline check of the tests and the demo (111-192 atoms, 20 ps, hot): large
#:   error bars, temperatures often not yet diffusive. Not a prediction.
#: - screening: 2x2x2 conventional cells (888 atoms NASICON, 1504-1536 garnet), four
#:   temperatures evenly spaced 800-1400 K so that the extrapolation to 300 K spans a factor
#:   2.7 in T, not 4.3 as from 1300 K; 100 ps NVT each. The cell is the outcome of a
#:   convergence test declared before it ran (docs/validation.md, 2026-11-30): one cell
#:   (the first choice, for cost) put sigma(300 K) of Li6.5La3Zr1.5Ta0.5O12 0.75 decades
#:   away from 2x2x2 and D at 1000 and 1400 K outside the joint 95 % interval. Cost measured
#:   for that garnet: 45 core-min (softBV); NASICON (Pedone + PPPM) ~95 core-min (8x the one
#:   cell's 11.8). The meta loop may double a run that is not diffusive.
#: - production: 2x2x2 cells (888-1536 atoms), seven temperatures 600-1200 K, 1 ns each
#:   (Li hop statistics of ~1e3-1e4 hops per T at 600 K in a 1e-8 cm2/s conductor need ns;
#:   He et al., npj Comput. Mater. 4, 18 (2018)), three replicas (driver/md/replicas.py):
#:   cluster work, hours per composition.
MD_PRESETS: dict[str, dict] = {
    "smoke": {"supercell": [1, 1, 1], "temperatures_k": [1300.0, 1500.0],
              "equil_ps": 2.0, "prod_ps": 20.0},
    "screening": {"supercell": [2, 2, 2], "temperatures_k": [800.0, 1000.0, 1200.0, 1400.0],
                  "equil_ps": 10.0, "prod_ps": 100.0},
    "production": {"supercell": [2, 2, 2],
                   "temperatures_k": [600.0, 700.0, 800.0, 900.0, 1000.0, 1100.0, 1200.0],
                   "equil_ps": 20.0, "prod_ps": 1000.0, "replicas": 3},
}




class MDSettings(Strict):
    """LAMMPS molecular dynamics: what ``sse-driver md`` and the campaign run."""

    preset: Literal["smoke", "screening", "production"] | None = Field(
        None, description="named run settings (MD_PRESETS above: supercell, temperatures, "
        "equil_ps, prod_ps); keys given explicitly override the preset's")
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
    replicas: PositiveInt = Field(
        1, le=64, description="independent runs of the composition (decoration and velocity "
        "seeds seed + 104729 k), combined with the between-replica spread in the error bar "
        "(driver/md/replicas.py): one trajectory's interval alone is too narrow (measured there)")
    ranks: PositiveInt = Field(1, description="MPI ranks per LAMMPS run; the local backend "
                               "refuses more than the machine's cores (use a cluster backend)")
    max_atoms: PositiveInt = Field(
        200_000, description="refuse a simulation cell with more atoms (supercell x cell); "
        "a guard against typos like supercell [100, 100, 100] (2e8 atoms) that would exhaust "
        "memory before LAMMPS starts; raise it for large production cells")
    timeout_s: PositiveFloat | None = Field(None, description="per run; None = no limit")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data):
        """Fill the keys a preset sets and the config does not (explicit keys win)."""
        if isinstance(data, dict) and isinstance(data.get("preset"), str) \
                and data["preset"] in MD_PRESETS:
            return {**MD_PRESETS[data["preset"]], **data}
        return data

    @model_validator(mode="after")
    def _times(self) -> "MDSettings":
        if self.sample_every_fs < self.timestep_fs:
            raise ValueError("sample_every_fs must be >= timestep_fs")
        # derived quantities checked before anything runs: LAMMPS's `run N` takes a 32-bit
        # step count, and every stored Li sample is held in memory for the MSD
        for key in ("equil_ps", "prod_ps"):
            steps = getattr(self, key) * 1000.0 / self.timestep_fs
            if steps > MAX_RUN_STEPS:
                raise ValueError(f"{key} {getattr(self, key):g} ps at timestep_fs "
                                 f"{self.timestep_fs:g} is {steps:.3g} steps (LAMMPS runs at "
                                 f"most {MAX_RUN_STEPS}); shorten it or lengthen the time step")
        samples = self.prod_ps * 1000.0 / self.sample_every_fs
        if samples > MAX_SAMPLES:
            raise ValueError(f"prod_ps {self.prod_ps:g} ps sampled every {self.sample_every_fs:g} "
                             f"fs is {samples:.3g} samples (at most {MAX_SAMPLES:.0e} are kept "
                             "for the MSD); raise sample_every_fs or shorten prod_ps")
        seen = [t for i, t in enumerate(self.temperatures_k) if t in self.temperatures_k[:i]]
        if seen:
            # each temperature has its own run folder and Arrhenius point: a repeat would
            # overwrite a run and weigh one temperature twice (use md.replicas to repeat)
            raise ValueError(f"temperatures_k repeats {', '.join(f'{t:g}' for t in seen)} K; "
                             "list each temperature once (md.replicas repeats whole runs)")
        return self
