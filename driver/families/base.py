"""What every family module builds on: the :class:`Candidate` (one composition, neutral by
construction) and the range check of its variables. Imports no family and not the package
(the registry is looked up at call time), so family modules can import it freely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import CompositionError
from . import registry

TOL = 1e-6


@dataclass(frozen=True)
class Candidate:
    """One composition: its family, dopant choice, variables and formula units."""

    family: str
    variables: dict[str, float]
    species: dict[str, str] = field(default_factory=dict)  # role -> element, e.g. M -> Ta

    @property
    def spec(self):
        """The family module (driver/families/)."""
        return registry.get(self.family)

    @property
    def amounts(self) -> dict[str, float]:
        """Atoms per formula unit."""
        out = self.spec.amounts(self.variables, self.species)
        return {k: a for k, a in out.items() if a > TOL}

    @property
    def formula(self) -> str:
        def num(a: float) -> str:
            return "" if abs(a - 1) < TOL else f"{a:.4g}"
        a = self.amounts
        return "".join(f"{el}{num(a[el])}" for el in self.spec.ELEMENT_ORDER if el in a)

    @property
    def display(self) -> str:
        """The formula as the family's chemists write it, per formula unit of its prototype
        (a family may keep its polyanion: ``display_formula``); ``formula`` otherwise."""
        show = getattr(self.spec, "display_formula", None)
        return show(self.amounts) if show else self.formula

    def charge(self) -> float:
        """Net formal charge per formula unit (0 by construction)."""
        ox = self.spec.OXIDATION
        return sum(ox[el] * n for el, n in self.amounts.items())


class OutOfBounds(CompositionError):
    """A composition variable outside the bounds it was checked against (the default box of
    synthesized members, or the chemistry's physical limits); the parts kept for callers that
    know which bounds they passed and can say so."""

    def __init__(self, space: str, name: str, value: float, lo: float, hi: float):
        self.space, self.name, self.value, self.lo, self.hi = space, name, value, lo, hi
        super().__init__(
            f"{space} {name}={value} is outside its bounds [{lo}, {hi}] (the measured range "
            f"of synthesized members); change the value or widen the bounds in the config")


def check_range(space: str, name: str, value: float, lo_hi: tuple[float, float]) -> None:
    lo, hi = lo_hi
    if not (math.isfinite(value) and lo - TOL <= value <= hi + TOL):
        raise OutOfBounds(space, name, value, lo, hi)
