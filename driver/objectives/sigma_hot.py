"""Objective ``sigma_hot``: conductivity at the highest MD temperature. The Nernst-
Einstein conductivity of the hottest temperature of the MD stage (md/analysis.py)."""

from .base import Objective

OBJECTIVE = Objective(
    name='sigma_hot', unit='S/cm', source='md',
    description='conductivity at the highest MD temperature (S/cm), always measured',
)
