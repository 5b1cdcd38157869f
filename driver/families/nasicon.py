"""NASICONs Li(1+x) Al(x) M(2-x) (PO4)3 with M = Ge4+ or Ti4+ (each Al adds one Li).
Prototype: LAGP (ICSD 263763 via OBELiX 1xf, CC BY 4.0; ``driver/families/prototypes/SOURCE.md``).
The bounds are keyed by the framework cation M (the variable is x for both)."""

from __future__ import annotations

import numpy as np

from ..errors import CompositionError
from .base import Candidate, Family, check_range
from .sites import count, fill, tile
from .roles import chosen_species


class Nasicon(Family):
    """The family of this module's docstring."""

    NAME = "nasicon"
    KB_NAME = "NASICON"
    VARIABLES = ("x",)
    BOUNDS = {
        "Ge": (0.0, 0.8),  # LAGP synthesized up to x = 0.8 (10.1021/acsami.8b00842)
        "Ti": (0.0, 0.6),  # LATP up to x = 0.6 (10.1016/S0955-2219(99)00055-2)
    }
    #: the chemistry's own limit: Al cannot exceed the framework site (x <= 2)
    PHYSICAL_BOUNDS = {"Ge": (0.0, 2.0), "Ti": (0.0, 2.0)}
    ANION, ANION_COUNT = "O", 12.0            # amounts are per 12 O
    CLAIM = "a NASICON (P and O)"
    Z = 6
    PROTOTYPE = "nasicon_LAGP_1xf.cif"
    ELEMENT_ORDER = ["Li", "Al", "Ge", "Ti", "P", "O"]
    OXIDATION = {"Li": 1, "Al": 3, "Ge": 4, "Ti": 4, "P": 5, "O": -2}
    #: element roles: the choices, the default, and the older campaign key of each role
    CHOICES = {"M": ("Ge", "Ti")}
    DEFAULT_SPECIES = {"M": "Ge"}
    SETTINGS_SPECIES = {"M": "framework"}
    MECHANISMS = {
        "Al": "Al3+ on M4+ compensated by one interstitial Li (LAGP/LATP, doi:10.1021/acsami.8b00842)",
    }

    def amounts(self, v: dict[str, float], species: dict[str, str]) -> dict[str, float]:
        """Atoms per formula unit (12 O)."""
        x = v["x"]
        out = {"Li": 1 + x, species["M"]: 2 - x, "P": 3.0, "O": 12.0}
        if x > 0:
            out["Al"] = x
        return out

    def default_box(self, species: dict[str, str]) -> dict[str, tuple[float, float]]:
        """The optimizer's default box for the chosen framework cation (``BOUNDS`` is per M)."""
        return {"x": self.BOUNDS[species["M"]]}

    def display_formula(self, amounts: dict[str, float]) -> str:
        """Per formula unit with the phosphate kept, as NASICON papers write it:
        Li1.5Al0.5Ge1.5(PO4)3."""
        def num(a: float) -> str:
            return "" if abs(a - 1) < 1e-9 else f"{a:.4g}"
        head = "".join(f"{el}{num(amounts[el])}" for el in self.ELEMENT_ORDER
                       if el in amounts and el not in ("P", "O"))
        return f"{head}(PO4){num(amounts.get('P', 3.0))}"

    def make(self, x: float, M: str = "Ge", bounds: dict | None = None):
        b = {**self.BOUNDS, **(bounds or {})}
        if M not in b:
            raise CompositionError(f"NASICON framework cation must be Ge or Ti, got {M}")
        check_range(f"NASICON (M={M})", "x", x, b[M])
        return Candidate(self.NAME, {"x": float(x)}, {"M": M})

    def claims(self, elements: set[str]) -> bool:
        """A formula with P (and no La) is offered to this family."""
        return "P" in elements and "O" in elements

    def from_formula(self, formula: str, els: set[str], g, bounds: dict | None):
        extra = els - {"Li", "Al", "Ge", "Ti", "P", "O"}
        if extra:
            raise CompositionError(f"{formula}: {', '.join(sorted(extra))} not in the NASICON space Li(1+x)Al(x)M(2-x)(PO4)3, M = Ge or Ti")
        if abs(g("P") - 3) > 1e-3:
            raise CompositionError(f"{formula}: NASICON needs (PO4)3, got P{g('P'):.3g}O12")
        if "Ge" in els and "Ti" in els:
            raise CompositionError(f"{formula}: mixed Ge/Ti frameworks are not in the space; use one")
        M = "Ti" if "Ti" in els else "Ge"
        x = g("Al")
        if abs(g(M) - (2 - x)) > 1e-3:
            raise CompositionError(f"{formula}: {M} must be 2 - x = {2 - x:.4g} for Al{x:.4g}")
        return self.make(x, M, bounds)

    def from_campaign(self, camp, x: dict):
        M = chosen_species(camp)["M"]
        return self.make(x["x"], M, bounds={M: self.PHYSICAL_BOUNDS[M]})

    def constraints(self, variables) -> list[dict]:
        return []

    def matches_campaign(self, camp, cand) -> bool:
        return cand.species["M"] == chosen_species(camp)["M"]

    def decorate(self, cand, sc, rng, orb, big, inexact: list) -> tuple[list, dict]:
        """Al on the 12c M site at random; Li on M1 (full) plus one per Al on M2 (36f)."""
        ncell = sc[0] * sc[1] * sc[2]
        M = cand.species["M"]
        m_sites = tile(orb["Ge2"], sc)
        n_al = count(self.Z * cand.variables["x"] * ncell, "x", inexact)
        al_idx = rng.choice(len(m_sites), n_al, replace=False)
        is_al = np.zeros(len(m_sites), bool)
        is_al[al_idx] = True
        li_m1 = tile(orb["Li1"], sc)
        li_m2 = fill(rng, tile(orb["Li0"], sc), n_al, big, li_m1, "extra Li on M2")
        groups = [("Li", np.vstack([li_m1, li_m2])), ("Al", m_sites[is_al]),
                  (M, m_sites[~is_al]), ("P", tile(orb["P4"], sc)),
                  ("O", np.vstack([tile(orb["O5"], sc), tile(orb["O6"], sc)]))]
        return groups, {"x": n_al / (self.Z * ncell)}

    def dopants(self, cand) -> list[tuple[str, str, str, int, str]]:
        if cand.variables.get("x", 0) > 0:
            return [("Al", "Al", cand.species["M"], 4, "VI")]   # octahedral 12c M4+ site
        return []
