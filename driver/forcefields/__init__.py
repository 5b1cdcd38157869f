"""Force-field forms as plug-ins: one module per functional form of ``potentials/*.yaml``.

A form module defines:

- ``NAME`` (the file's ``form:``), ``PARAMS`` (pair-term parameter names, in LAMMPS
  pair_coeff order), ``TABULATED`` (LAMMPS reads a pair table written beside the deck);
- ``parse_extra(doc, charges, pairs) -> dict``: checks and reads what the form needs beyond
  charges and pair rows (keyword arguments of ``Potential``; ``{}`` when nothing);
- ``table_sections(pot, type_of) -> {section: r -> (E, F)}`` (tabulated forms);
- ``pair_lines(pot, type_of, coul_cutoff, kspace_accuracy, files_dir) -> list[str]``: the
  pair_style / pair_coeff / kspace_style lines (and any fix the form needs), reading the
  form's files from ``files_dir`` (``None``: beside the deck);
- optionally ``files(pot, type_of) -> {name: text}``: files the pair lines read that are not
  a pair table (a fitted model's coefficients); tabulated forms get theirs from
  ``table_sections``;
- ``COVERS_ALL_PAIRS`` (a many-body model needs only its species, no pair rows) and
  ``external_forces(pot, type_of, comm) -> None | factory(lmp) -> callback`` (forces
  computed in Python through LAMMPS's ``fix external``; ``None`` for LAMMPS pair styles);
- optionally ``FITTED = True``: the form's files are made by ``sse-driver distil`` (a
  student), so no hand-written file of it need be shipped;
- ``EXTRA``: what must be installed beyond the base set to run the form (``None``: nothing),
  said wherever a potential of the form is suggested to a user.

``driver/potentials.py`` (loading, coverage, the table file) asks this registry and names no
form; adding a form is one module here, its entry in ``FORMS``, a parameter file citing
its source, and tests.
"""

from __future__ import annotations

from types import ModuleType

from . import buck_core, mlip_external, pedone, pod, snap, softbv

FORMS: dict[str, ModuleType] = {m.NAME: m for m in (pedone, buck_core, softbv, mlip_external,
                                                     snap, pod)}


#: the forms a distillation can fit (their files are made by ``sse-driver distil``)
STUDENT_FORMS: tuple[str, ...] = tuple(n for n, m in FORMS.items() if getattr(m, "FITTED", False))


def get(name: str) -> ModuleType:
    return FORMS[name]
