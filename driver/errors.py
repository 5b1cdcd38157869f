"""Exception types. User mistakes (``UserError``) print one line and exit 2; everything
else is a bug or an environment failure and keeps its traceback."""

from __future__ import annotations


class SSEError(Exception):
    """Base class of every error raised on purpose by sse-driver.

    ``retry`` is the class's retry policy for a campaign (what the next attempt changes;
    None: not retried). It travels with the failure in the stage's ``error.json``
    (:func:`record`), so the parent applies it without knowing the class by name: renaming
    a class cannot silently drop its retry."""

    retry: dict | None = None


#: what a retry may change (driver/campaign/tasks.py applies exactly these)
RETRY_KEYS = frozenset({"timestep_factor", "new_seed", "dt_scale_factor"})
#: the schema of a stage's ``error.json``
ERROR_SCHEMA = "sse-driver/stage-error/1"
ERROR_FILE = "error.json"


def record(exc: BaseException) -> dict:
    """The typed record of a failed stage: class, message, whether and how to retry."""
    retry = getattr(exc, "retry", None)
    return {"schema": ERROR_SCHEMA, "class": type(exc).__name__,
            "message": str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__,
            "retryable": retry is not None, "retry": dict(retry) if retry else None}


class UserError(SSEError):
    """Bad input from the user: a config key, a composition, a CIF, a CLI flag.

    The message is one line that names what is wrong and how to fix it.
    """

    exit_code = 2


class ConfigError(UserError):
    """A config file or override fails the schema."""


class CompositionError(UserError):
    """A composition is outside its space, not charge-neutral, or cannot be parsed."""


class CoverageError(UserError):
    """The chosen potential lacks a term for a species or pair in the structure."""
