"""Speed of a distilled student beside its teacher and the classical softBV model, on the same
cell in one run (issue 30, item 3): NVT at 1000 K, one core, atom-steps per second of
LAMMPS's MD loop (the Python ``run`` call alone, start-up excluded).

    .venv/bin/python bench/distil_speed.py [--composition Li6.4La3Zr1.4Ta0.6O12]
        [--supercell 1 1 1] [--steps 200] [--teacher-steps 5] [--twojmax 4 6 8]
        [--student potentials/NAME.yaml]  (plain SNAP at each 2J; chemical SNAP where its
        basis stays within distil's 4000 coefficients; distil's default POD basis)

A SNAP student's cost depends on its basis (twojmax, cutoff, elements), not on the values
of its coefficients, so the SNAP rows use zero coefficients on the standard basis of
``sse-driver distil`` (driver/distil/workflow.basis_for) unless ``--student`` names a fitted
file. softBV is run only where adams_rao2011 covers the composition (the oxides). The
teacher (sevennet0, through fix external) needs `make mlip`. Prints a table; copy it with its
date into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from driver.mpi import MPI  # noqa: E402  (mpi4py before lammps)
from driver import potentials  # noqa: E402
from driver.distil import frames as F  # noqa: E402
from driver.distil.explore import Model  # noqa: E402
from driver.distil.settings import MAX_COLUMNS, DistilSettings  # noqa: E402
from driver.distil.workflow import basis_for, elements_of  # noqa: E402
from driver.families.compositions import PHYSICAL_BOUNDS, parse  # noqa: E402
from driver.families.structures import build  # noqa: E402
from driver.forcefields import snap  # noqa: E402


def rate(frame: F.Frame, elements, pot, steps: int) -> float:
    """atom-steps/s of ``steps`` NVT steps of ``pot`` on ``frame`` (serial; the teacher
    through fix external, as the distillation's D* check runs it)."""
    model = Model(pot, tuple(elements))
    lmp = model.lammps(frame)
    try:
        model.command(lmp, "timestep 0.001")
        lmp.commands_list(["velocity all create 1000 5 mom yes rot yes",
                           "fix nvt all nvt temp 1000 1000 0.1", "thermo 0"])
        model.command(lmp, "run 1")
        t0 = time.perf_counter()
        model.command(lmp, f"run {steps} pre no post no")
        dt = time.perf_counter() - t0
    finally:
        model.release(lmp)
        model.close()
    return frame.n * steps / dt


def snap_student(elements, twojmax: int, chem: bool, tmp: Path):
    basis = basis_for(DistilSettings(form="snap", twojmax=twojmax, chemflag=chem), tuple(elements))
    doc = snap.document(f"bench_snap{twojmax}{'c' if chem else ''}", basis.elements,
                        basis.radii, basis.weights, np.zeros(basis.ncols),
                        {"twojmax": twojmax, "chemflag": chem, "rcutfac": basis.rcutfac,
                                                "zbl_inner": basis.zbl_inner,
                                                "zbl_outer": basis.zbl_outer},
                        {"teacher": {"name": "none"}})
    path = tmp / f"{doc['name']}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return potentials.load(str(path))


def pod_student(elements, tmp: Path):
    """The default POD basis of distil (settings pod_*) with zero coefficients."""
    from driver.forcefields import pod
    basis = basis_for(DistilSettings(form="pod"), tuple(elements))
    doc = pod.document("bench_pod", basis.elements, basis.settings(), np.zeros(basis.ncols),
                       {"teacher": {"name": "none"}})
    path = tmp / "bench_pod.yaml"
    path.write_text(yaml.safe_dump(doc))
    return potentials.load(str(path)), basis.ncols


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--composition", default="Li6.4La3Zr1.4Ta0.6O12")
    ap.add_argument("--supercell", type=int, nargs=3, default=[1, 1, 1])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--teacher-steps", type=int, default=5)
    ap.add_argument("--twojmax", type=int, nargs="+", default=[4, 6, 8])
    ap.add_argument("--student", help="a fitted student file (potentials/NAME.yaml or a path)")
    a = ap.parse_args()
    cand = parse(a.composition, PHYSICAL_BOUNDS)
    frame = F.canonical(build(cand, tuple(a.supercell), seed=1).structure)
    elements = elements_of([frame])
    rows = []
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for chem in (False, True):
            for j in a.twojmax:
                pot = snap_student(elements, j, chem, tmp)
                if chem and basis_for(DistilSettings(form="snap", twojmax=j, chemflag=True),
                                      tuple(elements)).ncols > MAX_COLUMNS:
                    continue            # a basis distil refuses (settings.MAX_COLUMNS)
                label = f"SNAP{' chem' if chem else ''} 2J={j} (+ZBL)"
                rows.append((label, rate(frame, elements, pot, a.steps)))
        pot, ncols = pod_student(elements, tmp)
        rows.append((f"POD 2+3-body ({ncols} coefficients, +ZBL)", rate(frame, elements, pot, a.steps)))
        if a.student:
            from driver.md.decks import type_map
            pot = potentials.load(a.student)
            types = type_map(set(elements), pot)      # a family student: all its species
            rows.append((f"student {pot.name}", rate(frame, sorted(types, key=types.get), pot,
                                                     a.steps)))
        soft = potentials.load("adams_rao2011")
        if not soft.missing(set(elements)):
            rows.append(("softBV adams_rao2011", rate(frame, elements, soft, a.steps)))
        try:
            teacher = potentials.load("sevennet0")
            rows.append(("teacher sevennet0", rate(frame, elements, teacher, a.teacher_steps)))
        except Exception as exc:  # noqa: BLE001  (no ML extra: say so and go on)
            print(f"teacher skipped: {exc}")
    ref = dict(rows).get("teacher sevennet0")
    print(f"# {datetime.date.today()} {cand.formula} {a.supercell} ({frame.n} atoms), 1 core, NVT 1000 K")
    print("| model | atom-steps/s | x teacher |")
    print("|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r:.3g} | {r / ref:.0f} |" if ref else f"| {name} | {r:.3g} | - |")


if __name__ == "__main__":
    main()
