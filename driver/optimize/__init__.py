"""Surrogates and batch proposal: scikit-learn GPs, acquisitions, constraints, multi-objective.

Usable standalone (no LAMMPS or DOLFINx): ``Optimizer(space, objectives).ask() / tell()``.
"""
