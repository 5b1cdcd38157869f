"""``sse-driver kb``: checking a formula, ingesting files, querying, apart from the argument
parsing in ``cli.py`` (issue 31: a thin CLI). Every refusal is a one-line ``UserError``;
a failed ingest leaves no knowledge base it created behind."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ..errors import UserError
from ..fileio import first_missing


def check(formula: str, potential: str | None) -> int:
    """The logic-consistency checks of a formula (kb/checks.py), one line each; exit 1 when
    one fails, 2 when the formula is not one (as ``query``)."""
    from pymatgen.core import Composition

    from .checks import candidate_checks
    try:
        Composition(formula)
    except Exception:  # noqa: BLE001 (pymatgen raises several kinds on malformed text)
        raise UserError(f"kb check: {formula[:80]!r} is not a chemical formula; "
                        "write it like Li6.4La3Zr1.4Ta0.6O12") from None
    checks = candidate_checks(formula, potential)
    for c in checks:
        print(f"{'PASS' if c.ok else 'FAIL'}  {c.name:<20} {c.reason}")
    return 0 if all(c.ok for c in checks) else 1


def ingest(path: Path, files: list[str], obelix: bool, show_rejects: int) -> int:
    """Ingest each file once (a file whose content is already in ``path`` is skipped). Exit 2
    when a file is unusable or no row of any file could be ingested; a knowledge base this
    call created is then removed, so a failed ingest leaves nothing behind."""
    from ..sqlitefile import remove_database
    from .ingest import ingest as ingest_file, obelix_csv
    from .normalize import Reject
    from .store import KB

    if obelix:
        files = [str(obelix_csv()), *files]
    if not files:
        raise UserError("kb ingest: give FILE... (csv, xlsx, pdf, cif, tar.gz) or --obelix")
    new_db = not path.exists()
    created = first_missing(path.parent)      # the folders this call would create
    kb = KB(path)
    mark = kb.mark()
    usable, ok = 0, False
    try:
        for f in files:
            digest = hashlib.sha256(Path(f).read_bytes()).hexdigest() if Path(f).is_file() else ""
            seen = kb.ingested(digest) if digest else None
            if seen:
                print(f"{f}: already in the knowledge base (same content as {seen['origin']}: "
                      f"{seen['accepted']} accepted); skipped")
                usable += 1
                continue
            try:
                r = ingest_file(kb, f)
            except Reject as exc:
                raise UserError(str(exc)) from None
            print(f"{r['origin']}: accepted {r['accepted']}, rejected {r['rejected']}")
            if r["accepted"]:
                kb.mark_ingested(digest, r)
                usable += 1
        for rj in kb.rejects()[-show_rejects:] if show_rejects else []:
            print(f"  rejected {rj['origin']} {rj['row']}: {rj['reason']}")
        if not usable:
            raise UserError(f"kb ingest: no row of {', '.join(files)} could be ingested (rerun with "
                            "--show-rejects N to see why); nothing was added")
        print(f"knowledge base {path}: {kb.count()}")
        ok = True
        return 0
    finally:
        if not ok and not new_db:
            kb.undo_since(mark)              # a refusal writes nothing: not even a reject
        kb.close()
        if new_db and not ok:
            remove_database(path)
            if created is not None:
                shutil.rmtree(created, ignore_errors=True)


def query(path: Path, near: str | None, family: str | None, elements: str | None,
          sigma_min: float | None, sigma_max: float | None, limit: int, as_json: bool) -> int:
    """Rows by family, elements and conductivity, or the ``limit`` nearest to a formula."""
    from .normalize import Reject
    from .store import KB

    if not path.exists():
        raise UserError(f"no knowledge base at {path}; run `sse-driver kb ingest --obelix` first")
    kb = KB(path)
    if near is not None:
        try:
            rows = kb.neighbours(near, k=limit, family=family)
        except Reject as exc:
            raise UserError(str(exc)) from None
    else:
        rows = kb.query(family=family, elements=elements.split(",") if elements else None,
                        sigma_min=sigma_min, sigma_max=sigma_max, limit=limit)
    if as_json:
        print(json.dumps(rows, indent=1, default=float))
    else:
        for r in rows:
            extra = (f"distance {r['distance']:.4f}" if "distance" in r else
                     f"sigma {r['sigma'] if r['sigma'] is not None else '<' + str(r['sigma_upper'])} S/cm")
            print(f"{r['formula']:<40} {str(r['family']):<14} {extra:<26} doi:{r['doi']}")
    return 0
