"""Property-based tests (hypothesis) of the data files a user may be handed (issue 33, item
6): potential files (classical and distilled students), validation sets, the MD result the
phase field reads, `SSE_DRIVER_*` environment overrides and batch-script settings.

The property, for every generated file: it is read, or refused with a ``UserError`` (the
CLI prints it as one line, exit 2), never another exception, a hang, or a non-finite number
taken in silently. Each generated document is a valid one with one to three leaves replaced
by wrong types, non-finite numbers, out-of-range values or odd text; the readers run
in-process, so hundreds of files take seconds.

Files tried per ``make test`` (max_examples below): 120 potential files, 60 student files,
80 validation sets, 80 MD results, 80 environments, 60 batch-script settings, 25 screening
lists, 60 earlier-run outputs for `md --reuse`, 60 candidate files (`md --candidate`).
"""

from __future__ import annotations

import json
import math
import re
import time

import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from driver.errors import UserError
from tests.test_properties import COMMON

#: leaves a wrong file may hold
_bad = st.one_of(st.none(), st.booleans(), st.integers(-10**18, 10**18),
                 st.floats(allow_nan=True, allow_infinity=True),
                 st.sampled_from(["", "nan", ".inf", "1e309", "-0", "Li", "Xx", "../x", "&",
                                  "a\nb", "${HOME}", "1,5", "0x10", "∞"]),
                 st.text(max_size=8), st.lists(st.integers(-3, 3), max_size=3),
                 st.dictionaries(st.sampled_from(["a", "style", "pair"]), st.integers(), max_size=2))


def _paths(doc, prefix=()):
    """Every leaf path of a nested document (dict keys and list indices)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list) and doc:
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))
    else:
        yield prefix


def _set(doc, path, value):
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


@st.composite
def _mutated(draw, base: dict, skip=()):
    doc = json.loads(json.dumps(base))
    leaves = [p for p in _paths(doc) if p and p[0] not in skip]
    for _ in range(draw(st.integers(1, 3))):
        _set(doc, draw(st.sampled_from(leaves)), draw(_bad))
    return doc


def _finite_everywhere(obj) -> bool:
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, dict):
        return all(_finite_everywhere(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite_everywhere(v) for v in obj)
    return True


def _load_or_refused(tmp_path, doc: dict, reader):
    """``reader`` of ``doc`` written as a YAML file: what it returns, or None when it refused
    the file with a one-line UserError (any other exception fails the test)."""
    path = tmp_path / "doc.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    try:
        return reader(str(path))
    except UserError as exc:
        assert "\n" not in str(exc)
        return None


# ------------------------------------------------------------------ potential files
def _potential_doc(name: str) -> dict:
    from driver.resources import data_dir
    return yaml.safe_load((data_dir("potentials") / f"{name}.yaml").read_text())


@settings(COMMON, max_examples=120)
@given(data=st.data())
def test_any_potential_file_loads_or_is_a_user_error(tmp_path, data):
    from driver import potentials
    base = _potential_doc(data.draw(st.sampled_from(["pedone2006", "adams_rao2011"])))
    pot = _load_or_refused(tmp_path, data.draw(_mutated(base)), potentials.load)
    # accepted: every number it holds is finite (nothing non-finite slipped through)
    assert pot is None or (_finite_everywhere(pot.charges) and _finite_everywhere(pot.pairs))


@settings(COMMON, max_examples=60)
@given(data=st.data())
def test_any_student_file_loads_or_is_a_user_error(tmp_path, data):
    """Distilled students (SNAP and POD forms): coefficients, descriptor settings, the ZBL
    core and walls, all data."""
    import numpy as np

    from driver import potentials
    from driver.distil import descriptors as D
    from driver.forcefields import pod, snap
    if data.draw(st.booleans()):
        b = D.SnapBasis(("Li", "Cl"), (0.5, 0.5), (1.0, 1.0), 2, 4.0, chemflag=True,
                        walls=(("Li", "Li", 5.0, 2.0),))
        base = snap.document("s", b.elements, b.radii, b.weights, np.ones(b.ncols) * 0.1,
                             {"twojmax": 2, "chemflag": True, "rcutfac": 4.0, "zbl_inner": 1.0,
                              "zbl_outer": 1.6, "walls": b.wall_dicts}, {"teacher": {"name": "t"}})
    else:
        b = D.PodBasis(("Li", "Cl"), 4.0, twobody=2, threebody=(2, 1),
                       walls=(("Cl", "Li", 5.0, 2.0),))
        base = pod.document("p", b.elements, b.settings(), np.ones(b.ncols) * 0.1,
                            {"teacher": {"name": "t"}})
    pot = _load_or_refused(tmp_path, data.draw(_mutated(base, skip=("pedigree", "title", "citation"))),
                           potentials.load)
    assert pot is None or _finite_everywhere(pot.fitted)


# ------------------------------------------------------------------ validation sets
@settings(COMMON, max_examples=80)
@given(data=st.data())
def test_any_validation_set_loads_or_is_a_user_error(tmp_path, data):
    from driver.validation.sets import DEFAULT_SET, load_set
    base = yaml.safe_load(DEFAULT_SET.read_text())
    base["entries"] = base["entries"][:3]
    vs = _load_or_refused(tmp_path, data.draw(_mutated(base)), load_set)
    for e in vs.entries if vs else []:
        assert e.log10_sigma_min <= e.log10_sigma_median <= e.log10_sigma_max
        assert all(math.isfinite(v) for v in (e.log10_sigma_min, e.log10_sigma_max))


# ------------------------------------------------------- the MD result of the phase field
_MD_RESULT = {"elastic": {"bulk_vrh_GPa": 100.0, "shear_vrh_GPa": 50.0, "bulk_vrh_err_GPa": 5.0,
                          "shear_vrh_err_GPa": 3.0},
              "temperatures": [{"temperature_K": T, "sigma_S_cm": s, "sigma_err_S_cm": 0.1 * s,
                                "diffusive": True, "D_cm2_s": 1e-6}
                               for T, s in ((900.0, 1e-2), (1100.0, 3e-2))]}


@settings(COMMON, max_examples=80)
@given(doc=_mutated(_MD_RESULT))
def test_any_md_result_gives_finite_inputs_or_is_refused(tmp_path, doc):
    """The penetration model's inputs from an MD result: finite numbers, or a ConfigError
    naming the file (or NotMeasurable, said as such), in bounded time."""
    from driver.phasefield.penetration import NotMeasurable, inputs_from_md
    from driver.phasefield.settings import Penetration
    path = tmp_path / "result.json"
    path.write_text(json.dumps(doc))
    t0 = time.time()
    try:
        inp = inputs_from_md(Penetration(md_result=str(path)))
    except (UserError, NotMeasurable) as exc:
        assert "\n" not in str(exc)
        return
    finally:
        assert time.time() - t0 < 10
    assert _finite_everywhere(vars(inp))


# ------------------------------------------------------------ environment overrides
_ENV_KEYS = ["SSE_DRIVER_MD__SEED", "SSE_DRIVER_MD__PROD_PS", "SSE_DRIVER_MD__TEMPERATURES_K",
             "SSE_DRIVER_MD__SUPERCELL", "SSE_DRIVER_CAMPAIGN__BATCH_SIZE",
             "SSE_DRIVER_DASK__N_WORKERS", "SSE_DRIVER_MD__TIMESTEP_FS", "SSE_DRIVER_MD"]
_ENV_VALUES = st.one_of(st.sampled_from(["1", "-1", "0", "nan", "inf", "1e309", "true", "[]",
                                         "[1, 2]", "[800, 800]", "{}", "x", "", "2.5", "1e-300",
                                         "[1, 1, 1]", "null", "{a: 1}", "&a [*a]"]),
                        st.text(max_size=10))


@settings(COMMON, max_examples=80)
@given(env=st.dictionaries(st.sampled_from(_ENV_KEYS), _ENV_VALUES, min_size=1, max_size=3))
def test_any_environment_override_is_valid_or_a_user_error(monkeypatch, env):
    from driver import config
    from driver.schema import Settings
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    try:
        s = config.load(Settings, None)
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    assert _finite_everywhere(s.md.model_dump())


# ------------------------------------------------------------------ batch scripts
_JQ = {"walltime": "01:00:00", "memory": "4GiB", "processes": 1, "omp_threads": 1,
       "death_timeout_s": 60, "account": "proj", "queue": "batch", "jobs": 1,
       "job_extra_directives": ["--constraint=cpu"]}


@settings(COMMON, max_examples=60)
@given(doc=_mutated(_JQ))
def test_any_batch_settings_render_single_lines_or_are_refused(tmp_path, doc):
    """`cluster script` settings (dask.jobqueue): a script whose #SBATCH lines are each one
    line, or one line of refusal (exit 2)."""
    from tests.test_properties import _accepted_or_one_line, _main
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"dask": {"backend": "slurm", "jobqueue": doc}},
                                  allow_unicode=True))
    rc, out, err = _main(["cluster", "script", str(cfg)])
    _accepted_or_one_line(rc, err)
    if rc == 0:
        for line in out.splitlines():
            if line.startswith("#SBATCH"):
                assert "\r" not in line and len(line) < 400, line


def test_the_bases_of_the_mutations_are_valid(tmp_path):
    """The documents mutated above are valid as they stand (else every mutation would be
    refused for the wrong reason)."""
    from driver import potentials
    from driver.phasefield.penetration import inputs_from_md
    from driver.phasefield.settings import Penetration
    from tests.test_properties import _main
    for name in ("pedone2006", "adams_rao2011"):
        assert potentials.load(name).name == name
    path = tmp_path / "result.json"
    path.write_text(json.dumps(_MD_RESULT))
    assert inputs_from_md(Penetration(md_result=str(path))).K_GPa == 100.0
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"dask": {"backend": "slurm", "jobqueue": _JQ}}))
    rc, out, err = _main(["cluster", "script", str(cfg)])
    assert rc == 0 and "#SBATCH" in out, err


#: what a line of a screening list may hold (``sse-driver screen LIST``): good and bad
#: formulas, CIF names (a readable ordered CIF, a missing one, garbage, a path out of the
#: folder), potentials and labels (good, unknown, path-like, too long, shell-like)
def _mostly(good, bad):
    """Draws ``good`` three times in four: a list is refused as soon as one entry is wrong,
    so good words must dominate for whole lists to be accepted too."""
    return st.one_of(good, good, good, bad)


_SCREEN_WORDS = {
    "structure": _mostly(
        st.sampled_from(["Li7La3Zr2O12", "Li6.5La3Zr1.5Ta0.5O12", "Li6.75La3Zr1.75Ta0.25O12",
                         "ordered.cif"]),
        st.sampled_from(["Li6PS5Cl", "LiFePO4", "Xx2O", "Li7La3Zr2O12)", "Li1e309O", "Li0O",
                         "../../etc/passwd", "Li7La3Zr2O12;rm", "\u00f1", "missing.cif",
                         "garbage.cif", "../up.cif", "LLZO.CIF"])),
    "potential": _mostly(st.sampled_from(["adams_rao2011", "sevennet0"]),
                         st.sampled_from(["nope", "../x", "a" * 70, "pedone2006"])),
    "label": _mostly(st.sampled_from(["ok_1", "a.b+c-d", "run-2"]),
                     st.one_of(st.sampled_from(["lab/el", "x" * 101, "$(x)", ".."]),
                               st.text(min_size=1, max_size=6).filter(
                                   lambda s: s.split() == [s]))),
}


@st.composite
def _screen_list(draw):
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["entry"] * 8 + ["comment", "blank", "noise"]))
        if kind == "comment":
            lines.append("# " + draw(st.text(max_size=10)).replace("\n", " "))
        elif kind == "blank":
            lines.append("   ")
        elif kind == "noise":
            lines.append(draw(st.text(max_size=20)).replace("\n", " ").replace("\r", " "))
        else:
            n = draw(st.sampled_from([1, 2, 2, 3, 3, 4]))
            words = [draw(_SCREEN_WORDS["structure"])]
            if n > 1:
                words.append(draw(_SCREEN_WORDS["potential"]))
            if n > 2:
                words.append(draw(_SCREEN_WORDS["label"]))
            if n > 3:
                words.append("extra")
            lines.append(" ".join(words) + draw(st.sampled_from(["", "  # note"])))
    return "\n".join(lines) + "\n"


def _ordered_cif(path) -> None:
    """An ordered, neutral, Li-bearing CIF: antifluorite Li2O (a = 4.61 A)."""
    from pymatgen.core import Lattice, Structure
    Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.61), ["Li", "O"],
                              [[0.25, 0.25, 0.25], [0, 0, 0]]).to(filename=str(path))


@settings(COMMON, max_examples=25)
@given(text=_screen_list())
def test_any_screening_list_gives_checked_candidates_or_is_a_user_error(tmp_path, text):
    """What ``sse-driver screen LIST`` reads and checks before anything is written
    (screening.read_list, the campaign schema, screening.screen_items): every entry a
    known potential, a formula that parses or an ordered neutral CIF inside the file system,
    a label of safe characters naming it alone; or one UserError line."""
    import shutil
    from pathlib import Path

    from driver import config
    from driver.campaign.screening import screen_items
    from driver.campaign.screening import read_list
    from driver.schema import Settings

    folder = tmp_path / "list"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    _ordered_cif(folder / "ordered.cif")
    (folder / "garbage.cif").write_bytes(b"data_x\n_cell_length_a zz\n\xff\xfe")
    listing = folder / "screen.txt"
    listing.write_text(text, encoding="utf-8")
    try:
        cands = read_list(listing)
        s = config.load(Settings, None, overrides={"campaign": {"candidates": cands}})
        items = screen_items(s, folder)
    except UserError as exc:
        assert "\n" not in str(exc).strip(), str(exc)
        event(f"refused: {type(exc).__name__}")
        return
    event("accepted")
    assert items
    labels = [x["label"] for x in items]
    assert len(set(labels)) == len(labels)
    for x in items:
        assert re.fullmatch(r"[A-Za-z0-9_.+-]+", x["label"]), x
        assert "/" not in x["potential"] and ".." not in x["potential"]
        if "cif" in x:
            assert Path(x["cif"]).is_file()
        else:
            assert re.fullmatch(r"[A-Za-z0-9.()]+", x["formula"]), x


def test_a_good_screening_list_is_accepted(tmp_path):
    """The accepting side of the property above, pinned: formulas, a CIF, potentials and
    labels as a user writes them give one checked record each, labels made where missing."""
    from driver import config
    from driver.campaign.screening import screen_items
    from driver.campaign.screening import read_list
    from driver.schema import Settings

    _ordered_cif(tmp_path / "ordered.cif")
    listing = tmp_path / "screen.txt"
    listing.write_text("# garnets\nLi7La3Zr2O12 adams_rao2011\n"
                       "Li6.5La3Zr1.5Ta0.5O12 sevennet0 ta05  # note\n"
                       "ordered.cif sevennet0\n\n", encoding="utf-8")
    s = config.load(Settings, None,
                    overrides={"campaign": {"candidates": read_list(listing)}})
    items = screen_items(s, tmp_path)
    assert [x["label"] for x in items] == ["Li7La3Zr2O12", "ta05", "Li2O"]
    assert items[2]["cif"] == str((tmp_path / "ordered.cif").resolve())
    assert [x["potential"] for x in items] == ["adams_rao2011", "sevennet0", "sevennet0"]


_RELAX_OK = "SSE_RELAXED step 120 pe -1234.5 press 12.5\n"
_STRESS_OK = "".join(f"{t} 1.0 2.0 3.0 0.1 0.2 0.3\n"
                     for t in ["ref", *(f"e{j}{s}" for j in range(1, 7) for s in "pm")])


def _damaged(ok: str):
    """A finished run's output as it may be found after a node died: whole, cut short,
    with a line or a word replaced, or any bytes."""
    lines = ok.splitlines(keepends=True)
    return st.one_of(
        st.just(ok.encode()),
        st.integers(0, len(ok)).map(lambda n: ok[:n].encode()),
        st.tuples(st.integers(0, len(lines) - 1), st.text(max_size=40)).map(
            lambda t: "".join(lines[:t[0]] + [t[1] + "\n"] + lines[t[0] + 1:]).encode()),
        st.tuples(st.integers(0, 6), st.sampled_from(["nan", "inf", "x", "", "1e999", "--1"])).map(
            lambda t: " ".join(w if i != t[0] else t[1]
                               for i, w in enumerate(ok.split(" "))).encode()),
        st.binary(max_size=64))


@settings(COMMON, max_examples=60)
@given(relax=_damaged(_RELAX_OK), stress=_damaged(_STRESS_OK))
def test_any_earlier_output_is_reused_whole_or_run_again(tmp_path_factory, relax, stress):
    """Issue 33, class 3 (`md --reuse`): an earlier attempt's relax marker and elastic stress
    table with any content are either taken as finished, and then read by the workflow's own
    parsing without error, or not taken (the run is done again); never an exception."""
    import numpy as np

    from driver.md import analysis as A
    from driver.md.reuse import finished_run
    root = tmp_path_factory.mktemp("reuse")
    for kind, marker, body in (("relax", "relax_done.txt", relax),
                               ("elastic", "elastic_done.txt", b"SSE_ELASTIC_DONE\n")):
        new, old = root / "new" / kind, root / "old" / kind
        new.mkdir(parents=True)
        old.mkdir(parents=True)
        for d in (new, old):
            (d / "in.lammps").write_text("run 0\n")
        (old / marker).write_bytes(body)
        if kind == "elastic":
            (old / "stress.dat").write_bytes(stress)
        got = finished_run(new, ["in.lammps"], [root / "old"], kind)
        event(f"{kind} {'reused' if got else 'run again'}")
        if got is None:
            continue
        if kind == "relax":                 # what md/workflow.py reads from it
            assert math.isfinite(float((got / marker).read_text().split()[6]))
        else:
            rows = {l.split()[0]: np.array(l.split()[1:], float)
                    for l in (got / "stress.dat").read_text().splitlines() if l.strip()}
            assert np.all(np.isfinite(A.elastic_constants(rows, 0.01)))


# ------------------------------------------------------------------ candidate files
#: a valid candidate file (what a campaign writes for `sse-driver md --candidate`)
_CANDIDATE = {"schema": "sse-driver/candidate/1", "family": "garnet",
              "variables": {"y": 0.5, "z": 0.125}, "species": {"M": "Ta", "T": "Ga"},
              "formula": "Li6.125Ga0.125La3Zr1.5Ta0.5O12"}


@settings(COMMON, max_examples=60)
@given(doc=_mutated(_CANDIDATE))
def test_any_candidate_file_is_its_family_s_candidate_or_is_refused(tmp_path, doc):
    """The MD stage's typed input (issue 31): read back as the very candidate its family
    makes of its variables within the chemistry's limits, whose formula it states, or
    refused with one line; never another exception."""
    from driver import families
    from driver.families import candidate_file as CF
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    try:
        cand = CF.read(path)
    except UserError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        event("refused")
        return
    event("read")
    fam = families.get(cand.family)
    assert cand.formula == doc["formula"] and cand.variables == doc["variables"]
    assert cand == fam.make(**cand.variables, **cand.species, bounds=fam.PHYSICAL_BOUNDS)


def test_the_candidate_file_base_is_valid(tmp_path):
    from driver.families import candidate_file as CF
    path = tmp_path / "c.json"
    path.write_text(json.dumps(_CANDIDATE))
    assert CF.read(path).formula == _CANDIDATE["formula"]
