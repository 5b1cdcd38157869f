"""Lithium-rich argyrodites Li(6+m) P(1-m) M(m) S5 X with M = Si or Ge on the P site (each
M4+ on P5+ adds one interstitial Li) and X = Br or I.

Prototype: Li6.6P0.4Ge0.6S5I (OBELiX pa1, CC BY 4.0; ``driver/families/prototypes/SOURCE.md``;
Kraft et al., J. Am. Chem. Soc. 140, 16330 (2018), doi:10.1021/jacs.8b10282), F-43m: P/M on
4b, S on 16e, S and X shared between 4d (0, 0, 0) and 4a (1/4, 1/4, 3/4); Li on four
refined sites, the 48h and 24g of the parent and two further sites the extra Li open (a
second 48h and 16e). The parent's prototype (Li6PS5Cl, ``argyrodite.py``) lists only the
48h/24g doublets, which hold one Li each without Li-Li pairs closer than 1.9 A: 24 per
cell, fewer than 4(6 + m); hence a Li-rich refinement as the prototype of this space.

Assumptions, stated: bromides use the same sites and cell (the refined Si/Br series,
OBELiX fkj, lists only 48h and 24g, which cannot hold its 26 Li per cell at 1.9 A); the
fraction of X on 4d is each halide's own Li-rich refinement (Br 0.82 in
Li6.5P0.5Si0.5S5Br, OBELiX fkj, doi:10.1039/c7ta08581h; I 0.9229 in pa1), the Li sites'
shares are pa1's; both carried unchanged over m and over Si/Ge. No Li-rich chloride
refinement is shipped in OBELiX, so X = Cl is not in this space.
"""

from __future__ import annotations

import numpy as np

from ..errors import CompositionError
from .base import Candidate, Family, check_range
from .sites import count, fill, tile
from .roles import chosen_species, shares

#: fraction of the halide on 4d (0, 0, 0), the rest on 4a: each halide's Li-rich refinement
ON_4D = {"Br": 0.82, "I": 0.9229}
#: refined Li per cell on each Li site of pa1 (occupancy x multiplicity)
LI_SITES = {"Li0": 48 * 0.3178, "Li1": 24 * 0.3578, "Li2": 48 * 0.0422, "Li3": 16 * 0.037}


class LiRichArgyrodite(Family):
    """The family of this module's docstring."""

    NAME = "lirich_argyrodite"
    KB_NAME = "argyrodites"
    VARIABLES = ("m",)
    # the optimizer's default box: the measured Li6+xP1-xGexS5I series reaches x = 0.8
    # (OBELiX 1m8, doi:10.1021/jacs.8b10282); the Si/Br series x = 0.5 (fkj, doi:10.1039/c7ta08581h)
    BOUNDS = {"m": (0.0, 0.8)}
    #: the chemistry's own limit: M cannot exceed the P site (m <= 1)
    PHYSICAL_BOUNDS = {"m": (0.0, 1.0)}
    ANION, ANION_COUNT = "S", 5.0             # amounts are per 5 S
    CLAIM = "a Li-rich argyrodite (P, S and Si or Ge, no O)"
    Z = 4
    PROTOTYPE = "argyrodite_LPGSI_pa1.cif"
    ELEMENT_ORDER = ["Li", "P", "Si", "Ge", "S", "Br", "I"]
    OXIDATION = {"Li": 1, "P": 5, "Si": 4, "Ge": 4, "S": -2, "Br": -1, "I": -1}
    #: element roles: M on the P site, X the halide (no older campaign keys)
    CHOICES = {"M": ("Ge", "Si"), "X": ("I", "Br")}
    DEFAULT_SPECIES = {"M": "Ge", "X": "I"}
    SETTINGS_SPECIES: dict[str, str] = {}
    MECHANISMS = {
        "M": "M4+ on P5+ compensated by one interstitial Li (Li6+xP1-xGexS5I, doi:10.1021/jacs.8b10282; "
             "Li6+xP1-xSixS5Br, doi:10.1039/c7ta08581h)",
    }

    def amounts(self, v: dict[str, float], species: dict[str, str]) -> dict[str, float]:
        """Atoms per formula unit (5 S)."""
        m = v.get("m", 0.0)
        out = {"Li": 6.0 + m, "P": 1.0 - m, "S": 5.0, species["X"]: 1.0}
        if m > 0:
            out[species["M"]] = m
        return out

    def make(self, m: float = 0.0, M: str = "Ge", X: str = "I", bounds: dict | None = None):
        if M not in self.CHOICES["M"] or X not in self.CHOICES["X"]:
            raise CompositionError(f"Li-rich argyrodite M must be Si or Ge and X Br or I, got "
                                   f"M={M}, X={X}")
        check_range("Li-rich argyrodite", "m", m, {**self.BOUNDS, **(bounds or {})}["m"])
        return Candidate(self.NAME, {"m": float(m)}, {"M": M, "X": X})

    def claims(self, elements: set[str]) -> bool:
        """A formula with P, S and Si or Ge, and no O."""
        return {"P", "S"} <= elements and bool(elements & {"Si", "Ge"}) and "O" not in elements

    def from_formula(self, formula: str, els: set[str], g, bounds: dict | None):
        """The candidate of a formula with amounts per 5 S ``g(element)``."""
        extra = els - {"Li", "P", "Si", "Ge", "S", "Br", "I"}
        if extra:
            raise CompositionError(f"{formula}: {', '.join(sorted(extra))} not in the Li-rich "
                                   "argyrodite space Li(6+x)P(1-x)M(x)S5X, M = Si or Ge, X = Br or I")
        if {"Si", "Ge"} <= els or {"Br", "I"} <= els:
            raise CompositionError(f"{formula}: one of Si/Ge and one of Br/I per composition")
        M = "Si" if "Si" in els else "Ge"
        X = "Br" if "Br" in els else "I"
        if abs(g(X) - 1) > 1e-3:
            raise CompositionError(f"{formula}: Li-rich argyrodite needs one halide per S5, got "
                                   f"{X}{g(X):.4g}")
        m = g(M)
        if abs(g("P") - (1 - m)) > 1e-3:
            raise CompositionError(f"{formula}: P must be 1 - x = {1 - m:.4g} for {M}{m:.4g} "
                                   "(M on the P site)")
        return self.make(m, M, X, bounds)

    def from_campaign(self, camp, x: dict):
        sp = chosen_species(camp)
        return self.make(x.get("m", 0.0), sp["M"], sp["X"], bounds=self.PHYSICAL_BOUNDS)

    def constraints(self, variables) -> list[dict]:
        return []

    def matches_campaign(self, camp, cand) -> bool:
        """A known member with the campaign's halide and, when substituted, its M."""
        sp = chosen_species(camp)
        return cand.species["X"] == sp["X"] and (cand.variables["m"] == 0
                                                 or cand.species["M"] == sp["M"])

    def decorate(self, cand, sc, rng, orb, big, inexact: list) -> tuple[list, dict]:
        """M on 4b at random; X on 4d and 4a by its refined share, S on the rest of them; Li on
        the four refined sites (shares below), placed site after site at random with no Li-Li
        pair closer than 1.9 A (``structures.fill``)."""
        ncell = sc[0] * sc[1] * sc[2]
        n_m = count(self.Z * ncell * cand.variables["m"], "m", inexact)
        b_sites = tile(orb["P4"], sc)
        is_m = np.zeros(len(b_sites), bool)
        is_m[rng.choice(len(b_sites), n_m, replace=False)] = True
        X = cand.species["X"]
        site_d, site_a = tile(orb["I9"], sc), tile(orb["S7"], sc)
        n_x = self.Z * ncell
        on_d = int(round(n_x * ON_4D[X]))
        od, oa = rng.permutation(len(site_d)), rng.permutation(len(site_a))
        x_pos = np.vstack([site_d[od[:on_d]], site_a[oa[:n_x - on_d]]])
        s_extra = np.vstack([site_d[od[on_d:]], site_a[oa[n_x - on_d:]]])
        n_li = self.Z * ncell * 6 + n_m
        # the 48h/24g doublets hold what they hold in pa1 (23.8 Li per cell; the parent's 24),
        # each site in pa1's ratio; the Li beyond that open the second 48h and 16e, in theirs
        on_doublets = min(n_li, int(round(ncell * (LI_SITES["Li0"] + LI_SITES["Li1"]))))
        share = {**shares(on_doublets, {k: LI_SITES[k] for k in ("Li0", "Li1")}),
                 **shares(n_li - on_doublets, {k: LI_SITES[k] for k in ("Li2", "Li3")})}
        placed = np.zeros((0, 3))
        for label in ("Li1", "Li0", "Li2", "Li3"):      # 24g first: each blocks its doublet
            new = fill(rng, tile(orb[label], sc), share[label], big, placed, f"Li on {label}")
            placed = np.vstack([placed, new])
        groups = [("Li", placed), ("P", b_sites[~is_m]), (cand.species["M"], b_sites[is_m]),
                  ("S", np.vstack([tile(orb["S6"], sc), s_extra])), (X, x_pos)]
        return [(el, pos) for el, pos in groups if len(pos)], {"m": n_m / (self.Z * ncell)}

    def dopants(self, cand) -> list[tuple[str, str, str, int, str]]:
        """(role, element, host element, host charge, coordination) of each substitution."""
        if cand.variables.get("m", 0) > 0:
            return [("M", cand.species["M"], "P", 5, "IV")]     # tetrahedral 4b P5+ site
        return []
