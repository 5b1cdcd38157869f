"""Objective ``sigma_300K``: Arrhenius-extrapolated conductivity at 300 K. Measured by the
Arrhenius fit of the diffusive temperatures extrapolated to 300 K (md/analysis.py)."""

from .base import Objective

OBJECTIVE = Objective(
    name='sigma_300K', unit='S/cm', source='md',
    description='Arrhenius-extrapolated conductivity at 300 K (S/cm); needs 2 diffusive T',
)
