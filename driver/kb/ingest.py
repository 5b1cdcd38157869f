"""Ingestion of literature data into the knowledge base: CSV/XLSX tables, CIF files and
tables inside text PDFs (pdfplumber). Every row is normalized (pymatgen formula, S/cm) or
rejected with its reason; nothing is silently dropped."""

from __future__ import annotations

import csv
import io
import tarfile
from pathlib import Path

from .normalize import Reject, fingerprint, oxidation_guess, parse_formula, parse_sigma, unit_factor
from .store import KB

# Column names recognized in tables (first match wins), lower-case.
FORMULA_COLS = ("true composition", "composition", "formula", "reduced composition", "material")
SIGMA_HINTS = ("ionic conductivity", "conductivity", "sigma")
FAMILY_COLS = ("family", "structure type", "structural family")
DOI_COLS = ("doi", "reference doi")
SG_COLS = ("space group", "spacegroup")
ID_COLS = ("id", "entry")


def _col(header: list[str], names: tuple[str, ...]) -> str | None:
    low = {h.lower().strip(): h for h in header}
    for n in names:
        if n in low:
            return low[n]
    return None


def _sigma_col(header: list[str]) -> str | None:
    for h in header:
        if any(k in h.lower() for k in SIGMA_HINTS) and "total" not in h.lower() and "bulk" not in h.lower():
            return h
    return None


def ingest_rows(kb: KB, header: list[str], rows: list[list[str]], origin: str) -> dict:
    fcol = _col(header, FORMULA_COLS)
    scol = _sigma_col(header)
    if fcol is None or scol is None:
        raise Reject(f"{origin}: needs a formula column ({', '.join(FORMULA_COLS)}) and a "
                     f"conductivity column (header containing 'conductivity'); got {header}")
    factor, is_log = unit_factor(scol)
    famc, doic, sgc, idc = (_col(header, c) for c in (FAMILY_COLS, DOI_COLS, SG_COLS, ID_COLS))
    fallback = _col(header, ("reduced composition",))
    ok = bad = 0
    for i, raw in enumerate(rows, start=2):
        r = dict(zip(header, raw))
        tag = f"row {i}" + (f" ({r.get(idc)})" if idc and r.get(idc) else "")
        try:
            if len(raw) != len(header):
                raise Reject(f"has {len(raw)} fields, header has {len(header)}")
            try:
                comp = parse_formula(r.get(fcol, ""))
                formula = r.get(fcol, "")
            except Reject:
                if not fallback or fallback == fcol:
                    raise
                comp = parse_formula(r.get(fallback, ""))
                formula = r.get(fallback, "")
            sig = parse_sigma(r.get(scol, ""), factor, is_log)
            doi = (r.get(doic) or "").strip() if doic else ""
            if not doi:
                raise Reject("no DOI: every entry keeps its source")
            kb.add_material(entry=r.get(idc) if idc else None, formula=formula.strip(),
                            reduced=comp.reduced_formula, family=(r.get(famc) or "").strip() if famc else None,
                            doi=doi, space_group=(r.get(sgc) or "").strip() if sgc else None,
                            fp=fingerprint(comp), oxidation=oxidation_guess(comp), cif=None, origin=origin,
                            properties=[("ionic_conductivity", sig.value, sig.upper, "S/cm")])
            ok += 1
        except Reject as exc:
            kb.reject(origin, tag, str(exc))
            bad += 1
    kb.commit()
    return {"origin": origin, "accepted": ok, "rejected": bad}


def ingest_csv(kb: KB, path: Path) -> dict:
    text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:   # e.g. an unterminated quote that would swallow every later row
        raise Reject(f"{path}: CSV error at line {reader.line_num}: {exc}; fix the quoting "
                     "there (nothing from this file was added)") from None
    if not rows:
        raise Reject(f"{path}: empty file")
    return ingest_rows(kb, rows[0], rows[1:], str(path))


def ingest_xlsx(kb: KB, path: Path) -> dict:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = [["" if c is None else str(c) for c in row] for row in ws.iter_rows(values_only=True)]
    return ingest_rows(kb, rows[0], rows[1:], str(path))


def ingest_pdf(kb: KB, path: Path) -> dict:
    """Tables of a text-based PDF (pdfplumber); each table whose header has a formula and a
    conductivity column is ingested; others are reported as skipped."""
    import pdfplumber

    total = {"origin": str(path), "accepted": 0, "rejected": 0, "tables": 0}
    with pdfplumber.open(path) as pdf:
        for pno, page in enumerate(pdf.pages, start=1):
            for tno, table in enumerate(page.extract_tables(), start=1):
                rows = [["" if c is None else str(c).strip() for c in row] for row in table if row]
                if len(rows) < 2:
                    continue
                try:
                    r = ingest_rows(kb, rows[0], rows[1:], f"{path} page {pno} table {tno}")
                except Reject as exc:
                    kb.reject(str(path), f"page {pno} table {tno}", str(exc))
                    kb.commit()
                    continue
                total["tables"] += 1
                total["accepted"] += r["accepted"]
                total["rejected"] += r["rejected"]
    if total["tables"] == 0:
        raise Reject(f"{path}: no table with a formula and a conductivity column found "
                     "(is it a scanned PDF? OCR is not supported)")
    return total


def ingest_cifs(kb: KB, paths: list[Path], origin: str) -> dict:
    """CIF files: structure formula, space group; conductivity is not in a CIF, so entries
    carry only the structure (a matching table row links by entry id)."""
    from pymatgen.io.cif import CifParser
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    ok = bad = 0
    for p in paths:
        try:
            s = CifParser(p).parse_structures(primitive=False, on_error="raise")[0]
            comp = s.composition
            if "Li" not in {e.symbol for e in comp.elements}:
                raise Reject("contains no Li")
            try:
                sg = SpacegroupAnalyzer(s, symprec=0.1).get_space_group_symbol()
            except Exception:
                sg = None
            kb.add_material(entry=Path(p).stem, formula=comp.formula, reduced=comp.reduced_formula,
                            family=None, doi="unknown (CIF)", space_group=sg, fp=fingerprint(comp),
                            oxidation=oxidation_guess(comp), cif=str(p), origin=origin, properties=[])
            ok += 1
        except Exception as exc:
            kb.reject(origin, Path(p).name, f"CIF not usable: {str(exc).splitlines()[0][:200]}")
            bad += 1
    kb.commit()
    return {"origin": origin, "accepted": ok, "rejected": bad}


#: The first bytes each binary format starts with, checked before a parser sees the file.
SIGNATURES = {".xlsx": (b"PK\x03\x04", "an xlsx workbook (a ZIP container)"),
              ".pdf": (b"%PDF", "a PDF"),
              ".tar.gz": (b"\x1f\x8b", "a gzip-compressed tar archive"),
              ".tgz": (b"\x1f\x8b", "a gzip-compressed tar archive")}


def _check_signature(p: Path, suf: str) -> None:
    for ext, (magic, what) in SIGNATURES.items():
        if suf.endswith(ext):
            with open(p, "rb") as f:
                if f.read(len(magic)) != magic:
                    raise Reject(f"{p}: named {ext} but not {what}; rename it or export it "
                                 "again")
            return


def ingest(kb: KB, path: str | Path) -> dict:
    """Ingest one file by its type; Reject (one line) when the file as a whole is unusable."""
    import zipfile

    from pdfplumber.utils.exceptions import PdfminerException

    p = Path(path)
    if not p.is_file():
        raise Reject(f"{p}: file not found")
    suf = "".join(p.suffixes[-2:]).lower()
    _check_signature(p, suf)
    try:
        return _ingest_by_type(kb, p, suf)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, PdfminerException) as exc:
        raise Reject(f"{p}: damaged file ({type(exc).__name__}: {exc})") from None


def _ingest_by_type(kb: KB, p: Path, suf: str) -> dict:
    if suf.endswith(".csv"):
        return ingest_csv(kb, p)
    if suf.endswith(".xlsx"):
        return ingest_xlsx(kb, p)
    if suf.endswith(".pdf"):
        return ingest_pdf(kb, p)
    if suf.endswith(".cif"):
        return ingest_cifs(kb, [p], str(p))
    if suf.endswith(".tar.gz") or suf.endswith(".tgz"):
        import tempfile
        tmp = Path(tempfile.mkdtemp(prefix="sse-kb-"))
        with tarfile.open(p) as tf:
            members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(".cif")
                       and not m.name.startswith("/") and ".." not in m.name]
            tf.extractall(tmp, members=members, filter="data")
        return ingest_cifs(kb, sorted(tmp.rglob("*.cif")), str(p))
    raise Reject(f"{p}: unsupported file type (csv, xlsx, pdf, cif, tar.gz of CIFs)")


def obelix_csv() -> Path:
    return Path(__file__).parent / "data" / "obelix" / "all.csv"
