"""Li-rich argyrodites Li(6+m) P(1-m) M(m) S5 X (driver/families/lirich_argyrodite.py):
exact counts on the refined Li sites of the Li-rich prototype, the halide's share of 4d,
formulas outside the space named, campaigns and the knowledge base."""

from __future__ import annotations

import numpy as np
import pytest

from driver import families
from driver.errors import CompositionError
from driver.families import compositions as C
from driver.families import structures as S
from tests.conftest import assert_one_line_error, atoms_on_sites, run_cli

FAM = families.get("lirich_argyrodite")


@pytest.mark.parametrize("formula,M,X,m", [
    ("Li6.25P0.75Ge0.25S5I", "Ge", "I", 0.25),      # OBELiX utv, doi:10.1021/jacs.8b10282
    ("Li6.5P0.5Si0.5S5Br", "Si", "Br", 0.5),        # OBELiX fkj, doi:10.1039/c7ta08581h
    ("Li6.75P0.25Ge0.75S5I", "Ge", "I", 0.75),
])
def test_li_rich_members_build_their_exact_counts(formula, M, X, m):
    cand = C.parse(formula)
    assert cand.family == "lirich_argyrodite" and cand.species == {"M": M, "X": X}
    assert cand.variables == {"m": m} and cand.charge() == pytest.approx(0, abs=1e-12)
    for sc in ((1, 1, 1), (2, 1, 1)):
        b = S.build(cand, sc, seed=7)
        n = sc[0]
        assert b.counts == {"Li": round(4 * n * (6 + m)), "P": round(4 * n * (1 - m)),
                            M: round(4 * n * m), "S": 20 * n, X: 4 * n}
        assert b.realized == {"m": m}
        li = np.array([s.frac_coords for s in b.structure if s.specie.symbol == "Li"])
        d = b.structure.lattice.get_all_distances(li, li) + np.eye(len(li)) * 9
        assert d.min() >= S.MIN_LI_LI


def test_extra_li_open_the_sites_the_doublets_cannot_hold():
    """The 48h/24g doublets hold one Li each (24 per cell, pa1's 23.8 rounded); the Li of
    Li6.75 beyond them go to the second 48h and 16e, none for the parent composition."""
    _, _, orb = S._orbits(FAM.PROTOTYPE)
    doublets = np.vstack([orb["Li0"], orb["Li1"]])
    extra = np.vstack([orb["Li2"], orb["Li3"]])
    parent = S.build(FAM.make(0.0), (1, 1, 1), seed=1).structure
    assert atoms_on_sites(parent, doublets, "Li") == 24 and atoms_on_sites(parent, extra, "Li") == 0
    rich = S.build(C.parse("Li6.75P0.25Ge0.75S5I"), (1, 1, 1), seed=1).structure
    assert atoms_on_sites(rich, doublets, "Li") == 24 and atoms_on_sites(rich, extra, "Li") == 3


@pytest.mark.parametrize("formula,X,on_4d", [("Li6.5P0.5Si0.5S5Br", "Br", 3),   # 0.82 x 4
                                             ("Li6.5P0.5Ge0.5S5I", "I", 4)])    # 0.9229 x 4
def test_halide_shares_4d_and_4a_as_in_its_li_rich_refinement(formula, X, on_4d):
    _, _, orb = S._orbits(FAM.PROTOTYPE)
    st = S.build(C.parse(formula), (1, 1, 1), seed=2).structure
    assert atoms_on_sites(st, orb["I9"], X) == on_4d and atoms_on_sites(st, orb["S7"], X) == 4 - on_4d
    assert atoms_on_sites(st, orb["I9"], "S") + atoms_on_sites(st, orb["S7"], "S") == 4  # the fifth S


@pytest.mark.parametrize("formula,message", [
    ("Li6.5P0.5Si0.5S5Cl", "Cl not in the Li-rich argyrodite space"),
    ("Li6.5P0.5Ge0.25Si0.25S5I", "one of Si/Ge and one of Br/I"),
    ("Li6.5P0.4Ge0.5S5I", "P must be 1 - x = 0.5 for Ge0.5"),
    ("Li6.6P0.5Ge0.5S5I", "not charge-neutral: Li must be 6.5"),
])
def test_li_rich_formulas_outside_the_space_are_named(formula, message):
    with pytest.raises(CompositionError, match=message):
        C.parse(formula, C.PHYSICAL_BOUNDS)


def test_li_rich_campaign_species_and_coverage(tmp_path):
    from driver import config
    from driver.campaign.loop import build_space, campaign_species
    from driver.schema import Settings
    cfg = tmp_path / "lr.yaml"
    base = ("campaign:\n  name: lr\n  family: lirich_argyrodite\n  species: {M: Si, X: Br}\n"
            "  variables: {m: [0.0, 0.5]}\n"
            "  objectives:\n    - {name: sigma_300K, direction: max, log: true}\n"
            "md:\n  preset: smoke\n  potential: POT\n")
    cfg.write_text(base.replace("POT", "sevennet0"))
    st = config.load(Settings, cfg)
    assert campaign_species(st) == {"Li", "P", "Si", "S", "Br"}
    assert build_space(st).variables[0].step == pytest.approx(1 / 4)
    cfg.write_text(base.replace("POT", "adams_rao2011"))
    assert_one_line_error(run_cli("config", "validate", str(cfg)), "adams_rao2011 has no term for")


def test_li_rich_knowledge_base_novelty_and_feasibility(tmp_path):
    from driver.kb.feasibility import feasibility
    from driver.kb.ingest import ingest, obelix_csv
    from driver.kb.store import KB
    kb = KB(tmp_path / "kb.sqlite")
    ingest(kb, obelix_csv())
    assert kb.novelty("Li6.6P0.4Ge0.6S5I")["novelty"] == pytest.approx(0.0, abs=1e-12)
    known = feasibility(C.parse("Li6.6P0.4Ge0.6S5I"), kb)
    new = feasibility(C.parse("Li6.5P0.5Si0.5S5I"), kb)     # no Si/I member in OBELiX
    assert known.factors["known"] == pytest.approx(1.0) and new.factors["known"] < 1.0
    assert any("M4+ on P5+" in r for r in new.reasons)
