"""Opening a user-named SQLite file (a campaign ledger, a knowledge base) safely.

A path the user gives may hold anything: a text file, a spreadsheet, another program's
database. SQLite would either fail deep inside a query (a traceback) or quietly add this
program's tables to someone else's database. ``check_database`` turns both into one line
before anything connects to it for writing; ``remove_database`` undoes a database a failed
command created, with SQLite's side files.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import UserError

#: The first 16 bytes of every SQLite 3 database file.
SQLITE_MAGIC = b"SQLite format 3\x00"
#: Files SQLite keeps beside a database (write-ahead log, shared memory, rollback journal).
SIDE_FILES = ("-wal", "-shm", "-journal")


def connect_readonly(path: Path, **kwargs) -> sqlite3.Connection:
    """A read-only connection that also works on read-only media. ``mode=ro`` sees a live
    database as its writer changes it, but a write-ahead-log database needs its ``-shm``
    side file, which SQLite cannot create in a read-only folder ('unable to open database
    file'); there the file cannot be changing, so it is opened ``immutable`` (no locks,
    no side files)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, **kwargs)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, **kwargs)


def check_database(path: Path, tables: set[str], what: str, fix: str) -> None:
    """UserError ``PATH: not a WHAT (why); FIX`` unless ``path`` is absent, empty, or an
    SQLite database holding every table in ``tables``. Reads only (a read-only connection),
    so a foreign file is left exactly as it was."""
    if not path.exists():
        return
    if not path.is_file():
        raise UserError(f"{path}: not a {what} (not a file); {fix}")
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if not head:
        return
    if head != SQLITE_MAGIC:
        raise UserError(f"{path}: not a {what} (not an SQLite database); {fix}")
    db = connect_readonly(path, timeout=30)
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: not a {what} (unreadable: {exc}); {fix}") from None
    finally:
        db.close()
    missing = tables - names
    if missing:
        raise UserError(f"{path}: not a {what} (no {', '.join(sorted(missing))} table); {fix}")


def remove_database(path: Path) -> None:
    """Delete a database and its side files (those that exist)."""
    for suffix in ("", *SIDE_FILES):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
