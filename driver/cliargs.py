"""Argument types of the command line: each turns a malformed value into argparse's
one-line usage error (exit 2) naming the flag, before any command starts."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from .errors import UserError
from .fileio import nearest_existing
from .resources import cores


def number(text: str, kind, what: str):
    """``kind(text)`` or a one-line UserError naming the argument."""
    try:
        value = kind(text)
    except ValueError:
        raise UserError(f"{what} must be {'an integer' if kind is int else 'a number'}, "
                        f"not {text!r}") from None
    if kind is float and value != value:   # nan
        raise UserError(f"{what} must be a number, not {text!r}")
    return value


def out_dir(text: str) -> str:
    """argparse type of every --out: a folder (new or existing), never an existing file."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a folder name")
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; give a folder")
    # the nearest existing folder above must be a folder this user can write into: an
    # --out under a file or on read-only media is refused here, before anything runs
    # (issue 33, class 1), not met as an OSError after hours of work
    base = nearest_existing(p)
    if not base.is_dir():
        raise argparse.ArgumentTypeError(f"{text} lies under {base}, which is a file; give a "
                                         "folder path")
    if not os.access(base, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{base} cannot be written (read-only media or no "
                                         "permission); give a folder you can write to")
    return text


def existing_dir(text: str) -> str:
    """argparse type of a folder that must already exist (e.g. --reuse)."""
    if not text.strip() or not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not an existing folder")
    return text


def finite(text: str) -> float:
    """argparse type: a finite number (NaN and infinities are refused)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return v


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return v


#: SQLite's largest integer (row ids: review --accept/--veto/--rate ID)
SQLITE_MAX = 2**63 - 1


def int_in(lo: int, hi: int, hint: str = ""):
    """argparse type: an integer in [lo, hi] (a value outside is a one-line usage error, not
    an OverflowError deep inside, a hang or a silent skip)."""
    def parse(text: str) -> int:
        try:
            v = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{text} is outside {lo}..{hi}" + (f" ({hint})" if hint else ""))
        return v
    parse.__name__ = "integer"
    return parse


def local_processes(text: str) -> int:
    """argparse type of --workers and doctor --ranks: processes started on this machine, at
    most one per core it has (more only oversubscribe it; a cluster backend brings more)."""
    return int_in(1, cores(), f"this machine has {cores()} cores; use a cluster backend "
                  "(dask.backend) for more")(text)


def row_id(text: str) -> int:
    return int_in(1, SQLITE_MAX, "a candidate id from `sse-driver review DIR`")(text)


def scheduler(text: str) -> str:
    """argparse type of --scheduler: tcp://HOST:PORT (schema.check_scheduler_address)."""
    from .schema import check_scheduler_address

    try:
        return check_scheduler_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
