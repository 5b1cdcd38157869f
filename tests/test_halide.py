"""The halide family Li(3-zr) M(1-zr) Zr(zr) X6 (driver/families/halide.py): the prototype
follows the element choice, the metal and Li sites are decorated as refined, campaigns
choose the elements with ``campaign.species``, and the knowledge base knows the members."""

from __future__ import annotations

import numpy as np
import pytest

from driver import families
from driver.errors import CompositionError
from driver.families.roles import prototype
from driver.families import compositions as C
from driver.families import structures as S
from tests.conftest import assert_one_line_error, atoms_on_sites, run_cli

HAL = families.get("halide")


@pytest.mark.parametrize("formula,cif,sg,atoms", [
    ("Li3YCl6", "halide_LYC_ei3.cif", "P-3m1", 30),      # hcp chlorides of Y, Er
    ("Li3ErCl6", "halide_LYC_ei3.cif", "P-3m1", 30),
    ("Li3InCl6", "halide_LIC_de5.cif", "C2/m", 20),      # ccp chlorides of In, Sc
    ("Li3ScCl6", "halide_LIC_de5.cif", "C2/m", 20),
    ("Li3YBr6", "halide_LYB_elz.cif", "C2/m", 20),       # bromides
    ("Li3ErBr6", "halide_LYB_elz.cif", "C2/m", 20),
])
def test_the_prototype_follows_the_metal_and_the_halide(formula, cif, sg, atoms):
    cand = C.parse(formula)
    assert cand.family == "halide" and cand.charge() == pytest.approx(0, abs=1e-12)
    assert prototype(HAL, cand.species)[0] == cif
    assert S._orbits(cif)[1] == sg
    b = S.build(cand, (1, 1, 1), seed=5)
    assert len(b.structure) == atoms
    z = prototype(HAL, cand.species)[1]
    assert b.counts == {el: round(n * z) for el, n in cand.amounts.items()}
    d = b.structure.distance_matrix + np.eye(atoms) * 9
    assert d.min() > 2.4                                   # no cation on top of another


def test_ordered_li3incl6_keeps_the_monoclinic_symmetry_of_its_refinement():
    """In on 2a, Li filling 4h and 2d: the undoped C2/m member has no disorder left, so the
    built cell must have the prototype's space group (a decoration bug would lower it)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
    b = S.build(C.parse("Li3InCl6"), (1, 1, 1), seed=1)
    assert SpacegroupAnalyzer(b.structure, symprec=0.05).get_space_group_symbol() == "C2/m"


def test_trigonal_metal_columns_hold_one_cation_each_with_the_refined_fraction():
    """The 2d pair of Li3YCl6 (Y2 at z 0.487 with 0.566, Y3 at z 0.981 with 0.434, 3.0 A apart
    along c) holds one Y per column through the whole supercell: never two face-sharing Y3+
    3 A apart, the upper position in ~57 % of columns."""
    ups, n = 0, 0
    for seed in range(200):
        st = S.build(C.parse("Li3YCl6"), (1, 1, 2), seed=seed).structure
        y = np.array([s.frac_coords for s in st if s.specie.symbol == "Y"])
        d = st.lattice.get_all_distances(y, y) + np.eye(len(y)) * 9
        assert d.min() > 3.5
        cols = y[y[:, 0] > 0.1]                        # the 2d columns (1a is at x = 0)
        assert len(cols) == 4                          # 2 columns x 2 cells along c
        for x0 in (1 / 3, 2 / 3):
            z = np.round((cols[np.abs(cols[:, 0] - x0) < 1e-3, 2] * 2) % 1.0, 2)
            upper = set(z) <= {0.49, 0.51}
            assert upper or set(z) <= {0.98, 0.02}      # one choice per column
            ups, n = ups + upper, n + 1
    assert abs(ups / n - 0.56592) < 0.1                # 400 columns: binomial sd 0.025


def test_li_is_shared_among_the_refined_sites_in_their_ratio():
    """Li3YCl6: 9 Li per cell on 6g (5.25 refined) and 6h (3.75) -> 5 and 4."""
    _, _, orb = S._orbits("halide_LYC_ei3.cif")
    st = S.build(C.parse("Li3YCl6"), (1, 1, 1), seed=2).structure
    assert {label: atoms_on_sites(st, orb[label], "Li") for label in ("Li0", "Li1")} == \
        {"Li0": 5, "Li1": 4}


def test_zr_substitution_removes_one_li_per_zr_with_exact_counts():
    cand = C.parse("Li2.5Y0.5Zr0.5Cl6")
    assert cand.variables == {"zr": 0.5} and cand.species == {"M": "Y", "X": "Cl"}
    b = S.build(cand, (2, 1, 1), seed=4)                     # Z = 3: 6 metal sites
    assert b.counts == {"Li": 15, "Y": 3, "Zr": 3, "Cl": 36} and b.realized == {"zr": 0.5}
    one = S.build(cand, (1, 1, 1), seed=4)                   # 1.5 Zr per cell: realized 2/3
    assert one.realized["zr"] == pytest.approx(2 / 3) and one.counts["Li"] == 7
    assert C.parse("Li2ZrCl6", C.PHYSICAL_BOUNDS).variables == {"zr": 1.0}
    with pytest.raises(CompositionError, match=r"zr=1.0 is outside its bounds \[0.0, 0.5\]"):
        C.parse("Li2ZrCl6")                                  # beyond the optimizer's box


@pytest.mark.parametrize("formula,message", [
    ("Li3InBr6", "no refined Li3InBr6 structure is known"),
    ("Li3YCl3Br3", "mixed Cl/Br halides are not in the space"),
    ("Li3Y0.5Er0.5Cl6", "one M of Y, Er, In, Sc per composition"),
    ("Li3YCl5F", "F not in the halide space"),
    ("Li3.5YCl6", "not charge-neutral: Li must be 3"),
    ("LiAlCl4", "no family's space holds it"),
])
def test_halide_formulas_outside_the_space_are_named(formula, message):
    with pytest.raises(CompositionError, match=message):
        C.parse(formula, C.PHYSICAL_BOUNDS)


def _campaign(tmp_path, species: str, potential: str = "sevennet0", extra: str = ""):
    cfg = tmp_path / "hal.yaml"
    cfg.write_text("campaign:\n  name: hal\n  family: halide\n"
                   f"  species: {species}\n  variables: {{zr: [0.0, 0.5]}}\n{extra}"
                   "  objectives:\n    - {name: sigma_300K, direction: max, log: true}\n"
                   f"md:\n  preset: smoke\n  potential: {potential}\n")
    return cfg


def test_campaign_species_choose_the_elements_and_the_grid(tmp_path):
    """campaign.species picks M and X; the optimizer's grid is one Zr per metal site of
    that member's prototype (1/3 for trigonal Li3YCl6, 1/2 for monoclinic Li3InCl6)."""
    from driver import config
    from driver.campaign.loop import build_space, campaign_species
    from driver.schema import Settings
    for species, step, els in (("{M: Y, X: Cl}", 1 / 3, {"Li", "Y", "Zr", "Cl"}),
                               ("{M: In}", 1 / 2, {"Li", "In", "Zr", "Cl"}),
                               ("{X: Br}", 1 / 2, {"Li", "Y", "Zr", "Br"})):
        st = config.load(Settings, _campaign(tmp_path, species))
        assert campaign_species(st) == els
        assert build_space(st).variables[0].step == pytest.approx(step)
        fam = families.get(st.campaign.family)
        cand = fam.from_campaign(st.campaign, {"zr": 0.0})
        assert set(cand.amounts) == els - {"Zr"}


@pytest.mark.parametrize("species,potential,needle", [
    ("{M: In, X: Br}", "sevennet0", "no refined Li3InBr6 structure"),
    ("{M: La}", "sevennet0", "campaign.species.M: La is not a choice of family halide"),
    ("{Q: Y}", "sevennet0", "campaign.species.Q: no such role in family halide"),
    ("{M: Y}", "adams_rao2011", "adams_rao2011 has no term for Cl"),
    ('{M: "Y\\nfoo"}', "sevennet0", "campaign.species.M: String should match pattern"),
])
def test_bad_halide_campaigns_are_refused_in_one_line(tmp_path, species, potential, needle):
    cfg = _campaign(tmp_path, species, potential)
    assert_one_line_error(run_cli("config", "validate", str(cfg)), needle)


def test_older_species_keys_keep_their_meaning_and_cannot_contradict(tmp_path):
    from driver import config
    from driver.families.roles import chosen_species
    from driver.schema import Settings
    cfg = tmp_path / "g.yaml"
    cfg.write_text("campaign: {family: garnet, dopant_M: Nb, variables: {y: [0, 0.5]}}\n"
                   "md: {potential: adams_rao2011}\n")
    assert chosen_species(config.load(Settings, cfg).campaign) == {"M": "Nb", "T": "Al"}
    cfg.write_text("campaign: {family: garnet, species: {M: Nb, T: Ga}, "
                   "variables: {y: [0, 0.5]}}\nmd: {potential: adams_rao2011}\n")
    assert chosen_species(config.load(Settings, cfg).campaign) == {"M": "Nb", "T": "Ga"}
    for text, needle in (
            ("campaign: {family: garnet, dopant_M: Nb, species: {M: Ta}, variables: {y: [0, 0.5]}}",
             "campaign.dopant_M: Nb contradicts campaign.species.M: Ta"),
            ("campaign: {family: garnet, dopant_M: Zr, variables: {y: [0, 0.5]}}",
             "campaign.species.M: Zr is not a choice of family garnet"),
            ("campaign: {family: nasicon, species: {M: Nb}}",
             "campaign.species.M: Nb is not a choice of family nasicon; its roles are M: Ge, Ti")):
        cfg.write_text(text + "\n")
        assert_one_line_error(run_cli("config", "validate", str(cfg)), needle)


def test_halide_knowledge_base_novelty_and_feasibility(tmp_path):
    """OBELiX spells the family 'Halide' (Li3InCl6) and 'halides' (the others): both count."""
    from driver.kb.feasibility import feasibility
    from driver.kb.ingest import ingest, obelix_csv
    from driver.kb.store import KB
    kb = KB(tmp_path / "kb.sqlite")
    ingest(kb, obelix_csv())
    known = kb.novelty("Li3InCl6")
    assert known["novelty"] == pytest.approx(0.0, abs=1e-12)
    assert known["nearest"]["doi"] == "10.1002/anie.201909805"
    f_in = feasibility(C.parse("Li3InCl6"), kb)
    assert f_in.factors["known"] == pytest.approx(1.0)
    f_new = feasibility(C.parse("Li2.75Sc0.75Zr0.25Cl6"), kb)  # no Zr-substituted Sc chloride
    assert f_new.factors["known"] < 1.0 and f_new.factors["mechanism"] == 1.0
    assert any("Zr on Sc3+ (VI)" in r for r in f_new.reasons)
    assert any("nearest synthesized halides" in r for r in f_new.reasons)


def test_the_halide_campaign_in_the_docs_validates_on_a_1_2_grid(tmp_path):
    """docs/campaign.md's halide config is what `config validate` accepts."""
    from driver import config
    from driver.campaign.loop import build_space
    from driver.schema import Settings
    from tests.conftest import docs_campaign_config
    cfg = docs_campaign_config("A halide campaign", tmp_path / "hal.yaml")
    r = run_cli("config", "validate", str(cfg))
    assert r.returncode == 0, r.stderr
    assert build_space(config.load(Settings, cfg)).variables[0].step == pytest.approx(1 / 2)
