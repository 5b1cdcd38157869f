"""The durable record of a campaign: SQLite in WAL mode, one transaction per event.

- a batch of proposals is committed together with the optimizer state that produced it,
  before any is submitted;
- a finished evaluation (success or final failure) is committed together with the
  optimizer state that has been told about it.

So after a kill -9 the ledger holds every finished result, the proposals still owed are
exactly those without an evaluation (resubmitted on resume), and the optimizer resumes
from the state that matches the ledger. ``synchronous=FULL`` makes a commit survive a
power cut, not only a process kill. Readers (``status``, ``report``, ``review``) open
read-only and never block the running campaign.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserError
from ..sqlitefile import check_database, connect_readonly

#: Tables every ledger since the first release holds (``reviews`` came later).
CORE_TABLES = {"meta", "proposals", "evaluations", "optimizer", "events"}
_FIX = "point at the folder that `sse-driver run` wrote, or use another --out"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY, x_json TEXT NOT NULL, batch INTEGER NOT NULL,
    asked_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending');
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY, proposal_id INTEGER NOT NULL UNIQUE REFERENCES proposals(id),
    status TEXT NOT NULL, outputs_json TEXT, errors_json TEXT, attempts INTEGER NOT NULL,
    run_dir TEXT, started REAL, finished REAL NOT NULL, seconds REAL,
    provenance_json TEXT);
CREATE TABLE IF NOT EXISTS optimizer (id INTEGER PRIMARY KEY CHECK (id = 1),
    state_json TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, t REAL NOT NULL,
    kind TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (id INTEGER PRIMARY KEY, proposal_id INTEGER,
    action TEXT NOT NULL, rating REAL, note TEXT, x_json TEXT, t REAL NOT NULL);
"""


class Ledger:
    """A campaign's SQLite ledger. ``Ledger.open(folder)`` is the one place that names its
    file in a campaign folder (``FILE``)."""

    #: the ledger's file name in a campaign folder
    FILE = "ledger.sqlite"

    @classmethod
    def file_in(cls, folder: str | Path) -> Path:
        return Path(folder) / cls.FILE

    @classmethod
    def exists_in(cls, folder: str | Path) -> bool:
        return cls.file_in(folder).exists()

    @classmethod
    def open(cls, folder: str | Path, readonly: bool = False) -> "Ledger":
        """The ledger of the campaign in ``folder`` (created there unless ``readonly``)."""
        return cls(cls.file_in(folder), readonly=readonly)

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = Path(path)
        check_database(self.path, CORE_TABLES, "campaign ledger", _FIX)
        if readonly:
            if not self.path.exists():
                raise FileNotFoundError(f"{self.path}: no campaign ledger here")
            self.db = connect_readonly(self.path, timeout=30, isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(SCHEMA)
        self.db.row_factory = sqlite3.Row

    @contextmanager
    def tx(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    # ---------------------------------------------------------------- meta
    def set_meta(self, values: dict) -> None:
        with self.tx() as db:
            for k, v in values.items():
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (k, json.dumps(v)))

    def meta(self) -> dict:
        return {r["key"]: json.loads(r["value"]) for r in self.db.execute("SELECT * FROM meta")}

    def log(self, kind: str, message: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO events (t, kind, message) VALUES (?, ?, ?)", (time.time(), kind, message))

    # ----------------------------------------------------------- proposals
    def add_proposals(self, xs: list[dict], optimizer_state: str) -> list[int]:
        with self.tx() as db:
            batch = (db.execute("SELECT COALESCE(MAX(batch), -1) FROM proposals").fetchone()[0]) + 1
            ids = []
            for x in xs:
                cur = db.execute("INSERT INTO proposals (x_json, batch, asked_at) VALUES (?, ?, ?)",
                                 (json.dumps(x), batch, time.time()))
                ids.append(cur.lastrowid)
            self._save_state(db, optimizer_state)
        return ids

    def pending(self) -> list[tuple[int, dict]]:
        rows = self.db.execute("SELECT id, x_json FROM proposals WHERE status = 'pending' ORDER BY id")
        return [(r["id"], json.loads(r["x_json"])) for r in rows]

    # --------------------------------------------------------- evaluations
    def record(self, proposal_id: int, status: str, outputs: dict | None, errors: list,
               attempts: int, run_dir: str, started: float, finished: float,
               provenance: dict, optimizer_state: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO evaluations (proposal_id, status, outputs_json, errors_json, attempts,"
                       " run_dir, started, finished, seconds, provenance_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (proposal_id, status, json.dumps(outputs), json.dumps(errors), attempts, run_dir,
                        started, finished, finished - started, json.dumps(provenance)))
            db.execute("UPDATE proposals SET status = ? WHERE id = ?", (status, proposal_id))
            self._save_state(db, optimizer_state)

    def evaluations(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT e.*, p.x_json, p.batch FROM evaluations e JOIN proposals p ON p.id = e.proposal_id "
            "ORDER BY e.id")
        out = []
        for r in rows:
            d = dict(r)
            for k in ("outputs_json", "errors_json", "provenance_json", "x_json"):
                d[k[:-5]] = json.loads(d.pop(k)) if d[k] is not None else None
            out.append(d)
        return out

    def counts(self) -> dict:
        c = {r[0]: r[1] for r in self.db.execute("SELECT status, COUNT(*) FROM proposals GROUP BY status")}
        return {"done": c.get("done", 0), "failed": c.get("failed", 0), "pending": c.get("pending", 0)}

    # ------------------------------------------------------------ optimizer
    @staticmethod
    def _save_state(db, state: str) -> None:
        db.execute("INSERT OR REPLACE INTO optimizer (id, state_json, updated) VALUES (1, ?, ?)",
                   (state, time.time()))

    def optimizer_state(self) -> str | None:
        r = self.db.execute("SELECT state_json FROM optimizer WHERE id = 1").fetchone()
        return r[0] if r else None

    def started_state(self) -> str:
        """The optimizer state; UserError when the campaign never got as far as saving one."""
        state = self.optimizer_state()
        if state is None:
            raise UserError(f"{self.path}: this campaign never started (no optimizer state); "
                            "start a new one with `sse-driver run CONFIG --out NEW_FOLDER`")
        return state

    def save_state(self, state: str) -> None:
        with self.tx() as db:
            self._save_state(db, state)

    # -------------------------------------------------------------- reviews
    def proposal_x(self, proposal_id: int) -> dict | None:
        """The point ``x`` of proposal ``proposal_id``, or None if there is none."""
        row = self.db.execute("SELECT x_json FROM proposals WHERE id = ?",
                              (proposal_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def add_review(self, proposal_id: int | None, action: str, rating: float | None,
                   note: str, x: dict | None) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO reviews (proposal_id, action, rating, note, x_json, t) VALUES (?,?,?,?,?,?)",
                       (proposal_id, action, rating, note, json.dumps(x) if x else None, time.time()))

    def reviews(self) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM reviews ORDER BY id")]

    def ratings(self) -> dict[int, tuple[dict, list[float]]]:
        """Rated candidates: proposal id -> (its x, its ratings in the order given)."""
        out: dict[int, tuple[dict, list[float]]] = {}
        for r in self.reviews():
            if r["action"] == "rate" and r["rating"] is not None and r["proposal_id"] is not None:
                x = json.loads(r["x_json"]) if r["x_json"] else None
                out.setdefault(r["proposal_id"], (x, []))[1].append(r["rating"])
        return out
