"""Synthesizability heuristics for a candidate, as a documented score with reasons.

    feasibility = f_known + (1 - f_known) x f_mechanism x f_radius,   each factor in (0, 1]

a probabilistic "or": a composition already synthesized (f_known = 1) is feasible whatever
the heuristics say (Al3+ on the garnet Li site breaks the radius rule and is made every
day), and far from anything known the heuristics decide.

- f_mechanism: the dopant's charge compensation is a known, reported mechanism for the
  family (garnet: M5+ on Zr4+ with one Li vacancy; T3+ on Li+ with two further Li
  vacancies; NASICON: Al3+ on M4+ with one interstitial Li). 1 when known, 0.5 otherwise.
- f_radius: ionic-radius mismatch on the substituted site, |r_dopant - r_host| / r_host, with
  Shannon radii (R. D. Shannon, Acta Cryst. A 32, 751 (1976), via pymatgen) at the site's
  coordination; f = 1 up to 15 %, then exp(-(mismatch - 0.15) / 0.15): the 15 % Hume-Rothery
  limit for substitutional solid solutions, applied to ionic radii as a rule of thumb.
- f_known: closeness to synthesized members of the same family in the knowledge base:
  exp(-d / 0.1) with d the element-fraction L1 distance to the nearest one (0 = made before).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pymatgen.core import Species

from ..families.compositions import Candidate

@dataclass
class Feasibility:
    score: float
    factors: dict[str, float]
    reasons: list[str] = field(default_factory=list)


def radius_mismatch(dopant: str, dopant_ox: int, host: str, host_ox: int, cn: str) -> float:
    r_d = Species(dopant, dopant_ox).get_shannon_radius(cn)
    r_h = Species(host, host_ox).get_shannon_radius(cn)
    return abs(r_d - r_h) / r_h


def feasibility(cand: Candidate, kb=None) -> Feasibility:
    reasons, factors = [], {}
    fam = cand.spec                   # the family module knows its sites and mechanisms
    dopants = fam.dopants(cand)
    f_mech, f_rad = 1.0, 1.0
    for role, el, host, hox, cn in dopants:
        mech = fam.MECHANISMS.get(role)
        if mech:
            reasons.append(f"{el}: known charge compensation: {mech}")
        else:
            f_mech *= 0.5
            reasons.append(f"{el}: no reported compensation mechanism in this family (x0.5)")
        mm = radius_mismatch(el, fam.OXIDATION[el], host, hox, cn)
        f = 1.0 if mm <= 0.15 else math.exp(-(mm - 0.15) / 0.15)
        f_rad *= f
        reasons.append(f"{el} on {host}{hox}+ ({cn}): Shannon radius mismatch {100 * mm:.1f} % "
                       f"(factor {f:.2f}; 15 % rule of thumb)")
    if not dopants:
        reasons.append("no aliovalent substitution to judge (a parent or isovalent composition)")
    factors["mechanism"], factors["radius"] = f_mech, f_rad
    f_known = 0.0   # no evidence of synthesis unless the knowledge base shows it
    if kb is not None:
        names = fam.KB_NAME                    # one name, or the spellings the data use
        fam = names if isinstance(names, str) else names[0]
        nn = kb.neighbours(cand.formula, k=1, family=names)
        if nn:
            d = nn[0]["fraction_distance"]
            f_known = math.exp(-d / 0.1)
            reasons.append(f"nearest synthesized {fam}: {nn[0]['formula']} (doi:{nn[0]['doi']}), "
                           f"composition distance {d:.3f} (factor {f_known:.2f})")
        else:
            reasons.append(f"no synthesized {fam} in the knowledge base to compare with")
    else:
        reasons.append("no knowledge base given: heuristics only")
    factors["known"] = f_known
    return Feasibility(f_known + (1 - f_known) * f_mech * f_rad, factors, reasons)
