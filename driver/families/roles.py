"""What the family modules share about campaigns (kept out of ``__init__``, which imports
the modules)."""

from __future__ import annotations


def chosen_species(camp, settings_species: dict[str, str]) -> dict[str, str]:
    """The campaign's element for each role of a family (its ``SETTINGS_SPECIES``: role ->
    the campaign key that picks it), e.g. garnet {M: Ta, T: Al}."""
    return {role: getattr(camp, key) for role, key in settings_species.items()}
