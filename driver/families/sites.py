"""Placing atoms on a prototype's sites: tiling fractional orbits into a supercell, counting
the atoms a composition puts there, filling partially occupied sites at random without
Li-Li pairs closer than ``MIN_LI_LI``. Shared by the family modules' ``decorate``; imports
no family.
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice

from ..errors import CompositionError

#: Smallest Li-Li (and Li-T dopant) distance accepted when filling partially occupied Li
#: sublattices. The split 36f (NASICON) and 96h (garnet) positions sit < 1.0 A from their
#: twins and 24d-96h pairs ~1.6-1.7 A apart; no two Li are that close in the ordered
#: structures refined for these families, so such pairs are excluded.
MIN_LI_LI = 1.9


def tile(frac: np.ndarray, sc: tuple[int, int, int]) -> np.ndarray:
    shifts = np.array([(i, j, k) for i in range(sc[0]) for j in range(sc[1]) for k in range(sc[2])])
    return ((frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3)) / np.array(sc)


def count(amount_per_cell: float, what: str, realized_note: list) -> int:
    n = int(round(amount_per_cell))
    if abs(n - amount_per_cell) > 1e-6:
        realized_note.append(what)
    return n


def fill(rng, candidates: np.ndarray, n: int, lattice: Lattice, fixed: np.ndarray,
          what: str, tries: int = 50) -> np.ndarray:
    """``n`` of ``candidates`` (fractional) chosen at random with no pair closer than
    MIN_LI_LI and none that close to ``fixed``.

    Randomized minimum-degree greedy: each step takes, at random among the free sites
    with the fewest free conflicting neighbours, one site. Plain random sequential filling
    jams below the 56 Li of Li7La3Zr2O12 per cell; this reaches near-maximum packings
    (60 per garnet cell) while staying random and reproducible for a seed.
    """
    if n == 0:
        return np.zeros((0, 3))
    d_fix = (lattice.get_all_distances(candidates, fixed) if len(fixed)
             else np.full((len(candidates), 1), np.inf))
    ok0 = d_fix.min(axis=1) >= MIN_LI_LI
    conflict = lattice.get_all_distances(candidates, candidates) < MIN_LI_LI
    np.fill_diagonal(conflict, False)
    for _ in range(tries):
        free = ok0.copy()
        chosen = []
        while len(chosen) < n and free.any():
            idx = np.flatnonzero(free)
            degree = conflict[np.ix_(idx, idx)].sum(axis=1)
            i = int(rng.choice(idx[degree == degree.min()]))
            chosen.append(i)
            free[i] = False
            free &= ~conflict[i]
        if len(chosen) == n:
            return candidates[np.sort(chosen)]
    raise CompositionError(
        f"could not place {n} {what} on the available sites without Li-Li pairs closer than "
        f"{MIN_LI_LI} A after {tries} tries; use a larger supercell or another composition")
