"""Families as plug-ins (driver/families/): each module carries everything specific to its
chemistry, and the rest of the driver asks the registry instead of naming a family."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from driver import families
from driver.md import compositions as C
from driver.md import structures as S

REQUIRED = ("NAME", "KB_NAME", "VARIABLES", "BOUNDS", "PHYSICAL_BOUNDS", "Z", "PROTOTYPE",
            "ELEMENT_ORDER", "OXIDATION", "ANION", "ANION_COUNT", "CLAIM", "SETTINGS_SPECIES",
            "MECHANISMS", "amounts", "make", "claims", "from_formula", "from_campaign",
            "constraints", "matches_campaign", "decorate", "dopants")


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_every_family_module_is_complete(name):
    fam = families.get(name)
    missing = [a for a in REQUIRED if not hasattr(fam, a)]
    assert not missing, f"{name} lacks {missing}"
    assert (Path(S.PROTOTYPES) / fam.PROTOTYPE).is_file()


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_each_family_round_trips_and_builds_its_exact_counts(name):
    fam = families.get(name)
    # the parent composition of the space (every variable at its lower bound)
    cand = C.parse(fam.make(**{v: 0.0 for v in fam.VARIABLES}).formula)
    assert cand.family == name and cand.charge() == pytest.approx(0, abs=1e-12)
    b = S.build(cand, (1, 1, 1), seed=3)
    per_fu = cand.amounts
    assert b.counts == {el: round(n * fam.Z) for el, n in per_fu.items()}


def test_no_code_outside_the_family_modules_names_a_family():
    """Family names may appear in prose (comments, docstrings, descriptions) but not as
    string literals that code branches on; the campaign schema's default family is the one
    allowed exception (a config without `family:` keeps its meaning)."""
    root = Path(families.__file__).parents[1]
    names = "|".join(families.FAMILIES)
    pat = re.compile(rf"""["']({names})["']""")
    hits = []
    for p in root.rglob("*.py"):
        if "families" in p.parts:
            continue
        for i, line in enumerate(p.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if pat.search(code) and "description=" not in code and "family: FamilyName" not in code:
                hits.append(f"{p.relative_to(root)}:{i}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_unknown_family_is_named():
    with pytest.raises(KeyError, match="known: garnet, nasicon"):
        families.get("perovskite")


# ----------------------------------------------------------- force-field forms as plug-ins
FORM_REQUIRED = ("NAME", "PARAMS", "TABULATED", "parse_extra", "table_sections", "pair_lines")


def test_every_force_field_form_is_complete_and_used_by_a_shipped_file():
    from driver import forcefields, potentials

    for name, form in forcefields.FORMS.items():
        missing = [a for a in FORM_REQUIRED if not hasattr(form, a)]
        assert not missing, f"{name} lacks {missing}"
    used = {potentials.load(p).form for p in potentials.available()}
    assert used == set(forcefields.FORMS)


def test_no_code_outside_the_form_modules_names_a_form():
    from driver import forcefields

    root = Path(forcefields.__file__).parents[1]
    pat = re.compile(r"""["'](%s)["']""" % "|".join(forcefields.FORMS))
    hits = [f"{p.relative_to(root)}:{i}: {line.strip()}"
            for p in root.rglob("*.py") if "forcefields" not in p.parts
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if pat.search(line.split("#")[0])]
    assert not hits, "\n".join(hits)
