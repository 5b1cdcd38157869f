"""Knowledge base: OBELiX ingestion, rejects with reasons, PDF/XLSX/CIF, checks, novelty."""

from __future__ import annotations

import pytest

from driver.kb import checks
from driver.kb.ingest import ingest, obelix_csv
from driver.kb.normalize import oxidation_guess, parse_formula
from driver.kb.store import KB
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def obelix(tmp_path_factory):
    kb = KB(tmp_path_factory.mktemp("kb") / "kb.sqlite")
    report = ingest(kb, obelix_csv())
    return kb, report


def test_obelix_ingests_with_documented_counts(obelix):
    kb, report = obelix
    # docs/knowledge_base.md: 599 rows, all accepted; 37 are upper bounds ("<1E-10")
    assert report == {"origin": str(obelix_csv()), "accepted": 599, "rejected": 0}
    assert kb.count() == {"materials": 599, "sources": 223, "families": 43, "rejects": 0}
    censored = kb.db.execute("SELECT COUNT(*) FROM properties WHERE value IS NULL AND upper IS NOT NULL").fetchone()[0]
    assert censored == 37
    fam = dict(kb.db.execute("SELECT f.name, COUNT(*) FROM materials m JOIN families f ON f.id = m.family_id "
                             "GROUP BY f.name").fetchall())
    assert fam["NASICON"] == 134 and fam["garnet"] == 105


def test_known_composition_has_novelty_zero_with_its_doi(obelix):
    kb, _ = obelix
    n = kb.novelty("Li1.5Al0.5Ge1.5(PO4)3")
    assert n["novelty"] == pytest.approx(0.0, abs=1e-12)
    assert n["nearest"]["doi"] in ("10.1021/acsami.8b00842", "10.1016/j.jeurceramsoc.2014.11.023",
                                   "10.1016/s0955-2219(99)00055-2")
    far = kb.novelty("Li2.5Al1.5Ge0.5(PO4)3")          # beyond any synthesized x
    assert far["novelty"] > 0.05 and far["nearest"]["family"] == "NASICON"


def test_query_by_family_elements_and_conductivity(obelix):
    kb, _ = obelix
    rows = kb.query(family="garnet", elements=["Ta"], sigma_min=5e-4)
    assert rows and all(r["family"] == "garnet" and "Ta" in r["formula"] and r["sigma"] >= 5e-4 for r in rows)
    assert rows == sorted(rows, key=lambda r: -r["sigma"])


def test_malformed_rows_are_rejected_with_reasons(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("ID,Composition,Ionic conductivity (mS/cm),Family,DOI\n"
                 "a,Li1.5Al0.5Ge1.5(PO4)3,0.336,NASICON,10.1021/acsami.8b00842\n"
                 "b,Li7La3Zr2O12,abc,garnet,10.1/x\n"
                 "c,Xx2O3,1.0,oxide,10.1/y\n"
                 "d,Li7La3Zr2O12,0.5,garnet,\n"
                 "e,Li7La3Zr2O12,-1,garnet,10.1/z\n"
                 "f,Li3N,0.1\n"
                 "g,NaCl,0.1,halide,10.1/w\n")
    kb = KB(tmp_path / "kb.sqlite")
    r = ingest(kb, f)
    assert (r["accepted"], r["rejected"]) == (1, 6)
    reasons = " | ".join(x["reason"] for x in kb.rejects())
    for needle in ("not a number", "not parseable", "no DOI", "not a positive", "fields", "no Li"):
        assert needle in reasons, reasons
    sigma = kb.query()[0]["sigma"]
    assert sigma == pytest.approx(3.36e-4)                # mS/cm -> S/cm


def test_log10_and_xlsx(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Formula", "log10 sigma (S/cm)", "DOI"])
    ws.append(["Li7La3Zr2O12", -3.245, "10.1016/j.ssi.2010.12.010"])
    wb.save(tmp_path / "t.xlsx")
    kb = KB(tmp_path / "kb.sqlite")
    assert ingest(kb, tmp_path / "t.xlsx")["accepted"] == 1
    assert kb.query()[0]["sigma"] == pytest.approx(10 ** -3.245)


def test_pdf_table(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.table(cellText=[["Li1.5Al0.5Ge1.5(PO4)3", "0.336", "10.1021/acsami.8b00842"],
                       ["Li7La3Zr2O12", "0.569", "10.1016/j.ssi.2010.12.010"],
                       ["LiXx", "1", "10.1/x"]],
             colLabels=["Formula", "Conductivity (mS/cm)", "DOI"], loc="center")
    fig.savefig(tmp_path / "paper.pdf")
    kb = KB(tmp_path / "kb.sqlite")
    r = ingest(kb, tmp_path / "paper.pdf")
    assert (r["accepted"], r["rejected"], r["tables"]) == (2, 1, 1)
    from pymatgen.core import Composition
    got = sorted((Composition(x["reduced_formula"]) for x in kb.query()), key=lambda c: c.num_atoms)
    want = [Composition("Li1.5Al0.5Ge1.5(PO4)3"), Composition("Li7La3Zr2O12")]
    assert len(got) == 2 and all(g.almost_equals(w) for g, w in zip(got, want))


def test_cifs_from_the_shipped_archive(tmp_path):
    from driver.kb.ingest import obelix_csv as oc
    kb = KB(tmp_path / "kb.sqlite")
    r = ingest(kb, oc().with_name("all_cifs.tar.gz"))
    assert r["accepted"] > 250 and r["accepted"] + r["rejected"] == 321


def test_oxidation_states_are_chemical():
    assert oxidation_guess(parse_formula("Li1.5Al0.5Ge1.5(PO4)3")) == {"Li": 1, "Al": 3, "Ge": 4, "P": 5, "O": -2}
    assert oxidation_guess(parse_formula("Li6.4La3Zr1.4Ta0.6O12"))["Ta"] == 5   # fractional amounts
    assert oxidation_guess(parse_formula("Li6PS5Cl")) == {"Li": 1, "P": 5, "S": -2, "Cl": -1}
    assert oxidation_guess(parse_formula("Li8La3Zr2O12")) is None


def test_logic_checks_explain_failures():
    c = checks.candidate_checks("Li8La3Zr2O12")
    assert not c[0].ok and "neutral" in c[0].reason and len(c) == 1
    c = {x.name: x for x in checks.candidate_checks("Li7La3Zr2O12")}
    assert c["charge_neutrality"].ok and c["site_occupancy"].ok
    assert not c["potential_coverage"].ok and "La-O" in c["potential_coverage"].reason
    c = {x.name: x for x in checks.candidate_checks("Li1.5Al0.5Ge1.5(PO4)3")}
    assert all(x.ok for x in c.values())
    from driver.schema import MDSettings
    bad = {x.name: x for x in checks.md_ranges(MDSettings(temperatures_k=[2500], prod_ps=2))}
    assert not bad["temperature_range"].ok and not bad["production_length"].ok


def test_kb_cli(tmp_path):
    db = str(tmp_path / "kb.sqlite")
    r = run_cli("kb", "ingest", "--obelix", "--db", db)
    assert r.returncode == 0 and "accepted 599" in r.stdout
    r = run_cli("kb", "query", "--db", db, "--near", "Li1.5Al0.5Ge1.5(PO4)3", "--limit", "1")
    assert r.returncode == 0 and "distance 0.0000" in r.stdout and "doi:" in r.stdout
    r = run_cli("kb", "check", "Li8La3Zr2O12")
    assert r.returncode == 1 and "FAIL  charge_neutrality" in r.stdout
    r = run_cli("kb", "ingest", str(tmp_path / "missing.csv"), "--db", db)
    assert r.returncode == 2 and "not found" in r.stderr and r.stderr.count("\n") == 1
