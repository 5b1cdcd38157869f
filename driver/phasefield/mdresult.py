"""Reading an MD ``result.json`` named in a phase-field config (degradation or penetration
block): the file is user input, so it is size-capped, parsed as JSON only and read through
the MD stage's own model of what another stage uses (md/result.py ``MDProperties``);
anything that is not such a result is one line naming the key and what to give instead."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..fileio import read_json_object
from ..md.result import MDProperties, ResultFileError, parse_properties


def read(path: str, where: str, alternative: str) -> tuple[MDProperties, str]:
    """(the typed result, the one-line message for "this is not an MD result") so that the
    caller reports a missing or malformed number with the same line."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{where}: {p} not found")
    bad = (f"{where}: {p} is not the result.json of `sse-driver md`; point at one, or give "
           f"{alternative}")
    try:
        return parse_properties(read_json_object(p, "an MD result"), str(p)), bad
    except ResultFileError as exc:      # the shape: a missing field, a wrong type
        raise ConfigError(f"{bad} ({str(exc).removeprefix(f'{p}: ')})") from None
    except ValueError:                  # too large, not UTF-8 JSON, not an object
        raise ConfigError(bad) from None
