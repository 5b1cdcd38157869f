"""Shared fixtures. Tests run the real stack: LAMMPS, DOLFINx, MPI and Dask."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# One thread per process: the CI machine has 2 cores and MPI tests use both.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_cli(*args: str, timeout: float = 600, env: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``sse-driver`` console script."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(BIN / "sse-driver"), *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)


def run_mpi(n: int, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``mpirun -n N python args...`` with the environment's own launcher."""
    from driver.mpi import mpirun_command

    return subprocess.run(mpirun_command(n, list(args)), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
