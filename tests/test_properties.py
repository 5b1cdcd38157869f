"""Property-based tests (hypothesis) of every user-facing input: config files, formulas,
CLI arguments and data files.

The property, for every generated input: the command either accepts it, or refuses it
with exactly one line on stderr and exit 2, with no traceback and nothing written. The
commands run in-process through ``driver.cli.main`` (so hundreds of inputs take seconds);
an accepted ``md`` input stops before LAMMPS (``run_md`` is replaced by a recorder), so
what is tested is everything between the command line and the first run.

Inputs tried per ``make test`` (max_examples below): 250 configs, 200 formulas, 150
argument lists, 120 CSV tables, 60 raw byte strings as configs.
"""

from __future__ import annotations

import contextlib
import io
import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driver import cli

#: Reproducible in CI (the same inputs each run, no example database in the repository).
COMMON = settings(deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _main(argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``sse-driver ARGV`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:   # argparse: --help (0) or a usage error (2)
            rc = exc.code if isinstance(exc.code, int) else 1
    return rc, out.getvalue(), err.getvalue()


def _accepted_or_one_line(rc: int, err: str, accepted=(0,)) -> None:
    from hypothesis import event

    event("refused" if rc == 2 else "accepted")   # --hypothesis-show-statistics
    assert rc in (*accepted, 2), (rc, err)
    if rc == 2:
        assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# ---------------------------------------------------------------- config files

_KEYS = {
    "campaign": ["name", "family", "framework", "dopant_M", "dopant_T", "variables", "objectives",
                 "initial_design", "batch_size", "mode", "acquisition", "budget", "retry",
                 "phasefield", "seed", "candidates", "prior", "meta", "ahp_matrix"],
    "md": ["preset", "potential", "temperatures_k", "supercell", "equil_ps", "prod_ps",
           "timestep_fs", "replicas", "ranks", "seed", "max_atoms", "haven_ratio"],
    "phasefield": ["domain", "kappa", "time", "initial", "boundary", "degradation"],
    "dask": ["backend", "host", "dashboard_address", "scheduler_address", "n_workers",
             "interface"],
}
_WORDS = ["garnet", "nasicon", "Ge", "Ti", "Ta", "Nb", "Al", "Ga", "x", "y", "z", "sigma_300K",
          "sigma_hot", "stability", "max", "min", "smoke", "screening", "production",
          "pedone2006", "adams_rao2011", "../../etc/passwd", "Li7La3Zr2O12", "127.0.0.1",
          "0.0.0.0:0", "tcp://127.0.0.1:1", "local", "slurm", "", "\n", "&", "${x}"]
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(_WORDS),
                    st.text(max_size=12))
_value = st.recursive(_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(_WORDS + ["name", "log"]),
                                                 inner, max_size=3)), max_leaves=8)


@st.composite
def _mutated_valid(draw):
    """A valid config (the test campaign or the demo's) with one to three leaves replaced."""
    import json

    from tests.conftest import TINY_CAMPAIGN

    demo = yaml.safe_load((Path(cli.__file__).parent / "default_campaign.yaml").read_text())
    doc = json.loads(json.dumps(draw(st.sampled_from([TINY_CAMPAIGN, demo]))))
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(sorted(doc)))
        if isinstance(doc[section], dict) and doc[section]:
            key = draw(st.sampled_from(sorted(doc[section])))
            doc[section][key] = draw(_value)
    return doc


@st.composite
def _configs(draw):
    if draw(st.booleans()):
        return draw(_mutated_valid())
    doc = {}
    for section in draw(st.lists(st.sampled_from([*_KEYS, "bogus"]), max_size=4, unique=True)):
        keys = _KEYS.get(section, ["anything"])
        doc[section] = draw(st.dictionaries(st.sampled_from(keys + ["typo_key"]), _value,
                                            max_size=4))
    return doc


@settings(COMMON, max_examples=250)
@given(doc=_configs())
def test_any_config_is_valid_or_one_line(tmp_path, doc):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    before = _files(tmp_path)
    rc, _, err = _main(["config", "validate", str(path)])
    _accepted_or_one_line(rc, err)
    assert _files(tmp_path) == before


@settings(COMMON, max_examples=60)
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_a_config_are_valid_or_one_line(tmp_path, raw):
    path = tmp_path / "c.yaml"
    path.write_bytes(raw)
    rc, _, err = _main(["config", "validate", str(path)])
    _accepted_or_one_line(rc, err)


# ---------------------------------------------------------------- formulas

_ELEMENTS = ["Li", "La", "Zr", "Ta", "Nb", "Al", "Ga", "Ge", "Ti", "P", "O", "S", "Cl", "Y",
             "Xx", "li", ""]
_amount = st.one_of(st.just(""), st.integers(0, 130).map(str),
                    st.floats(0, 20, allow_nan=False).map(lambda v: f"{v:.3g}"),
                    st.sampled_from(["-1", "1e400", "nan", "0.0", "1/3"]))
_garnet = st.tuples(st.floats(-0.5, 2.5, allow_nan=False), st.floats(-0.2, 1.0, allow_nan=False),
                    st.sampled_from(["Ta", "Nb"]), st.sampled_from(["Al", "Ga"])).map(
    lambda t: f"Li{7 - t[0] - 3 * t[1]:.4g}{t[3]}{t[1]:.4g}La3Zr{2 - t[0]:.4g}{t[2]}{t[0]:.4g}O12")
_formula = st.one_of(
    _garnet,
    st.lists(st.tuples(st.sampled_from(_ELEMENTS), _amount), min_size=0, max_size=6).map(
        lambda parts: "".join(e + a for e, a in parts)),
    st.sampled_from(["Li7La3Zr2O12", "Li1.5Al0.5Ge1.5(PO4)3", "Li6.4La3Zr1.4Ta0.6O12",
                     "LiTi2(PO4)3", "Li(PO4", "Li))", "Li7La3Zr2O12;shell ls", "Li" * 200]),
    st.text(string.printable, max_size=30))


@settings(COMMON, max_examples=200)
@given(formula=_formula)
def test_any_formula_builds_a_structure_or_is_one_line(tmp_path, monkeypatch, formula):
    """`md --composition F`: parsed, checked and built, or refused; never half-written."""
    import driver.md.workflow as wf

    ran = []
    monkeypatch.setattr(wf, "run_md", lambda structure, *a, **k: ran.append(structure) or {})
    import driver.md.command as md_command
    monkeypatch.setattr(md_command, "print_summary", lambda *a: None)
    out = tmp_path / "o"
    rc, _, err = _main(["md", "--composition", formula, "--potential", "adams_rao2011",
                        "--out", str(out)])
    _accepted_or_one_line(rc, err)
    if rc == 2:
        assert not out.exists() and not ran
    else:
        assert len(ran) == 1 and len(ran[0]) > 0 and "Li" in ran[0].composition


# ---------------------------------------------------------------- command lines

_TOKENS = ["config", "validate", "show", "status", "report", "review", "kb", "query", "check",
           "cluster", "script", "--out", "--db", "--rate", "--accept", "--veto", "--family",
           "--limit", "--sigma-min", "--near", "--json", "--potential", "--force", "DIR", "CFG",
           "FILE", "1", "-1", "abc", "nan", "1e999", "", "Li7La3Zr2O12", "garnet", "--help"]


@settings(COMMON, max_examples=150)
@given(argv=st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=7))
def test_any_command_line_of_the_read_only_commands_is_handled(tmp_path, argv):
    """Commands that only read (config, status, report, review, kb query/check, cluster
    script) on a real small ledger, config and knowledge base: exit 0/1 or one line."""
    from driver.campaign.ledger import Ledger
    from tests.conftest import write_campaign

    camp = tmp_path / "camp"
    if not camp.exists():
        Ledger(camp / "ledger.sqlite").close()
    cfg = write_campaign(tmp_path)
    subs = {"DIR": str(camp), "CFG": str(cfg), "FILE": str(tmp_path / "none.csv")}
    argv = [subs.get(a, a) for a in argv]
    if argv[0] not in ("config", "status", "report", "review", "kb", "cluster"):
        argv = ["status", *argv]
    if argv[0] == "kb" and "ingest" in argv:
        return
    argv = [a for a in argv if a != "--out"] if argv[0] == "cluster" else argv
    rc, _, err = _main(argv)
    _accepted_or_one_line(rc, err, accepted=(0, 1))


# ---------------------------------------------------------------- data files

_cell = st.one_of(st.sampled_from(["Li7La3Zr2O12", "Li3PO4", "LiTi2(PO4)3", "1e-4", "3.2e-3",
                                   "<1e-8", "abc", "", "-1", "nan", "S/cm", "mS/cm"]),
                  st.text(string.printable, max_size=10))
_header = st.lists(st.sampled_from(["formula", "composition", "ionic_conductivity",
                                    "Ionic conductivity (S cm-1)", "sigma (mS/cm)", "doi",
                                    "family", "ID", "junk", ""]), min_size=1, max_size=5)


@settings(COMMON, max_examples=120)
@given(header=_header, rows=st.lists(st.lists(_cell, max_size=6), max_size=6),
       quote=st.booleans())
def test_any_csv_ingests_or_is_one_line_and_leaves_no_database(tmp_path, header, rows, quote):
    lines = [",".join(header)] + [",".join(r) for r in rows]
    if quote and len(lines) > 1:
        lines[1] = '"' + lines[1]       # an unterminated quote
    f = tmp_path / "t.csv"
    f.write_text("\n".join(lines) + "\n")
    db = tmp_path / "kb.sqlite"
    db.unlink(missing_ok=True)
    rc, _, err = _main(["kb", "ingest", str(f), "--db", str(db)])
    _accepted_or_one_line(rc, err)
    assert db.exists() == (rc == 0)
