"""Hostile and malformed data files: they are refused in one line and never become code.

A potential YAML is data that users pass around (``md.potential`` takes a path). Each text
field it holds is rendered into a LAMMPS comment and a pair-table header, and its name into
a file name: a newline there would turn the rest of the field into LAMMPS commands
(``shell ...``), a ``../`` would write outside the run folder.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymatgen.core import Lattice, Structure

from driver import potentials
from driver.errors import UserError
from driver.md.decks import MDInputGenerator
from driver.schema import MDSettings
from tests.conftest import assert_one_line_error, run_cli

SOURCE = potentials.data_dir("potentials") / "adams_rao2011.yaml"
AUTHORS = "authors: S. Adams, R. P. Rao"


def _variant(tmp_path, old: str, new: str, name: str = "evil.yaml"):
    text = SOURCE.read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


def _li2o() -> Structure:
    return Structure(Lattice.cubic(4.61), ["Li"] * 8 + ["O"] * 4,
                     [[x, y, z] for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)]
                     + [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def _commands(deck: str) -> list[str]:
    """The lines LAMMPS executes: not blank, not comments."""
    return [l for l in deck.splitlines() if l.strip() and not l.lstrip().startswith("#")]


@pytest.mark.parametrize("new, needle", [
    (AUTHORS + "\n  note: |\n    x\n    shell touch PWNED", "citation.note holds '\\n'"),
    ('authors: "S. Adams\\nshell touch PWNED"', "citation.authors holds '\\n'"),
    ('authors: "S. Adams\\rshell touch PWNED"', "citation.authors holds '\\r'"),
    ('authors: "S. Adams\\u2028shell touch PWNED"', "citation.authors holds '\\u2028'"),
    ('authors: "S. Adams &"', "citation.authors holds '&'"),
    ('authors: "S. Adams ${x}"', "citation.authors holds '$'"),
    ('authors: "S. Adams \\"\\"\\""', "citation.authors holds '\"'"),
    ("authors: [S. Adams]", "citation.authors must be text"),
])
def test_text_that_would_end_a_comment_is_refused(tmp_path, new, needle):
    path = _variant(tmp_path, AUTHORS, new)
    with pytest.raises(UserError, match=re.escape(needle)):
        potentials.load(str(path))


@pytest.mark.parametrize("old, new, needle", [
    ("name: adams_rao2011", "name: ../../escaped", "name '../../escaped' must be a plain name"),
    ("name: adams_rao2011", "name: /tmp/x", "must be a plain name"),
    ("name: adams_rao2011", "name: 12", "must be a plain name"),
    ("  Li: {charge: 1, n: 2, radius: 1.31}", "  'Li O': {charge: 1, n: 2, radius: 1.31}",
     "'Li O' is not an element symbol"),
    ("  - [Li, O, 0.988160", "  - [Li, Xx, 0.988160", "'Xx' is not listed under species"),
    ("    pair: [table]", "    pair: ['table\\nshell ls']", "must list LAMMPS style names"),
    ("  Li: {charge: 1, n: 2, radius: 1.31}", "  Li: 7", "malformed potential file"),
    ("form: softbv ", "form: [softbv] ", "is not one of"),
])
def test_names_and_fields_that_would_escape_are_refused(tmp_path, old, new, needle):
    path = _variant(tmp_path, old, new)
    with pytest.raises(UserError, match=re.escape(needle)):
        potentials.load(str(path))


def test_not_utf8_and_not_a_mapping_are_one_line(tmp_path):
    (tmp_path / "latin.yaml").write_bytes(SOURCE.read_bytes().replace(b"Rao", b"R\xe4o"))
    with pytest.raises(UserError, match="not UTF-8"):
        potentials.load(str(tmp_path / "latin.yaml"))
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(UserError, match="must be a mapping"):
        potentials.load(str(tmp_path / "list.yaml"))


def test_md_with_a_hostile_potential_is_one_line_and_writes_nothing(tmp_path):
    """The CLI path a shared config takes: refused before any folder or deck exists."""
    path = _variant(tmp_path, AUTHORS, 'authors: "x\\nshell touch PWNED"')
    out = tmp_path / "run"
    r = run_cli("md", "--composition", "Li7La3Zr2O12", "--potential", str(path),
                "--out", str(out), cwd=tmp_path)
    assert_one_line_error(r, "citation.authors")
    assert not out.exists() and not (tmp_path / "PWNED").exists()


# Apostrophes, accents and other ordinary typography stay allowed.
_SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"),
                                   blacklist_characters='&$#"`'), max_size=80)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_any_citation_text_is_refused_or_stays_inside_its_comment(tmp_path, text):
    """Property: whatever text a citation holds, the deck's commands are those of a plain one.

    Hypothesis draws any Unicode (newlines, separators, control characters, LAMMPS
    specials); the file is either refused with a UserError or renders a deck whose
    executable lines are exactly those of the shipped file.
    """
    import yaml

    doc = yaml.safe_load(SOURCE.read_text())
    doc["citation"]["authors"] = text
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    gen = lambda pot: MDInputGenerator(MDSettings(), pot).md_set(_li2o(), 1000.0, 1)  # noqa: E731
    reference = _commands(gen(potentials.load(str(SOURCE))).deck)
    try:
        pot = potentials.load(str(path))
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    inset = gen(pot)
    assert _commands(inset.deck) == reference
    table = inset.files["adams_rao2011.table"]
    assert [l for l in table.splitlines() if l.strip() and not l.startswith("#")] == \
        [l for l in gen(potentials.load(str(SOURCE))).files["adams_rao2011.table"].splitlines()
         if l.strip() and not l.startswith("#")]


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_SAFE_TEXT)
def test_ordinary_citation_text_is_accepted(tmp_path, text):
    import yaml

    doc = yaml.safe_load(SOURCE.read_text())
    doc["citation"]["authors"] = "M. O'Keeffe, " + text
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    pot = potentials.load(str(path))
    assert pot.citation["authors"] == doc["citation"]["authors"]


# ---- campaigns: missing values, inconsistent configs, foreign files, failed starts ----

def test_a_campaign_with_null_objectives_reports_and_keeps_proposing(tmp_path):
    """sigma_hot and sigma_300K may be null or non-finite in a finished evaluation (a hot run
    too short to be diffusive): the optimizer, status and report handle every such value."""
    import json

    from driver import config
    from driver.campaign.ledger import Ledger
    from driver.campaign.loop import _tell, build_optimizer
    from driver.campaign.meta import residuals
    from driver.campaign.report import status, write_report
    from driver.schema import Settings
    from tests.conftest import TINY_CAMPAIGN

    d = json.loads(json.dumps(TINY_CAMPAIGN))
    d["campaign"]["objectives"] = [{"name": "sigma_hot", "log": True},
                                   {"name": "sigma_300K", "log": True}]
    s = config.validate(Settings, d)
    (tmp_path / "config.yaml").write_text(config.dump_yaml(s))
    opt = build_optimizer(s)
    led = Ledger(tmp_path / "ledger.sqlite")
    led.set_meta({"name": "nulls", "seed": 1, "potential": "pedone2006"})
    xs = opt.ask(4)
    outs = [{"formula": "A", "sigma_hot": None, "sigma_300K": None},
            {"formula": "B", "sigma_hot": 0.01, "sigma_300K": None, "sigma_hot_err": None},
            {"formula": "C", "sigma_hot": 0.02, "sigma_300K": 1e-5, "sigma_300K_err": 1e-6},
            {"formula": "D", "sigma_hot": float("nan"), "sigma_300K": 0.0}]
    for pid, x, o in zip(led.add_proposals(xs, opt.to_json()), xs, outs):
        assert residuals({"sigma_hot": ([0.0], [1.0]), "sigma_300K": ([0.0], [1.0])}, o,
                         opt.objectives) is not None
        _tell(opt, x, {"status": "done", "outputs": o})
        led.record(pid, "done", o, [], 1, "/r", 0.0, 1.0, {}, opt.to_json())
    led.close()
    text = status(tmp_path)
    assert "best so far: candidate 3 C" in text and "sigma_300K = 1e-05 +- 1e-06" in text
    assert write_report(tmp_path).is_file() and (tmp_path / "results.csv").is_file()
    assert opt.best().y["sigma_300K"] == 1e-5          # a guessed or null value is never best
    assert len(opt.ask(2)) == 2


def test_md_only_campaign_with_a_phase_field_objective_is_refused(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("campaign:\n  phasefield: false\n")   # default objectives: critical_current
    assert_one_line_error(run_cli("config", "validate", str(cfg)),
                          "objective critical_current comes from the phase-field stage")
    assert_one_line_error(run_cli("run", str(cfg), "--out", str(tmp_path / "o")),
                          "campaign.phasefield: false")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("text, needle", [
    ("campaign:\n  initial_design: 1000000000\n", "campaign.initial_design"),
    ("campaign:\n  batch_size: 100000\n", "campaign.batch_size"),
    ("md:\n  ranks: 100000\n", "md.ranks 100000 is more than the"),
    # MD settings the logic checks fail for every candidate: refused, not a run of failures
    ("md:\n  temperatures_k: [5000]\n", "highest T 5000 K: above ~2000 K"),
    ("md:\n  prod_ps: 2\n", "every candidate would fail its logic checks"),
    ("campaign:\n  objectives: [{name: sigma_hot}, {name: sigma_hot}]\n",
     "objectives list sigma_hot more than once"),
    # a box reaching compositions that cannot exist (more Al than the framework site holds)
    ("campaign:\n  variables: {x: [0.0, 5.0]}\n",
     "campaign.variables.x: NASICON (M=Ge) x = 5 cannot exist (its physical limits are [0, 2])"),
])
def test_runaway_sizes_are_refused_before_anything_runs(tmp_path, text, needle):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    assert_one_line_error(run_cli("config", "validate", str(cfg)), needle)
    assert_one_line_error(run_cli("run", str(cfg), "--out", str(tmp_path / "o")), needle)
    assert not (tmp_path / "o").exists()


def test_supercell_beyond_max_atoms_is_refused_before_building(tmp_path):
    r = run_cli("md", "--composition", "Li7La3Zr2O12", "--supercell", "100000", "100000",
                "100000", "--out", str(tmp_path / "o"), timeout=120)
    assert_one_line_error(r, "md.supercell 100000x100000x100000 gives 1.92e+17 atoms",
                          "md.max_atoms 200000")
    assert not (tmp_path / "o").exists()


def test_alias_bomb_and_non_utf8_configs_are_one_line(tmp_path):
    """A 'billion laughs' of nine nested aliases (9^9 values) and a Latin-1 file."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    for cmd in (["config", "validate", str(bomb)], ["run", str(bomb), "--out", str(tmp_path / "o")]):
        r = run_cli(*cmd, timeout=60)
        assert_one_line_error(r, "expands to more than 200000 values")
        assert len(r.stderr) < 300
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"campaign:\n  name: caf\xe9\n")
    for cmd in (["config", "validate", str(latin)], ["run", str(latin), "--out", str(tmp_path / "o")],
                ["md", "--config", str(latin), "--composition", "Li7La3Zr2O12", "--out",
                 str(tmp_path / "o")]):
        assert_one_line_error(run_cli(*cmd, timeout=60), "not UTF-8 text")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content", [b"hello\n", b"PK\x03\x04 a zip", "sqlite-other"])
def test_foreign_files_named_as_ledgers_or_knowledge_bases_are_one_line(tmp_path, content):
    import sqlite3

    d = tmp_path / "camp"
    d.mkdir()
    led = d / "ledger.sqlite"
    if content == "sqlite-other":
        db = sqlite3.connect(led)
        db.execute("CREATE TABLE other (a)")
        db.commit()
        db.close()
    else:
        led.write_bytes(content)
    before = led.read_bytes()
    for cmd in (["status", str(d)], ["report", str(d)], ["review", str(d)],
                ["review", str(d), "--accept", "1"], ["run", "--resume", str(d)],
                ["kb", "query", "--db", str(led)]):
        assert_one_line_error(run_cli(*cmd, timeout=60), "ledger.sqlite: not a")
    assert led.read_bytes() == before and sorted(p.name for p in d.iterdir()) == ["ledger.sqlite"]


# ---- knowledge base ----

@pytest.mark.parametrize("name, content, needle", [
    ("q.csv", 'formula,ionic_conductivity\nLi7La3Zr2O12,1e-4\n"Li3PO4,1e-7\nLiTi2(PO4)3,1e-6\n',
     "CSV error at line 4"),
    ("g.cif", "garbage\n", "no row of"),
    ("n.xlsx", "not a workbook\n", "named .xlsx but not an xlsx workbook"),
    ("n.pdf", "not a pdf\n", "named .pdf but not a PDF"),
    ("n.tar.gz", "not an archive\n", "named .tar.gz but not a gzip"),
    ("d.pdf", "%PDF-1.4 damaged\n", "damaged file"),
    ("d.xlsx", "PK\x03\x04damaged", "damaged file"),
    ("d.tar.gz", "\x1f\x8bdamaged", "damaged file"),
])
def test_unusable_knowledge_base_input_is_exit_2_and_creates_nothing(tmp_path, name, content, needle):
    f = tmp_path / name
    f.write_bytes(content.encode("latin-1"))
    db = tmp_path / "NEW" / "sub" / "new.sqlite"          # folders the command would create
    r = run_cli("kb", "ingest", str(f), "--db", str(db), timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and needle in r.stderr, r.stderr
    assert not (tmp_path / "NEW").exists()


def test_a_refused_ingest_leaves_an_existing_knowledge_base_as_it_was(tmp_path):
    """Not even a reject row stays (issue 33: "on an existing KB a reject row is added")."""
    import sqlite3

    from driver.errors import UserError
    from driver.kb import command
    good = tmp_path / "good.csv"
    good.write_text("ID,Composition,Ionic conductivity (mS/cm),Family,DOI\n"
                    "a,Li1.5Al0.5Ge1.5(PO4)3,0.336,NASICON,10.1021/acsami.8b00842\n"
                    "c,Xx2O3,1.0,oxide,10.1/y\n")
    db = tmp_path / "kb.sqlite"
    assert command.ingest(db, [str(good)], False, 0) == 0

    def rows():
        con = sqlite3.connect(db)
        try:
            return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                    for t in ("materials", "properties", "sources", "rejects", "ingested")}
        finally:
            con.close()
    before = rows()
    assert before["materials"] == 1 and before["rejects"] == 1
    bad = tmp_path / "g.cif"
    bad.write_text("garbage\n")
    with pytest.raises(UserError, match="no row of"):
        command.ingest(db, [str(bad)], False, 5)
    assert rows() == before


def test_reingesting_a_source_is_idempotent_and_kb_check_picks_a_covering_potential(tmp_path):
    db = tmp_path / "kb.sqlite"
    first = run_cli("kb", "ingest", "--obelix", "--db", str(db), timeout=300)
    assert first.returncode == 0, first.stderr
    from driver.kb.ingest import obelix_csv

    # the same content again, given as a file after the options
    again = run_cli("kb", "ingest", "--db", str(db), str(obelix_csv()), timeout=300)
    assert again.returncode == 0 and "already in the knowledge base" in again.stdout, again.stderr
    assert first.stdout.splitlines()[-1] == again.stdout.splitlines()[-1]   # same counts
    r = run_cli("kb", "check", "Li7La3Zr2O12")     # the docs' example: La needs softBV
    assert r.returncode == 0 and "adams_rao2011 covers La, Li, O, Zr" in r.stdout, r.stdout
    r = run_cli("kb", "check", "Li7La3Zr2O12", "--potential", "pedone2006")
    assert r.returncode == 1 and "pedone2006 has no term for La, La-O" in r.stdout


# ---- the command line ----

@pytest.mark.parametrize("cmd", [
    ["md", "--composition", "Li7La3Zr2O12", "--potential", "adams_rao2011"],
    ["phasefield", "CFG"],
    ["run", "CFG"],
])
def test_a_users_non_empty_folder_or_a_file_as_out_is_refused(tmp_path, cmd):
    from tests.conftest import write_campaign

    cfg = write_campaign(tmp_path)
    cmd = [str(cfg) if c == "CFG" else c for c in cmd]
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    assert_one_line_error(run_cli(*cmd, "--out", str(mine), timeout=120), "is not empty")
    assert sorted(p.name for p in mine.iterdir()) == ["chapter1.tex"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert_one_line_error(run_cli(*cmd, "--out", str(afile), timeout=120),
                          "is a file, not a folder")


_EVERY_OUT = [["md", "--composition", "Li7La3Zr2O12", "--potential", "adams_rao2011"],
              ["phasefield", "CFG"], ["run", "CFG"], ["screen", "LIST"], ["validate"],
              ["doctor"], ["distil", "--composition", "Li3InCl6"], ["demo"]]


@pytest.mark.parametrize("cmd", _EVERY_OUT, ids=lambda c: c[0])
def test_an_out_under_a_file_or_on_read_only_media_is_refused_before_anything_runs(
        tmp_path, read_only_folder, cmd):
    """Issue 33, class 1: every command's --out is checked where it is parsed: under a file,
    or in a folder that cannot be written, it is one line (exit 2), not an OSError traceback
    after the work."""
    from tests.conftest import write_campaign

    cfg = write_campaign(tmp_path)
    lst = tmp_path / "list.txt"
    lst.write_text("Li7La3Zr2O12\n")
    cmd = [str(cfg) if c == "CFG" else str(lst) if c == "LIST" else c for c in cmd]
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert_one_line_error(run_cli(*cmd, "--out", str(afile / "sub" / "run"), timeout=120),
                          "which is a file")
    assert afile.read_text() == "x"
    src, view = read_only_folder
    if view == src:
        src.chmod(0o555)
    try:
        assert_one_line_error(run_cli(*cmd, "--out", str(view / "run"), timeout=120),
                              "cannot be written")
        assert not (view / "run").exists()
    finally:
        src.chmod(0o755)


@pytest.mark.parametrize("args, needle", [
    (["review", "DIR", "--rate", "1", "abc"], "VALUE must be a number, not 'abc'"),
    (["review", "DIR", "--rate", "x", "3"], "review --rate ID must be an integer"),
    (["md", "--composition", "", "--out", "OUT"], "cannot parse formula ''"),
    (["run", "CFG", "--scheduler", "garbage:::", "--out", "OUT"], "is not tcp://HOST:PORT"),
])
def test_malformed_arguments_are_one_line(tmp_path, args, needle):
    from driver.campaign.ledger import Ledger
    from tests.conftest import write_campaign

    Ledger(tmp_path / "camp" / "ledger.sqlite").close()
    subs = {"DIR": str(tmp_path / "camp"), "OUT": str(tmp_path / "o"),
            "CFG": str(write_campaign(tmp_path))}
    assert_one_line_error(run_cli(*[subs.get(a, a) for a in args], timeout=120), needle)
    assert not (tmp_path / "o").exists()


def test_a_bad_bind_address_is_refused_by_the_schema(tmp_path):
    cfg = tmp_path / "c.yaml"
    for text, needle in (("dask:\n  host: 'not a host!'\n", "dask.host"),
                         ("dask:\n  scheduler_address: 'tcp://x:y'\n", "dask.scheduler_address"),
                         ("dask:\n  dashboard_address: '127.0.0.1'\n", "dask.dashboard_address")):
        cfg.write_text(text)
        assert_one_line_error(run_cli("config", "validate", str(cfg)), needle)


# ---- MPI on one node listens on loopback only ----

_LISTENERS = r"""
import json, os, re, subprocess, sys
from driver.mpi import MPI
comm = MPI.COMM_WORLD
pids = comm.allgather([os.getpid(), os.getppid()])
comm.Barrier()
if comm.rank == 0:
    ours = {p for pair in pids for p in pair}
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout.splitlines()
    mine = [l for l in lines if any(int(p) in ours for p in re.findall(r"pid=(\d+)", l))]
    print(json.dumps(mine))
comm.Barrier()
"""


@pytest.mark.mpi
@pytest.mark.skipif(__import__("shutil").which("ss") is None, reason="needs ss (iproute2)")
def test_mpi_ranks_and_their_launcher_listen_on_loopback_only(tmp_path):
    """`ss -ltnp` while a 2-rank job of the driver's own launcher runs: every listening
    socket of the ranks and of their launcher is bound to 127.0.0.1 (measured before this
    rule: the UCX netmod on the external address, Hydra's mpirun on 0.0.0.0)."""
    import json
    import os
    import subprocess

    from driver.mpi import INTERFACE_ENV, mpirun_command

    script = tmp_path / "listeners.py"
    script.write_text(_LISTENERS)
    env = {k: v for k, v in os.environ.items()
           if k not in (INTERFACE_ENV, "UCX_NET_DEVICES", "SLURM_JOB_NUM_NODES", "SLURM_NNODES")}
    code = ("import subprocess, sys; from driver.mpi import mpirun_command; "
            f"sys.exit(subprocess.run(mpirun_command(2, [{str(script)!r}])).returncode)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120, cwd=Path(__file__).parent.parent)
    assert r.returncode == 0, r.stderr[-2000:]
    listening = json.loads(r.stdout.strip().splitlines()[-1])
    assert listening, "expected the ranks' own loopback listeners"
    for line in listening:
        local = line.split()[3]
        assert local.startswith(("127.", "[::1]")), line
    assert mpirun_command(2, ["x"])[0].endswith("mpiexec.gforker")


def test_a_named_interface_uses_hydra_with_it():
    from driver.mpi import launcher, loopback_environment

    assert launcher({"SSE_DRIVER_MPI_INTERFACE": "ib0"})[-2:] == ["-iface", "ib0"]
    assert launcher({"SLURM_JOB_NUM_NODES": "4"})[0].endswith("mpirun")
    assert loopback_environment({"SLURM_JOB_NUM_NODES": "4"}) == {}
    assert loopback_environment({})["UCX_NET_DEVICES"] == "lo"
    assert loopback_environment({"UCX_NET_DEVICES": "mlx5_0:1"}) == {}
    from driver.config import env_overrides      # these two are not config overrides
    assert env_overrides({"SSE_DRIVER_MPI_INTERFACE": "ib0", "SSE_DRIVER_MPI_LOOPBACK": "1",
                          "SSE_DRIVER_MD__SEED": "3"}) == {"md": {"seed": 3}}


@pytest.mark.parametrize("text, needle", [
    ('dask:\n  jobqueue:\n    account: "abc\\nrm -rf ~"\n', "dask.jobqueue.account"),
    ('dask:\n  jobqueue:\n    job_extra_directives: ["--qos=x\\n#SBATCH --exclusive"]\n',
     "dask.jobqueue.job_extra_directives"),
    ('dask:\n  jobqueue:\n    job_script_prologue: ["module load x\\rcurl evil"]\n',
     "dask.jobqueue.job_script_prologue"),
    ('dask:\n  interface: "ib0; rm -rf ~"\n', "dask.interface"),
])
def test_batch_script_values_are_single_lines(tmp_path, text, needle):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    assert_one_line_error(run_cli("config", "validate", str(cfg)), needle)
    assert_one_line_error(run_cli("cluster", "script", str(cfg)), needle)


def test_a_batch_backend_without_a_reachable_controller_is_one_line_and_leaves_nothing(tmp_path):
    """Without this check dask-jobqueue only logs the failed sbatch and the campaign waits
    for workers forever, its config and ledger already written."""
    from tests.conftest import BIN, write_campaign

    cfg = write_campaign(tmp_path, dask={"backend": "slurm"})
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "squeue").write_text("#!/bin/sh\necho 'squeue: error: Unable to contact slurm "
                                 "controller (connect failure)' >&2\nexit 1\n")
    (fake / "squeue").chmod(0o755)
    for path, needle in ((f"{BIN}", "`squeue` is not on PATH"),
                         (f"{fake}:{BIN}", "Unable to contact slurm controller")):
        out = tmp_path / "camp"
        r = run_cli("run", str(cfg), "--out", str(out), env={"PATH": path}, timeout=120)
        assert_one_line_error(r, needle)
        assert not out.exists()


@pytest.mark.parametrize("content", [b"\x82\x00binary", b"{", b'{"temperatures": 5}',
                                     b'{"temperatures": [{"diffusive": true, "D_cm2_s": "x"}]}',
                                     b"[1, 2]"])
def test_a_phase_field_md_result_that_is_not_one_is_one_line(tmp_path, content):
    res = tmp_path / "result.json"
    res.write_bytes(content)
    cfg = tmp_path / "pf.yaml"
    cfg.write_text("phasefield:\n  degradation: {interfacial_energy_J_m2: 0.5, md_result: "
                   f"'{res}'}}\n")
    out = tmp_path / "o"
    assert_one_line_error(run_cli("phasefield", str(cfg), "--out", str(out), timeout=120),
                          "is not the result.json of `sse-driver md`")
    assert not out.exists()


@pytest.mark.parametrize("args, needle", [
    (["md", "--composition", "Li7La3Zr2O12", "--prod-ps", "inf", "--out", "OUT"],
     "md.prod_ps: Input should be a finite number"),
    (["md", "--composition", "Li7La3Zr2O12", "--temperatures", "nan", "--out", "OUT"],
     "md.temperatures_k.0"),
    (["kb", "query", "--limit", "-5"], "argument --limit: '-5' must be >= 1"),
    (["kb", "query", "--sigma-min", "nan"], "'nan' is not a finite number"),
    (["kb", "query", "--near", ""], "empty formula"),
])
def test_non_finite_and_empty_values_are_one_line(tmp_path, args, needle):
    db = tmp_path / "kb.sqlite"
    if args[0] == "kb":
        assert run_cli("kb", "ingest", "--obelix", "--db", str(db), timeout=300).returncode == 0
        args = [*args, "--db", str(db)]
    out = tmp_path / "o"
    assert_one_line_error(run_cli(*[str(out) if a == "OUT" else a for a in args]), needle)
    assert not out.exists()


def test_inherited_loopback_is_dropped_when_a_child_needs_the_network():
    """A batch-job worker inherits the campaign's loopback variables; on a multi-node job
    it must not keep them (they are marked as the driver's own, not the user's)."""
    import os
    import subprocess

    from driver.mpi import OWN_ENV, network_interface

    env = {k: v for k, v in os.environ.items() if k != "SSE_DRIVER_MPI_INTERFACE"}
    env.update({"UCX_NET_DEVICES": "lo", OWN_ENV: "1"})
    assert network_interface(env) is None                   # still one node: loopback
    env["SLURM_JOB_NUM_NODES"] = "2"
    code = "import os, driver.mpi; print(os.environ.get('UCX_NET_DEVICES'))"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       cwd=Path(__file__).parent.parent, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "None", r.stderr


def test_a_dask_cluster_that_cannot_start_is_one_line_and_leaves_nothing(tmp_path):
    """Issue 33, class 2: a start-up failure of the cluster (here an impossible bind address)
    is a user error naming the setting, not Dask's traceback; no output folder is left."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dask: {host: 256.1.1.1, dashboard_address: '127.0.0.1:0'}\n")
    r = run_cli("run", str(cfg), "--out", str(tmp_path / "o"), timeout=300)
    assert_one_line_error(r, "dask.host", "256.1.1.1")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flags, needle", [
    (["--prod-ps", "1e12"], "LAMMPS runs at most"),
    (["--timestep-fs", "1e-300"], "LAMMPS runs at most"),
    (["--prod-ps", "2e6", "--timestep-fs", "5"], "samples"),
])
def test_derived_md_quantities_are_checked_before_anything_runs(tmp_path, flags, needle):
    """Issue 33, class 4: step and sample counts derived from valid-looking times are
    checked with the settings, not found out by LAMMPS after relax and elastic ran."""
    r = run_cli("md", "--composition", "Li7La3Zr2O12", "--out", str(tmp_path / "o"), *flags,
                timeout=120)
    assert_one_line_error(r, needle)
    assert not (tmp_path / "o").exists()


def test_a_degenerate_phasefield_domain_is_refused_by_the_schema(tmp_path):
    cfg = tmp_path / "pf.yaml"
    cfg.write_text("phasefield: {domain: {lx: 1.0e-300}}\n")
    assert_one_line_error(run_cli("config", "validate", str(cfg)), "domain.lx")


def test_a_degradation_mesh_the_solver_cannot_hold_is_one_line(tmp_path):
    """Issue 33, class 4 (derived quantities): the degradation model derives its mesh from
    the interface width and the domain (2 elements per width); 1e-6 nm in 1e6 nm needs 2e12
    per side, which was a pydantic traceback (exit 1). Now one line, exit 2, no folder."""
    cfg = tmp_path / "pf.yaml"
    cfg.write_text("phasefield:\n  degradation: {interfacial_energy_J_m2: 0.5, D_cm2_s: 1.0e-9, "
                   "domain_nm: 1.0e6, width_nm: 1.0e-6}\n")
    out = tmp_path / "o"
    assert_one_line_error(run_cli("phasefield", str(cfg), "--out", str(out), timeout=120),
                          "elements per side")
    assert not out.exists()


def test_a_missing_sse_driver_home_is_one_line_before_any_command(tmp_path):
    """Issue 33, class 9: SSE_DRIVER_HOME pointing nowhere is named in one line (exit 2)
    before a command starts (the demo would otherwise run the doctor and write its file)."""
    for args in (["md", "--composition", "Li7La3Zr2O12", "--out", str(tmp_path / "o")],
                 ["demo", "--out", str(tmp_path / "o")]):
        r = run_cli(*args, env={"SSE_DRIVER_HOME": str(tmp_path / "nowhere")}, timeout=120)
        assert_one_line_error(r, "SSE_DRIVER_HOME")
        assert not (tmp_path / "o").exists()


def test_kb_check_of_a_non_formula_is_bad_input_like_kb_query():
    """Issue 33, class 11: the same mistake gets the same exit code in every kb action."""
    assert_one_line_error(run_cli("kb", "check", "Li7La3Zr2O1x2("), "not a chemical formula")


@pytest.fixture
def read_only_folder(tmp_path):
    """``(writable, read_only)``: one folder seen twice, the second view read-only: a
    read-only bind mount where this process may mount (root), else a folder without write
    permission (which root would ignore)."""
    import subprocess
    src, view = tmp_path / "src", tmp_path / "view"
    src.mkdir()
    view.mkdir()
    if os.geteuid() != 0:
        yield src, src
        src.chmod(0o755)
        return
    ok = subprocess.run(["mount", "--bind", str(src), str(view)], capture_output=True).returncode == 0
    if ok and subprocess.run(["mount", "-o", "remount,ro,bind", str(view)],
                             capture_output=True).returncode == 0:
        try:
            yield src, view
        finally:      # lazy: a file still open under it must not leave the mount behind
            subprocess.run(["umount", "-l", str(view)], capture_output=True)
        return
    if ok:
        subprocess.run(["umount", str(view)], capture_output=True)
    pytest.skip("root without mount rights: no read-only folder to test with")


def test_a_ledger_on_read_only_media_is_read(read_only_folder):
    """Issue 33, class 10: `status`, `report` and review listings open the ledger read-only,
    and a write-ahead-log ledger on read-only media (SQLite cannot create its side files
    there) is read, not called 'not a campaign ledger'."""
    from driver.campaign.ledger import Ledger
    src, view = read_only_folder
    Ledger(src / "ledger.sqlite").db.close()
    if view == src:
        src.chmod(0o555)
    led = Ledger(view / "ledger.sqlite", readonly=True)
    try:
        assert led.evaluations() == []
        assert sorted(p.name for p in view.iterdir()) == ["ledger.sqlite"]   # nothing written
    finally:
        led.close()
