"""Material families as plug-ins: one module per family owns everything specific to it, as
one subclass of ``base.Family`` (its docstring is the contract: the class attributes and
methods a family defines, and the optional ones with their defaults; ``garnet.py`` is the
documented reference). The registry holds one instance per family.

Nothing outside a family module names a family: the composition parser, the structure
builder, the campaign, the feasibility heuristics and the checks ask this registry.
Adding a family is one new module here plus its entry in ``FAMILIES``, and its tests.
"""

from __future__ import annotations


from .argyrodite import Argyrodite
from .base import FAMILIES, Family, get  # noqa: F401  (the public names)
from .garnet import Garnet
from .halide import Halide
from .lirich_argyrodite import LiRichArgyrodite
from .nasicon import Nasicon

#: in the order formulas are offered to them (the first whose ``claims`` accepts parses it)
FAMILIES.update({f.NAME: f for f in (Garnet(), Nasicon(), LiRichArgyrodite(), Argyrodite(),
                                     Halide())})


#: the family of a campaign config that names none
DEFAULT_FAMILY = Nasicon.NAME


def physical_bounds() -> dict[str, tuple[float, float]]:
    """Every family's own limits (what can exist), merged: keys are family-specific."""
    out: dict[str, tuple[float, float]] = {}
    for m in FAMILIES.values():
        out.update(m.PHYSICAL_BOUNDS)
    return out


def box_corners(variables) -> list[dict[str, float]]:
    """Every corner of a box of composition variables ({name: (low, high)}), as {name: value}."""
    from itertools import product

    names = list(variables)
    return [dict(zip(names, (float(c) for c in corner)))
            for corner in product(*(variables[n] for n in names))]


def corners(name: str) -> list:
    """The family's compositions at every corner of its default box (``BOUNDS``) that its
    constraints allow, with its default species: the extremes a campaign over that box
    reaches, so a model that covers them covers every element and amount in between (what a
    student for the family is distilled on: ``sse-driver distil --family``)."""
    fam = get(name)
    names = list(fam.VARIABLES)
    box = fam.default_box(fam.DEFAULT_SPECIES)
    limits = fam.constraints(names)
    out, seen = [], set()
    for x in box_corners({n: box[n] for n in names}):
        if any(sum(float(c) * x[k] for k, c in lim["coeffs"].items()) > lim["upper"] + 1e-9
               for lim in limits):
            continue
        cand = fam.make(**x, **fam.DEFAULT_SPECIES)
        if cand.formula not in seen:
            seen.add(cand.formula)
            out.append(cand)
    return out
