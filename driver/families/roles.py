"""What the family modules share about element roles and prototypes (kept out of
``__init__``, which imports the modules)."""

from __future__ import annotations


def resolve_species(fam, given: dict[str, str], legacy: dict[str, str | None]) -> dict[str, str]:
    """The element of each role of ``fam`` for a campaign: its ``DEFAULT_SPECIES``, then the
    older per-role campaign keys (``legacy``: campaign key -> value or None, mapped through
    the family's ``SETTINGS_SPECIES``), then ``campaign.species``. ValueError (one line) for
    a role the family lacks, an element outside its ``CHOICES``, or an older key that
    contradicts ``species``."""
    key_role = {key: role for role, key in fam.SETTINGS_SPECIES.items()}
    out = dict(fam.DEFAULT_SPECIES)
    for key, value in legacy.items():
        # a key of another family's role is ignored, as it always was: settings written by
        # earlier versions (a ledger's stored config) carry all of them with defaults
        if value is None or key not in key_role:
            continue
        role = key_role[key]
        if role in given and given[role] != value:
            raise ValueError(f"campaign.{key}: {value} contradicts campaign.species.{role}: "
                             f"{given[role]}; give one of them")
        out[role] = value
    for role, el in given.items():
        if role not in fam.CHOICES:
            raise ValueError(f"campaign.species.{role}: no such role in family {fam.NAME}; "
                             + _roles(fam))
        out[role] = el
    for role, el in out.items():
        if el not in fam.CHOICES[role]:
            raise ValueError(f"campaign.species.{role}: {el} is not a choice of family "
                             f"{fam.NAME}; " + _roles(fam))
    fam.check_species(out)
    return out


def _roles(fam) -> str:
    if not fam.CHOICES:
        return "it has no element roles (remove campaign.species)"
    return "its roles are " + "; ".join(f"{r}: {', '.join(c)}" for r, c in fam.CHOICES.items())


def chosen_species(camp) -> dict[str, str]:
    """The campaign's element for each role of its family, e.g. garnet {M: Ta, T: Al}:
    ``campaign.species`` with the older per-role keys and the family's defaults."""
    from .base import FAMILIES, get

    older = {k for f in FAMILIES.values() for k in f.SETTINGS_SPECIES.values()}
    return resolve_species(get(camp.family), camp.species,
                           {k: getattr(camp, k, None) for k in sorted(older)})


def prototype(fam, species: dict[str, str]) -> tuple[str, int]:
    """The prototype CIF of a family for an element choice and its formula units per cell.
    Members of one family can crystallize in different structures (Li3YCl6 trigonal,
    Li3InCl6 monoclinic): such a family overrides ``prototype_for(species)``; the others have
    one ``PROTOTYPE`` with ``Z`` (``base.Family.prototype_for``)."""
    return fam.prototype_for(species)


def shares(n: int, weights: dict[str, float]) -> dict[str, int]:
    """``n`` atoms split among sites in proportion to ``weights`` (e.g. refined atoms per
    cell on each site), by largest remainders: exact total, each share within 1 of its
    proportion."""
    from math import floor

    total = sum(weights.values())
    want = {k: n * w / total for k, w in weights.items()}
    out = {k: floor(w) for k, w in want.items()}
    for k in sorted(want, key=lambda k: want[k] - out[k], reverse=True)[:n - sum(out.values())]:
        out[k] += 1
    return out
