"""``sse-driver phasefield``, apart from its argument parsing (cli.py): the run, the rollback
of a refused one and the printed summary."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import UserError
from ..fileio import first_missing


def run(settings, out: Path) -> int:
    """One phase-field run of ``settings`` (the ``phasefield`` section) into ``out`` on every
    rank of COMM_WORLD; rank 0 prints the summary. A refusal of the inputs (an MD result, an
    initial expression) removes the folders the run created."""
    from ..mpi import MPI
    from .workflow import RESULT, run_phasefield

    comm = MPI.COMM_WORLD
    fresh = first_missing(out)       # the topmost folder this run would create
    comm.Barrier()                  # every rank has looked before rank 0 creates it
    try:
        r = run_phasefield(settings, out, comm)
    except UserError:
        # inputs the solver refuses (an MD result, an initial expression): nothing is left,
        # so the same command can simply be run again (issue 33, class 8)
        comm.Barrier()
        if fresh is not None and comm.rank == 0:
            shutil.rmtree(fresh, ignore_errors=True)
        raise
    if comm.rank == 0 and r.get("model") == "li_penetration":
        if not r["measurable"]:
            print(f"not measurable: {r['not_measurable_reason']}")
        else:
            m = r["metrics"]
            i, a = m["critical_current_mA_cm2"], m["current_amplification"]
            print(f"critical current density {i['median']:.3g} mA/cm2 (95 %: "
                  f"{i['interval_95'][0]:.3g} .. {i['interval_95'][1]:.3g}); tip focusing A = "
                  f"{a['median']:.3g}, Wa = {m['wagner_number']['median']:.3g}, K_IC = "
                  f"{m['fracture_toughness_MPa_m05']['median']:.3g} MPa m^1/2")
            print(f"  sigma: {m['inputs']['source']}")
        print(f"wrote {out / RESULT}")
        return 0
    if comm.rank == 0:
        m = r["metrics"]
        w = m["interface_width"]
        print(f"{r['steps']} steps to t = {r['t_end']:.4g} on {r['provenance']['mpi_ranks']} rank(s), "
              f"{r['provenance']['dofs']} dofs, {r['provenance']['seconds']:.1f} s")
        react = r["settings"]["reaction"]["kind"] != "none"
        print(f"  free energy {r['free_energy_initial']:.6g} -> {r['free_energy_final']:.6g}; "
              f"mass {'change (reaction)' if react else 'drift'} {r['mass_relative_drift']:.2e}")
        print(f"  degraded fraction {m['degraded_fraction']:.3f}, {m['domains']['count']} domains "
              f"(mean diameter {m['domains']['mean']:.4g}), interface width "
              f"{'n/a' if w is None else f'{w:.4g}'}, stability score {m['stability_score']:.3f}")
        print(f"wrote {out / RESULT}, {out / 'history.csv'}")
    return 0
