"""Composition spaces as data, charge-neutral by construction.

A point in a space is a few continuous variables (the dopant amounts); the formula
follows from them, so every point is neutral with formal oxidation states. Parsing a
user formula goes the other way and refuses formulas that are not in the space or not
neutral, saying what the right amount would be.

- garnet: Li(7-y-3z) La3 Zr(2-y) M(y) T(z) O12, M = Ta5+ or Nb5+ on the Zr site (each
  removes one Li), T = Al3+ or Ga3+ on Li sites (each removes three Li).
- nasicon: Li(1+x) Al(x) M(2-x) (PO4)3 with M = Ge4+ or Ti4+ (each Al adds one Li).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pymatgen.core import Composition as PmgComposition

from ..errors import CompositionError

# Default bounds are the measured ranges of synthesized members (sources beside each).
GARNET_BOUNDS = {
    "y": (0.0, 2.0),   # Li7La3Zr2O12 .. Li5La3Ta2O12 both made (10.1016/j.ssi.2010.12.010; Laskowski 2023)
    "z": (0.0, 0.25),  # Li6.25Ga0.25La3Zr2O12 (10.1016/j.matchemphys.2012.03.054); Al 0.24 (10.1016/j.ssi.2015.04.011)
}
NASICON_BOUNDS = {
    "Ge": (0.0, 0.8),  # LAGP synthesized up to x = 0.8 (10.1021/acsami.8b00842)
    "Ti": (0.0, 0.6),  # LATP up to x = 0.6 (10.1016/S0955-2219(99)00055-2)
}
#: The chemistry's own limits, for compositions a user names (``md --composition``, a
#: screening list): M cannot exceed the Zr site (y <= 2), Li cannot go negative
#: (z <= 7/3 at y = 0), Al cannot exceed the framework site (x <= 2). The bounds above are
#: the optimizer's default search box; these only refuse what cannot exist.
PHYSICAL_BOUNDS = {"Ge": (0.0, 2.0), "Ti": (0.0, 2.0), "y": (0.0, 2.0), "z": (0.0, 7.0 / 3.0)}
TOL = 1e-6


@dataclass(frozen=True)
class Candidate:
    """One composition: its family, dopant choice, variables and formula units."""

    family: str
    variables: dict[str, float]
    species: dict[str, str] = field(default_factory=dict)  # role -> element, e.g. M -> Ta

    @property
    def amounts(self) -> dict[str, float]:
        """Atoms per formula unit (12 O for both families)."""
        v = self.variables
        if self.family == "garnet":
            y, z = v.get("y", 0.0), v.get("z", 0.0)
            out = {"Li": 7 - y - 3 * z, "La": 3.0, "Zr": 2 - y, "O": 12.0}
            if y > 0:
                out[self.species["M"]] = y
            if z > 0:
                out[self.species["T"]] = out.get(self.species["T"], 0.0) + z
        else:
            x = v["x"]
            out = {"Li": 1 + x, self.species["M"]: 2 - x, "P": 3.0, "O": 12.0}
            if x > 0:
                out["Al"] = x
        return {k: a for k, a in out.items() if a > TOL}

    @property
    def formula(self) -> str:
        def num(a: float) -> str:
            return "" if abs(a - 1) < TOL else f"{a:.4g}"
        order = (["Li", "Al", "Ga", "La", "Zr", "Ta", "Nb", "O"] if self.family == "garnet"
                 else ["Li", "Al", "Ge", "Ti", "P", "O"])
        a = self.amounts
        return "".join(f"{el}{num(a[el])}" for el in order if el in a)

    def charge(self) -> float:
        """Net formal charge per formula unit (0 by construction)."""
        ox = {"Li": 1, "Al": 3, "Ga": 3, "La": 3, "Zr": 4, "Ge": 4, "Ti": 4, "Ta": 5,
              "Nb": 5, "P": 5, "O": -2}
        return sum(ox[el] * n for el, n in self.amounts.items())


def garnet(y: float = 0.0, z: float = 0.0, M: str = "Ta", T: str = "Al",
           bounds: dict | None = None) -> Candidate:
    b = {**GARNET_BOUNDS, **(bounds or {})}
    if M not in ("Ta", "Nb") or T not in ("Al", "Ga"):
        raise CompositionError(f"garnet dopants are M = Ta or Nb and T = Al or Ga, got M={M}, T={T}")
    _check_range("garnet", "y", y, b["y"])
    _check_range("garnet", "z", z, b["z"])
    if 7 - y - 3 * z < 0:
        raise CompositionError(f"garnet y={y}, z={z} leaves negative Li (7 - y - 3z < 0)")
    return Candidate("garnet", {"y": float(y), "z": float(z)}, {"M": M, "T": T})


def nasicon(x: float, M: str = "Ge", bounds: dict | None = None) -> Candidate:
    b = {**NASICON_BOUNDS, **(bounds or {})}
    if M not in b:
        raise CompositionError(f"NASICON framework cation must be Ge or Ti, got {M}")
    _check_range(f"NASICON (M={M})", "x", x, b[M])
    return Candidate("nasicon", {"x": float(x)}, {"M": M})


def _check_range(space: str, name: str, value: float, lo_hi: tuple[float, float]) -> None:
    lo, hi = lo_hi
    if not (math.isfinite(value) and lo - TOL <= value <= hi + TOL):
        raise CompositionError(
            f"{space} {name}={value} is outside its bounds [{lo}, {hi}] (the measured range "
            f"of synthesized members); change the value or widen the bounds in the config")


def parse(formula: str, bounds: dict | None = None) -> Candidate:
    """A garnet or NASICON candidate from a formula such as ``Li1.5Al0.5Ge1.5(PO4)3``."""
    try:
        comp = PmgComposition(formula)
    except Exception:
        raise CompositionError(f"cannot parse formula {formula!r}; write it like "
                               "Li1.5Al0.5Ge1.5(PO4)3 or Li6.4La3Zr1.4Ta0.6O12") from None
    els = {e.symbol for e in comp.elements}
    if not comp["O"]:
        raise CompositionError(f"{formula}: no oxygen; only oxide garnets and phosphate NASICONs are supported")
    n = {e: comp[e] * 12.0 / comp["O"] for e in els}  # per 12 O
    g = lambda e: n.get(e, 0.0)  # noqa: E731
    if "La" in els:
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
        cand = garnet(y, z, M, T, bounds)
    elif "P" in els:
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
        cand = nasicon(x, M, bounds)
    else:
        raise CompositionError(f"{formula}: neither a garnet (has La) nor a NASICON (has P)")
    if abs(g("Li") - cand.amounts["Li"]) > 1e-3:
        raise CompositionError(
            f"{formula} is not charge-neutral: Li must be {cand.amounts['Li']:.4g} for this "
            f"dopant content (formula has Li{g('Li'):.4g}), i.e. {cand.formula}")
    return cand
