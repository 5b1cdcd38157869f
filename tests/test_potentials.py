"""Potential files: every one loads, cites its source, and refuses uncovered pairs."""

from __future__ import annotations

import numpy as np
import pytest

from driver import potentials
from driver.errors import CoverageError, UserError


@pytest.mark.parametrize("name", potentials.available())
def test_every_potential_cites_and_is_neutral_capable(name):
    pot = potentials.load(name)
    assert pot.citation["doi"].startswith("10.")
    assert pot.citation["year"] and pot.citation["authors"]
    # a rigid-ion potential has at least one anion; an ML model carries no charges
    assert pot.anions or (pot.spec.COVERS_ALL_PAIRS and not any(pot.charges.values()))
    for pair, params in pot.pairs.items():
        assert len(params) == len(pot.spec.PARAMS)
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


# --- deng_du2019: Teter/Du Buckingham with the Deng-Du core ------------------------------

def test_deng_du_values_match_published_table():
    """Spot values against Table 1 of npj Comput. Mater. (2020), doi:10.1038/s41524-020-0291-z,
    which prints them rounded (A to 7 significant figures)."""
    pot = potentials.load("deng_du2019")
    assert pot.charges == {"Li": 0.6, "Al": 1.8, "La": 1.8, "Zr": 2.4, "O": -1.2}
    printed = {("Li", "O"): (41051.94, 0.15116, 0.0), ("Al", "O"): (12201.42, 0.195628, 31.997),
               ("La", "O"): (4369.39, 0.2786, 60.28), ("Zr", "O"): (17943.38, 0.226627, 127.65),
               ("O", "O"): (2029.22, 0.343645, 192.58)}
    for pair, (A, rho, C) in printed.items():
        a, r, c = pot.pairs[frozenset(pair)]
        assert a == pytest.approx(A, abs=0.01) and r == pytest.approx(rho, abs=1e-6)
        assert c == pytest.approx(C, abs=0.005)


def test_core_rule_reproduces_published_cores():
    """The closed-form core matches the (r0, B, n, D) Deng & Du 2019 list for Zr-O and
    Al-O (as transcribed in the amorphouspy du_teter table), to their printed digits."""
    from driver.pairforms import core

    published = {(17943.384, 0.226627, 127.65): (1.224, 108.655, 3.305, -8.481),
                 (12201.417, 0.195628, 31.997): (1.024, 51.728, 3.179, -10.197)}
    for (A, rho, C), (r0, B, n, D) in published.items():
        c = core(A, rho, C)
        assert c.r0 == pytest.approx(r0, abs=6e-4)
        assert c.B == pytest.approx(B, rel=1e-3) and c.n == pytest.approx(n, rel=1e-3)
        assert c.D == pytest.approx(D, rel=1e-3)
    assert core(41051.938, 0.151160, 0.0) is None      # C = 0: monotonic, no core


@pytest.mark.parametrize("pair", ["Al-O", "La-O", "Zr-O", "O-O"])
def test_core_is_smooth_and_repulsive(pair):
    """E, E' and E'' continuous at r0, and no Buckingham collapse: the force is repulsive
    from 0.5 A out to beyond r0 (the bare Buckingham turns attractive inside its maximum)."""
    from driver.pairforms import buck_core_energy_force, buckingham, core

    A, rho, C = potentials.load("deng_du2019").pairs[frozenset(pair.split("-"))]
    c = core(A, rho, C)
    for k, tol in ((0, 1e-9), (1, 1e-8), (2, 1e-6)):
        inner = {0: c.energy(c.r0), 1: -c.force(c.r0),
                 2: c.n * (c.n + 1) * c.B * c.r0 ** (-c.n - 2) + 2 * c.D}[k]
        assert inner == pytest.approx(float(buckingham(c.r0, A, rho, C, k)), rel=tol)
    r = np.linspace(0.5, c.r0 * 1.2, 400)
    _, f = buck_core_energy_force(r, A, rho, C)
    assert (f > 0).all()
    assert (-buckingham(np.linspace(0.5, 0.7, 20), A, rho, C, 1) < 0).any()  # bare: collapses


def test_garnets_covered_neutral_and_dopants_refused():
    pot = potentials.load("deng_du2019")
    pot.check_covers({"Li", "La", "Zr", "O"})
    pot.check_covers({"Li", "Al", "La", "Zr", "O"})
    assert pot.net_charge({"Li": 7, "La": 3, "Zr": 2, "O": 12}) == pytest.approx(0)
    assert pot.net_charge({"Li": 6.25, "Al": 0.25, "La": 3, "Zr": 2, "O": 12}) == pytest.approx(0)
    with pytest.raises(CoverageError, match="Ta-O.*deng_du2019|deng_du2019.*Ta"):
        pot.check_covers({"Li", "La", "Zr", "Ta", "O"})


def test_table_file_and_pair_lines():
    """The table holds one section per present pair, zero at the cutoff, and its values
    are the analytic form; the pair lines read it from beside the deck."""
    from driver.pairforms import buck_core_energy_force

    pot = potentials.load("deng_du2019")
    types = {"Li": 1, "Zr": 2, "O": 3}
    files = pot.files(types)
    assert list(files) == ["deng_du2019.table"]
    text = files["deng_du2019.table"]
    sections = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line in ("Li-O", "Zr-O", "O-O", "Li-Zr", "Li-Li"):
            n = int(lines[i + 1].split()[1])
            sections[line] = np.array([l.split()[1:] for l in lines[i + 3:i + 3 + n]], float)
    assert set(sections) == {"Li-O", "Zr-O", "O-O"}            # no cation-cation terms
    r, e, f = sections["Zr-O"].T
    assert r[0] == 0.5 and r[-1] == 10.0 and len(r) == 5000 and e[-1] == 0.0
    A, rho, C = pot.pairs[frozenset(("Zr", "O"))]
    e_ref, f_ref = buck_core_energy_force(r, A, rho, C)
    e_ref -= buck_core_energy_force(np.array([10.0]), A, rho, C)[0][0]
    assert np.allclose(e, e_ref, rtol=1e-7, atol=1e-10) and np.allclose(f, f_ref, rtol=1e-7)
    pl = pot.pair_lines(types, 10.0, 1e-5)
    assert pl[0] == "pair_style hybrid/overlay table spline 5000 coul/long 10"
    assert "pair_coeff 2 3 table deng_du2019.table Zr-O 10" in pl
    assert not any(" 1 2 table" in l for l in pl)
    assert pot.files({"Li": 1, "O": 2}) != files            # only the pairs present
    assert potentials.load("pedone2006").files(types) == {}


# --- adams_rao2011: the bond-valence (softBV) Morse + screened-repulsion model -----------

# The cation-O2- rows as the BVlain package stores them (data/cation.pkl, one more digit
# than the file), an implementation independent of CrysFML from which the file's values
# were transcribed: (D0 eV, Rmin A, alpha 1/A).
BVLAIN_ROWS = {"Li": (0.98816, 1.940013, 1.937984), "Al": (1.803461, 1.758058, 2.358491),
               "Ga": (1.184556, 1.79391, 2.680965), "La": (1.185874, 2.469886, 2.217295),
               "Zr": (2.191032, 1.996025, 2.040816), "Nb": (2.723261, 1.854586, 2.008032),
               "Ta": (2.366685, 1.85532, 2.057613)}


def test_softbv_rows_match_a_second_implementation():
    pot = potentials.load("adams_rao2011")
    for cation, ref in BVLAIN_ROWS.items():
        assert pot.pairs[frozenset((cation, "O"))] == pytest.approx(ref, abs=6e-6), cation
    # alpha = 1/b with the softBV bond softness b (Chen and Adams 2017): Li-O 0.516
    assert 1 / pot.pairs[frozenset(("Li", "O"))][2] == pytest.approx(0.516, abs=1e-6)
    assert pot.charges["Ta"] == 5 and pot.species_props["Ta"] == {"n": 6, "radius": 1.31}
    assert pot.screening_factor == 0.74


@pytest.mark.parametrize("cation, V, n, b", [("Li", 1, 2, 0.516), ("Al", 3, 3, 0.424),
                                             ("Ga", 3, 4, 0.373), ("Zr", 4, 5, 0.490)])
def test_softbv_d0_follows_the_bond_valence_rule(cation, V, n, b):
    """D0 = k_e V_cat V_O b^2 / (2 Rmin sqrt(n_cat n_O)): the table is not free numbers."""
    D0, rmin, _ = potentials.load("adams_rao2011").pairs[frozenset((cation, "O"))]
    assert D0 == pytest.approx(14.399645 * V * 2 * b * b / (2 * rmin * np.sqrt(2 * n)),
                               abs=5e-5)


def test_softbv_forms_minimum_and_forces():
    from driver.pairforms import morse_bv, screened_coulomb

    D0, rmin, alpha = 2.366690, 1.855320, 2.057613
    e, f = morse_bv(np.array([rmin]), D0, rmin, alpha)
    assert e[0] == pytest.approx(-D0) and f[0] == pytest.approx(0, abs=1e-12)
    r = np.linspace(0.8, 7.5, 300)
    h = 1e-6
    for fn in (lambda x: morse_bv(x, D0, rmin, alpha), lambda x: screened_coulomb(x, 1.5, 2.68)):
        _, f = fn(r)
        numeric = -(fn(r + h)[0] - fn(r - h)[0]) / (2 * h)
        assert np.allclose(f, numeric, rtol=1e-6, atol=1e-8)
    e, f = screened_coulomb(r, 1.5, 2.68)
    assert (e > 0).all() and (f > 0).all() and (np.diff(e) < 0).all()   # pure repulsion


def test_softbv_covers_every_garnet_dopant_and_refuses_the_rest():
    pot = potentials.load("adams_rao2011")
    for dopant in ("Ta", "Nb", "Al", "Ga"):
        pot.check_covers({"Li", "La", "Zr", dopant, "O"})
    assert pot.net_charge({"Li": 6.4, "La": 3, "Zr": 1.4, "Ta": 0.6, "O": 12}) == pytest.approx(0)
    with pytest.raises(CoverageError, match="adams_rao2011 has no term for P, Ti, P-O, Ti-O ") as e:
        pot.check_covers({"Li", "Ti", "P", "O"})
    # the refusal names the fix: the shipped potentials that do cover the composition
    assert "shipped potentials that cover it: pedone2006, sevennet0 (ML potential" in str(e.value)


def test_coverage_refusal_names_the_covering_potentials_or_says_there_is_none():
    assert potentials.covering({"Li", "La", "Zr", "O"}) == ["adams_rao2011", "deng_du2019",
                                                           "sevennet0"]
    assert potentials.covering({"Li", "P", "S", "Cl"}) == ["sevennet0"]
    with pytest.raises(CoverageError, match="no shipped potential covers it; add a cited file"):
        potentials.load("pedone2006").check_covers({"Li", "O", "Pu"})   # Pu: in no file


def test_softbv_table_and_pair_lines_cover_every_type_pair():
    pot = potentials.load("adams_rao2011")
    types = {"Li": 1, "La": 2, "Ta": 3, "O": 4}
    text = pot.files(types)["adams_rao2011.table"]
    keys = [l for l in text.splitlines() if l and l[0].isalpha() and not l.startswith("N ")]
    assert len(keys) == 10 and {"Li-O", "La-O", "Ta-O", "O-O", "Li-La", "La-La"} <= set(keys)
    lines = pot.pair_lines(types, 10.0, 1e-5)
    assert lines[0] == "pair_style table spline 5000"
    assert "pair_coeff 3 4 adams_rao2011.table Ta-O 8" in lines
    assert not any(l.startswith("kspace_style") for l in lines)  # all terms short-ranged


@pytest.mark.parametrize("old, new, needle", [
    ("  - [Li, O, 0.988160", "  - [Li, Li, 0.988160", "softbv pair Li-Li must join a cation and an anion"),
    ("Ta: {charge: 5, n: 6, radius: 1.31}", "Ta: {charge: 5, n: 6}", "malformed potential file: 'radius'"),
    ("coulomb_only: like-sign", "coulomb_only: cation-cation", "softbv needs coulomb_only: like-sign"),
    ("coulomb_only: like-sign", "coulomb_only: everything", "coulomb_only is cation-cation or like-sign"),
])
def test_malformed_softbv_file_is_one_line(tmp_path, old, new, needle):
    text = (potentials.data_dir("potentials") / "adams_rao2011.yaml").read_text()
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new))
    with pytest.raises(UserError, match=needle):
        potentials.load(str(bad))


def test_pair_table_is_built_once_per_type_map(monkeypatch):
    """Relax, elastic and every temperature read the same table: it is tabulated once."""
    from driver import pairforms

    calls = []
    real = pairforms.lammps_table
    monkeypatch.setattr(pairforms, "lammps_table", lambda *a: calls.append(1) or real(*a))
    pot = potentials.load("adams_rao2011")
    first = pot.files({"Li": 1, "O": 2})
    assert pot.files({"O": 2, "Li": 1}) == first and len(calls) == 1
    assert pot.files({"Li": 1, "La": 2, "O": 3}) != first and len(calls) == 2


def test_ml_potential_file_names_a_shipped_model_and_covers_by_species():
    """sevennet0 loads without the ML extra (the model is imported only to run): no pair
    rows, coverage by species alone, and only allowlisted packages and models."""
    pot = potentials.load("sevennet0")
    assert pot.form == "mlip_external" and pot.model == {"package": "sevenn", "name": "7net-0"}
    assert pot.missing({"Li", "P", "S", "Cl"}) == [] and pot.missing({"Li", "Xe"}) == ["Xe"]
    assert pot.pair_lines({"Li": 1, "S": 2}, 10.0, 1e-5)[:3] == [
        "pair_style zero 5", "pair_coeff * *", "fix sse_mlip all external pf/callback 1 1"]


@pytest.mark.parametrize("edit, message", [
    (("package: sevenn", "package: os"), "model.package must be one of sevenn"),
    (("name: 7net-0}", "name: my-weights.pth}"), "model.name must be one of 7net-0"),
    (("Li: {charge: 0}", "Li: {charge: 1}"), "charge 0"),
])
def test_ml_potential_file_is_data_not_code(tmp_path, edit, message):
    from driver.resources import data_dir
    text = (data_dir("potentials") / "sevennet0.yaml").read_text().replace(*edit)
    p = tmp_path / "ml.yaml"
    p.write_text(text)
    with pytest.raises(UserError, match=message):
        potentials.load(str(p))


def test_ml_potential_without_the_extra_is_one_line_naming_make_mlip(monkeypatch):
    """Without sevenn (or torch) installed, the run stops before LAMMPS with the fix."""
    import sys
    from driver.mpi import MPI
    monkeypatch.setitem(sys.modules, "sevenn.calculator", None)   # import fails
    pot = potentials.load("sevennet0")
    with pytest.raises(UserError, match="make mlip") as err:
        pot.spec.external_forces(pot, {"Li": 1, "S": 2}, MPI.COMM_SELF)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("old, new, needle", [
    ("Li: {charge: 0.6}", "Li: {charge: .nan}", "species Li charge must be finite"),
    ("Li: {charge: 0.6}", "Li: {charge: '0.6'}", "species Li charge must be a number"),
    ("Li: {charge: 0.6}", "Li: {charge: true}", "species Li charge must be a number"),
    ("Li: {charge: 0.6}", "Li: {charge: 1.0e+300}", "outside"),
    ("short_cutoff: 8.0", "short_cutoff: -8.0", "lammps.short_cutoff = -8 is outside"),
    ("short_cutoff: 8.0", "short_cutoff: .inf", "lammps.short_cutoff must be finite"),
])
def test_numbers_in_a_potential_file_are_finite_and_in_range(tmp_path, old, new, needle):
    """Issue 33, class 3: a number read from a potential file is checked where it enters
    (finite, a number, in range), so none reaches a deck: a NaN charge, a negative cutoff
    that silently drops the short-range terms."""
    text = potentials.data_dir("potentials").joinpath("pedone2006.yaml").read_text()
    assert old in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(UserError) as e:
        potentials.load(str(path))
    assert needle in str(e.value) and "\n" not in str(e.value)
