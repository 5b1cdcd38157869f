"""Normalization of literature entries: formulas (pymatgen), conductivity units, fingerprints."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Composition, Element


class Reject(ValueError):
    """A row that cannot enter the knowledge base; the message says why."""


def parse_formula(text: str) -> Composition:
    t = (text or "").strip()
    if not t:
        raise Reject("empty formula")
    t = re.sub(r"\s+", "", t)
    try:
        comp = Composition(t)
        symbols = {e.symbol for e in comp.elements}   # pymatgen validates elements lazily
    except Exception:
        raise Reject(f"formula {text!r} is not parseable") from None
    unknown = sorted(x for x in symbols if not Element.is_valid_symbol(x))
    if unknown:   # pymatgen accepts dummy species such as "Xx"; a material cannot hold them
        raise Reject(f"formula {text!r} is not parseable: unknown element(s) {', '.join(unknown)}")
    if comp.num_atoms <= 0 or any(v < 0 for v in comp.values()):
        raise Reject(f"formula {text!r} has no atoms or negative amounts")
    if "Li" not in symbols:
        raise Reject(f"formula {text!r} contains no Li")
    return comp


_UNITS = {"s/cm": 1.0, "s cm-1": 1.0, "s cm^-1": 1.0, "ms/cm": 1e-3, "ms cm-1": 1e-3,
          "us/cm": 1e-6, "µs/cm": 1e-6, "s/m": 1e-2, "ms/m": 1e-5}


def unit_factor(header: str) -> tuple[float, bool]:
    """(factor to S/cm, is_log10) from a column header such as 'Ionic conductivity (S cm-1)',
    'sigma (mS/cm)' or 'log10 sigma (S/cm)'."""
    h = header.lower().replace("−", "-")
    is_log = "log" in h
    m = re.search(r"\(([^)]*)\)", h)
    unit = (m.group(1) if m else h).strip()
    for k, f in sorted(_UNITS.items(), key=lambda kv: -len(kv[0])):
        if k in unit:
            return f, is_log
    raise Reject(f"conductivity column {header!r}: unit not recognized (S/cm, mS/cm, S/m, log10)")


@dataclass
class Sigma:
    value: float | None          # S/cm, None when only a bound is known
    upper: float | None = None   # "<1E-10": an upper bound (censored)


def parse_sigma(raw: str, factor: float, is_log: bool) -> Sigma:
    t = (raw or "").strip().replace(",", ".")
    if not t:
        raise Reject("no conductivity value")
    bound = t.startswith("<")
    t = t.lstrip("<≤ ")
    try:
        v = float(t)
    except ValueError:
        raise Reject(f"conductivity {raw!r} is not a number") from None
    v = 10 ** v if is_log else v * factor
    if not math.isfinite(v) or v <= 0:
        raise Reject(f"conductivity {raw!r} is not a positive finite number")
    if v > 10:
        raise Reject(f"conductivity {v:g} S/cm is beyond any known ionic conductor (check units)")
    return Sigma(None, v) if bound else Sigma(v)


def oxidation_guess(comp: Composition, tol: float = 1e-3) -> dict[str, float] | None:
    """A charge-neutral assignment of one common oxidation state per element, or None.

    Tries combinations of pymatgen's oxidation states (anions negative, cations positive,
    common states first; at most 2e5 combinations), so
    fractional occupancies (Li6.4La3Zr1.4Ta0.6O12) work, unlike integer-site guessing.
    Mixed valence of one element (Fe2+/Fe3+) is not considered: such formulas come out None.
    """
    import itertools

    amounts = {e.symbol: float(n) for e, n in comp.element_composition.items()}
    scale = max(sum(amounts.values()), 1.0)
    for pass_ in ("common", "all"):   # chemically usual states first, rare ones only if needed
        choices = []
        for el in amounts:
            e = Element(el)
            pool = list(e.common_oxidation_states or ()) if pass_ == "common" else \
                list(dict.fromkeys(list(e.common_oxidation_states or ()) + list(e.oxidation_states or ())))
            if el == "H":
                states = [1, -1]
            elif el in ANIONS:   # anions: negative states only
                states = [v for v in pool if v < 0]
            else:                # cations: positive states only
                states = [v for v in pool if v > 0]
            choices.append(states or [0])
        if np.prod([len(c) for c in choices], dtype=float) > 2e5:
            return None
        for combo in itertools.product(*choices):
            if abs(sum(n * v for n, v in zip(amounts.values(), combo))) <= tol * scale:
                return dict(zip(amounts, map(float, combo)))
    return None


#: elements treated as anions in the neutrality check (group 15-17 non-metals)
ANIONS = {"O", "S", "Se", "Te", "F", "Cl", "Br", "I", "N"}


# Element properties for the composition fingerprint (pymatgen's tables).
def _props(el: str) -> tuple[float, float, float]:
    e = Element(el)
    return (float(e.X) if e.X == e.X else 0.0, float(e.atomic_radius or 0.0), float(e.atomic_mass))


@dataclass
class Fingerprint:
    fractions: dict[str, float]
    descriptors: list[float] = field(default_factory=list)


def fingerprint(comp: Composition) -> Fingerprint:
    """Element fractions plus fraction-weighted mean and spread of electronegativity, atomic
    radius and mass: composition-only, so it works for hypothetical candidates too."""
    frac = {e.symbol: float(comp.get_atomic_fraction(e)) for e in comp.elements}
    P = np.array([_props(el) for el in frac])
    w = np.array(list(frac.values()))
    mean = w @ P
    spread = np.sqrt(w @ (P - mean) ** 2)
    return Fingerprint(frac, [*mean.tolist(), *spread.tolist()])
