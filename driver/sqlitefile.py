"""Opening a user-named SQLite file (a campaign ledger, a knowledge base) safely.

A path the user gives may hold anything: a text file, a spreadsheet, another program's
database. SQLite would either fail deep inside a query (a traceback) or quietly add this
program's tables to someone else's database. These checks turn both into one line before
anything is written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import UserError

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_MAGIC = b"SQLite format 3\x00"


def existing_database(path: Path, what: str, fix: str) -> bool:
    """True when ``path`` is an SQLite file to open, False when there is none yet.

    UserError ``PATH: not a WHAT (why); FIX`` when it exists but cannot be one.
    """
    if not path.exists():
        return False
    if not path.is_file():
        raise UserError(f"{path}: not a {what} (not a file); {fix}")
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise UserError(f"{path}: not a {what} (not an SQLite database); {fix}")
    return bool(head)


def require_tables(db: sqlite3.Connection, path: Path, tables: set[str], what: str,
                   fix: str) -> None:
    """UserError unless the open database holds every table in ``tables``."""
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not a {what} (unreadable: {exc}); {fix}") from None
    missing = tables - names
    if missing:
        raise UserError(f"{path}: not a {what} (no {', '.join(sorted(missing))} table); {fix}")
