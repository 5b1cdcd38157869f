"""sse-driver: closed-loop discovery of solid-state electrolytes on LAMMPS, DOLFINx and Dask.

Import order matters for the MPI stack: anything that touches LAMMPS or DOLFINx goes
through :mod:`driver.mpi`, which imports mpi4py first so that one libmpi is loaded.
"""

__version__ = "0.1.0"
