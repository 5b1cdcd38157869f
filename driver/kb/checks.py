"""The logic-consistency engine: checks run before any simulation (and on ingested data).

Each check returns a :class:`Check` (pass/fail with a reason). Nothing is silent: a
failing candidate is explained, and the campaign records the reasons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import SSEError
from .normalize import Reject, oxidation_guess, parse_formula


@dataclass
class Check:
    name: str
    ok: bool
    reason: str


def charge_neutrality(formula: str) -> Check:
    try:
        comp = parse_formula(formula)
    except Reject as exc:
        return Check("charge_neutrality", False, str(exc))
    ox = oxidation_guess(comp)
    if ox is None:
        return Check("charge_neutrality", False,
                     f"{formula}: no assignment of formal oxidation states makes it neutral "
                     "(off-stoichiometric, mixed valence, or a typo)")
    return Check("charge_neutrality", True,
                 "neutral with " + ", ".join(f"{k}{'+' if v > 0 else ''}{v:g}" for k, v in ox.items()))


def site_occupancy(formula: str, supercell=(1, 1, 1), seed: int = 1,
                   bounds: dict | None = None) -> Check:
    """The prototype can hold the composition: the structure builder places every atom on
    its sublattice with no Li-Li pair closer than the builder's limit."""
    from ..families.compositions import parse
    from ..families.structures import MIN_LI_LI, build

    try:
        cand = parse(formula, bounds)
        b = build(cand, supercell, seed)
    except SSEError as exc:
        return Check("site_occupancy", False, str(exc))
    return Check("site_occupancy", True,
                 f"{cand.family} prototype holds {b.counts} in a {supercell} cell "
                 f"(Li-Li >= {MIN_LI_LI} A); realized {b.realized}")


def potential_coverage(formula: str, potential: str | None = "pedone2006") -> Check:
    """Does ``potential`` cover every species and pair of ``formula``? With None, the first
    shipped potential that does is named (or the check fails listing what each one lacks)."""
    from ..potentials import available, load

    els = {e.symbol for e in parse_formula(formula).elements}
    if potential is None:
        lacks = {}
        for name in available():
            missing = load(name).missing(els)
            if not missing:
                return Check("potential_coverage", True,
                             f"{name} covers {', '.join(sorted(els))} (first shipped potential "
                             "that does; choose another with --potential)")
            lacks[name] = missing
        return Check("potential_coverage", False, "no shipped potential covers it: " + "; ".join(
            f"{n} lacks {', '.join(m[:4])}" for n, m in lacks.items()))
    pot = load(potential)
    missing = pot.missing(els)
    if missing:
        return Check("potential_coverage", False,
                     f"potential {pot.name} has no term for {', '.join(missing)}")
    return Check("potential_coverage", True, f"{pot.name} covers {', '.join(sorted(els))}")


def md_ranges(md) -> list[Check]:
    """Physically sensible MD settings for these electrolytes."""
    out = []
    t_hi = max(md.temperatures_k)
    out.append(Check("temperature_range", t_hi <= 2000,
                     f"highest T {t_hi:g} K" + ("" if t_hi <= 2000 else
                     ": above ~2000 K the frameworks of these electrolytes melt in rigid-ion MD")))
    out.append(Check("timestep", md.timestep_fs <= 2.0,
                     f"{md.timestep_fs:g} fs" + ("" if md.timestep_fs <= 2.0 else
                     ": > 2 fs under-resolves the ~30 fs PO4 stretch period")))
    n_samples = md.prod_ps / (md.sample_every_fs / 1000)
    out.append(Check("production_length", md.prod_ps >= 4.0,
                     f"{md.prod_ps:g} ps, {n_samples:.0f} samples" + ("" if md.prod_ps >= 4.0 else
                     ": the MSD window (1 ps .. half the run) needs >= 4 ps")))
    return out


def sigma_range(sigma_S_cm: float | None) -> Check:
    ok = sigma_S_cm is None or 1e-20 < sigma_S_cm <= 10
    return Check("conductivity_range", ok, f"{sigma_S_cm} S/cm" + ("" if ok else ": outside (1e-20, 10] S/cm"))


def candidate_checks(formula: str, potential: str | None = "pedone2006", md=None,
                     supercell=(1, 1, 1), bounds: dict | None = None) -> list[Check]:
    """Every check of one formula; ``bounds`` as in families.compositions.parse (the default search
    box, or PHYSICAL_BOUNDS for a composition the user named)."""
    checks = [charge_neutrality(formula)]
    if checks[0].ok:
        checks += [potential_coverage(formula, potential),
                   site_occupancy(formula, supercell, bounds=bounds)]
    if md is not None:
        checks += md_ranges(md)
    return checks


def as_dicts(checks: list[Check]) -> list[dict]:
    return [asdict(c) for c in checks]
