"""Objective ``stability``: Cahn-Hilliard degradation score S in [0, 1]. Measured by the phase-
field stage, degradation model (phasefield/degradation.py)."""

from .base import Objective

OBJECTIVE = Objective(
    name='stability', unit='1', source='phasefield',
    description='Cahn-Hilliard degradation score S in [0, 1] (stability_model: degradation)',
    needs=(('stability_model', 'degradation'),),
)
