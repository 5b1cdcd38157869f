"""The objective registry: the built-in objectives (each module of this package that defines
``OBJECTIVE``) and those of installed plug-ins (entry point group ``sse_driver.objectives``,
each naming a module that defines ``OBJECTIVE``). Looked up by name by the campaign's
settings, optimizer set-up, report and console; nothing else names an objective."""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from pathlib import Path

from .base import Objective

#: the entry point group a package declares to add objectives
ENTRY_POINT_GROUP = "sse_driver.objectives"
_OBJECTIVES: dict[str, Objective] = {}
_loaded = False


def register(obj: Objective) -> Objective:
    """Add ``obj`` (ValueError if another objective holds its name)."""
    if not isinstance(obj, Objective):
        raise TypeError(f"{obj!r} is not an Objective (driver/objectives/base.py)")
    old = _OBJECTIVES.get(obj.name)
    if old is not None and old is not obj:
        raise ValueError(f"objective {obj.name!r} is registered twice")
    _OBJECTIVES[obj.name] = obj
    return obj


def _load() -> None:
    """Register the package's modules and the plug-ins, once (an objective registered
    before the first look-up does not stop the built-in ones from loading)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    here = [str(Path(__file__).parent)]           # this package, without importing it back
    for info in sorted(pkgutil.iter_modules(here), key=lambda m: m.name):
        if info.name in ("base", "registry"):
            continue
        mod = importlib.import_module(f"{__package__}.{info.name}")
        if hasattr(mod, "OBJECTIVE"):
            register(mod.OBJECTIVE)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register(_plugin(ep))


def _plugin(ep) -> Objective:
    """The objective an entry point names; a plug-in that does not import or names no
    ``Objective`` is a ConfigError naming the entry point and its package (one line,
    exit 2: the installation is the user's to fix), not a traceback from every command that
    looks an objective up."""
    from ..errors import ConfigError
    dist = getattr(getattr(ep, "dist", None), "name", None) or "an installed package"
    where = f"objective plug-in {ep.name!r} ({ep.value}, from {dist})"
    try:
        target = ep.load()
    except Exception as exc:            # anything its import raises
        msg = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise ConfigError(f"{where} failed to import: {type(exc).__name__}: {msg}; fix or "
                          "uninstall that package") from None
    obj = target if isinstance(target, Objective) else getattr(target, "OBJECTIVE", None)
    if not isinstance(obj, Objective):
        raise ConfigError(f"{where} names no Objective (a module defining OBJECTIVE, or an "
                          "Objective itself: driver/objectives/base.py); fix or uninstall "
                          "that package")
    return obj


def all_objectives() -> dict[str, Objective]:
    """Every known objective by name (built-in first, alphabetical, then plug-ins)."""
    _load()
    return dict(_OBJECTIVES)


def find(name: str) -> Objective | None:
    """The objective called ``name``, or None (an optimizer state of another version or a
    plug-in no longer installed still reports by name)."""
    _load()
    return _OBJECTIVES.get(name)


def get(name: str) -> Objective:
    """The objective called ``name`` (KeyError naming the known ones otherwise)."""
    obj = find(name)
    if obj is None:
        raise KeyError(f"unknown objective {name!r}; known: {', '.join(_OBJECTIVES)}")
    return obj
