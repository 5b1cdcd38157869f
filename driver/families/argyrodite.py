"""Argyrodites Li6PS5X with X = Cl(1-br-i) Br(br) I(i) on the halide site (isovalent mixing:
no charge compensation). Prototype: Li6PS5Cl (OBELiX 122, CC BY 4.0;
``driver/families/prototypes/SOURCE.md``), F-43m: P on 4b, S on 16e, S/X shared between 4a and 4d,
Li half-filling 48h.

How X and S share 4a and 4d depends on the halide; the fraction of each halide on 4a is the
refined value of its end member (Li6PS5Cl 0.385, Li6PS5Br 0.86, Li6PS5I 1.0: OBELiX 122,
6jf, ywe, all three refined in the study doi:10.1021/jacs.7b06327) and is carried over unchanged into mixtures (an assumption: the
mixed compounds' own refinements are not used).

Aliovalent Li(6+x)P(1-x)M(x)S5X (M = Si, Ge) are a family of their own
(``lirich_argyrodite.py``): their extra Li occupy further sites (a second 48h, 16e) that
the Li6PS5Cl prototype does not list, so they need a Li-rich refinement as prototype.
"""

from __future__ import annotations

import numpy as np

from ..errors import CompositionError
from .base import Candidate, Family, check_range
from .sites import count, fill, tile

HALIDES = ("Cl", "Br", "I")
#: fraction of each halide's atoms on 4a (the rest on 4d), from its end member's refinement
#: (OBELiX 122, 6jf, ywe; doi:10.1021/jacs.7b06327)
ON_4A = {"Cl": 0.385, "Br": 0.86, "I": 1.0}


def _fractions(v: dict[str, float]) -> dict[str, float]:
    br, i = v.get("br", 0.0), v.get("i", 0.0)
    return {"Cl": 1.0 - br - i, "Br": br, "I": i}


def _split(n_x: dict[str, int], n_4a: int) -> dict[str, int]:
    """Halides of each kind on 4a: n_X * ON_4A[X] rounded so that the total is the
    largest-remainder rounding of the sum, and never more than the 4a sites."""
    want = {x: n * ON_4A[x] for x, n in n_x.items()}
    base = {x: int(np.floor(w + 1e-9)) for x, w in want.items()}
    total = min(n_4a, int(round(sum(want.values()))))
    for x in sorted(want, key=lambda x: want[x] - base[x], reverse=True):
        if sum(base.values()) >= total:
            break
        if base[x] < n_x[x]:
            base[x] += 1
    return base


class Argyrodite(Family):
    """The family of this module's docstring."""

    NAME = "argyrodite"
    KB_NAME = "argyrodites"
    VARIABLES = ("br", "i")
    # the optimizer's default box: every end member and the Cl/Br and Br/I series were made
    # (Li6PS5Cl0.75Br0.25 .. Li6PS5Br0.25I0.75, doi:10.1021/jacs.7b06327)
    BOUNDS = {"br": (0.0, 1.0), "i": (0.0, 1.0)}
    #: the chemistry's own limits: the halide fractions are fractions (br + i <= 1, constraints)
    PHYSICAL_BOUNDS = {"br": (0.0, 1.0), "i": (0.0, 1.0)}
    ANION, ANION_COUNT = "S", 5.0             # amounts are per 5 S
    CLAIM = "an argyrodite (P and S, no O)"
    Z = 4
    PROTOTYPE = "argyrodite_LPSCl_122.cif"
    ELEMENT_ORDER = ["Li", "P", "S", "Cl", "Br", "I"]
    OXIDATION = {"Li": 1, "P": 5, "S": -2, "Cl": -1, "Br": -1, "I": -1}
    CHOICES: dict[str, tuple[str, ...]] = {}  # no element choice: the halides are variables
    DEFAULT_SPECIES: dict[str, str] = {}
    SETTINGS_SPECIES: dict[str, str] = {}
    MECHANISMS: dict[str, str] = {}           # isovalent: nothing to compensate
    #: its validation set (driver/validation/sets.py rule, this family only): the ML potential
    #: is the only shipped one covering S and the halides (docs/md.md)
    VALIDATION_SET = {"name": "argyrodites-obelix", "potentials": ("sevennet0",)}

    def amounts(self, v: dict[str, float], species: dict[str, str]) -> dict[str, float]:
        """Atoms per formula unit (5 S)."""
        out = {"Li": 6.0, "P": 1.0, "S": 5.0}
        out.update({x: f for x, f in _fractions(v).items() if f > 0})
        return out

    def make(self, br: float = 0.0, i: float = 0.0, bounds: dict | None = None):
        b = {**self.BOUNDS, **(bounds or {})}
        check_range("argyrodite", "br", br, b["br"])
        check_range("argyrodite", "i", i, b["i"])
        if br + i > 1.0 + 1e-6:
            raise CompositionError(f"argyrodite br={br}, i={i}: the Br and I fractions of the "
                                   "halide site add to more than 1")
        return Candidate(self.NAME, {"br": float(br), "i": float(i)}, {})

    def claims(self, elements: set[str]) -> bool:
        """A formula with P and S and no O is offered to this family."""
        return {"P", "S"} <= elements and "O" not in elements

    def from_formula(self, formula: str, els: set[str], g, bounds: dict | None):
        """The candidate of a formula with amounts per 5 S ``g(element)``."""
        extra = els - {"Li", "P", "S", *HALIDES}
        if extra:
            raise CompositionError(f"{formula}: {', '.join(sorted(extra))} not in the argyrodite "
                                   "space Li6PS5X, X = Cl, Br, I or a mixture")
        if abs(g("P") - 1) > 1e-3:
            raise CompositionError(f"{formula}: argyrodite needs P1 per S5, got P{g('P'):.3g}")
        total = sum(g(x) for x in HALIDES)
        if abs(total - 1) > 1e-3:
            raise CompositionError(f"{formula}: argyrodite needs one halide per S5 (Li6PS5X), "
                                   f"got {total:.4g}")
        return self.make(g("Br"), g("I"), bounds)

    def from_campaign(self, camp, x: dict):
        return self.make(x.get("br", 0.0), x.get("i", 0.0), bounds=self.PHYSICAL_BOUNDS)

    def constraints(self, variables) -> list[dict]:
        """br + i <= 1 when both vary."""
        if {"br", "i"} <= set(variables):
            return [{"coeffs": {"br": 1, "i": 1}, "upper": 1.0}]
        return []

    def matches_campaign(self, camp, cand) -> bool:
        return True

    def decorate(self, cand, sc, rng, orb, big, inexact: list) -> tuple[list, dict]:
        """P on 4b, S on 16e; halides and the fifth S shared between 4a and 4d (ON_4A), each
        at random within its site; Li on 48h at random without pairs closer than MIN_LI_LI
        (which leaves one Li per close 48h pair, as in the refined half-occupied site)."""
        ncell = sc[0] * sc[1] * sc[2]
        frac = _fractions(cand.variables)
        n_x = {x: count(self.Z * ncell * frac[x], x, inexact) for x in ("Br", "I")}
        n_x = {"Cl": self.Z * ncell - n_x["Br"] - n_x["I"], **n_x}
        site_4a, site_4d = tile(orb["Cl3"], sc), tile(orb["Cl5"], sc)
        on_4a = _split(n_x, len(site_4a))
        order_a, order_d = rng.permutation(len(site_4a)), rng.permutation(len(site_4d))
        halides, ia, idd = [], 0, 0
        for x in HALIDES:
            a, d = on_4a[x], n_x[x] - on_4a[x]
            halides.append((x, np.vstack([site_4a[order_a[ia:ia + a]], site_4d[order_d[idd:idd + d]]])))
            ia, idd = ia + a, idd + d
        s_extra = np.vstack([site_4a[order_a[ia:]], site_4d[order_d[idd:]]])
        li = fill(rng, tile(orb["Li0"], sc), self.Z * ncell * 6, big, np.zeros((0, 3)), "Li on 48h")
        groups = [("Li", li), ("P", tile(orb["P1"], sc)),
                  ("S", np.vstack([tile(orb["S2"], sc), s_extra]))] + \
                 [(x, pos) for x, pos in halides if len(pos)]
        return groups, {"br": n_x["Br"] / (self.Z * ncell), "i": n_x["I"] / (self.Z * ncell)}

    def dopants(self, cand) -> list[tuple[str, str, str, int, str]]:
        """No aliovalent substitution in this space (halide mixing is isovalent)."""
        return []
