"""Objective ``Ea``: activation energy. Measured by the slope of the Arrhenius fit
(md/analysis.py)."""

from .base import Objective

OBJECTIVE = Objective(
    name='Ea', unit='eV', source='md',
    description='activation energy (eV)',
)
