"""Pedone (PMMCS) Morse + r^-12 with long-range Coulomb: LAMMPS ``pedone`` (EXTRA-PAIR)
overlaid on ``coul/long`` with PPPM (A. Pedone et al., J. Phys. Chem. B 110, 11780 (2006))."""

from __future__ import annotations

NAME = "pedone"
PARAMS = ("D0", "a", "r0", "C0")
TABULATED = False
COVERS_ALL_PAIRS = False
#: what a user must install beyond the base set to run this form (None: nothing)
EXTRA: str | None = None
#: minimizer force tolerance (LAMMPS minimize ftol, eV/A, as written in the decks)
MIN_FTOL = "1.0e-8"


def parse_extra(doc: dict, charges: dict, pairs: dict) -> dict:
    return {}


def table_sections(pot, type_of: dict[str, int]) -> dict:
    return {}


def pair_lines(pot, type_of: dict[str, int], coul_cutoff: float, kspace_accuracy: float,
               files_dir: str | None) -> list[str]:
    rc = f"{pot.short_cutoff:g}"
    lines = [f"pair_style hybrid/overlay pedone {rc} coul/long {coul_cutoff:g}",
             "pair_coeff * * coul/long"]
    for ta, tb, a, b, params in pot.short_pairs(type_of):
        nums = " ".join(f"{p:.6f}" for p in params)
        lines.append(f"pair_coeff {ta} {tb} pedone {nums}  # {a}-{b}")
    return lines + ["pair_modify shift yes", f"kspace_style pppm {kspace_accuracy:g}"]


def external_forces(pot, type_of: dict[str, int], comm):
    """No Python callback: LAMMPS evaluates the pair style itself."""
    return None
