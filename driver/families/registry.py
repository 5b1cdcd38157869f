"""The family registry's storage, apart from the package that fills it: the family modules
and the helpers they share (``base``, ``roles``, ``sites``) look families up here, so no
module of the chemistry layer imports its own package back (issue 31: no import circle).
``driver/families/__init__.py`` imports the family modules and registers them in order.
"""

from __future__ import annotations

from types import ModuleType

#: family name -> module, in the order formulas are offered to them (filled by __init__)
FAMILIES: dict[str, ModuleType] = {}


def get(name: str) -> ModuleType:
    """The family module called ``name`` (KeyError naming the known ones otherwise)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}") from None
