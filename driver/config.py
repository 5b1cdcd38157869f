"""Configuration: YAML data validated against a pydantic schema, never evaluated code.

Layers, lowest to highest (the dask-jobqueue model): the schema's defaults, then a YAML
file, then environment variables ``SSE_DRIVER_<SECTION>__<KEY>=value`` (value parsed as
YAML, e.g. ``SSE_DRIVER_MD__TEMPERATURES_K='[900, 1100]'``), then explicit overrides from
the command line. Every failure becomes one :class:`ConfigError` line naming the file,
the dotted key and the fix.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError

ENV_PREFIX = "SSE_DRIVER_"
#: SSE_DRIVER_ variables that are not config overrides (driver/resources.py, driver/mpi.py).
RESERVED_ENV = {"SSE_DRIVER_HOME", "SSE_DRIVER_MPI_INTERFACE", "SSE_DRIVER_MPI_LOOPBACK"}
M = TypeVar("M", bound=BaseModel)
#: Largest config file read (bytes). Real configs are a few kB; a campaign's screening list
#: of thousands of formulas stays far below this.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: Most values a config may expand to, counting every alias as the copy it stands for. A
#: few hundred bytes of nested aliases (a "billion laughs") otherwise expand to gigabytes
#: as soon as anything walks or prints the data.
MAX_CONFIG_NODES = 200_000


def _expanded_size(data: Any, limit: int) -> int:
    """Values in ``data`` with shared (aliased) parts counted each time; stops past ``limit``."""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            break
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return count


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats: ``1e-4`` unquoted is a number (YAML 1.1
    wants ``1.0e-4`` and reads ``1e-4`` as a string, which the strict settings would then
    refuse); a quoted ``'1e-4'`` stays a string. Nothing else changes."""


_Loader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def safe_yaml(text: str | bytes, where: str, error: type[Exception] = ConfigError) -> Any:
    """YAML data from a user's file: safe loader, UTF-8, bounded size and alias expansion.

    Every problem is one ``error`` line naming ``where`` and what to change.
    """
    if len(text) > MAX_CONFIG_BYTES:
        raise error(f"{where}: {len(text)} bytes, larger than the {MAX_CONFIG_BYTES} a "
                    "YAML file here may hold; split it or pass a smaller file")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"{where}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506  (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{where}: not valid YAML{loc}: {problem}") from None
    except RecursionError:
        raise error(f"{where}: nested too deeply to be a config") from None
    if _expanded_size(data, MAX_CONFIG_NODES) > MAX_CONFIG_NODES:
        raise error(f"{where}: expands to more than {MAX_CONFIG_NODES} values (nested "
                    "aliases?); write the values out or use fewer aliases")
    return data


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """A YAML mapping from ``path`` (safe loader only); ConfigError on any problem."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found; pass an existing YAML file")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read ({exc.strerror})") from None
    data = safe_yaml(raw, str(p))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: top level must be a mapping of sections, got {type(data).__name__}")
    return data


def env_overrides(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Nested overrides from ``SSE_DRIVER_A__B=value`` variables (values parsed as YAML)."""
    environ = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name in RESERVED_ENV:
            continue
        keys = name[len(ENV_PREFIX):].lower().split("__")
        try:
            value = yaml.load(raw, Loader=_Loader)  # noqa: S506  (a SafeLoader)
        except yaml.YAMLError:
            raise ConfigError(f"environment {name}: value is not valid YAML: {raw!r}") from None
        node = out
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"environment {name}: conflicts with another SSE_DRIVER_ variable")
        node[keys[-1]] = value
    return out


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``over`` merged into ``base``, recursing into mappings."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        elif isinstance(v, Mapping) and k in out and out[k] is not None:
            # a section of the wrong shape is an error, never replaced by the overrides
            shown = repr(out[k])
            raise ConfigError(f"{k}: must be a mapping of settings, not "
                              f"{type(out[k]).__name__} {shown[:60]}")
        else:
            out[k] = v
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Field names of the sub-model at ``loc[:-1]``, for 'unknown key' messages."""
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return None
        current = fields[part].annotation
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else None


def format_validation_error(exc: ValidationError, model: type[BaseModel], source: str) -> str:
    """One line: ``source: dotted.key: what is wrong (got X); N more``."""
    errors = exc.errors()
    first = errors[0]
    loc = tuple(first["loc"])
    key = ".".join(str(p) for p in loc) or "<top level>"
    if first["type"] == "extra_forbidden":
        allowed = _allowed_keys(model, loc)
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        msg = f"unknown key{hint}"
    elif first["type"] == "missing":
        msg = "required key is missing"
    else:
        got = first.get("input")
        shown = repr(got)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        msg = f"{first['msg']} (got {shown})" if not isinstance(got, dict) else first["msg"]
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    return f"{source}: {key}: {msg}{more}"


def validate(model: type[M], data: Mapping[str, Any], source: str = "config") -> M:
    """``model`` built from ``data``, or a one-line ConfigError."""
    try:
        text = json.dumps(dict(data), default=str, allow_nan=True)
    except (TypeError, ValueError) as exc:       # e.g. a key that is not a string
        raise ConfigError(f"{source}: not a mapping of settings ({exc})") from None
    try:
        # strict JSON-mode validation: a boolean or a string is never taken as a number
        # (``temperatures_k: [true, 1300]``), while YAML lists still fill tuples
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, model, source)) from None


def load(
    model: type[M],
    path: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> M:
    """Defaults <- YAML file <- environment <- overrides, validated against ``model``."""
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        data = read_yaml(path)
        source = str(path)
    env = env_overrides(environ)
    try:
        if env:
            data = deep_merge(data, env)
            source += " + SSE_DRIVER_ environment"
        if overrides:
            data = deep_merge(data, overrides)
            source += " + command line"
    except ConfigError as exc:
        raise ConfigError(f"{path if path is not None else 'defaults'}: {exc}") from None
    return validate(model, data, source)


def dump_yaml(settings: BaseModel) -> str:
    """The full, resolved settings as YAML (what ``sse-driver config show`` prints)."""
    return yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False)
