"""Bond-valence (softBV) Morse between cations and anions plus a screened Coulomb repulsion
between like ions, all short-ranged: one LAMMPS pair table, no kspace (S. Adams,
R. P. Rao, Phys. Status Solidi A 208, 1746 (2011); forms in driver/pairforms.py)."""

from __future__ import annotations

NAME = "softbv"
PARAMS = ("D0", "r_min", "alpha")
TABULATED = True
COVERS_ALL_PAIRS = False
#: what a user must install beyond the base set to run this form (None: nothing)
EXTRA: str | None = None
#: minimizer force tolerance (LAMMPS minimize ftol, eV/A, as written in the decks)
MIN_FTOL = "1.0e-8"


def parse_extra(doc: dict, charges: dict, pairs: dict) -> dict:
    """Per-species principal quantum number and covalent radius, the screening factor."""
    props = {s: {"n": int(v["n"]), "radius": float(v["radius"])}
             for s, v in doc["species"].items()}
    f_screen = float(doc["screening_factor"])
    if doc.get("coulomb_only") != "like-sign":
        raise ValueError("softbv needs coulomb_only: like-sign (like ions interact by "
                         "the screened repulsion only)")
    for pair in pairs:
        if sorted(charges[x] < 0 for x in pair) != [False, True]:
            name = "-".join(sorted(pair) * (3 - len(pair)))   # {Li} -> Li-Li
            raise ValueError(f"softbv pair {name} must join a cation "
                             "and an anion (like ions repel by the screened term)")
    if f_screen <= 0 or any(p["n"] < 1 or p["radius"] <= 0 for p in props.values()):
        raise ValueError("softbv needs screening_factor > 0 and, per species, n >= 1 "
                         "and radius > 0")
    return {"species_props": props, "screening_factor": f_screen}


def table_sections(pot, type_of: dict[str, int]) -> dict:
    from ..pairforms import morse_bv, screened_coulomb
    out = {f"{a}-{b}": (lambda r, p=p: morse_bv(r, *p))
           for _, _, a, b, p in pot.short_pairs(type_of)}
    for a, b in pot.type_pairs(type_of):   # like ions: the screened repulsion
        if f"{a}-{b}" not in out:
            pa, pb = pot.species_props[a], pot.species_props[b]
            qq = pot.charges[a] * pot.charges[b] / (pa["n"] * pb["n"]) ** 0.5
            rho = pot.screening_factor * (pa["radius"] + pb["radius"])
            out[f"{a}-{b}"] = lambda r, qq=qq, rho=rho: screened_coulomb(r, qq, rho)
    return out


def pair_lines(pot, type_of: dict[str, int], coul_cutoff: float, kspace_accuracy: float,
               files_dir: str | None) -> list[str]:
    rc = f"{pot.short_cutoff:g}"
    path = f"{files_dir}/{pot.table_name}" if files_dir else pot.table_name
    lines = [f"pair_style table spline {int(pot.table['points'])}"]
    for a, b in pot.type_pairs(type_of):
        lines.append(f"pair_coeff {type_of[a]} {type_of[b]} {path} {a}-{b} {rc}")
    return lines


def external_forces(pot, type_of: dict[str, int], comm):
    """No Python callback: LAMMPS evaluates the pair style itself."""
    return None
