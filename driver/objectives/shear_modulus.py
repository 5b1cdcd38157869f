"""Objective ``shear_modulus``: 0 K VRH shear modulus. Measured by Voigt-Reuss-Hill average of
the 0 K elastic constants (md/workflow.py)."""

from .base import Objective

OBJECTIVE = Objective(
    name='shear_modulus', unit='GPa', source='md',
    description='0 K VRH shear modulus (GPa)',
)
