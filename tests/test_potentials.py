"""Potential files: every one loads, cites its source, and refuses uncovered pairs."""

from __future__ import annotations

import pytest

from driver import potentials
from driver.errors import CoverageError, UserError


@pytest.mark.parametrize("name", potentials.available())
def test_every_potential_cites_and_is_neutral_capable(name):
    pot = potentials.load(name)
    assert pot.citation["doi"].startswith("10.")
    assert pot.citation["year"] and pot.citation["authors"]
    assert pot.anions, "a rigid-ion oxide potential has at least one anion"
    for pair, params in pot.pairs.items():
        assert len(params) == len(potentials.FORM_PARAMS[pot.form])
        assert all(s in pot.charges for s in pair)


def test_pedone_values_match_source_table():
    """Spot values of Pedone et al. 2006, Table 2 (and charges of Table 1)."""
    pot = potentials.load("pedone2006")
    assert pot.charges == {"Li": 0.6, "Al": 1.8, "Ti": 2.4, "Zr": 2.4, "Ge": 2.4,
                           "P": 3.0, "O": -1.2}
    assert pot.pairs[frozenset(("Li", "O"))] == (0.001114, 3.429506, 2.681360, 1.0)
    assert pot.pairs[frozenset(("O",))] == (0.042395, 1.379316, 3.618701, 22.0)


def test_lagp_is_covered_and_neutral():
    pot = potentials.load("pedone2006")
    pot.check_covers({"Li", "Al", "Ge", "P", "O"})
    # Li1.5 Al0.5 Ge1.5 (PO4)3 is neutral with the partial charges too (all scaled by 0.6)
    assert pot.net_charge({"Li": 1.5, "Al": 0.5, "Ge": 1.5, "P": 3, "O": 12}) == pytest.approx(0)


def test_uncovered_pair_is_refused_by_name():
    pot = potentials.load("pedone2006")
    with pytest.raises(CoverageError) as err:
        pot.check_covers({"Li", "La", "Zr", "O"})
    msg = str(err.value)
    assert "La-O" in msg and "pedone2006" in msg and "--potential" in msg


def test_unknown_potential_lists_available():
    with pytest.raises(UserError, match="available: .*pedone2006"):
        potentials.load("no-such-potential")


def test_pair_lines_use_type_numbers():
    pot = potentials.load("pedone2006")
    lines = pot.pair_lines({"Li": 1, "O": 2}, 10.0, 1e-5)
    assert "pair_coeff 1 2 pedone 0.001114 3.429506 2.681360 1.000000  # Li-O" in lines
    assert "pair_coeff 2 2 pedone 0.042395 1.379316 3.618701 22.000000  # O-O" in lines
    assert not any(l.startswith("pair_coeff 1 1 pedone") for l in lines)  # Coulomb only
