"""The data-file writer against LAMMPS itself: cell and positions survive read_data."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from driver.md.datafile import lammps_box, write_data
from driver.mpi import MPI  # noqa: F401  (before lammps)


def test_box_preserves_lengths_and_angles():
    lat = Lattice.from_parameters(8.3, 8.3, 20.6, 90, 90, 120)  # LAGP-like hexagonal
    lx, ly, lz, xy, xz, yz = lammps_box(lat.matrix)
    m = np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
    assert Lattice(m).abc == pytest.approx(lat.abc)
    assert Lattice(m).angles == pytest.approx(lat.angles)


def test_lammps_reads_what_we_write(tmp_path):
    import lammps

    lat = Lattice.from_parameters(5.1, 5.6, 6.3, 81, 97, 113)
    rng = np.random.default_rng(3)
    s = Structure(lat, ["Li", "Li", "O"], rng.random((3, 3)))
    path = write_data(s, tmp_path / "t.data", {"Li": 1, "O": 2}, {"Li": 0.6, "O": -1.2})
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        lmp.commands_list(["units metal", "atom_style charge", f"read_data {path}"])
        assert lmp.get_thermo("vol") == pytest.approx(lat.volume, rel=1e-9)
        q = np.ctypeslib.as_array(lmp.extract_atom("q"), shape=(3,))
        assert sorted(q) == pytest.approx([-1.2, 0.6, 0.6])
        x = np.ctypeslib.as_array(lmp.extract_atom("x")[0], shape=(3, 3)).copy()
    finally:
        lmp.close()
    # interatomic distances are invariant under the rotation to the LAMMPS frame
    d_lmp = np.linalg.norm(x[0] - x[1])
    assert s.get_distance(0, 1, jimage=None) <= d_lmp + 1e-8
