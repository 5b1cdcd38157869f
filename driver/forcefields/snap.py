"""A linear SNAP student on a ZBL core reference: a fast LAMMPS-native model distilled from
an ML teacher (``sse-driver distil``; A. P. Thompson, L. P. Swiler, C. R. Trott, S. M. Foiles,
G. J. Tucker, J. Comput. Phys. 285, 316 (2015), doi:10.1016/j.jcp.2014.12.018).

The energy of atom i is ``beta0[e_i] + sum_k beta_k[e_i] B_k(i)`` with B the bispectrum
components of its neighbour density (``pair_style snap``), plus the universal ZBL
screened-nuclear repulsion (J. F. Ziegler, J. P. Biersack, U. Littmark, The Stopping and
Range of Ions in Solids, Pergamon 1985) switched on only below ``reference.outer``: the
teacher's data hold no pair closer than ~1.5 A, and a linear model extrapolated there can
attract atoms onto each other (a quadratic SNAP without it collapsed a garnet to a Li-Li
distance of 0.49 A within 1 ps, issue 30); ZBL keeps that region repulsive, as in the SNAP
literature (e.g. M. A. Wood, A. P. Thompson, J. Chem. Phys. 148, 241721 (2018)). Optional
per-pair walls close the gap between the ZBL core and the shortest distance the teacher
labelled, where a student otherwise extrapolates (core_repulsion.py, shared with pod.py).

The file carries everything the pair style reads (the coefficients per element, the
bispectrum settings), checked as data on loading; :func:`files` writes LAMMPS's
``.snapcoeff``/``.snapparam`` beside each deck, so a student is one YAML file with its
pedigree (teacher, data set hash, fit settings, measured errors and speed).
"""

from __future__ import annotations

from . import core_repulsion as core

NAME = "snap"
PARAMS: tuple[str, ...] = ()
TABULATED = False
#: a many-body model covers every pair of the species it was fitted for
COVERS_ALL_PAIRS = True
EXTRA: str | None = None
#: files of this form are made by ``sse-driver distil`` (driver/distil/), not written by hand
FITTED = True
#: double-precision analytic forces: the classical tolerance holds
MIN_FTOL = "1.0e-8"
#: the bispectrum settings a file may give, with their admissible ranges; ``rfac0`` and
#: ``rmin0`` defaults are LAMMPS's (pair_style snap documentation)
TWOJMAX = (2, 4, 6, 8)
BZEROFLAG = 0        # the constant beta0 absorbs the isolated-atom term
SWITCHFLAG = 1


def ncoeff(twojmax: int, chem_elements: int = 0) -> int:
    """Number of bispectrum components of linear SNAP (LAMMPS's enumeration: j1 >= j2, j from
    |j1 - j2| in steps of 2, j >= j1): 5, 14, 30, 55 for 2J = 2, 4, 6, 8; with explicit
    multi-element descriptors (``chemflag``, M. A. Cusentino, M. A. Wood, A. P. Thompson,
    J. Phys. Chem. A 124, 5456 (2020)) that many for every ordered triple of elements."""
    if chem_elements:
        return ncoeff(twojmax) * chem_elements ** 3
    n = 0
    for j1 in range(twojmax + 1):
        for j2 in range(j1 + 1):
            for j in range(j1 - j2, min(twojmax, j1 + j2) + 1, 2):
                if j >= j1:
                    n += 1
    return n


_num = core._num


def parse_extra(doc: dict, charges: dict, pairs: dict) -> dict:
    """The ``snap:`` section: bispectrum settings, the ZBL reference, per-element radius,
    weight and coefficients (one more than the bispectrum components: beta0 first)."""
    if pairs:
        raise ValueError("a SNAP potential has no pair rows (pairs: [])")
    if any(q != 0 for q in charges.values()):
        raise ValueError("a SNAP potential gives every species charge 0")
    s = doc["snap"]
    if not isinstance(s, dict):
        raise ValueError("snap must be a mapping (twojmax, rcutfac, reference, elements)")
    twojmax = s["twojmax"]
    if twojmax not in TWOJMAX or isinstance(twojmax, bool):
        raise ValueError(f"snap.twojmax must be one of {', '.join(map(str, TWOJMAX))}")
    chem = s.get("chemflag", False)
    if not isinstance(chem, bool):
        raise ValueError("snap.chemflag must be true or false")
    k = ncoeff(twojmax, len(charges) if chem else 0) + 1
    reference = core.parse(s["reference"], "snap.reference", set(charges),
                           float(doc["lammps"]["short_cutoff"]))
    elements = s["elements"]
    if not isinstance(elements, dict) or set(elements) != set(charges):
        raise ValueError("snap.elements must list exactly the species, each with radius, "
                         "weight and coefficients")
    els = {}
    for el, v in elements.items():
        coeffs = v["coefficients"]
        if not isinstance(coeffs, list) or len(coeffs) != k:
            raise ValueError(f"snap.elements.{el}.coefficients needs {k} numbers (beta0 and "
                             f"{k - 1} bispectrum coefficients for twojmax {twojmax})")
        els[el] = {"radius": _num(v["radius"], f"snap.elements.{el}.radius", 0.05, 2.0),
                   "weight": _num(v["weight"], f"snap.elements.{el}.weight", 1e-3, 10.0),
                   "coefficients": [_num(c, f"snap.elements.{el}.coefficients", -1e6, 1e6)
                                    for c in coeffs]}
    fitted = {"twojmax": int(twojmax), "chemflag": chem,
              "rcutfac": _num(s["rcutfac"], "snap.rcutfac", 1.0, 12.0),
              "rfac0": _num(s.get("rfac0", 0.99363), "snap.rfac0", 0.5, 1.0),
              "rmin0": _num(s.get("rmin0", 0.0), "snap.rmin0", 0.0, 2.0),
              "reference": reference, "elements": els}
    cut = max(fitted["rcutfac"] * (a["radius"] + b["radius"])
              for a in els.values() for b in els.values())
    if cut > float(doc["lammps"]["short_cutoff"]) + 1e-9:
        raise ValueError(f"lammps.short_cutoff must be at least the SNAP cutoff {cut:g} A")
    return {"fitted": fitted}


def table_sections(pot, type_of: dict[str, int]) -> dict:
    return {}


def coeff_name(pot) -> str:
    return f"{pot.name}.snapcoeff"


def param_name(pot) -> str:
    return f"{pot.name}.snapparam"


def param_text(fitted: dict) -> str:
    """The ``.snapparam`` file (also what ``compute snap`` must be given to match it)."""
    return (f"rcutfac {fitted['rcutfac']!r}\ntwojmax {fitted['twojmax']}\n"
            f"rfac0 {fitted['rfac0']!r}\nrmin0 {fitted['rmin0']!r}\n"
            f"bzeroflag {BZEROFLAG}\nquadraticflag 0\nswitchflag {SWITCHFLAG}\n"
            + ("chemflag 1\nbnormflag 1\n" if fitted.get("chemflag") else ""))


def coeff_text(name: str, fitted: dict) -> str:
    els = fitted["elements"]
    k = ncoeff(fitted["twojmax"], len(els) if fitted.get("chemflag") else 0) + 1
    lines = [f"# {name}: linear SNAP coefficients written by sse-driver (driver/forcefields/snap.py)",
             f"{len(els)} {k}"]
    for el, v in els.items():
        lines.append(f"{el} {v['radius']!r} {v['weight']!r}")
        lines += [repr(float(c)) for c in v["coefficients"]]
    return "\n".join(lines) + "\n"


def files(pot, type_of: dict[str, int]) -> dict[str, str]:
    return {coeff_name(pot): coeff_text(pot.name, pot.fitted),
            param_name(pot): param_text(pot.fitted)}


def pair_lines(pot, type_of: dict[str, int], coul_cutoff: float, kspace_accuracy: float,
               files_dir: str | None) -> list[str]:
    return core.pair_lines(pot.fitted["reference"], type_of, "snap",
                           [coeff_name(pot), param_name(pot)], files_dir)


def external_forces(pot, type_of: dict[str, int], comm):
    """No Python callback: LAMMPS evaluates the pair style itself."""
    return None


def document(name: str, elements: tuple[str, ...], radii, weights, beta, settings: dict,
             pedigree: dict) -> dict:
    """A potential file for fitted coefficients ``beta`` (per element: beta0, then the
    bispectrum coefficients; the column order of driver/distil/descriptors.py), with its
    pedigree (teacher, data set, fit settings, errors, checks) kept beside the model."""
    chem = bool(settings.get("chemflag", False))
    k = ncoeff(settings["twojmax"], len(elements) if chem else 0) + 1
    cut = settings["rcutfac"] * 2 * max(radii)
    return {
        "name": name,
        "title": f"Linear SNAP student of {pedigree['teacher']['name']} on a ZBL core, "
                 f"distilled by sse-driver",
        "citation": {"authors": "A. P. Thompson, L. P. Swiler, C. R. Trott, S. M. Foiles, "
                                "G. J. Tucker",
                     "title": "Spectral neighbor analysis method for automated generation of "
                              "quantum-accurate interatomic potentials",
                     "journal": "J. Comput. Phys. 285, 316-330", "year": 2015,
                     "doi": "10.1016/j.jcp.2014.12.018"},
        "form": NAME,
        "species": {el: {"charge": 0} for el in elements},
        "pairs": [],
        "snap": {"twojmax": settings["twojmax"], "chemflag": chem, "rcutfac": settings["rcutfac"],
                 "rfac0": settings.get("rfac0", 0.99363), "rmin0": settings.get("rmin0", 0.0),
                 "reference": core.document(settings),
                 "elements": {el: {"radius": float(radii[e]), "weight": float(weights[e]),
                                   "coefficients": [float(c) for c in beta[e * k:(e + 1) * k]]}
                              for e, el in enumerate(elements)}},
        "pedigree": pedigree,
        "lammps": {"short_cutoff": float(cut),
                   "styles": {"pair": core.styles(settings, "snap")}},
    }
