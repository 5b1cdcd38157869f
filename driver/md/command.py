"""``sse-driver md``, apart from its argument parsing (cli.py): the structure from a
composition or a CIF, the replicas, their combination and the printed summary."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError


def run(settings, out: Path, composition: str | None = None, cif: str | None = None,
        reuse: list[Path] = (), candidate: str | None = None) -> int:
    """``sse-driver md``: the MD stage on a composition (a formula, or a typed candidate file:
    ``families/candidate_file.py``) or a CIF, ``settings.replicas`` times
    (each replica its own decoration and velocity seeds and folder), combined; rank 0 prints
    the summary. ``reuse``: earlier runs whose finished LAMMPS runs are taken (md/reuse.py)."""
    from ..mpi import MPI
    from .replicas import replica_seed
    from .workflow import run_md

    comm = MPI.COMM_WORLD
    results = []
    for k in range(settings.replicas):
        # replica k: its own decoration (a composition) and velocity seeds, its own folder
        s_k = settings.model_copy(update={"seed": replica_seed(settings.seed, k), "replicas": 1})
        out_k = out if settings.replicas == 1 else out / f"replica{k + 1}"
        structure, info = structure_for(composition, cif, s_k, say=k == 0, candidate=candidate)
        meta = {"input": composition or cif or candidate, "run_dir": str(out_k), **info}
        reuse_k = [r if settings.replicas == 1 else r / f"replica{k + 1}" for r in reuse]
        results.append(run_md(structure, s_k, out_k, comm, meta=meta, reuse=reuse_k))
    result = results[0]
    if settings.replicas > 1:
        result = write_combined(results, out, comm)
    if comm.rank == 0:
        print_summary(result, out)
    return 0


def write_combined(results: list[dict], out: Path, comm) -> dict:
    """The replicas' combined result as OUT/result.json (rank 0 writes; all ranks return it)."""
    from ..fileio import atomic_write_json
    from .plots import arrhenius_plot
    from .replicas import combine
    from .result import parse
    from .workflow import RESULT

    result = combine(results)
    if comm.rank == 0:
        arr = result["arrhenius"]
        if arr:
            used = [p for p in result["temperatures"] if p["temperature_K"] in arr["temperatures_used_K"]]
            arrhenius_plot(out / "arrhenius.png", used, arr)
        atomic_write_json(out / RESULT, parse(result).to_json())   # the readers' contract
    comm.Barrier()
    return result


def structure_for(composition: str | None, cif: str | None, settings, say: bool = True,
                  candidate: str | None = None):
    """The pymatgen structure to simulate and what the result records of where it came from:
    a composition built by its family (any composition that can exist; a formula, or a
    candidate file with its family and variables as the campaign chose them), or a checked
    CIF."""
    if composition is not None or candidate is not None:
        from ..families import candidate_file
        from ..families.compositions import PHYSICAL_BOUNDS, parse
        from ..families.structures import build

        cand = (candidate_file.read(candidate) if candidate is not None
                else parse(composition, PHYSICAL_BOUNDS))
        check_cell_size(len(build(cand, (1, 1, 1), settings.seed).structure), settings)
        b = build(cand, settings.supercell, settings.seed)
        note = b.inexact_note()
        if note and say:
            from ..mpi import MPI
            if MPI.COMM_WORLD.rank == 0:
                print(note, flush=True)
        return b.structure, {"family": cand.family, "variables": cand.variables,
                             "realized_variables": b.realized, "species_roles": cand.species,
                             "decoration_seed": b.seed, "supercell": list(b.supercell)}
    from ..potentials import load as load_potential
    from .cif_input import read_cif

    path = Path(cif)
    s = read_cif(path, "--cif", load_potential(settings.potential))
    check_cell_size(len(s), settings)
    return s * settings.supercell, {"family": "cif", "cif": str(path), "supercell": settings.supercell}


def check_cell_size(atoms_per_cell: int, settings) -> None:
    """Refuse a supercell whose atom count exceeds md.max_atoms before memory is spent on it."""
    import math

    n = atoms_per_cell * math.prod(settings.supercell)
    if n > settings.max_atoms:
        sc = "x".join(str(k) for k in settings.supercell)
        raise ConfigError(f"md.supercell {sc} gives {n:.3g} atoms, more than md.max_atoms "
                          f"{settings.max_atoms}; lower the supercell or raise md.max_atoms")


def print_summary(r: dict, out: Path) -> None:
    """What ``sse-driver md`` prints: D and sigma per temperature, Arrhenius, moduli."""
    print(f"{r['formula']}: {r['n_atoms']} atoms, potential {r['potential']['name']}")
    for t in r["temperatures"]:
        flag = "" if t["diffusive"] else "  (NOT diffusive: " + t["diffusive_reason"] + ")"
        print(f"  {t['temperature_K']:7.1f} K  D = {t['D_cm2_s']:.3e} +- {t['D_err_cm2_s']:.1e} cm2/s"
              f"  sigma = {t['sigma_S_cm']:.3e} +- {t['sigma_err_S_cm']:.1e} S/cm{flag}")
    a = r["arrhenius"]
    if a:
        lo, hi = a["sigma_300K_interval_95"]
        print(f"  Ea = {a['Ea_eV']:.3f} +- {a['Ea_err_eV']:.3f} eV; sigma(300 K) = "
              f"{a['sigma_300K_S_cm']:.2e} S/cm (95 %: {lo:.1e} .. {hi:.1e})")
    e = r["elastic"]
    print(f"  K = {e['bulk_vrh_GPa']:.1f} GPa, G = {e['shear_vrh_GPa']:.1f} GPa, "
          f"E = {e['youngs_vrh_GPa']:.1f} GPa (0 K, VRH)")
    print(f"wrote {out / 'result.json'}")
