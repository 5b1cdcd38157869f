"""Exception types. User mistakes (``UserError``) print one line and exit 2; everything
else is a bug or an environment failure and keeps its traceback."""

from __future__ import annotations


class SSEError(Exception):
    """Base class of every error raised on purpose by sse-driver."""


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
