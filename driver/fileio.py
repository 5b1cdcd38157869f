"""Crash-safe file writes: a reader sees the old file or the whole new one, never half."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_text(path: str | Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def finite_or_none(obj: Any) -> Any:
    """NaN and infinities become None (JSON null): strict JSON has no NaN, and a value that
    could not be measured should read as missing, not as a number."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(v) for v in obj]
    if hasattr(obj, "item") and hasattr(obj, "dtype"):   # numpy scalar
        return finite_or_none(obj.item())
    return obj


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(finite_or_none(obj), indent=2, sort_keys=False,
                                              default=str, allow_nan=False) + "\n")


def json_text(obj: Any) -> str:
    """What atomic_write_json writes (strict JSON, NaN as null)."""
    return json.dumps(finite_or_none(obj), indent=2, sort_keys=False, default=str,
                      allow_nan=False) + "\n"


def write_together(files: dict[str | Path, str | bytes]) -> None:
    """Write several files as one output: every file goes to a temporary name first, then
    all are renamed into place. A failure while writing leaves the old set untouched (and no
    temporary file); only a crash between the renames, a moment, can mix old and new."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, content in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(content.encode() if isinstance(content, str) else content)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


#: a JSON document a stage wrote is ~10 kB; anything beyond this is not one
MAX_JSON_BYTES = 64 * 1024 * 1024


def read_json_object(path: str | Path, what: str, error: type[Exception] = ValueError) -> dict:
    """The JSON object in ``path`` (size-capped, UTF-8); ``error`` with one line saying
    that ``path`` is not ``what`` (or is not found) otherwise."""
    p = Path(path)
    bad = f"{p} is not {what}"
    try:
        if p.stat().st_size > MAX_JSON_BYTES:
            raise error(f"{bad} (larger than {MAX_JSON_BYTES // 2**20} MiB)")
        data = json.loads(p.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise error(f"{p} not found") from None
    except (UnicodeDecodeError, ValueError):
        raise error(f"{bad} (not JSON)") from None
    if not isinstance(data, dict):
        raise error(f"{bad} (not an object)")
    return data


def nearest_existing(path: Path) -> Path:
    """``path`` made absolute, or its nearest ancestor that exists."""
    base = Path(path).absolute()
    while not base.exists() and base != base.parent:
        base = base.parent
    return base


def first_missing(path: Path) -> Path | None:
    """The topmost folder of ``path`` that does not exist yet (what creating it makes), or
    None when it exists: what a refused command removes so that it leaves nothing behind."""
    path, base = Path(path).absolute(), nearest_existing(path)
    if path == base:
        return None
    while path.parent != base:
        path = path.parent
    return path

