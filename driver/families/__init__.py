"""Material families as plug-ins: one module per family owns everything specific to it.

A family module defines (see ``garnet.py`` for the documented reference):

- ``NAME``, ``KB_NAME`` (its name in the knowledge base), ``VARIABLES`` (composition
  variables), ``BOUNDS`` (the optimizer's default box, sourced), ``PHYSICAL_BOUNDS`` (what can
  exist), ``Z`` (formula units per prototype cell), ``PROTOTYPE`` (shipped CIF),
  ``ELEMENT_ORDER`` (formula order), ``ANION`` and ``ANION_COUNT`` (amounts are per that
  many anions), ``CLAIM`` (what the family is, for messages), ``OXIDATION`` (formal charges), ``SETTINGS_SPECIES``
  (role -> the campaign key that picks its element), ``MECHANISMS`` (charge compensation
  per dopant role, sourced);
- ``amounts(variables, species)``, ``make(...)``, ``claims(elements)``,
  ``from_formula(formula, elements, per_anion, bounds)``, ``from_campaign(camp, x)``,
  ``constraints(variables)``, ``matches_campaign(camp, cand)``, ``decorate(cand, sc, rng,
  orbits, big_lattice)``, ``dopants(cand)``;
- ``CHOICES`` (role -> the elements it may hold), ``DEFAULT_SPECIES`` (role -> element when
  a campaign names none; campaigns choose with ``campaign.species``);
- optionally ``VALIDATION_SET`` (name and potentials of the family's own validation set,
  ``driver/validation/sets.family_sets``); ``prototype_for(species)`` when members of the
  family crystallize in more than one structure (then ``PROTOTYPE``/``Z`` are the default
  choice's); ``check_species(species)`` for role combinations it cannot model;
  ``default_box(species)`` where the default box depends on the chosen species (``BOUNDS``
  otherwise). ``ANION`` may
  be a tuple of elements (amounts are per that many anions of any of them).

Nothing outside a family module names a family: the composition parser, the structure
builder, the campaign, the feasibility heuristics and the checks ask this registry.
Adding a family is one new module here plus its entry in ``FAMILIES``, and its tests.
"""

from __future__ import annotations


from . import argyrodite, garnet, halide, lirich_argyrodite, nasicon
from .registry import FAMILIES, get

#: in the order formulas are offered to them (the first whose ``claims`` accepts parses it)
FAMILIES.update({m.NAME: m for m in (garnet, nasicon, lirich_argyrodite, argyrodite, halide)})


#: the family of a campaign config that names none
DEFAULT_FAMILY = nasicon.NAME


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
    box = (fam.default_box(fam.DEFAULT_SPECIES) if hasattr(fam, "default_box")
           else fam.BOUNDS)
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
