"""Garnets Li(7-y-3z) La3 Zr(2-y) M(y) T(z) O12: M = Ta5+ or Nb5+ on the Zr site (each
removes one Li), T = Al3+ or Ga3+ on Li sites (each removes three Li). Prototype: cubic
Li6.6La3Zr1.6Ta0.4O12 (OBELiX 2wb, CC BY 4.0; ``driver/families/prototypes/SOURCE.md``)."""

from __future__ import annotations

import numpy as np

from ..errors import CompositionError
from .base import Candidate, Family, check_range
from .sites import count, fill, tile
from .roles import chosen_species


class Garnet(Family):
    """The family of this module's docstring."""

    NAME = "garnet"
    KB_NAME = "garnet"
    VARIABLES = ("y", "z")
    # the optimizer's default box: measured ranges of synthesized members
    BOUNDS = {
        "y": (0.0, 2.0),   # Li7La3Zr2O12 .. Li5La3Ta2O12 both made (10.1016/j.ssi.2010.12.010; Laskowski 2023)
        "z": (0.0, 0.25),  # Li6.25Ga0.25La3Zr2O12 (10.1016/j.matchemphys.2012.03.054); Al 0.24 (10.1016/j.ssi.2015.04.011)
    }
    #: the chemistry's own limits: M cannot exceed the Zr site (y <= 2), Li cannot go negative
    #: (z <= 7/3 at y = 0)
    PHYSICAL_BOUNDS = {"y": (0.0, 2.0), "z": (0.0, 7.0 / 3.0)}
    ANION, ANION_COUNT = "O", 12.0            # amounts are per 12 O
    CLAIM = "a garnet (La and O)"
    Z = 8                                   # formula units per conventional cell
    PROTOTYPE = "garnet_LLZTO_2wb.cif"
    ELEMENT_ORDER = ["Li", "Al", "Ga", "La", "Zr", "Ta", "Nb", "O"]
    OXIDATION = {"Li": 1, "Al": 3, "Ga": 3, "La": 3, "Zr": 4, "Ta": 5, "Nb": 5, "O": -2}
    #: element roles: the choices, the default, and the older campaign key of each role
    CHOICES = {"M": ("Ta", "Nb"), "T": ("Al", "Ga")}
    DEFAULT_SPECIES = {"M": "Ta", "T": "Al"}
    SETTINGS_SPECIES = {"M": "dopant_M", "T": "dopant_T"}
    #: clean Li | LLZO after removing the Li2CO3 surface layer (A. Sharafi et al., Chem.
    #: Mater. 29, 7961 (2017), doi:10.1021/acs.chemmater.7b03002): measured on Al-LLZO, taken
    #: for every garnet of the space (an assumption: dopants change it little next to the
    #: surface condition)
    INTERFACE_RESISTANCE = (2.0, "clean Li | LLZO, Sharafi et al., Chem. Mater. 2017, "
                                 "doi:10.1021/acs.chemmater.7b03002")
    MECHANISMS = {
        "M": "M5+ on Zr4+ compensated by one Li vacancy (e.g. Li6.4La3Zr1.4Ta0.6O12, doi:10.1039/c2jm31413d)",
        "T": "T3+ on Li+ compensated by two further Li vacancies (e.g. Li6.25Ga0.25La3Zr2O12, doi:10.1016/j.matchemphys.2012.03.054)",
    }

    def amounts(self, v: dict[str, float], species: dict[str, str]) -> dict[str, float]:
        """Atoms per formula unit (12 O)."""
        y, z = v.get("y", 0.0), v.get("z", 0.0)
        out = {"Li": 7 - y - 3 * z, "La": 3.0, "Zr": 2 - y, "O": 12.0}
        if y > 0:
            out[species["M"]] = y
        if z > 0:
            out[species["T"]] = out.get(species["T"], 0.0) + z
        return out

    def make(self, y: float = 0.0, z: float = 0.0, M: str = "Ta", T: str = "Al",
             bounds: dict | None = None):
        b = {**self.BOUNDS, **(bounds or {})}
        if M not in self.CHOICES["M"] or T not in self.CHOICES["T"]:
            raise CompositionError(f"garnet dopants are M = Ta or Nb and T = Al or Ga, got M={M}, T={T}")
        check_range("garnet", "y", y, b["y"])
        check_range("garnet", "z", z, b["z"])
        if 7 - y - 3 * z < 0:
            raise CompositionError(f"garnet y={y}, z={z} leaves negative Li (7 - y - 3z < 0)")
        return Candidate(self.NAME, {"y": float(y), "z": float(z)}, {"M": M, "T": T})

    def claims(self, elements: set[str]) -> bool:
        """A formula with La is offered to this family."""
        return "La" in elements and "O" in elements

    def from_formula(self, formula: str, els: set[str], g, bounds: dict | None):
        """The candidate of a formula with amounts per 12 O ``g(element)``."""
        extra = els - {"Li", "La", "Zr", "Ta", "Nb", "Al", "Ga", "O"}
        if extra:
            raise CompositionError(f"{formula}: {', '.join(sorted(extra))} not in the garnet space (Li, La, Zr, Ta/Nb, Al/Ga, O)")
        if "Ta" in els and "Nb" in els or "Al" in els and "Ga" in els:
            raise CompositionError(f"{formula}: use one of Ta/Nb and one of Al/Ga")
        if abs(g("La") - 3) > 1e-3:
            raise CompositionError(f"{formula}: garnet needs La3 per O12, got La{g('La'):.3g}")
        M = "Nb" if "Nb" in els else "Ta"
        T = "Ga" if "Ga" in els else "Al"
        y, z = g(M), g(T)
        if abs(g("Zr") - (2 - y)) > 1e-3:
            raise CompositionError(f"{formula}: Zr must be 2 - y = {2 - y:.4g} for {M}{y:.4g} (M on the Zr site)")
        return self.make(y, z, M, T, bounds)

    def from_campaign(self, camp, x: dict):
        """A campaign point; the campaign's box may reach the physical limits."""
        sp = chosen_species(camp)
        return self.make(x.get("y", 0.0), x.get("z", 0.0), sp["M"], sp["T"], bounds=self.PHYSICAL_BOUNDS)

    def constraints(self, variables) -> list[dict]:
        """Li >= 0 when both dopants vary."""
        if {"y", "z"} <= set(variables):
            return [{"coeffs": {"y": 1, "z": 3}, "upper": 7.0}]
        return []

    def matches_campaign(self, camp, cand) -> bool:
        """A known member that belongs to the campaign's dopant choice (for priors)."""
        sp = chosen_species(camp)
        return not ((cand.variables.get("y", 0) > 0 and cand.species["M"] != sp["M"])
                    or (cand.variables.get("z", 0) > 0 and cand.species["T"] != sp["T"]))

    def decorate(self, cand, sc, rng, orb, big, inexact: list) -> tuple[list, dict]:
        """Sites of every element in the supercell: M on the 16a Zr site at random, T on 24d,
        Li on 24d + 96h without close pairs (driver/families/structures.py helpers)."""
        ncell = sc[0] * sc[1] * sc[2]
        y, z = cand.variables["y"], cand.variables["z"]
        Mel, Tel = cand.species["M"], cand.species["T"]
        b_sites = tile(orb["Zr3"], sc)
        n_m = count(self.Z * y * ncell, "y", inexact)
        m_idx = rng.choice(len(b_sites), n_m, replace=False)
        is_m = np.zeros(len(b_sites), bool)
        is_m[m_idx] = True
        tet = tile(orb["Li0"], sc)
        octa = tile(orb["Li1"], sc)
        n_t = count(self.Z * z * ncell, "z", inexact)
        t_pos = fill(rng, tet, n_t, big, np.zeros((0, 3)), f"{Tel} on 24d")
        n_li = self.Z * ncell * 7 - n_m - 3 * n_t
        li_pos = fill(rng, np.vstack([tet, octa]), n_li, big, t_pos, "Li")
        groups = [("Li", li_pos), (Tel, t_pos), ("La", tile(orb["La2"], sc)),
                  ("Zr", b_sites[~is_m]), (Mel, b_sites[is_m]), ("O", tile(orb["O5"], sc))]
        return groups, {"y": n_m / (self.Z * ncell), "z": n_t / (self.Z * ncell)}

    def dopants(self, cand) -> list[tuple[str, str, str, int, str]]:
        """(role, element, host element, host charge, coordination) of each substitution."""
        out = []
        if cand.variables.get("y", 0) > 0:
            out.append(("M", cand.species["M"], "Zr", 4, "VI"))   # octahedral 16a Zr site
        if cand.variables.get("z", 0) > 0:
            out.append(("T", cand.species["T"], "Li", 1, "IV"))   # tetrahedral 24d Li site
        return out
