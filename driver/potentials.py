"""Interatomic potential files (``potentials/*.yaml``): loading, coverage, LAMMPS lines.

A file holds its citation, species charges, pair terms and the LAMMPS styles it needs.
Coverage is checked before LAMMPS starts: a structure with a species or pair the file
lacks is refused with a message naming it.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from pathlib import Path

from . import forcefields
from .config import safe_yaml
from .errors import CoverageError, UserError
from .resources import data_dir
from .schema_base import line_breakers

#: A potential's ``name`` names a file in the run folder (``NAME.table``): a plain name.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: A LAMMPS style name in ``lammps.styles``.
_STYLE = re.compile(r"[a-z0-9][a-z0-9/_.-]{0,63}")
#: Characters with a meaning to LAMMPS when it reads a line (``&`` continues it, ``"""``
#: spans lines, ``$`` substitutes, ``#`` comments) and the shell's backquote: a text field
#: is data, so none of them may reach a deck. Apostrophes (O'Keeffe) are harmless there.
_DECK_SPECIAL = set('&$#"`')


def deck_text(value, where: str, max_len: int = 300) -> str:
    """``value`` as one line of plain text that is safe inside a LAMMPS comment.

    Potential files are data a user may receive from others: a newline in a citation would
    end the comment it is rendered into and make the rest a LAMMPS command (``shell ...``).
    Refuses line breaks and every other control or format character (Unicode categories
    C*, Zl, Zp), LAMMPS's special characters and over-long text.
    """
    text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else value
    if not isinstance(text, str):
        raise ValueError(f"{where} must be text, not {type(value).__name__}")
    bad = sorted({c for c in text if c in _DECK_SPECIAL} | set(line_breakers(text)))
    if bad:
        raise ValueError(f"{where} holds {', '.join(repr(c) for c in bad)}: write it on one "
                         f"line without {' '.join(sorted(_DECK_SPECIAL))} or control characters")
    if len(text) > max_len:
        raise ValueError(f"{where} is {len(text)} characters long (at most {max_len})")
    return text


def _species_symbol(value, where: str) -> str:
    """An element symbol (it becomes a pair-table section name and a type label)."""
    from pymatgen.core.periodic_table import Element
    if not isinstance(value, str) or not Element.is_valid_symbol(value):
        raise ValueError(f"{where} {value!r} is not an element symbol (e.g. Li, O)")
    return value


def _checked_header(doc: dict) -> tuple[str, dict]:
    """The file's ``name`` and ``citation``, checked before anything renders them."""
    name = doc["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"name {name!r} must be a plain name (letters, digits, _ . -; at "
                         "most 64, starting with a letter or digit): it names a file")
    cit = doc["citation"]
    if not isinstance(cit, dict):
        raise ValueError("citation must be a mapping (authors, title, journal, year, doi)")
    if not cit.get("doi"):
        raise ValueError("citation.doi is required: every parameter file cites its source")
    cit = {str(k): deck_text(v, f"citation.{k}") for k, v in cit.items()}
    for key in ("authors", "year"):
        if key not in cit:
            raise ValueError(f"citation.{key} is required")
    if "title" in doc:
        deck_text(doc["title"], "title")
    return name, cit


@dataclass(frozen=True)
class Potential:
    name: str
    form: str
    citation: dict
    charges: dict[str, float]
    pairs: dict[frozenset, tuple[float, ...]]
    coulomb_only: str | None
    short_cutoff: float
    styles: dict[str, list[str]]
    path: Path
    sha256: str = field(repr=False)
    table: dict = field(default_factory=dict)
    #: form-specific data (softbv: per-species principal quantum number ``n`` and
    #: covalent ``radius``, and the screening factor); see driver/forcefields/
    species_props: dict = field(default_factory=dict)
    screening_factor: float = 0.0
    #: ML potentials: the package and model name (driver/forcefields/mlip_external.py)
    model: dict = field(default_factory=dict)
    #: fitted models (driver/forcefields/snap.py): bispectrum settings, reference and
    #: per-element coefficients, as checked on loading
    fitted: dict = field(default_factory=dict)
    _files: dict = field(default_factory=dict, repr=False, compare=False)  # files() memo

    @property
    def anions(self) -> set[str]:
        return {s for s, q in self.charges.items() if q < 0}

    def missing(self, species: set[str]) -> list[str]:
        """Species without a charge, and pairs without a term, e.g. ``['La', 'La-O']``."""
        out = [s for s in sorted(species) if s not in self.charges]
        if self.spec.COVERS_ALL_PAIRS:
            return out
        for a, b in combinations_with_replacement(sorted(species), 2):
            if frozenset((a, b)) in self.pairs:
                continue
            if self._coulomb_only(a, b):
                continue
            out.append(f"{b}-{a}" if a in self.anions and b not in self.anions else f"{a}-{b}")
        return out

    def _coulomb_only(self, a: str, b: str) -> bool:
        """True when the file gives pair a-b no term of its own (``coulomb_only``)."""
        a_anion, b_anion = a in self.anions, b in self.anions
        if self.coulomb_only == "cation-cation":
            return not a_anion and not b_anion
        return self.coulomb_only == "like-sign" and a_anion == b_anion

    def check_covers(self, species: set[str]) -> None:
        """Raise CoverageError naming every uncovered species or pair."""
        missing = self.missing(species)
        if missing:
            covered = ", ".join(sorted(self.charges))
            raise CoverageError(
                f"potential {self.name} has no term for {', '.join(missing)} (it covers "
                f"{covered}); {_alternatives(species, self.name)}")

    def net_charge(self, counts: dict[str, float]) -> float:
        return sum(self.charges[s] * n for s, n in counts.items())

    @property
    def table_name(self) -> str:
        return f"{self.name}.table"

    @property
    def spec(self):
        """The form's module (driver/forcefields/)."""
        return forcefields.get(self.form)

    @staticmethod
    def type_pairs(type_of: dict[str, int]):
        """(species_i, species_j) for every type pair i <= j."""
        for a, ta in type_of.items():
            for b, tb in type_of.items():
                if ta <= tb:
                    yield a, b

    def short_pairs(self, type_of: dict[str, int]):
        """(type_i, type_j, species_i, species_j, params) for pairs with a short-range term."""
        for a, b in self.type_pairs(type_of):
            params = self.pairs.get(frozenset((a, b)))
            if params is not None:
                yield type_of[a], type_of[b], a, b, params

    def files(self, type_of: dict[str, int]) -> dict[str, str]:
        """Files the pair lines read (name -> text), written beside the deck.

        Tabulated forms get one LAMMPS table file holding the pairs present; the sections
        follow from the parameters, so the file is reproducible from the YAML.
        """
        if hasattr(self.spec, "files"):       # a fitted model's own files
            return self.spec.files(self, type_of)
        if not self.spec.TABULATED:
            return {}
        key = tuple(sorted(type_of.items()))
        if key not in self._files:    # one table per type map: every stage reuses it
            from .pairforms import lammps_table
            header = (f"{self.name}: {self.citation['authors']} ({self.citation['year']}), "
                      f"doi:{self.citation['doi']}\n{self.form} form tabulated by sse-driver "
                      "(driver/pairforms.py); energies in eV shifted to 0 at the cutoff, "
                      "forces in eV/A")
            self._files[key] = lammps_table(self.spec.table_sections(self, type_of), self.table["r_min"],
                                            self.short_cutoff, self.table["points"], header)
        return {self.table_name: self._files[key]}

    def pair_lines(self, type_of: dict[str, int], coul_cutoff: float, kspace_accuracy: float,
                   files_dir: str | None = None) -> list[str]:
        """pair_style, pair_coeff and (for long-range Coulomb) kspace_style lines.

        ``files_dir``: the folder where the deck finds :meth:`files` (default: beside it).
        """
        return self.spec.pair_lines(self, type_of, coul_cutoff, kspace_accuracy, files_dir)


def _num(value, what: str, lo: float = -math.inf, hi: float = math.inf,
         open_lo: bool = False) -> float:
    """A finite number in range from a potential file (ValueError naming ``what``): YAML's
    ``.nan``/``.inf``, a boolean or a quoted number never reach a deck."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, not {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{what} must be finite, not {value!r}")
    if v < lo or v > hi or (open_lo and v == lo):
        raise ValueError(f"{what} = {v:g} is outside {'(' if open_lo else '['}{lo:g}, {hi:g}]")
    return v


def _parse(path: Path) -> Potential:
    raw = path.read_bytes()
    doc = safe_yaml(raw, str(path), UserError)
    try:
        if not isinstance(doc, dict):
            raise ValueError("the file must be a mapping (name, form, citation, species, "
                             "pairs, lammps)")
        name, cit = _checked_header(doc)
        form = doc["form"]
        if not isinstance(form, str) or form not in forcefields.FORMS:
            raise ValueError(f"form {form!r} is not one of {', '.join(forcefields.FORMS)}")
        spec = forcefields.get(form)
        names = spec.PARAMS
        charges = {_species_symbol(s, "species"): _num(v["charge"], f"species {s} charge", -8, 8)
                   for s, v in doc["species"].items()}
        pairs = {}
        for row in doc["pairs"] or []:
            a, b, *vals = row
            for x in (a, b):
                if x not in charges:
                    raise ValueError(f"pair {a}-{b}: {x!r} is not listed under species")
            if len(vals) != len(names):
                raise ValueError(f"pair {a}-{b} needs {len(names)} numbers ({', '.join(names)})")
            pairs[frozenset((a, b))] = tuple(_num(v, f"pair {a}-{b} {n}")
                                             for v, n in zip(vals, names))
        if doc.get("coulomb_only") not in (None, "cation-cation", "like-sign"):
            raise ValueError("coulomb_only is cation-cation or like-sign")
        table = {}
        # the short-range cutoff of every form: positive (a negative one silently drops the
        # short-range terms) and below any cell a deck builds
        short_cutoff = _num(doc["lammps"]["short_cutoff"], "lammps.short_cutoff", 0, 30,
                            open_lo=True)
        extra = spec.parse_extra(doc, charges, pairs)
        if spec.TABULATED:
            t = doc["lammps"]["table"]
            table = {"r_min": _num(t["r_min"], "lammps.table.r_min"),
                     "points": int(_num(t["points"], "lammps.table.points", 100, 1e6))}
            if not 0 < table["r_min"] < short_cutoff or table["points"] < 100:
                raise ValueError("lammps.table needs 0 < r_min < short_cutoff and points >= 100")
        styles = {}
        for k, v in doc["lammps"]["styles"].items():
            styles[k] = [x for x in v if isinstance(x, str) and _STYLE.fullmatch(x)]
            if not isinstance(k, str) or len(styles[k]) != len(v):
                raise ValueError(f"lammps.styles.{k} must list LAMMPS style names (e.g. table)")
        return Potential(
            name=name, form=form, citation=cit, charges=charges, pairs=pairs,
            coulomb_only=doc.get("coulomb_only"),
            short_cutoff=short_cutoff,
            styles=styles,
            path=path, sha256=hashlib.sha256(raw).hexdigest(), table=table, **extra)
    except KeyError as exc:
        raise UserError(f"{path}: malformed potential file: {exc!s} is missing") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"{path}: malformed potential file: {exc!s}") from None


def covering(species: set[str]) -> list[str]:
    """The shipped potentials that cover every species and pair of ``species``, by name."""
    return list(_covering(species))


def _covering(species: set[str]) -> dict[str, "Potential"]:
    """The shipped potentials covering ``species``, by file name, each loaded once."""
    out = {}
    for name in available():
        try:
            pot = load(name)
        except UserError:   # a malformed file is reported when it is chosen, not here
            continue
        if not pot.missing(species):
            out[name] = pot
    return out


def _alternatives(species: set[str], chosen: str) -> str:
    """How to fix a coverage refusal: the shipped potentials that do cover ``species``."""
    pots = {n: p for n, p in _covering(species).items() if n != chosen}
    if not pots:
        return ("no shipped potential covers it; add a cited file to potentials/ "
                "(docs/md.md) or pass one with --potential FILE.yaml")
    said = ", ".join(f"{n} ({p.spec.EXTRA})" if p.spec.EXTRA else n for n, p in pots.items())
    hint = ""
    if all(hasattr(p.spec, "calculator") for p in pots.values()):   # only ML teachers cover it
        hint = ("; at ~1e2 atom-steps/s per core, so for MD on CPUs distil a fast student "
                "first: `sse-driver distil --composition FORMULA --out DIR` (docs/distil.md; "
                "~2 h on 2 cores for a 20-atom cell, most of it the teacher's own MD)")
    return (f"shipped potentials that cover it: {said}; choose one with --potential or "
            f"md.potential{hint}")


def available() -> list[str]:
    return sorted(p.stem for p in data_dir("potentials").glob("*.yaml"))


def load(name_or_path: str) -> Potential:
    """A potential by name (``potentials/NAME.yaml``) or by path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return _parse(p)
    path = data_dir("potentials") / f"{name_or_path}.yaml"
    if not path.is_file():
        raise UserError(
            f"unknown potential {name_or_path!r}; available: {', '.join(available())}")
    return _parse(path)
