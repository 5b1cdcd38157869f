"""Objectives of a campaign, one module each (issue 31, item 5): ``base.Objective`` says what
one is, ``registry`` finds them (this package's modules and installed plug-ins)."""

from .base import Objective
from .registry import all_objectives, find, get, register

__all__ = ["Objective", "all_objectives", "find", "get", "register"]
