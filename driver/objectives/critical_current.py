"""Objective ``critical_current``: critical current density for Li penetration through a
surface flaw. Measured by the phase-field stage, Li-penetration model
(phasefield/penetration.py)."""

from .base import Objective

OBJECTIVE = Objective(
    name='critical_current', unit='mA/cm2', source='phasefield',
    description=('critical current density for Li penetration through a surface flaw (mA/cm2, with'
                 ' its interval; stability_model: li_penetration, the default)'),
    needs=(('stability_model', 'li_penetration'),),
)
