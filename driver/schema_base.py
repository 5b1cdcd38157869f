"""Base model for every settings section: unknown keys are errors, not ignored, and no
number may be NaN or infinite (``prod_ps: .inf`` would otherwise reach LAMMPS as a step
count)."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
