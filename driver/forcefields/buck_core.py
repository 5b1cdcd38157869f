"""Partial-charge Buckingham with the Deng-Du repulsive core (driver/pairforms.py), from a
LAMMPS pair table, overlaid on ``coul/long`` with PPPM (J. Deng, J. Du, J. Am. Ceram. Soc.
102, 2482 (2019))."""

from __future__ import annotations

NAME = "buck_core"
PARAMS = ("A", "rho", "C")
TABULATED = True
COVERS_ALL_PAIRS = False
#: what a user must install beyond the base set to run this form (None: nothing)
EXTRA: str | None = None
#: minimizer force tolerance (LAMMPS minimize ftol, eV/A, as written in the decks)
MIN_FTOL = "1.0e-8"


def parse_extra(doc: dict, charges: dict, pairs: dict) -> dict:
    return {}


def table_sections(pot, type_of: dict[str, int]) -> dict:
    from ..pairforms import buck_core_energy_force
    return {f"{a}-{b}": (lambda r, p=p: buck_core_energy_force(r, *p))
            for _, _, a, b, p in pot.short_pairs(type_of)}


def pair_lines(pot, type_of: dict[str, int], coul_cutoff: float, kspace_accuracy: float,
               files_dir: str | None) -> list[str]:
    rc = f"{pot.short_cutoff:g}"
    path = f"{files_dir}/{pot.table_name}" if files_dir else pot.table_name
    lines = [f"pair_style hybrid/overlay table spline {int(pot.table['points'])} "
             f"coul/long {coul_cutoff:g}", "pair_coeff * * coul/long"]
    for ta, tb, a, b, _ in pot.short_pairs(type_of):
        lines.append(f"pair_coeff {ta} {tb} table {path} {a}-{b} {rc}")
    return lines + [f"kspace_style pppm {kspace_accuracy:g}"]


def external_forces(pot, type_of: dict[str, int], comm):
    """No Python callback: LAMMPS evaluates the pair style itself."""
    return None
