"""The repulsive core under a fitted student (snap.py, pod.py): the universal ZBL
screened-nuclear repulsion (J. F. Ziegler, J. P. Biersack, U. Littmark, The Stopping and
Range of Ions in Solids, Pergamon 1985) switched on below ``outer``, and optional per-pair
walls below the shortest distance of each pair the teacher labelled. Both are part of the
reference the fit subtracts (driver/distil/descriptors.py), so the student's file, its
LAMMPS lines and the fit's design rows see the same core.

File section (``<form>.reference``): ``{style: zbl, inner: A, outer: A, walls: [...]}``.
"""

from __future__ import annotations

import math


def _num(value, where: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number, not {value!r}")
    x = float(value)
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ValueError(f"{where} = {value!r} must be finite and in [{lo:g}, {hi:g}]")
    return x


def parse(ref, where: str, species: set[str], short_cutoff: float) -> dict:
    """The checked reference section: ``{"inner", "outer", "walls"}``."""
    if not isinstance(ref, dict) or ref.get("style") != "zbl":
        raise ValueError(f"{where} must be {{style: zbl, inner: A, outer: A}}")
    inner = _num(ref.get("inner"), f"{where}.inner", 0.1, 3.0)
    outer = _num(ref.get("outer"), f"{where}.outer", inner, 3.0)
    return {"inner": inner, "outer": outer,
            "walls": _walls(ref.get("walls", []), f"{where}.walls", species, short_cutoff)}


def _walls(items, where0: str, species: set[str], short_cutoff: float) -> list[dict]:
    """``<form>.reference.walls``: per element pair, a repulsive cosine wall (LAMMPS
    ``pair_style soft``: E = A (1 + cos(pi r / rc)) for r < rc, zero beyond) whose ``cutoff``
    is where the student's training data end (the shortest distance of that pair the
    teacher labelled): it leaves every fitted configuration untouched and keeps the student
    out of the region it never saw."""
    if not isinstance(items, list):
        raise ValueError(f"{where0} must be a list of {{pair: [A, B], height_ev, cutoff_a}}")
    out, seen = [], set()
    for i, w in enumerate(items):
        where = f"{where0}[{i}]"
        if not isinstance(w, dict) or set(w) != {"pair", "height_ev", "cutoff_a"}:
            raise ValueError(f"{where} must be {{pair: [A, B], height_ev, cutoff_a}}")
        pair = w["pair"]
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(e, str) and e in species for e in pair)):
            raise ValueError(f"{where}.pair must name two of the species ({', '.join(sorted(species))})")
        key = tuple(sorted(pair))
        if key in seen:
            raise ValueError(f"{where}: the pair {key[0]}-{key[1]} has two walls")
        seen.add(key)
        out.append({"pair": list(key),
                    "height_ev": _num(w["height_ev"], f"{where}.height_ev", 1e-3, 1e4),
                    "cutoff_a": _num(w["cutoff_a"], f"{where}.cutoff_a", 0.1, short_cutoff)})
    return out


def wall_lines(type_of: dict[str, int], walls: list[dict]) -> list[str]:
    """``pair_coeff`` lines of the walls (sub-style ``soft`` of a hybrid/overlay)."""
    out = []
    for w in walls:
        a, b = sorted((type_of[w["pair"][0]], type_of[w["pair"][1]]))
        out.append(f"pair_coeff {a} {b} soft {float(w['height_ev'])!r} {float(w['cutoff_a'])!r}")
    return out


def wall_style(walls: list[dict]) -> str:
    """The ``soft`` sub-style with its global cutoff (empty without walls)."""
    return f" soft {max(float(w['cutoff_a']) for w in walls)!r}" if walls else ""


def zbl_lines(type_of: dict[str, int], inner: float, outer: float, hybrid: bool) -> list[str]:
    """``pair_coeff`` lines of the ZBL reference for every type pair (atomic numbers)."""
    from pymatgen.core import Element
    z = {el: Element(el).Z for el in type_of}
    tag = " zbl" if hybrid else ""
    return [f"pair_coeff {type_of[a]} {type_of[b]}{tag} {z[a]} {z[b]}"
            for a, ta in type_of.items() for b, tb in type_of.items() if ta <= tb]


def pair_lines(ref: dict, type_of: dict[str, int], model_style: str, model_files: list[str],
               files_dir: str | None) -> list[str]:
    """``pair_style hybrid/overlay zbl ... [soft ...] MODEL`` with every core line and the
    model's own ``pair_coeff * * MODEL FILES... ELEMENTS`` line (its files read from
    ``files_dir``, else beside the deck; elements in type order)."""
    walls = ref.get("walls", [])
    where = (lambda n: f"{files_dir}/{n}") if files_dir else (lambda n: n)
    order = " ".join(el for el, _ in sorted(type_of.items(), key=lambda kv: kv[1]))
    return [f"pair_style hybrid/overlay zbl {ref['inner']:g} {ref['outer']:g}"
            f"{wall_style(walls)} {model_style}",
            *zbl_lines(type_of, ref["inner"], ref["outer"], hybrid=True),
            *wall_lines(type_of, walls),
            f"pair_coeff * * {model_style} {' '.join(where(f) for f in model_files)} {order}"]


def document(settings: dict) -> dict:
    """The file section for a fit's settings (``zbl_inner``, ``zbl_outer``, ``walls``)."""
    return {"style": "zbl", "inner": settings["zbl_inner"], "outer": settings["zbl_outer"],
            **({"walls": settings["walls"]} if settings.get("walls") else {})}


def styles(settings: dict, model_style: str) -> list[str]:
    """The pair styles a student file declares (checked against the LAMMPS build)."""
    return ["hybrid/overlay", "zbl", *(["soft"] if settings.get("walls") else []), model_style]
