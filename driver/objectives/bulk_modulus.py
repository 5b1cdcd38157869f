"""Objective ``bulk_modulus``: 0 K VRH bulk modulus. Measured by Voigt-Reuss-Hill average of
the 0 K elastic constants (md/workflow.py)."""

from .base import Objective

OBJECTIVE = Objective(
    name='bulk_modulus', unit='GPa', source='md',
    description='0 K VRH bulk modulus (GPa)',
)
