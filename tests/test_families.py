"""Families as plug-ins (driver/families/): each module carries everything specific to its
chemistry, and the rest of the driver asks the registry instead of naming a family."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from driver import families
from driver.families import compositions as C
from driver.families import structures as S
from tests.conftest import atoms_on_sites

@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_every_family_fulfils_the_contract(name):
    """Each registered family is a ``Family`` (every abstract method defined, or it could
    not be instantiated; every required attribute set, or its class could not be defined),
    registered under its own name, with shipped prototypes for every element choice."""
    fam = families.get(name)
    assert isinstance(fam, families.Family) and fam.NAME == name
    assert (Path(S.PROTOTYPES) / fam.PROTOTYPE).is_file()
    for species in [fam.DEFAULT_SPECIES]:
        cif, z = fam.prototype_for(species)
        assert (Path(S.PROTOTYPES) / cif).is_file() and z >= 1
    assert set(fam.default_box(fam.DEFAULT_SPECIES)) == set(fam.VARIABLES)


def test_a_family_that_breaks_the_contract_is_refused_where_it_is_defined():
    """A family class without a required attribute fails when the class is defined, naming
    what it lacks; one without a required method cannot be instantiated."""
    with pytest.raises(TypeError, match="does not set .*PROTOTYPE"):
        type("NoPrototype", (families.Family,), {
            a: getattr(families.get("garnet"), a) for a in families.Family.REQUIRED
            if a != "PROTOTYPE"})
    attrs = {a: getattr(families.get("garnet"), a) for a in families.Family.REQUIRED}
    no_decorate = type("NoDecorate", (families.Family,), attrs)
    with pytest.raises(TypeError, match="abstract"):
        no_decorate()


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_each_family_round_trips_and_builds_its_exact_counts(name):
    fam = families.get(name)
    # the parent composition of the space (every variable at its lower bound); where the
    # parent is another family's member (Li6PS5I, parent of the Li-rich argyrodites), the
    # first grid point of the default prototype cell
    cand = C.parse(fam.make(**{v: 0.0 for v in fam.VARIABLES}).formula)
    if cand.family != name:
        cand = C.parse(fam.make(**{v: 1.0 / fam.Z for v in fam.VARIABLES}).formula)
    assert cand.family == name and cand.charge() == pytest.approx(0, abs=1e-12)
    b = S.build(cand, (1, 1, 1), seed=3)
    per_fu = cand.amounts
    assert b.counts == {el: round(n * fam.Z) for el, n in per_fu.items()}


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_family_corners_are_allowed_members_that_span_its_default_box(name):
    """``families.corners`` (what `distil --family` covers): members of the family (or, for
    a shared parent such as Li6PS5I, of one that claims it), unique, each variable at an end
    of the default box, and every element the box can hold present at some corner."""
    cands = families.corners(name)
    formulas = [c.formula for c in cands]
    assert len(formulas) == len(set(formulas)) >= 2
    for c in cands:
        assert c.family == name and c.charge() == pytest.approx(0, abs=1e-12)
        assert C.parse(c.formula).formula == c.formula
    elements = {el for c in cands for el, n in c.amounts.items() if n > 0}
    assert "Li" in elements and len(elements) >= 3
    if name == "argyrodite":                  # br + i <= 1 leaves out the (1, 1) corner
        assert sorted(formulas) == ["Li6PS5Br", "Li6PS5Cl", "Li6PS5I"]


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_formulas_are_shown_per_formula_unit_of_the_prototype(name):
    """Issue 32, item 1: a built cell's formula (whole cell, or its reduced integer form) is
    shown per formula unit of the family's prototype, as its chemists write it, and parses
    back to the same composition."""
    for cand in families.corners(name):
        b = S.build(cand, (1, 1, 1), seed=3)
        comp = b.structure.composition
        for cell in (comp.formula.replace(" ", ""), comp.reduced_formula):
            shown = C.per_formula_unit(cell)
            assert shown == C.parse(cell, C.PHYSICAL_BOUNDS).display
            back = C.parse(shown, C.PHYSICAL_BOUNDS)
            assert back.amounts == pytest.approx(C.parse(cell, C.PHYSICAL_BOUNDS).amounts,
                                                 rel=1e-3)   # shown to 4 digits
        # per formula unit: the family's anion count, not the cell's
        amounts = C.parse(C.per_formula_unit(comp.formula.replace(" ", "")),
                          C.PHYSICAL_BOUNDS).amounts
        anions = (fam := families.get(name)).ANION
        anions = (anions,) if isinstance(anions, str) else anions
        assert sum(amounts.get(a, 0) for a in anions) == pytest.approx(fam.ANION_COUNT)
    assert C.per_formula_unit("Li55La24Zr15TaO96") == "Li6.875La3Zr1.875Ta0.125O12"
    assert C.per_formula_unit("Li3AlGe3P6O24") == "Li1.5Al0.5Ge1.5(PO4)3"
    assert C.per_formula_unit("NaCl") == "NaCl"          # no family: shown as given


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
FORM_REQUIRED = ("NAME", "PARAMS", "TABULATED", "COVERS_ALL_PAIRS", "MIN_FTOL", "parse_extra",
                 "table_sections",
                 "pair_lines", "external_forces")


def test_every_force_field_form_is_complete_and_used_by_a_shipped_file():
    from driver import forcefields, potentials

    for name, form in forcefields.FORMS.items():
        missing = [a for a in FORM_REQUIRED if not hasattr(form, a)]
        assert not missing, f"{name} lacks {missing}"
    used = {potentials.load(p).form for p in potentials.available()}
    # a fitted form's files are made by `sse-driver distil` (tests/test_distil.py loads one);
    # a student is shipped only once it passes its checks (docs/distil.md)
    fitted = {n for n, f in forcefields.FORMS.items() if getattr(f, "FITTED", False)}
    assert used | fitted == set(forcefields.FORMS)
    assert used <= set(forcefields.FORMS)


def test_a_shipped_student_passed_every_check():
    """A fitted student ships in potentials/ only with a pedigree whose checks all passed
    (docs/distil.md): the teacher named, the data set by its hash, D* against the teacher."""
    import yaml

    from driver import forcefields, potentials
    from driver.resources import data_dir

    fitted = {n for n, f in forcefields.FORMS.items() if getattr(f, "FITTED", False)}
    students = [p for p in potentials.available() if potentials.load(p).form in fitted]
    assert students, "no student ships (a distilled Li3InCl6 POD student does since 2026-12-03)"
    for name in students:
        doc = yaml.safe_load((data_dir("potentials") / f"{name}.yaml").read_text())
        ped = doc["pedigree"]
        checks = ped["checks"]
        assert checks["passed"] and not checks["reasons"], name
        assert checks["diffusion_vs_teacher"]["passed"], name
        assert ped["teacher"]["name"] and len(ped["dataset"]["sha256"]) == 64, name


def test_no_code_outside_the_form_modules_names_a_form():
    from driver import forcefields

    root = Path(forcefields.__file__).parents[1]
    pat = re.compile(r"""["'](%s)["']""" % "|".join(forcefields.FORMS))
    hits = [f"{p.relative_to(root)}:{i}: {line.strip()}"
            for p in root.rglob("*.py") if "forcefields" not in p.parts
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if pat.search(line.split("#")[0])]
    assert not hits, "\n".join(hits)


# ----------------------------------------------------------------- argyrodites Li6PS5X


@pytest.mark.parametrize("formula, x, on_4a, on_4d", [
    ("Li6PS5Cl", "Cl", 2, 2),      # 4 x 0.385 = 1.54 -> 2 on 4a (OBELiX 122)
    ("Li6PS5Br", "Br", 3, 1),      # 4 x 0.86 = 3.44 -> 3 (6jf)
    ("Li6PS5I", "I", 4, 0),        # I fully on 4a (ywe)
])
def test_argyrodite_halide_and_sulfur_share_4a_and_4d_as_refined(formula, x, on_4a, on_4d):
    import numpy as np
    b = S.build(C.parse(formula), (1, 1, 1), seed=11)
    _, _, orb = S._orbits(families.get("argyrodite").PROTOTYPE)
    site_4a, site_4d = orb["Cl3"], orb["Cl5"]
    assert (atoms_on_sites(b.structure, site_4a, x), atoms_on_sites(b.structure, site_4d, x)) == (on_4a, on_4d)
    # the fifth S fills what the halide leaves; the 16e S and 4b P are untouched
    assert atoms_on_sites(b.structure, site_4a, "S") == 4 - on_4a
    assert atoms_on_sites(b.structure, site_4d, "S") == 4 - on_4d
    assert atoms_on_sites(b.structure, orb["S2"], "S") == 16 and atoms_on_sites(b.structure, orb["P1"], "P") == 4
    assert np.isclose(b.structure.lattice.a, 9.898)


def test_argyrodite_li_fills_one_site_of_each_close_48h_pair():
    import numpy as np
    b = S.build(C.parse("Li6PS5Cl0.5Br0.5"), (2, 2, 2), seed=5)
    s = b.structure
    li = [i for i, site in enumerate(s) if str(site.specie) == "Li"]
    d = s.distance_matrix[np.ix_(li, li)] + 99 * np.eye(len(li))
    assert len(li) == 192 and d.min() > S.MIN_LI_LI          # 48h pairs are 1.8 A apart
    assert b.counts == {"Li": 192, "P": 32, "S": 160, "Cl": 16, "Br": 16}
    assert b.realized == {"br": 0.5, "i": 0.0}
    # seeded: the same seed gives the same cell, another seed another decoration
    again = S.build(C.parse("Li6PS5Cl0.5Br0.5"), (2, 2, 2), seed=5).structure
    other = S.build(C.parse("Li6PS5Cl0.5Br0.5"), (2, 2, 2), seed=6).structure
    assert np.allclose(again.frac_coords, s.frac_coords)
    assert not np.allclose(other.frac_coords, s.frac_coords)


@pytest.mark.parametrize("formula, message", [
    ("Li6PS5", "one halide per S5"),
    ("Li6PS5ClBr", "one halide per S5"),
    ("Li7PS6", "P1 per S5"),
    ("Li6PS5F", "F not in the argyrodite space"),
    ("Li6.5P0.5Sn0.5S5Br", "Sn not in the argyrodite space"),
    ("Li5PS5Cl", "not charge-neutral"),
])
def test_argyrodite_formulas_outside_the_space_are_named(formula, message):
    from driver.errors import CompositionError
    with pytest.raises(CompositionError, match=message):
        C.parse(formula)


def test_argyrodite_constraint_keeps_the_halide_fractions_a_fraction():
    from driver.errors import CompositionError
    fam = families.get("argyrodite")
    assert fam.constraints(("br", "i")) == [{"coeffs": {"br": 1, "i": 1}, "upper": 1.0}]
    with pytest.raises(CompositionError, match="add to more than 1"):
        fam.make(0.7, 0.6)


def test_argyrodite_without_a_covering_potential_is_refused_before_lammps(tmp_path):
    """The classical potentials have no S or halides (docs/md.md says why the softBV
    extension was not shipped): `md` names what is missing, exit 2, nothing written."""
    from tests.conftest import run_cli
    out = tmp_path / "run"
    r = run_cli("md", "--composition", "Li6PS5Cl", "--potential", "adams_rao2011",
                "--out", str(out))
    assert r.returncode == 2 and not out.exists()
    assert "no term for Cl, P, S" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_argyrodite_knowledge_base_novelty_and_feasibility(tmp_path):
    from driver.kb.feasibility import feasibility
    from driver.kb.ingest import ingest, obelix_csv
    from driver.kb.store import KB
    kb = KB(tmp_path / "kb.sqlite")
    ingest(kb, obelix_csv())
    known = kb.novelty("Li6PS5Cl0.5Br0.5")                 # OBELiX ij5
    assert known["novelty"] == pytest.approx(0.0, abs=1e-12)
    assert known["nearest"]["doi"] == "10.1021/jacs.7b06327"
    f_new = feasibility(C.parse("Li6PS5Cl0.5I0.5"), kb)     # no Cl/I mixture in OBELiX
    f_old = feasibility(C.parse("Li6PS5Cl0.5Br0.5"), kb)
    assert f_old.factors["known"] == pytest.approx(1.0) and f_new.factors["known"] < 1.0
    assert any("nearest synthesized argyrodites" in r for r in f_new.reasons)


def test_argyrodite_campaign_is_refused_up_front_for_coverage_not_for_its_constraint(tmp_path):
    """The box br in [0, 1], i in [0, 0.5] has a corner outside br + i <= 1; the coverage
    check still reads every element of the space and refuses the potential, one line."""
    from tests.conftest import run_cli
    cfg = tmp_path / "argy.yaml"
    cfg.write_text("campaign:\n  name: argy\n  family: argyrodite\n"
                   "  variables: {br: [0.0, 1.0], i: [0.0, 0.5]}\n"
                   "  objectives:\n    - {name: sigma_300K, direction: max, log: true}\n"
                   "md:\n  preset: smoke\n  potential: pedone2006\n")
    r = run_cli("config", "validate", str(cfg))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "pedone2006 has no term for Br, Cl, I, S" in r.stderr
    from driver import config
    from driver.campaign.loop import build_space, campaign_species
    from driver.schema import Settings
    st = config.load(Settings, cfg)
    assert campaign_species(st) == {"Li", "P", "S", "Cl", "Br", "I"}
    space = build_space(st)                    # br + i <= 1 reaches the optimizer
    assert [c.coeffs for c in space.inequalities] == [{"br": 1.0, "i": 1.0}]


def test_the_argyrodite_campaign_in_the_docs_validates(tmp_path):
    """docs/campaign.md's argyrodite config is what `config validate` accepts."""
    from tests.conftest import docs_campaign_config, run_cli
    cfg = docs_campaign_config("An argyrodite campaign", tmp_path / "argy.yaml")
    r = run_cli("config", "validate", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "family: argyrodite" in cfg.read_text() and "sevennet0" in cfg.read_text()


def test_the_chemistry_layer_imports_nothing_from_the_md_stage():
    """families/ (compositions -> pymatgen structures) sits below md/ (the LAMMPS side):
    the md <-> families import circle of issue 31 must not come back."""
    root = Path(families.__file__).parent
    pat = re.compile(r"^\s*(from\s+(\.\.md|driver\.md)\b|import\s+driver\.md\b)")
    hits = [f"{p.name}:{i}: {line.strip()}" for p in root.rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if pat.search(line)]
    assert not hits, "\n".join(hits)


def test_a_new_family_is_one_class_the_registry_picks_up(tmp_path):
    """docs/architecture.md, "Adding a material family": a ``Family`` subclass registered
    in ``FAMILIES`` is parsed, built, cornered and handed to the MD stage as a candidate
    file with no other change (a toy: the Ti NASICONs as a family of their own, offered
    formulas first)."""
    from driver.families import candidate_file

    base = type(families.get("nasicon"))

    class TiNasicon(base):
        NAME = "toy_ti_nasicon"
        CLAIM = "a Ti NASICON (toy)"
        DEFAULT_SPECIES = {"M": "Ti"}

        def claims(self, elements):
            return {"Ti", "P", "O"} <= elements

    saved = dict(families.FAMILIES)
    families.FAMILIES.clear()
    families.FAMILIES.update({TiNasicon.NAME: TiNasicon(), **saved})
    try:
        cand = C.parse("Li1.3Al0.3Ti1.7(PO4)3")
        assert cand.family == "toy_ti_nasicon" and cand.variables == {"x": 0.3}
        assert C.parse("Li1.5Al0.5Ge1.5(PO4)3").family == "nasicon"     # the others unchanged
        b = S.build(cand, (1, 1, 1), seed=2)
        assert b.counts["Ti"] + b.counts.get("Al", 0) == 2 * 6
        assert {c.family for c in families.corners("toy_ti_nasicon")} == {"toy_ti_nasicon"}
        back = candidate_file.read(candidate_file.write(tmp_path / "c.json", cand))
        assert back == cand
    finally:
        families.FAMILIES.clear()
        families.FAMILIES.update(saved)
