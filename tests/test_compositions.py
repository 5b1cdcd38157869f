"""Composition spaces: neutral by construction; bad formulas refused with the fix."""

from __future__ import annotations

import pytest

from driver.errors import CompositionError
from driver.families import garnet as G, nasicon as N
from driver.families import compositions as C


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
