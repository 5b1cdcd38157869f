"""Composition spaces: neutral by construction; bad formulas refused with the fix."""

from __future__ import annotations

import pytest

from driver.errors import CompositionError
from driver.families import get as _family
from driver.families import compositions as C

G, N = _family("garnet"), _family("nasicon")


@pytest.mark.parametrize("formula,family,vars_", [
    ("Li1.5Al0.5Ge1.5(PO4)3", "nasicon", {"x": 0.5}),
    ("LiGe2(PO4)3", "nasicon", {"x": 0.0}),
    ("Li1.3Al0.3Ti1.7(PO4)3", "nasicon", {"x": 0.3}),
    ("Li7La3Zr2O12", "garnet", {"y": 0.0, "z": 0.0}),
    ("Li6.4La3Zr1.4Ta0.6O12", "garnet", {"y": 0.6, "z": 0.0}),
    ("Li6.25Ga0.25La3Zr2O12", "garnet", {"y": 0.0, "z": 0.25}),
    ("Li5La3Ta2O12", "garnet", {"y": 2.0, "z": 0.0}),
])
def test_parse_known_electrolytes(formula, family, vars_):
    c = C.parse(formula)
    assert c.family == family
    assert c.variables == pytest.approx(vars_)
    assert c.charge() == pytest.approx(0.0, abs=1e-12)


def test_every_point_of_the_spaces_is_neutral():
    for x in (0.0, 0.13, 0.5, 0.8):
        for M in ("Ge", "Ti"):
            if x <= N.BOUNDS[M][1]:
                assert N.make(x, M).charge() == pytest.approx(0, abs=1e-12)
    for y in (0.0, 0.25, 1.0, 2.0):
        for z in (0.0, 0.1, 0.25):
            for M, T in (("Ta", "Al"), ("Nb", "Ga")):
                assert G.make(y, z, M, T).charge() == pytest.approx(0, abs=1e-12)


def test_formula_roundtrip():
    c = G.make(0.5, 0.1, "Nb", "Ga")
    assert C.parse(c.formula).variables == pytest.approx(c.variables)


@pytest.mark.parametrize("formula,needle", [
    ("Li1.6Al0.5Ge1.5(PO4)3", "not charge-neutral"),
    ("Li7La3Zr1.5Ta0.5O12", "not charge-neutral"),
    ("Li1.9Al0.9Ge1.1(PO4)3", "outside its bounds"),
    ("Li7La3Zr2O12Fe", "Fe not in the garnet space"),
    ("Li2O", "neither a garnet"),
    ("Li1.5Al0.5Ge1.5(PO4", "cannot parse"),
    ("Li7La3Zr1.8Ta0.4O12", "Zr must be 2 - y"),
])
def test_bad_formulas_say_why(formula, needle):
    with pytest.raises(CompositionError, match=needle):
        C.parse(formula)


def test_bounds_are_settings():
    with pytest.raises(CompositionError):
        N.make(0.9)
    assert N.make(0.9, bounds={"Ge": (0.0, 1.0)}).variables["x"] == 0.9


# ------------------------------------------------- the candidate file (issue 31, typed boundary)
def _all_corners():
    from driver import families
    return [c for name in families.FAMILIES for c in families.corners(name)]


@pytest.mark.parametrize("cand", _all_corners(), ids=lambda c: c.formula)
def test_a_candidate_file_gives_back_the_same_candidate(tmp_path, cand):
    from driver.families import candidate_file as CF
    assert CF.read(CF.write(tmp_path / "c.json", cand)) == cand


def test_a_candidate_outside_the_default_box_keeps_its_family_and_variables(tmp_path):
    """What re-parsing a formula with the default bounds lost (issue 31): a composition the
    chemistry allows beyond the default box crosses whole."""
    from driver.families import candidate_file as CF
    cand = G.make(0.5, 1.0, "Ta", "Ga", bounds=G.PHYSICAL_BOUNDS)     # z = 1 > the box's 0.25
    back = CF.read(CF.write(tmp_path / "c.json", cand))
    assert back.family == "garnet" and back.variables == {"y": 0.5, "z": 1.0}
    assert back.species == {"M": "Ta", "T": "Ga"}


@pytest.mark.parametrize("change, needle", [
    ({"formula": "Li7La3Zr2O12"}, "is not that of its variables"),
    ({"family": "perovskite"}, "unknown family"),
    ({"variables": {"y": 0.5}}, "not the garnet family's"),
    ({"variables": {"y": 0.5, "z": 0.0, "w": 1.0}}, "not the garnet family's"),
    ({"variables": {"y": float("nan"), "z": 0.0}}, "finite"),
    ({"variables": {"y": True, "z": 0.0}}, "variables.y"),
    ({"variables": {"y": "0.5", "z": 0.0}}, "variables.y"),
    ({"variables": {"y": 3.0, "z": 0.0}}, "outside its bounds"),
    ({"species": {"M": "Ta", "T": "Al", "Q": "Xe"}}, "species roles"),
    ({"species": {"M": "W", "T": "Al"}}, "dopants"),
    ({"schema": "sse-driver/candidate/9"}, "schema"),
    ({"extra": 1}, "extra"),
])
def test_a_bad_candidate_file_is_one_line_naming_it(tmp_path, change, needle):
    import json as _json
    from driver.errors import CompositionError
    from driver.families import candidate_file as CF
    path = CF.write(tmp_path / "c.json", G.make(0.5, 0.0))
    doc = {**_json.loads(path.read_text()), **change}
    path.write_text(_json.dumps(doc))
    with pytest.raises(CompositionError) as exc:
        CF.read(path)
    msg = str(exc.value)
    assert needle in msg and str(path) in msg and "\n" not in msg


def test_md_refuses_a_bad_candidate_file_before_writing_anything(tmp_path):
    from tests.conftest import run_cli
    bad = tmp_path / "c.json"
    bad.write_text('{"schema": "sse-driver/candidate/1", "family": "garnet", '
                   '"variables": {"y": 0.5, "z": 0.0}, "formula": "Li9La3Zr2O12"}')
    out = tmp_path / "o"
    r = run_cli("md", "--candidate", str(bad), "--out", str(out))
    assert r.returncode == 2 and "is not that of its variables" in r.stderr
    assert r.stderr.count("\n") == 1 and not out.exists()


def test_a_byte_order_mark_and_blanks_are_not_part_of_a_formula():
    """What a spreadsheet or an editor puts around a formula (issue 33: the BOM was echoed
    as '\\ufeffLi7...' in a refusal of a good formula)."""
    assert C.parse("\ufeffLi6.4La3Zr1.4Ta0.6O12 ").formula == C.parse("Li6.4La3Zr1.4Ta0.6O12").formula


def test_a_runaway_formula_is_refused_short_before_parsing():
    with pytest.raises(C.CompositionError) as exc:
        C.parse("Li" * 5000)
    msg = str(exc.value)
    assert "10000 characters" in msg and len(msg) < 200 and "\n" not in msg
