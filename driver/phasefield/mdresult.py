"""Reading an MD ``result.json`` named in a phase-field config (degradation or penetration
block): the file is user input, so it is size-capped and parsed as JSON only, and anything
that is not an MD result is one line naming the key and what to give instead."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..fileio import read_json_object


def read(path: str, where: str, alternative: str) -> tuple[dict, str]:
    """(the parsed result, the one-line message for "this is not an MD result") so that the
    caller reports a missing or malformed field with the same line."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{where}: {p} not found")
    bad = (f"{where}: {p} is not the result.json of `sse-driver md`; point at one, or give "
           f"{alternative}")
    try:
        return read_json_object(p, "an MD result"), bad
    except ValueError:                  # too large, not UTF-8 JSON, not an object
        raise ConfigError(bad) from None
