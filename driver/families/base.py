"""What every family builds on: :class:`Family` (the contract a family module fulfils, one
subclass per family as dask-jobqueue has one per scheduler), the registry's storage
(``FAMILIES``, filled by ``driver/families/__init__.py``), the :class:`Candidate` (one
composition, neutral by construction) and the range check of its variables. Imports no
family and not the package, so family modules can import it freely (issue 31: no import
circle).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import CompositionError

TOL = 1e-6


def _num(a: float) -> str:
    return "" if abs(a - 1) < TOL else f"{a:.4g}"


#: family name -> family, in the order formulas are offered to them (filled by __init__)
FAMILIES: dict[str, "Family"] = {}


def get(name: str) -> "Family":
    """The family called ``name`` (KeyError naming the known ones otherwise)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None


class Family(ABC):
    """A material family: a composition space (a few continuous variables and element
    roles, charge-neutral by construction), the prototype structure its members are built
    on, and how a composition decorates that prototype. Nothing outside a family module
    names a family: the parser, the structure builder, the campaign and the checks ask
    the registry (``driver/families/__init__.py``) for these attributes and methods.

    Class attributes every family sets (checked when the subclass is defined):
    ``NAME``; ``KB_NAME`` (its name in the knowledge base, or a tuple of spellings);
    ``VARIABLES`` (composition variables); ``BOUNDS`` (the optimizer's default box, sourced);
    ``PHYSICAL_BOUNDS`` (what can exist); ``Z`` (formula units per prototype cell);
    ``PROTOTYPE`` (shipped CIF); ``ELEMENT_ORDER`` (formula order); ``ANION`` and
    ``ANION_COUNT`` (amounts are per that many anions; ``ANION`` may be a tuple, any of
    them); ``CLAIM`` (what the family is, for messages); ``OXIDATION`` (formal charges).
    With defaults: ``CHOICES`` (role -> the elements it may hold), ``DEFAULT_SPECIES``
    (role -> element when a campaign names none), ``SETTINGS_SPECIES`` (role -> the older
    campaign key that picks its element), ``MECHANISMS`` (charge compensation per dopant
    role, sourced), ``VALIDATION_SET`` (name and potentials of the family's own validation
    set, ``driver/validation/sets.family_sets``; None: none of its own).

    Physical constants known for one family only are its attributes, with their source;
    a family without a measured value says None (unknown), and what needs the value says
    it is not measurable rather than borrow another electrolyte's number:
    ``INTERFACE_RESISTANCE`` (Li | electrolyte charge-transfer resistance in Ohm cm2 and
    its source, the Li-penetration model's input).
    """

    NAME: ClassVar[str]
    KB_NAME: ClassVar[str | tuple[str, ...]]
    VARIABLES: ClassVar[tuple[str, ...]]
    BOUNDS: ClassVar[dict[str, tuple[float, float]]]
    PHYSICAL_BOUNDS: ClassVar[dict[str, tuple[float, float]]]
    ANION: ClassVar[str | tuple[str, ...]]
    ANION_COUNT: ClassVar[float]
    CLAIM: ClassVar[str]
    Z: ClassVar[int]
    PROTOTYPE: ClassVar[str]
    ELEMENT_ORDER: ClassVar[list[str]]
    OXIDATION: ClassVar[dict[str, int]]
    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {}
    DEFAULT_SPECIES: ClassVar[dict[str, str]] = {}
    SETTINGS_SPECIES: ClassVar[dict[str, str]] = {}
    MECHANISMS: ClassVar[dict[str, str]] = {}
    VALIDATION_SET: ClassVar[dict[str, Any] | None] = None
    INTERFACE_RESISTANCE: ClassVar[tuple[float, str] | None] = None

    REQUIRED: ClassVar[tuple[str, ...]] = (
        "NAME", "KB_NAME", "VARIABLES", "BOUNDS", "PHYSICAL_BOUNDS", "ANION", "ANION_COUNT",
        "CLAIM", "Z", "PROTOTYPE", "ELEMENT_ORDER", "OXIDATION")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        missing = [a for a in Family.REQUIRED if not hasattr(cls, a)]
        if missing:
            raise TypeError(f"family class {cls.__name__} does not set {', '.join(missing)} "
                            "(driver/families/base.Family lists what a family sets)")

    def __repr__(self) -> str:
        return f"<family {self.NAME}>"

    # ---------------------------------------------------------------- composition space
    @abstractmethod
    def amounts(self, variables: dict[str, float], species: dict[str, str]) -> dict[str, float]:
        """Atoms per formula unit of a point of the space with an element choice."""

    @abstractmethod
    def make(self, *args, **kwargs) -> "Candidate":
        """The candidate of the family's variables and element choices (keywords), within
        ``bounds`` (default ``BOUNDS``); CompositionError (one line) otherwise."""

    @abstractmethod
    def claims(self, elements: set[str]) -> bool:
        """Whether a formula with these elements is offered to this family to parse."""

    @abstractmethod
    def from_formula(self, formula: str, elements: set[str], per_anion,
                     bounds: dict | None) -> "Candidate":
        """The candidate of a formula whose amounts per ``ANION_COUNT`` anions are
        ``per_anion(element)``; CompositionError (one line) when it is not in the space."""

    @abstractmethod
    def from_campaign(self, campaign, x: dict[str, float]) -> "Candidate":
        """The candidate of a campaign's point ``x`` with the campaign's element choice."""

    @abstractmethod
    def constraints(self, variables) -> list[dict]:
        """Linear limits among the varied ``variables``: ``{"coeffs": {name: c}, "upper": u}``."""

    @abstractmethod
    def matches_campaign(self, campaign, candidate: "Candidate") -> bool:
        """Whether a known member belongs to the campaign's element choice (for priors)."""

    @abstractmethod
    def decorate(self, candidate: "Candidate", supercell, rng, orbits, lattice,
                 inexact: list) -> tuple[list, dict]:
        """Positions of every element in the supercell (``[(element, fractional coords)]``)
        and the realized variables; appends to ``inexact`` the variables the cell cannot
        hold exactly."""

    @abstractmethod
    def dopants(self, candidate: "Candidate") -> list[tuple[str, str, str, int, str]]:
        """(role, element, host element, host charge, coordination) of each substitution."""

    # ------------------------------------------------------------ optional, with defaults
    def prototype_for(self, species: dict[str, str]) -> tuple[str, int]:
        """The prototype CIF and formula units per cell of an element choice; a family
        whose members crystallize in more than one structure overrides this."""
        return self.PROTOTYPE, self.Z

    def check_species(self, species: dict[str, str]) -> None:
        """ValueError (one line) for a role combination the family cannot model."""

    def default_box(self, species: dict[str, str]) -> dict[str, tuple[float, float]]:
        """The optimizer's default box for an element choice (``BOUNDS`` unless the box
        depends on the species)."""
        return dict(self.BOUNDS)

    def formula(self, amounts: dict[str, float]) -> str:
        """The formula per formula unit, elements in ``ELEMENT_ORDER``."""
        return "".join(f"{el}{_num(amounts[el])}" for el in self.ELEMENT_ORDER if el in amounts)

    def display_formula(self, amounts: dict[str, float]) -> str:
        """The formula as the family's chemists write it (a family may keep its polyanion)."""
        return self.formula(amounts)



@dataclass(frozen=True)
class Candidate:
    """One composition: its family, dopant choice, variables and formula units."""

    family: str
    variables: dict[str, float]
    species: dict[str, str] = field(default_factory=dict)  # role -> element, e.g. M -> Ta

    @property
    def spec(self) -> Family:
        """The family (driver/families/)."""
        return get(self.family)

    @property
    def amounts(self) -> dict[str, float]:
        """Atoms per formula unit."""
        out = self.spec.amounts(self.variables, self.species)
        return {k: a for k, a in out.items() if a > TOL}

    @property
    def formula(self) -> str:
        return self.spec.formula(self.amounts)

    @property
    def display(self) -> str:
        """The formula as the family's chemists write it, per formula unit of its prototype
        (a family may keep its polyanion: ``Family.display_formula``)."""
        return self.spec.display_formula(self.amounts)

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
