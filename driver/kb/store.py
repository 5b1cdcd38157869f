"""The knowledge base: SQLite relations material - family - source - property, plus every
rejected row with its reason. Queries: by family, elements, conductivity range, and the
nearest known neighbours of any composition (novelty)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from ..sqlitefile import check_database
from .normalize import Fingerprint, fingerprint, parse_formula

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (id INTEGER PRIMARY KEY, doi TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS families (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS materials (
    id INTEGER PRIMARY KEY, entry TEXT, formula TEXT NOT NULL, reduced_formula TEXT NOT NULL,
    family_id INTEGER REFERENCES families(id), source_id INTEGER REFERENCES sources(id),
    space_group TEXT, fractions_json TEXT NOT NULL, descriptors_json TEXT NOT NULL,
    oxidation_json TEXT, charge_balanced INTEGER, cif TEXT, origin TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS properties (
    id INTEGER PRIMARY KEY, material_id INTEGER NOT NULL REFERENCES materials(id),
    name TEXT NOT NULL, value REAL, upper REAL, unit TEXT NOT NULL,
    source_id INTEGER REFERENCES sources(id));
CREATE TABLE IF NOT EXISTS rejects (id INTEGER PRIMARY KEY, origin TEXT NOT NULL,
    row TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_props ON properties(name, value);
CREATE TABLE IF NOT EXISTS ingested (sha256 TEXT PRIMARY KEY, origin TEXT NOT NULL,
    accepted INTEGER NOT NULL, rejected INTEGER NOT NULL);
"""


class KB:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        check_database(self.path, {"materials", "properties", "sources", "rejects"},
                       "knowledge base", "pass --db a knowledge base that `sse-driver kb "
                       "ingest` wrote, or a new file name")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    def _id(self, table: str, col: str, value: str | None) -> int | None:
        if not value:
            return None
        self.db.execute(f"INSERT OR IGNORE INTO {table} ({col}) VALUES (?)", (value,))
        return self.db.execute(f"SELECT id FROM {table} WHERE {col} = ?", (value,)).fetchone()[0]

    def add_material(self, *, entry, formula, reduced, family, doi, space_group, fp: Fingerprint,
                     oxidation, cif, origin, properties: list[tuple]) -> int:
        fid = self._id("families", "name", family or "unknown")
        sid = self._id("sources", "doi", doi)
        cur = self.db.execute(
            "INSERT INTO materials (entry, formula, reduced_formula, family_id, source_id, space_group,"
            " fractions_json, descriptors_json, oxidation_json, charge_balanced, cif, origin)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (entry, formula, reduced, fid, sid, space_group, json.dumps(fp.fractions),
             json.dumps(fp.descriptors), json.dumps(oxidation) if oxidation else None,
             int(oxidation is not None), cif, origin))
        mid = cur.lastrowid
        for name, value, upper, unit in properties:
            self.db.execute("INSERT INTO properties (material_id, name, value, upper, unit, source_id)"
                            " VALUES (?,?,?,?,?,?)", (mid, name, value, upper, unit, sid))
        return mid

    def reject(self, origin: str, row: str, reason: str) -> None:
        self.db.execute("INSERT INTO rejects (origin, row, reason) VALUES (?,?,?)", (origin, row, reason))

    def commit(self) -> None:
        self.db.commit()

    #: every table a command writes rows into (each row has a growing rowid)
    TABLES = ("properties", "materials", "sources", "families", "rejects", "ingested")

    def mark(self) -> dict[str, int]:
        """Where each table ends now (its largest rowid): what ``undo_since`` goes back to."""
        return {t: self.db.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {t}").fetchone()[0]
                for t in self.TABLES}

    def undo_since(self, mark: dict[str, int]) -> None:
        """Remove every row added after ``mark`` (a refused ``kb ingest`` leaves the
        knowledge base as it found it, its rejects included; issue 33)."""
        for t in self.TABLES:
            self.db.execute(f"DELETE FROM {t} WHERE rowid > ?", (mark[t],))
        self.db.commit()

    def ingested(self, sha256: str) -> dict | None:
        """The earlier ingest of a file with this content, if any: re-ingesting is a no-op."""
        r = self.db.execute("SELECT * FROM ingested WHERE sha256 = ?", (sha256,)).fetchone()
        return dict(r) if r else None

    def mark_ingested(self, sha256: str, result: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO ingested VALUES (?,?,?,?)",
                        (sha256, result["origin"], result["accepted"], result["rejected"]))
        self.db.commit()

    # ------------------------------------------------------------- queries
    def count(self) -> dict:
        q = lambda s: self.db.execute(s).fetchone()[0]  # noqa: E731
        return {"materials": q("SELECT COUNT(*) FROM materials"), "sources": q("SELECT COUNT(*) FROM sources"),
                "families": q("SELECT COUNT(*) FROM families"), "rejects": q("SELECT COUNT(*) FROM rejects")}

    def rejects(self) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM rejects ORDER BY id")]

    def query(self, family: str | None = None, elements: list[str] | None = None,
              sigma_min: float | None = None, sigma_max: float | None = None,
              limit: int = 50) -> list[dict]:
        sql = ("SELECT m.id, m.entry, m.formula, m.reduced_formula, f.name AS family, s.doi, m.space_group,"
               " p.value AS sigma, p.upper AS sigma_upper, m.fractions_json, m.charge_balanced"
               " FROM materials m LEFT JOIN families f ON f.id = m.family_id"
               " LEFT JOIN sources s ON s.id = m.source_id"
               " LEFT JOIN properties p ON p.material_id = m.id AND p.name = 'ionic_conductivity'"
               " WHERE 1=1")
        args: list = []
        if family:
            sql += " AND lower(f.name) = lower(?)"
            args.append(family)
        if sigma_min is not None:
            sql += " AND p.value >= ?"
            args.append(sigma_min)
        if sigma_max is not None:
            sql += " AND COALESCE(p.value, p.upper) <= ?"
            args.append(sigma_max)
        rows = [dict(r) for r in self.db.execute(sql + " ORDER BY p.value DESC", args)]
        if elements:
            need = set(elements)
            rows = [r for r in rows if need <= set(json.loads(r["fractions_json"]))]
        for r in rows:
            r.pop("fractions_json")
        return rows[:limit]

    def neighbours(self, formula: str, k: int = 5,
                   family: str | tuple[str, ...] | None = None) -> list[dict]:
        """Nearest known materials to ``formula`` by composition fingerprint (novelty), of
        one family or of any of several spellings of it (case-insensitive)."""
        comp = parse_formula(formula)
        fp = fingerprint(comp)
        names = (family,) if isinstance(family, str) else tuple(family or ())
        where = (" WHERE lower(f.name) IN (" + ", ".join("lower(?)" for _ in names) + ")"
                 if names else "")
        rows = self.db.execute(
            "SELECT m.id, m.formula, m.reduced_formula, f.name AS family, s.doi, m.fractions_json,"
            " m.descriptors_json FROM materials m LEFT JOIN families f ON f.id = m.family_id"
            " LEFT JOIN sources s ON s.id = m.source_id" + where, names).fetchall()
        if not rows:
            return []
        D = np.array([json.loads(r["descriptors_json"]) for r in rows])
        scale = D.std(axis=0)
        scale[scale == 0] = 1.0
        out = []
        for r, d in zip(rows, D):
            fr = json.loads(r["fractions_json"])
            els = set(fr) | set(fp.fractions)
            # L1 distance of element fractions (0 identical, 2 disjoint) + descriptor distance
            d_frac = sum(abs(fr.get(e, 0.0) - fp.fractions.get(e, 0.0)) for e in els)
            d_desc = float(np.linalg.norm((np.array(fp.descriptors) - d) / scale)) / np.sqrt(len(d))
            out.append({"id": r["id"], "formula": r["formula"], "reduced_formula": r["reduced_formula"],
                        "family": r["family"], "doi": r["doi"], "distance": d_frac + 0.1 * d_desc,
                        "fraction_distance": d_frac})
        out.sort(key=lambda x: x["distance"])
        return out[:k]

    def novelty(self, formula: str) -> dict:
        """Distance to the nearest known material, with its formula and DOI."""
        nn = self.neighbours(formula, k=1)
        if not nn:
            return {"novelty": None, "nearest": None}
        return {"novelty": nn[0]["distance"], "nearest": nn[0]}
