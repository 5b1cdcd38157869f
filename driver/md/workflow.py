"""One candidate through the MD stage: structure -> relax -> elastic -> NPT/NVT per T ->
analysis -> ``result.json`` (written atomically, last, so it exists only for a finished run).

All ranks of ``comm`` run LAMMPS together; rank 0 writes files and analyses. The run
directory keeps every deck, data file and log, so the plain ``lmp`` reproduces each stage.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure

from .. import __version__
from ..fileio import atomic_write_json
from .result import parse
from ..families.compositions import per_formula_unit
from ..mpi import MPI
from ..potentials import Potential, load as load_potential
from .settings import MDSettings
from . import analysis as A
from .analysis import arrhenius_summary
from .datafile import read_data
from .diffusion import kinisi_diffusion
from .progress import write_plan
from .decks import MDInputGenerator, present, type_map
from .reuse import adopt, finished_run
from .runner import run_deck

RESULT = "result.json"


def _bcast_files(comm, fn):
    """Run ``fn`` (file writing) on rank 0, share its return value, and sync."""
    out = fn() if comm.rank == 0 else None
    out = comm.bcast(out, root=0)
    comm.Barrier()
    return out


def _li_msd_positions(run: Path, n_li: int) -> tuple[np.ndarray, np.ndarray]:
    """Li positions relative to the whole system's centre of mass (removes COM drift)."""
    steps, pos = A.read_dump_positions(run / "li_unwrapped.dump")
    com = A.read_ave_time(run / "com.dat")  # step, x, y, z (from step = sample onward)
    com_by_step = {int(r[0]): r[1:4] for r in com}
    ref = com_by_step.get(int(steps[1]), com[0, 1:4]) if len(steps) > 1 else np.zeros(3)
    shift = np.array([com_by_step.get(int(s), ref) for s in steps])
    if pos.shape[1] != n_li:
        raise ValueError(f"dump holds {pos.shape[1]} atoms, expected {n_li} Li")
    return steps, pos - shift[:, None, :]


def analyse_temperature(run: Path, T: float, settings: MDSettings, n_li: int,
                        type_of: dict[str, int]) -> dict:
    """Everything measured at one temperature, as a JSON-ready dict."""
    cell_line = (run / "npt_cell.txt").read_text().split()
    cell = {k: float(v) for k, v in zip(cell_line[1::2], cell_line[2::2])}
    vol = cell["lx"] * cell["ly"] * cell["lz"]
    steps, pos = _li_msd_positions(run, n_li)
    dt_ps = (steps[1] - steps[0]) * settings.timestep_fs / 1000.0
    D, lag, msd = A.diffusivity(pos, dt_ps)
    lat = Lattice([[cell["lx"], 0, 0], [cell["xy"], cell["ly"], 0],
                   [cell["xz"], cell["yz"], cell["lz"]]])
    # D* and its uncertainty from kinisi (every interval of the diffusive window with its
    # covariance); the block-averaged slope stays beside it as a diagnostic
    kin, kin_note = None, None
    try:
        kin = kinisi_diffusion(pos, lat.matrix, dt_ps, D.window.start_ps, seed=settings.seed)
    except (ValueError, np.linalg.LinAlgError) as exc:
        kin_note = (f"kinisi could not fit ({str(exc).splitlines()[0][:160]}): the block "
                    "estimate stands where there is one")
    if kin is not None:
        D_cm2, D_err = kin.tracer.median, kin.tracer.std
    else:
        D_cm2, D_err = D.D_cm2_s, D.D_err_cm2_s
    sigma, sigma_err = A.nernst_einstein(D_cm2, D_err, n_li, vol, T,
                                         haven_ratio=settings.haven_ratio)
    coll = kin.collective if kin is not None else None
    s_coll = (A.nernst_einstein(coll.median, coll.std, n_li, vol, T) if coll is not None
              else (None, None))
    species = sorted(type_of, key=type_of.get)
    r, g = A.read_rdf(run / "rdf.dat", len(species))
    np.savetxt(run / "msd.dat", np.column_stack([lag, msd]), header="lag_ps msd_A2 (Li, COM-corrected, all origins)")
    return {
        "temperature_K": T, "npt_mean_temperature_K": cell["T"], "npt_mean_pressure_bar": cell["P"],
        "lattice_A": list(lat.abc), "angles_deg": list(lat.angles), "volume_A3": vol,
        "D_cm2_s": D_cm2, "D_err_cm2_s": D_err,
        "D_estimator": ("kinisi " + kin.kinisi_version + ": Bayesian, covariance-aware MSD fit "
                        "(doi:10.1021/acs.jctc.4c01249); posterior median and sd")
        if kin is not None else kin_note,
        "D_ci68_cm2_s": list(kin.tracer.ci68) if kin else None,
        "D_ci95_cm2_s": list(kin.tracer.ci95) if kin else None,
        "D_block_cm2_s": D.D_cm2_s, "D_block_err_cm2_s": D.D_err_cm2_s,
        "sigma_S_cm": sigma, "sigma_err_S_cm": sigma_err,
        "D_collective_cm2_s": coll.median if coll else None,
        "D_collective_err_cm2_s": coll.std if coll else None,
        "D_collective_ci95_cm2_s": list(coll.ci95) if coll else None,
        "sigma_collective_S_cm": s_coll[0], "sigma_collective_err_S_cm": s_coll[1],
        "haven_ratio_measured": kin.haven_ratio if kin else None,
        "n_hops": kin.n_hops if kin else None,
        "msd_window_ps": [D.window.start_ps, D.window.end_ps], "msd_loglog_slope": D.window.slope,
        "diffusive": D.window.diffusive, "diffusive_reason": D.window.reason,
        "n_blocks": D.n_blocks, "block_D_cm2_s": [b * A.A2_PER_PS_TO_CM2_PER_S for b in D.block_D_A2_ps],
        "hops_estimate": D.hops_estimate,
        "rdf_first_peak_A": {f"Li-{b}": A.first_peak(r, g[i]) for i, b in enumerate(species)},
        "run_dir": str(run),
    }


def run_md(structure: Structure, settings: MDSettings, out: str | Path, comm=None,
           potential: Potential | None = None, meta: dict | None = None,
           reuse: list[Path] | None = None) -> dict:
    """The whole MD stage for one structure; returns the result dict (all ranks).

    ``reuse``: output folders of earlier tries of this stage (a killed attempt); a relax,
    elastic or temperature run they finished with byte-identical inputs is adopted instead
    of run again (md/reuse.py) and listed in the result's provenance."""
    comm = comm or MPI.COMM_WORLD
    out = Path(out).resolve()
    reused: list[str] = []

    def run_or_reuse(iset, run: Path, kind: str) -> None:
        """Run the deck just written to ``run``, unless an earlier try finished it."""
        if reuse:
            inputs = iset.input_names()

            def find() -> str | None:
                old = finished_run(run, inputs, reuse, kind, iset.expected_steps)
                if old is not None:
                    adopt(old, run, inputs)
                return None if old is None else str(old)

            old = _bcast_files(comm, find)
            if old is not None:
                reused.append(f"{run.name} from {old}")
                return
        run_deck(run, comm, expected_steps=iset.expected_steps, external=ext)   # None but for MD
    pot = potential or load_potential(settings.potential)
    gen = MDInputGenerator(settings, pot)
    t_start = time.perf_counter()
    species = {sp.symbol for sp in structure.composition}
    pot.check_covers(species)  # refused before LAMMPS starts
    # ML potentials: forces from Python through fix external (one rank; refused otherwise)
    ext = pot.spec.external_forces(pot, type_map(species, pot), comm)
    n_li = int(structure.composition["Li"])
    if n_li == 0:
        from ..errors import CompositionError
        raise CompositionError("structure has no Li: nothing to diffuse")

    # where the stage is, for the campaign's watchdog and console (campaign/progress.py)
    plan_of = 2 + len(settings.temperatures_k)

    def mark(step: str, index: int, run_dir: str) -> None:
        _bcast_files(comm, lambda: write_plan(out, step, index, plan_of, run_dir,
                                              settings.timestep_fs))

    # 1. relax
    relax = gen.relax_set(structure)
    mark("relax", 0, "relax")

    def write_relax() -> None:
        relax.write(out / "relax")
        structure.to(filename=str(out / "structure.cif"))

    _bcast_files(comm, write_relax)
    run_or_reuse(relax, out / "relax", "relax")
    relaxed = _bcast_files(comm, lambda: read_data(out / "relax" / "relaxed.data", gen.type_of).as_dict())
    relaxed = Structure.from_dict(relaxed)

    # 2. elastic constants at 0 K
    el = gen.elastic_set(relaxed)
    _bcast_files(comm, lambda: el.write(out / "elastic") and None)
    mark("elastic", 1, "elastic")
    run_or_reuse(el, out / "elastic", "elastic")

    # 3. NPT + NVT per temperature
    per_T = []
    for i, T in enumerate(settings.temperatures_k):
        iset = gen.md_set(relaxed, T, settings.seed + 1000 * (i + 1))
        run = out / f"T{T:g}K"
        _bcast_files(comm, lambda: iset.write(run) and None)  # write() returns the dir
        mark(run.name, 2 + i, run.name)
        run_or_reuse(iset, run, "md")
        per_T.append(_bcast_files(comm, lambda: analyse_temperature(
            run, T, settings, n_li, present(gen.type_of, species))))

    def finish() -> dict:
        stress = {l.split()[0]: np.array(l.split()[1:], float)
                  for l in (out / "elastic" / "stress.dat").read_text().splitlines()}
        C = A.elastic_constants(stress, settings.elastic_strain)
        T = np.array([p["temperature_K"] for p in per_T])
        used, arr, arr_note = arrhenius_summary(per_T)
        low = per_T[int(np.argmin(T))]
        density = relaxed.composition.weight / (low["volume_A3"] * 0.602214076)  # g/cm^3
        checks = {
            "all_diffusive": all(p["diffusive"] for p in per_T),
            "every_T_has_error_bar": all(np.isfinite(p["D_err_cm2_s"]) for p in per_T),
            "born_stable": A.moduli(C)["born_stable"],
            "arrhenius_fitted": arr is not None,
        }
        result = {
            "schema": "sse-driver/md-result/1",
            # per formula unit of the family's prototype (issue 32); the cell's own counts
            # beside it
            "formula": per_formula_unit(structure.composition.reduced_formula),
            "cell_formula": structure.composition.formula.replace(" ", ""),
            "composition": {k: int(v) for k, v in structure.composition.as_dict().items()},
            "n_atoms": len(structure), "n_li": n_li,
            "potential": {"name": pot.name, "doi": pot.citation["doi"], "sha256": pot.sha256},
            "settings": settings.model_dump(mode="json"),
            "relaxed_0K": {"residual_pressure_bar": float(
                               (out / "relax" / "relax_done.txt").read_text().split()[6]),
                           "lattice_A": list(relaxed.lattice.abc),
                           "angles_deg": list(relaxed.lattice.angles),
                           "volume_A3": relaxed.volume},
            "npt_lowest_T": {"temperature_K": low["temperature_K"], "lattice_A": low["lattice_A"],
                             "angles_deg": low["angles_deg"], "density_g_cm3": density},
            "temperatures": per_T,
            "arrhenius": arr, "arrhenius_note": arr_note,
            # the same fit on the conductivity from the collective (charge) diffusivity, i.e.
            # with the measured Haven ratio instead of md.haven_ratio (noisier; reported beside)
            "arrhenius_collective": arrhenius_summary(per_T, "sigma_collective")[1],
            "haven_ratio": settings.haven_ratio,
            "elastic": {"C_GPa": C.tolist(), "strain": settings.elastic_strain,
                        "relaxed_0K": True,
                        **{f"{k}_GPa" if not k.startswith(("born", "min_")) else k: v
                           for k, v in A.moduli(C).items()},
                        **{k.replace("_err", "_err_GPa"): v for k, v in
                           A.elastic_uncertainty(stress, settings.elastic_strain).items()}},
            "checks": checks,
            "provenance": {"sse_driver": __version__, "python": platform.python_version(),
                           "mpi_ranks": comm.size, "seconds": time.perf_counter() - t_start,
                           "reused_runs": reused,
                           **(meta or {})},
        }
        from .plots import arrhenius_plot, msd_plot
        msd_plot(out, per_T)
        if arr:
            arrhenius_plot(out / "arrhenius.png", used, arr)
        atomic_write_json(out / RESULT, parse(result).to_json())    # the readers' contract
        return result

    return _bcast_files(comm, finish)
