"""LAMMPS input decks from templates, in the style of pymatgen's io layer.

:class:`MDInputGenerator` holds the recipe (settings + potential); ``get_input_set``
returns a :class:`LammpsInputSet` whose ``write(dir)`` puts the exact deck and data file
in a run directory, so ``lmp -in in.lammps`` there reproduces the run.
Templates render with ``StrictUndefined`` (a missing variable is an error, not a blank) in
Jinja2's sandbox (a template cannot reach Python attributes), from the package's
``templates/`` only; every text value a potential file contributes is checked on loading
(``potentials.deck_text``), so data never becomes a LAMMPS command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import jinja2.sandbox
import numpy as np
from pymatgen.core import Element, Structure

from .. import __version__
from ..fileio import atomic_write_text
from ..potentials import Potential
from ..resources import data_dir
from .settings import MDSettings
from .datafile import lammps_box, write_data

INPUT_NAME = "in.lammps"


def _env() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(str(data_dir("templates")))
    return jinja2.sandbox.SandboxedEnvironment(loader=loader, undefined=jinja2.StrictUndefined,
                                               keep_trailing_newline=True, autoescape=False)


def render(template: str, **variables) -> str:
    """Render ``templates/<template>``; an undefined variable raises UndefinedError."""
    return _env().get_template(template).render(template=template, version=__version__,
                                                input_name=INPUT_NAME, **variables)


@dataclass
class LammpsInputSet:
    """Files of one LAMMPS run: the deck and, when the run starts from a structure, its data."""

    deck: str
    structure: Structure | None = None
    type_of: dict[str, int] = field(default_factory=dict)
    charges: dict[str, float] = field(default_factory=dict)
    data_file: str = "structure.data"
    expected_steps: int | None = None
    files: dict[str, str] = field(default_factory=dict)  # e.g. a pair table the deck reads

    def input_names(self) -> list[str]:
        """The files ``write`` puts in a folder: what makes two runs of a deck the same run."""
        return ([self.data_file] if self.structure is not None else []) + list(self.files) + [INPUT_NAME]

    def write(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        if self.structure is not None:
            write_data(self.structure, d / self.data_file, self.type_of, self.charges)
        for name, text in self.files.items():
            atomic_write_text(d / name, text)
        atomic_write_text(d / INPUT_NAME, self.deck)
        return d


def type_map(species: set[str], potential: Potential | None = None) -> dict[str, int]:
    """LAMMPS type numbers by increasing electronegativity (Li first, O last), unless the
    potential's form fixes the order (``type_order``: a POD student's types must follow the
    species order it was fitted in, whatever names pair_coeff gives them; measured
    2026-12-03: the Li3InCl6 student gave +204 eV for a cell the teacher puts at -68.6 eV
    when its In and Cl types were swapped). Such a potential gets a type for every species
    it was fitted on, present or not: a family's student (Li Cl Br Y In) runs a member
    with three of them (Li3YCl6) as types 1, 2 and 4, type i being its i-th species;
    ``present`` keeps the species of the cell."""
    fixed = getattr(potential.spec, "type_order", None) if potential is not None else None
    if fixed is not None:
        order = list(fixed(potential))
        by_x = order + sorted(set(species) - set(order), key=lambda e: (Element(e).X, e))
    else:
        by_x = sorted(species, key=lambda e: (Element(e).X, e))
    return {el: i + 1 for i, el in enumerate(by_x)}


def present(type_of: dict[str, int], species: set[str]) -> dict[str, int]:
    """The types of the species a cell holds (``type_map`` may number more)."""
    return {el: t for el, t in type_of.items() if el in species}


def _hms(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    s = int(max(1, seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class MDInputGenerator:
    """The recipe: MD settings and a potential. Stages: relax, md (per T), elastic."""

    settings: MDSettings
    potential: Potential
    species: set[str] = field(default_factory=set)

    @property
    def type_of(self) -> dict[str, int]:
        return type_map(self.species, self.potential)

    def _common(self, data_file: str, title: str, triclinic: bool) -> dict:
        s = self.settings
        pair_lines = self.potential.pair_lines(self.type_of, s.coul_cutoff_a, s.kspace_accuracy)
        return dict(title=title, potential=self.potential, data_file=data_file,
                    pair_lines=pair_lines, min_ftol=self.potential.spec.MIN_FTOL,
                    # PPPM must be redefined after a box becomes triclinic (elastic deck)
                    kspace_line=next((l for l in pair_lines if l.startswith("kspace_style")), ""),
                    timeout_hms=_hms(s.timeout_s), triclinic=triclinic,
                    barostat="tri" if triclinic else "aniso", pressure_bar=s.pressure_bar)

    def _use(self, structure: Structure) -> None:
        """Take the species of ``structure``; refuse it if the potential lacks a pair."""
        self.species = {sp.symbol for sp in structure.composition}
        self.potential.check_covers(self.species)

    def _input_set(self, deck: str, structure: Structure, **kw) -> LammpsInputSet:
        """The deck with its data file and the files its pair lines read (a pair table)."""
        return LammpsInputSet(deck, structure, self.type_of, self.potential.charges,
                              files=self.potential.files(self.type_of), **kw)

    def relax_set(self, structure: Structure) -> LammpsInputSet:
        self._use(structure)
        tri = _is_triclinic(structure)
        deck = render("relax.lammps.j2", **self._common(
            "structure.data", f"relax {structure.composition.reduced_formula}", tri),
            relax_cycles=4)
        return self._input_set(deck, structure)

    def md_set(self, structure: Structure, temperature: float, seed: int) -> LammpsInputSet:
        s = self.settings
        self._use(structure)
        tri = _is_triclinic(structure)
        dt_ps = s.timestep_fs / 1000.0
        sample = max(1, round(s.sample_every_fs / s.timestep_fs))
        avg_every = 10
        equil = max(2 * avg_every, round(s.equil_ps / dt_ps / (2 * avg_every)) * 2 * avg_every)
        n_samples = max(2, round(s.prod_ps / dt_ps / sample))
        prod = n_samples * sample
        types = present(self.type_of, self.species)
        pairs = [(types["Li"], types[b]) for b in sorted(types, key=types.get)]
        deck = render("md.lammps.j2", **self._common(
            "structure.data", f"NPT + NVT {structure.composition.reduced_formula} at "
            f"{temperature:g} K", tri),
            temperature=f"{temperature:g}", seed=seed, timestep_ps=f"{dt_ps:g}",
            li_type=types["Li"], thermo_every=max(sample, prod // 100 // sample * sample or sample),
            tdamp_ps=f"{s.tdamp_steps * dt_ps:g}", pdamp_ps=f"{s.pdamp_steps * dt_ps:g}",
            avg_every=avg_every, avg_repeat=equil // 2 // avg_every, equil_steps=equil,
            sample_steps=sample, prod_steps=prod, rdf_bins=s.rdf_bins, rdf_pairs=pairs,
            rdf_every=sample, rdf_repeat=n_samples)
        return self._input_set(deck, structure, expected_steps=prod)

    def elastic_set(self, structure: Structure) -> LammpsInputSet:
        """Six strain components at +-settings.elastic_strain, plus the reference cell."""
        self._use(structure)
        strains = [dict(label="ref", **_box_dict(structure.lattice.matrix, np.eye(3)))]
        for i in range(6):
            for sign, tag in ((1, "p"), (-1, "m")):
                F = deformation(i, sign * self.settings.elastic_strain)
                strains.append(dict(label=f"e{i + 1}{tag}",
                                    **_box_dict(structure.lattice.matrix, F)))
        deck = render("elastic.lammps.j2", **self._common(
            "structure.data", f"elastic constants {structure.composition.reduced_formula}",
            True), strains=strains)
        return self._input_set(deck, structure)


def deformation(voigt: int, eps: float) -> np.ndarray:
    """Deformation gradient F for Voigt component ``voigt`` (0..5) of engineering strain.

    Normal strains stretch one axis; shear strains are simple shears (e.g. y += eps z for
    yz), whose small-strain tensor has the engineering shear ``eps`` in Voigt notation.
    """
    F = np.eye(3)
    if voigt < 3:
        F[voigt, voigt] += eps
    else:
        i, j = {3: (1, 2), 4: (0, 2), 5: (0, 1)}[voigt]
        F[i, j] += eps
    return F


def _box_dict(matrix: np.ndarray, F: np.ndarray) -> dict[str, str]:
    """LAMMPS box of lattice rows deformed by F (row vectors: a' = F a)."""
    lx, ly, lz, xy, xz, yz = lammps_box(np.asarray(matrix) @ F.T)
    return {k: f"{v:.10f}" for k, v in zip(("lx", "ly", "lz", "xy", "xz", "yz"),
                                           (lx, ly, lz, xy, xz, yz))}


def _is_triclinic(structure: Structure) -> bool:
    return not np.allclose(structure.lattice.angles, 90.0, atol=1e-6)
