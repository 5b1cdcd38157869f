"""Where the project's data folders (``templates/``, ``potentials/``) live.

They sit at the repository top level, next to ``driver/``, as the user asked; the package
is installed editable (``make``, the container), so they are found relative to it.
``SSE_DRIVER_HOME`` points somewhere else (a site copy of the potentials, say).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class MissingData(UserError, FileNotFoundError):
    """The package's data folders are not where they should be: a user's setting
    (SSE_DRIVER_HOME) or install, reported in one line like any bad input."""


def project_root() -> Path:
    """The folder that holds ``templates/`` and ``potentials/``."""
    env = os.environ.get("SSE_DRIVER_HOME")
    return Path(env).resolve() if env else _PACKAGE_ROOT


def data_dir(name: str) -> Path:
    """``templates`` or ``potentials``; raises FileNotFoundError naming the fix."""
    path = project_root() / name
    if not path.is_dir():
        raise MissingData(
            f"{path} is missing: install sse-driver editable from its repository "
            f"(pip install -e .) or set SSE_DRIVER_HOME to a folder holding {name}/"
        )
    return path


def cores() -> int:
    """This machine's cores, as the local Dask cluster and the CLI's process bounds count them."""
    return os.cpu_count() or 1
