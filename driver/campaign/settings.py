"""Campaign settings (the ``campaign:`` section of a config file; pure pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (Field, PositiveFloat, PositiveInt, StringConstraints, field_validator,
                      model_validator)

from .. import families
from ..schema_base import Strict

#: the family names a campaign accepts: every module registered in driver/families/
FamilyName = Literal[tuple(families.FAMILIES)]  # type: ignore[valid-type]

#: an element symbol and a family's role name, as they may appear in a config (checked
#: against the family's choices afterwards; the pattern keeps a message one line)
Element = Annotated[str, StringConstraints(pattern=r"^[A-Z][a-z]?$")]
Role = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")]

class ObjectiveSpec(Strict):
    #: an objective of the registry (driver/objectives/: one module each; docs/campaign.md)
    name: Annotated[str, StringConstraints(max_length=64)]
    direction: Literal["max", "min"] = "max"
    log: bool = False
    weight: float = Field(1.0, ge=0)

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        from ..objectives import all_objectives
        known = all_objectives()
        if v not in known:
            raise ValueError(f"unknown objective {v!r}; known: {', '.join(known)}")
        return v


class Budget(Strict):
    evaluations: PositiveInt = Field(8, le=100_000, description="at most 100000 (a campaign "
                                     "ledger and its surrogate are sized for thousands)")
    wall_time_s: PositiveFloat | None = None


class Retry(Strict):
    """Retries per failure class, each with changed inputs (driver/campaign/tasks.py)."""

    max_attempts: PositiveInt = Field(3, le=10)


class Meta(Strict):
    """The meta loop (driver/campaign/meta.py)."""

    extend_md: bool = True
    max_prod_ps: PositiveFloat = Field(200.0, description="cap for doubling non-diffusive runs")
    adapt_exploration: bool = True
    window: PositiveInt = Field(5, description="results in the calibration window")


class Prior(Strict):
    """Experimental conductivities of known family members (the shipped OBELiX table) as prior
    observations of ``sigma_300K``, labelled and with a large noise (docs/campaign.md)."""

    enabled: bool = False
    noise_log10: PositiveFloat = Field(
        1.0, description="uncertainty given to each experimental point, in decades: experiment "
        "(total conductivity, grain boundaries, processing) and rigid-ion MD differ by that much")


class ScreenCandidate(Strict):
    """One entry of a screening list: a formula or an ordered CIF, optionally with its own
    potential (else md.potential) and a label that names it in the results."""

    formula: str | None = Field(None, max_length=200, description="e.g. Li6.4La3Zr1.4Ta0.6O12")
    cif: str | None = Field(None, max_length=4096, description="path of an ordered CIF file")
    potential: str | None = Field(None, max_length=100, description="name in potentials/")
    label: str | None = Field(None, max_length=100, pattern=r"^[A-Za-z0-9_.+-]+$",
                              description="a plain name (letters, digits, _ . + -)")

    @model_validator(mode="after")
    def _one_source(self) -> "ScreenCandidate":
        if (self.formula is None) == (self.cif is None):
            raise ValueError("give exactly one of formula or cif")
        return self


class CampaignSettings(Strict):
    name: str = "campaign"
    candidates: list[ScreenCandidate] | None = Field(
        None, min_length=1, max_length=10000,
        description="screening: evaluate exactly these compositions (formulas or CIFs), in "
        "order, instead of proposals from the optimizer; same Dask execution, ledger, resume, "
        "retries, status and report (docs/campaign.md)")
    family: FamilyName = Field(  # type: ignore[valid-type]
        families.DEFAULT_FAMILY, description="the material family (driver/families/)")
    species: dict[Role, Element] = Field(
        default_factory=dict, max_length=10,
        description="the element of each role of the family, e.g. {M: Nb, T: Ga} (garnet), "
        "{M: Ti} (nasicon), {M: Y, X: Cl} (halide); roles not given take the family's default "
        "(docs/campaign.md lists the roles and choices of each family)")
    # older spellings of one role each (kept so that existing configs keep their meaning)
    framework: Element | None = Field(None, description="= species.M (nasicon)")
    dopant_M: Element | None = Field(None, description="= species.M (garnet, on Zr)")
    dopant_T: Element | None = Field(None, description="= species.T (garnet, on Li)")
    variables: dict[str, list[float]] = Field(
        default_factory=lambda: {"x": [0.0, 0.8]},
        description="nasicon: x; garnet: y, z -> [low, high]; the step is set from the supercell")
    objectives: list[ObjectiveSpec] = Field(
        default_factory=lambda: [ObjectiveSpec(name="sigma_hot", log=True, weight=0.7),
                                 ObjectiveSpec(name="critical_current", log=True, weight=0.3)])
    ahp_matrix: list[list[float]] | None = Field(
        None, description="pairwise comparisons of the objectives; replaces their weights")
    initial_design: PositiveInt = Field(
        4, le=1000, description="Sobol points before the surrogate; at most 1000 (a design of "
        "1e9 points would allocate tens of GiB before the first run)")
    batch_size: PositiveInt = Field(2, le=1000)
    mode: Literal["async", "sync"] = Field(
        "async", description="async: propose as soon as a result arrives (workers never idle); "
        "sync: whole batches (the same seed gives the same proposals)")
    acquisition: Literal["ei", "ucb", "variance", "ehvi"] = Field(
        "ei", description="ei: expected improvement of the weighted objectives; ehvi: "
        "expected hypervolume improvement of 1-3 objectives, weights unused "
        "(docs/optimizer.md); ucb; variance (pure exploration)")
    batch_method: Literal["believer", "fantasy", "penalize"] = Field(
        "believer", description="how a batch (and points still running) is spread: kriging "
        "believer, fantasies or local penalization (docs/optimizer.md)")
    gp_priors: Literal["gamma", "dimension-scaled"] = Field(
        "gamma", description="GP hyperparameter priors (docs/optimizer.md): gamma = BoTorch's "
        "low-dimensional noisy-problem set, dimension-scaled = Hvarfner et al. 2024")
    budget: Budget = Budget()
    retry: Retry = Retry()
    task_timeout_s: PositiveFloat | None = Field(
        None, description="an absolute cap per stage subprocess (s; None: none). Stages are "
        "stopped by progress instead: stall_timeout_s and overrun_factor (campaign/watchdog.py)")
    stall_timeout_s: PositiveFloat | None = Field(
        900.0, description="stop a stage when nothing in its folder changed for this long: an "
        "MD stage writes its progress every sample interval (~100 MD steps), so 15 min without "
        "a line is a hang, not a busy machine")
    overrun_factor: float | None = Field(
        4.0, gt=1, le=100, description="stop a stage that ran this many times longer than its "
        "own pace (measured on its first MD run) predicted")
    phasefield: bool = Field(True, description="run the interface-stability stage (DOLFINx) "
                             "per candidate, the model stability_model names")
    stability_model: Literal["li_penetration", "degradation"] = Field(
        "li_penetration", description="li_penetration: critical current density for Li "
        "penetration through a Li-filled surface flaw, from the MD conductivity and moduli, with "
        "its interval (objective critical_current, mA/cm2); degradation: the Cahn-Hilliard "
        "degradation score (objective stability, dimensionless); docs/phasefield.md")
    interfacial_energy_J_m2: PositiveFloat = Field(
        0.5, description="gamma for the degradation model: an assumption of the campaign, "
        "recorded with each result (no literature default is claimed)")
    rating_noise: PositiveFloat = Field(
        0.5, description="standard error given to one expert rating (0-5 scale) when "
        "expert_rating is an objective: half a step, the resolution of the scale; n ratings of "
        "one candidate count as their mean with rating_noise / sqrt(n)")
    meta: Meta = Meta()
    prior: Prior = Prior()
    seed: int = 1

    @model_validator(mode="after")
    def _vars(self) -> "CampaignSettings":
        from ..families.roles import chosen_species

        chosen_species(self)     # every role and element known to the family (ValueError)
        allowed = set(families.get(self.family).VARIABLES)
        bad = set(self.variables) - allowed
        if bad or not self.variables:
            raise ValueError(f"variables for {self.family} are {', '.join(sorted(allowed))}; got "
                             f"{', '.join(sorted(self.variables)) or 'none'}")
        for k, v in self.variables.items():
            if len(v) != 2 or not v[0] < v[1]:
                raise ValueError(f"variables.{k} must be [low, high] with low < high")
        if self.prior.enabled and [o.name for o in self.objectives] != ["sigma_300K"]:
            raise ValueError("prior: experimental data are room-temperature conductivities, "
                             "comparable only to a single objective sigma_300K")
        names = [o.name for o in self.objectives]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"objectives list {', '.join(twice)} more than once; list each "
                             "objective once (its weight sets its share)")
        from ..objectives import get as objective
        for name in names:
            obj = objective(name)
            if obj.source == "phasefield" and not self.phasefield:
                raise ValueError(f"objective {name} comes from the phase-field stage, which "
                                 "campaign.phasefield: false turns off; remove it from objectives "
                                 "or enable the phase field")
            for key, want in obj.needs:
                if getattr(self, key) != want:
                    raise ValueError(f"objective {name} comes from {key}: {want} (this "
                                     f"campaign runs {getattr(self, key)}); change one of them")
        if self.ahp_matrix is not None and len(self.ahp_matrix) != len(self.objectives):
            raise ValueError("ahp_matrix must be n x n for the n objectives")
        if self.acquisition == "ehvi" and len(self.objectives) > 3:
            raise ValueError(f"acquisition ehvi handles 1-3 objectives, got "
                             f"{len(self.objectives)}; use ei (weighted) or fewer objectives")
        if self.acquisition == "ehvi" and self.batch_method == "fantasy":
            raise ValueError("acquisition ehvi batches with batch_method believer or penalize")
        return self
