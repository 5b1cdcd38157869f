"""Base model for every settings section: unknown keys are errors, not ignored, and no
number may be NaN or infinite (``prod_ps: .inf`` would otherwise reach LAMMPS as a step
count)."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def line_breakers(text: str) -> list[str]:
    """The characters of ``text`` that can end or hide a line where it is written out (a
    LAMMPS comment, a batch-script line): control and format characters (Unicode C*) and
    line/paragraph separators (Zl, Zp), sorted."""
    import unicodedata

    return sorted({c for c in text if unicodedata.category(c)[0] == "C"
                   or unicodedata.category(c) in ("Zl", "Zp")})


def first_problem(exc) -> str:
    """``field.path: message`` of a pydantic ValidationError's first error (one line)."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{loc}: {first['msg']}"
