"""Settings of a distillation (``sse-driver distil``): what to sample, how to fit, when to
stop, what a student must pass. Presets name whole recipes; every value is written down
here, with its reason, before any run (DEVELOPERS.md: settings come from the literature or
from convergence tests, never from the experiments the students are scored against).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from ..forcefields import pod as pod_form
from ..forcefields import snap as snap_form
from ..schema_base import Strict

Temperature = Annotated[float, Field(gt=0, le=3000)]

#: the most coefficients a SNAP student gets by default (``resolved_form``,
#: ``resolved_twojmax``): explicit multi-element SNAP grows as the cube of the element count
#: (2J = 4: 1137 coefficients for 3 elements, 3588 for 4, 18150 for 6; 2J = 6: 2433 for 3
#: elements, 7684 for 4) and its speed falls with it (2.3e3 atom-steps/s at 2433,
#: docs/distil.md); beyond this POD is the default form
MAX_COLUMNS = 4000
#: the most coefficients any student may have: the fit (fit.Normal) holds about nine
#: Gram-sized matrices at once (five cross-validation fold parts, their total, a fold's
#: complement, its eigenvectors, a copy): 9 x 8 B x n^2 = 2.6 GB at 6000, beside the
#: labelled frames' rows; the six elements of the garnet and argyrodite families at POD
#: (6, 6) need 5514
MAX_FIT_COLUMNS = 6000


class DistilSettings(Strict):
    #: the teacher (a shipped ML potential: one whose form gives an ASE calculator)
    teacher: str = "sevennet0"
    #: compositions the student must cover (formulas a family parses)
    compositions: list[str] = Field(default_factory=list, max_length=32)
    supercell: tuple[PositiveInt, PositiveInt, PositiveInt] = (1, 1, 1)
    #: refuse larger cells before any is built: the teacher's memory grows ~2 MB per atom
    #: (sevennet0 relaxing a 6x6x6 Li3InCl6 cell of 4320 atoms held 9.5 GB within a minute,
    #: 2026-12-03), and a typo such as supercell [100, 100, 100] (2e7 atoms) would hang the
    #: structure building itself
    max_atoms: PositiveInt = Field(1000, le=100_000)
    seed: int = Field(1, ge=0, le=2**31 - 1)
    # -- generation 0: rattled, strained copies of the built cells (no MD needed): the
    #    classical recipe of the field's active-learning codes (e.g. the initial sets of
    #    FitSNAP/DP-GEN examples), spanning thermal displacements up to ~1500 K for Li
    decorations: PositiveInt = Field(2, le=16, description="decoration seeds per composition")
    rattle_a: list[Annotated[float, Field(gt=0, le=0.5)]] = Field(
        default_factory=lambda: [0.05, 0.1, 0.15], min_length=1, max_length=8)
    strain: float = Field(0.03, ge=0, le=0.1, description="largest normal strain of the cell")
    # -- the teacher's 0 K minimum and its neighbourhood: hot frames alone leave the
    #    equation of state near the minimum under-determined (a first Li3InCl6 student fitted
    #    only to them relaxed 2.9 % away from the teacher's lattice, docs/distil.md); the
    #    teacher's relaxed cell (ASE FIRE + Frechet cell filter) under isotropic strains of
    #    +-1-2 % (+-3-6 % in volume: pressures of a few GPa for bulk moduli of 20-100 GPa,
    #    the range the 1 % lattice check resolves), rattled by a thermal amplitude of ~300 K
    #: FIRE criterion (eV/A, also on the cell's virial per atom): 0.02 left 0.14 GPa of
    #: residual stress in the 20-atom Li3InCl6 cell (0.4 % of strain in its soft directions,
    #: measured 2026-12-03); 0.002 leaves 0.01 GPa, 9 s of teacher time there
    relax_fmax_ev_a: float = Field(0.002, gt=0, le=1)
    relax_steps: PositiveInt = Field(2000, le=100000)
    equilibrium_strains: list[Annotated[float, Field(ge=-0.1, le=0.1)]] = Field(
        default_factory=lambda: [-0.02, -0.01, 0.0, 0.01, 0.02], max_length=16)
    #: random strains (normal and shear components uniform within +-1 %) of the relaxed
    #: cells: the shear response near the minimum, which isotropic strains do not probe
    equilibrium_random: int = Field(4, ge=0, le=64)
    equilibrium_rattle_a: float = Field(0.03, ge=0, le=0.5)
    #: labelled frames of the same teacher from earlier distillations (extxyz files that
    #: ``sse-driver distil`` wrote), added to generation 0: the teacher's labels are the
    #: costly part and serve any student form (workflow.seed_frames checks them)
    seed_data: list[str] = Field(default_factory=list, max_length=64)
    # -- the teacher's own hot MD (the "ab initio MD" initial set of DP-GEN: Y. Zhang et al.,
    #    Comput. Phys. Commun. 253, 107206 (2020)): ``teacher_md_ps`` of NVT from each relaxed
    #    cell at each exploration temperature, a snapshot every ``snapshot_fs`` (decorrelated
    #    beyond the 30-100 fs vibrational periods of these solids). Rattles alone do not
    #    reach the anharmonic, hopping configurations of a hot trajectory: every Li6PS5Cl
    #    student fitted on them collapsed within 300 steps of its first explorations, six
    #    generations running (2026-12-03, records/distil/li6ps5cl_7net0); 0 turns it off.
    #    Cost: ~6 core-minutes per ps for a 52-atom cell (teacher ~150 atom-steps/s)
    teacher_md_ps: float = Field(1.0, ge=0, le=100)
    # -- active learning: student MD, committee spread, teacher labels
    explore_temperatures_k: list[Temperature] = Field(
        default_factory=lambda: [1000.0, 1500.0], min_length=1, max_length=8)
    #: the student's exploration MD: ``explore_ps`` at first, doubled after each generation
    #: whose MD ran clean, up to ``explore_max_ps`` (the growing trajectories of DP-GEN,
    #: Y. Zhang et al. 2020): short runs find the gross holes, long ones the rare ones (a
    #: first Li3InCl6 student explored 2 ps per run and collapsed (In-In) after 35 ps of
    #: its 100 ps stability run, 2026-12-03); convergence needs a clean run at full length,
    #: which is the stability check's length: a later one converged on clean 32 ps runs,
    #: passed its 100 ps check once and collapsed (In-In) after 20 ps of a refit's (same
    #: data, 2026-12-03), so holes that a 100 ps run meets must be met while learning
    explore_ps: float = Field(2.0, gt=0, le=1000)
    explore_max_ps: float = Field(100.0, gt=0, le=10000)
    #: snapshots of each exploration run kept for the committee to choose from (the
    #: collapse floors are checked every ``snapshot_fs`` all the same)
    explore_snapshots: PositiveInt = Field(40, le=10000)
    snapshot_fs: float = Field(50.0, gt=0, le=10000)
    #: at least 0.1 fs: ten times below any MD step of these chemistries (0.5-2 fs), and a
    #: step count that fits LAMMPS's ``run`` (1e-300 fs overflowed it, issue 33)
    timestep_fs: float = Field(1.0, ge=0.1, le=2.0)
    select_per_generation: PositiveInt = Field(16, le=1000)
    committee: int = Field(4, ge=2, le=16)
    max_generations: int = Field(4, ge=0, le=50)
    #: stop when the held-out force RMSE improves by less than this fraction on the
    #: previous generation's (and the hot MD ran clean at full length): on 16 new frames
    #: the error scatters by ~20 % from one generation to the next (Li3InCl6, 2026-12-03),
    #: so "changed by less than 5 %" almost never happens while "stopped improving" does
    converged_rel: float = Field(0.05, ge=0, le=1)
    #: a student trajectory has collapsed when a pair comes closer than this fraction of the
    #: sum of its covalent radii (explore.floors)
    collapse_fraction: float = Field(0.7, gt=0, lt=1)
    #: labelled frames whose largest teacher force exceeds this are left out of the fit:
    #: a 1500 K trajectory of these solids meets forces of a few eV/A (the teacher's RMS
    #: at 1500 K is ~1.5 eV/A on Li3InCl6, measured 2026-12-02); beyond this the frame comes
    #: from a broken student and would only skew the fit (the trust-level idea of DP-GEN:
    #: Y. Zhang et al., Comput. Phys. Commun. 253, 107206 (2020))
    force_cap_ev_a: float = Field(20.0, gt=0, le=1000)
    # -- the SNAP basis (driver/forcefields/snap.py): the cutoff is the teacher's own 5 A
    #    (sevennet0.yaml), so the student sees no farther than one teacher layer
    #: explicit multi-element SNAP, 2J = 4: on the Li3InCl6 data of a first run (86 frames,
    #: 32 held out, teacher labels only; docs/distil.md) it gave a held-out force RMSE of
    #: 0.128 eV/A against 0.31-0.45 for every plain-SNAP basis tried (2J 4-8, cutoffs 4-6 A,
    #: four weightings) and 0.30 for chemical 2J = 2
    #: and 2J = 6 where the basis fits (``twojmax`` None: 6 if its coefficients stay within
    #: ``MAX_COLUMNS``, else 4): on Li3InCl6 2J = 6 gave 0.076 eV/A and a relaxed lattice
    #: within 0.3 % of the teacher's where 2J = 4 gave 0.090 and 1.5-2.5 % (same data,
    #: 2026-12-03, docs/distil.md), at half the speed (5e3 against 1e4-2e4 atom-steps/s)
    chemflag: bool = True
    twojmax: Literal[2, 4, 6, 8] | None = None
    #: the student's form: "pod" (forcefields/pod.py) or "snap" (above); None: SNAP where its
    #: basis keeps within MAX_COLUMNS at 2J >= 4, else POD. POD by default, measured on the
    #: Li3InCl6 data (249 teacher frames, 20 % held out at random, 2026-12-03, docs/distil.md):
    #: POD 2+3-body, 507 coefficients: median held-out frame 0.082 eV/A (0.094 at the ridge
    #: that best serves the far-out frames), 1.8e4 atom-steps/s; multi-element SNAP 2J = 6,
    #: 2433 coefficients: 0.079 (0.092), 2.3e3 atom-steps/s (one loaded core, same run);
    #: and POD's three-body basis grows as the square of the element count, not the cube
    #: (the six elements of the garnet and argyrodite families: 3372 POD coefficients,
    #: 18150 SNAP at 2J = 4)
    form: str | None = pod_form.NAME
    #: POD descriptor settings: inner radius, radial functions of the two-body terms, radial
    #: functions and angular degree of the three-body terms; the inner radius and two-body
    #: count of LAMMPS's InP example (examples/PACKAGES/pod/InP, N.-C. Nguyen's fits),
    #: four-body terms left out. Three-body (6, 6) from a convergence test on teacher labels
    #: only (the 497 frames of records/distil/li3incl6_pod_7net0, scored on its 16 held-out
    #: frames of 1500 K student MD, ridge by the one-standard-error rule, 2026-12-03,
    #: docs/distil.md): (5, 4), 507 coefficients: force RMSE 0.098 eV/A, energy 5.6
    #: meV/atom, relaxed lattice 2.6 % from the teacher's; (6, 6), 813: 0.081, 3.9, 0.57 %
    pod_rin: float = Field(0.8, gt=0, le=3)
    pod_twobody: int = Field(6, ge=1, le=16)
    pod_threebody: tuple[Annotated[int, Field(ge=0, le=16)], Annotated[int, Field(ge=0, le=12)]] = (6, 6)
    rcutfac: float = Field(5.0, gt=1, le=12)
    zbl_inner: float = Field(1.0, gt=0, le=3)
    zbl_outer: float = Field(1.6, gt=0, le=3)
    #: ridge strength of the fit (fit.solve, column-scaled); None: chosen at every fit by
    #: 5-fold cross-validation on the teacher's labels with the one-standard-error rule
    #: on the median held-out frame (fit.choose_ridge: the strongest ridge within one
    #: standard error of the best; the minimum alone fell to 1e-8 on Li6PS5Cl and its
    #: students lost atoms, the mean over folds was ruled by a few far-out frames and took
    #: 1e-2). Measured on the
    #: Li3InCl6 data (249 frames, 20 % held out at random, 2026-12-03): multi-element SNAP
    #: 2J = 6 held-out force RMSE 0.386/0.288/0.250/0.204 eV/A at 1e-8/1e-6/1e-4/1e-3 (the
    #: median frame 0.08 throughout: the rare far-out frames decide), POD 1.07/0.36/0.17
    #: at 1e-8/1e-6/1e-4: no single strength serves every basis and data set
    ridge: float | None = Field(None, ge=0, le=1)
    #: a repulsive wall per element pair below the shortest distance of that pair in all
    #: the data labelled so far (moved before every fit: workflow.walls_follow), as
    #: high as needed to push back with up to ``force_cap_ev_a`` (forcefields/snap.py
    #: ``_walls``): zero on every configuration the teacher labelled, it closes the
    #: gap between the ZBL core (< 1.6 A) and the data, where a linear student extrapolates
    #: and, rarely, attracts (a Li3InCl6 student that ran 100 ps clean at 1500 K once
    #: collapsed In-In to 1.53 A after 20 ps on a refit of the same data, 2026-12-03;
    #: the data hold no In-In pair below 2.96 A)
    data_walls: bool = True
    # -- trust checks (issue 30, item 2)
    test_frames: PositiveInt = Field(16, le=1000)
    stability_ps: float = Field(100.0, gt=0, le=10000)
    nve_ps: float = Field(5.0, gt=0, le=1000)
    lattice_tol: float = Field(0.01, gt=0, le=0.2)
    min_li_li_a: float = Field(1.2, gt=0, le=3)
    # -- D*(T) against the teacher's own MD (driver/distil/diffusion_check.py): run only when
    #    every other check passed (it costs core-hours). The temperature is the lowest
    #    exploration temperature unless set (Li hops often there in these conductors: He et
    #    al., npj Comput. Mater. 4, 18 (2018)); 50 ps at 2 fs is ~47 core-minutes of the
    #    teacher for a 20-atom cell (9 steps/s measured 2026-12-03); 2 fs resolves the
    #    fastest mode of these chemistries (PO4 stretch, ~33 fs period) with 16 steps
    diffusion_temperature_k: Temperature | None = None
    diffusion_ps: float = Field(50.0, gt=0, le=10000)
    diffusion_discard_ps: float = Field(2.0, ge=0, le=1000,
                                        description="dropped start (20 thermostat times)")
    diffusion_timestep_fs: float = Field(2.0, ge=0.1, le=2.0)
    diffusion_sample_fs: float = Field(100.0, gt=0, le=10000,
                                       description="the MD stage's sample_every_fs")
    diffusion_segment_ps: float = Field(5.0, gt=0, le=1000,
                                        description="the teacher run's unit of resume")

    def resolved_form(self, n_elements: int) -> str:
        """``form``, or SNAP where its basis (at 2J >= 4) keeps within ``MAX_COLUMNS``."""
        if self.form is not None:
            return self.form
        from ..forcefields.snap import ncoeff
        tj = self.resolved_twojmax(n_elements)
        fits = n_elements * (ncoeff(tj, n_elements if self.chemflag else 0) + 1) <= MAX_COLUMNS
        return snap_form.NAME if fits and tj >= 4 else pod_form.NAME

    def resolved_twojmax(self, n_elements: int) -> int:
        """``twojmax``, or the largest of 6 and 4 whose basis fits ``MAX_COLUMNS``."""
        if self.twojmax is not None:
            return self.twojmax
        from ..forcefields.snap import ncoeff
        for tj in (6, 4):
            if n_elements * (ncoeff(tj, n_elements if self.chemflag else 0) + 1) <= MAX_COLUMNS:
                return tj
        return 2

    @field_validator("form")
    @classmethod
    def _form(cls, v: str | None) -> str | None:
        from ..forcefields import STUDENT_FORMS
        if v is not None and v not in STUDENT_FORMS:
            raise ValueError(f"form must be one of {', '.join(STUDENT_FORMS)} (or null)")
        return v

    @model_validator(mode="after")
    def _zbl(self) -> "DistilSettings":
        if self.zbl_inner >= self.zbl_outer:
            raise ValueError("zbl_inner must be below zbl_outer")
        # a snapshot more often than a step would be taken every step: with snapshot_fs
        # 1e-9 the teacher's MD labelled every step of it (issue 33)
        for every, step in (("snapshot_fs", "timestep_fs"),
                            ("diffusion_sample_fs", "diffusion_timestep_fs")):
            if getattr(self, every) < getattr(self, step):
                raise ValueError(f"{every} ({getattr(self, every):g}) must be at least {step} "
                                 f"({getattr(self, step):g}): one snapshot per step at most")
        return self


#: ``tiny``: the tests' end-to-end run (minutes on 2 cores, nothing to trust);
#: ``standard``: the issue's checks at full length (100 ps stability)
PRESETS: dict[str, dict] = {
    "tiny": {"decorations": 1, "rattle_a": [0.05, 0.15], "strain": 0.03,
             "explore_temperatures_k": [1000.0], "explore_ps": 0.5, "explore_max_ps": 0.5,
             "teacher_md_ps": 0.1,
             "snapshot_fs": 50.0, "equilibrium_random": 1,
             "select_per_generation": 4, "committee": 3, "max_generations": 1, "twojmax": 2,
             "test_frames": 4, "stability_ps": 1.0, "nve_ps": 0.5,
             "equilibrium_strains": [-0.01, 0.01], "relax_steps": 100,
             "diffusion_ps": 0.2, "diffusion_discard_ps": 0.0, "diffusion_sample_fs": 20.0,
             "diffusion_segment_ps": 0.1},
    "standard": {},
}
