"""Candidate -> ordered pymatgen Structure: prototype, supercell, seeded decoration.

Sites come from the shipped prototype CIFs (``prototypes/SOURCE.md``), expanded by
their space group label by label, so each sublattice is known by name. Dopants and Li
are placed at random with ``numpy.random.default_rng(seed)``: the same seed gives the same
structure, and the counts match the realized stoichiometry exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifParser
from pymatgen.symmetry.groups import SpaceGroup

from .roles import prototype
from .compositions import Candidate
from .sites import MIN_LI_LI, count, fill, tile  # noqa: F401  (the public names)

PROTOTYPES = Path(__file__).parent / "prototypes"



@dataclass(frozen=True)
class Built:
    structure: Structure
    candidate: Candidate
    realized: dict[str, float]  # variables actually present (integer atom counts)
    counts: dict[str, int]
    seed: int
    supercell: tuple[int, int, int]
    #: variables the cell could not hold exactly (rounded to whole atoms; ``realized`` says to
    #: what): the simulated composition is then not the one asked for
    inexact: tuple[str, ...] = ()

    def inexact_note(self) -> str | None:
        """One line telling a user that the cell simulates another composition, or None."""
        if not self.inexact:
            return None
        sc = "x".join(str(k) for k in self.supercell)
        got = ", ".join(f"{k} {self.realized[k]:.4g}" for k in self.inexact if k in self.realized)
        asked = ", ".join(f"{k} {self.candidate.variables[k]:.4g}" for k in self.inexact
                          if k in self.candidate.variables)
        return (f"note: a {sc} cell cannot hold {self.candidate.formula} exactly ({asked}); it "
                f"simulates {self.structure.composition.reduced_formula} ({got}), recorded as "
                "realized_variables; a larger md.supercell holds it more closely")


@lru_cache(maxsize=None)
def _orbits(cif_name: str) -> tuple[Lattice, str, dict[str, np.ndarray]]:
    """Lattice, space group and fractional coordinates of every orbit, by CIF label."""
    block = CifParser(PROTOTYPES / cif_name).as_dict()
    d = next(iter(block.values()))
    lat = Lattice.from_parameters(*(float(d[f"_cell_length_{k}"]) for k in "abc"),
                                  *(float(d[f"_cell_angle_{k}"]) for k in ("alpha", "beta", "gamma")))
    sg = d["_symmetry_space_group_name_H-M"].strip()
    # one SpaceGroup for every orbit: what Structure.from_spacegroup does per call (the same
    # get_orbit, the same order), without rebuilding the group's operations each time
    # (0.9 s -> 0.14 s per process for the two prototypes; identical coordinates, checked)
    spg = SpaceGroup(sg)
    if not spg.is_compatible(lat):
        raise ValueError(f"{cif_name}: cell {lat.parameters} is incompatible with {sg}")
    orbits = {}
    for label, x, y, z in zip(d["_atom_site_label"], d["_atom_site_fract_x"],
                              d["_atom_site_fract_y"], d["_atom_site_fract_z"]):
        orbits[label] = np.array(spg.get_orbit([float(x), float(y), float(z)], tol=1e-3)) % 1.0
    return lat, sg, orbits


def build(cand: Candidate, supercell=(1, 1, 1), seed: int = 1) -> Built:
    sc = tuple(int(s) for s in supercell)
    rng = np.random.default_rng(seed)
    inexact: list[str] = []
    fam = cand.spec
    lat, _, orb = _orbits(prototype(fam, cand.species)[0])
    big = Lattice(lat.matrix * np.array(sc)[:, None])
    groups, realized = fam.decorate(cand, sc, rng, orb, big, inexact)
    species, coords = [], []
    for el, pos in groups:
        species += [el] * len(pos)
        coords.append(pos)
    structure = Structure(big, species, np.vstack(coords))
    counts = {el: int(n) for el, n in structure.composition.as_dict().items()}
    return Built(structure, cand, realized, counts, seed, sc, tuple(dict.fromkeys(inexact)))
