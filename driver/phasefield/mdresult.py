"""Reading an MD ``result.json`` named in a phase-field config (degradation or penetration
block): the file is user input, so it is size-capped and parsed as JSON only, and anything
that is not an MD result is one line naming the key and what to give instead."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError

MAX_BYTES = 64 * 1024 * 1024


def read(path: str, where: str, alternative: str) -> tuple[dict, str]:
    """(the parsed result, the one-line message for "this is not an MD result") so that the
    caller reports a missing or malformed field with the same line."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{where}: {p} not found")
    bad = (f"{where}: {p} is not the result.json of `sse-driver md`; point at one, or give "
           f"{alternative}")
    if p.stat().st_size > MAX_BYTES:
        raise ConfigError(bad)
    try:
        r = json.loads(p.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ConfigError(bad) from None
    return r, bad
