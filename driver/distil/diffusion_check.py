"""The last trust check of a student (issue 30, item 2): its Li tracer diffusivity D*(T)
against the teacher's own MD on the same cell at one diffusive temperature.

Both models run the same NVT (Nose-Hoover, LAMMPS; the teacher through ``fix external``)
from the teacher's relaxed cell, with the same seed, time step and sampling; the first
``discard_ps`` are dropped and D* with its posterior comes from kinisi over the diffusive
window that the MD stage itself uses (``md/analysis.diffusivity``, ``md/diffusion``). The
student passes when the two D* agree within their joint 95 % interval or within a factor 2.

The teacher run is the expensive part (~9 steps/s for 20 atoms on one core, measured
2026-12-03): it runs as Dask tasks of ``segment_ps`` each, every segment writing its Li
positions and a LAMMPS restart file, so a killed run resumes at the last finished segment
and a GPU worker (where a cluster has one) can take it.
"""

from __future__ import annotations

import io
import math
import time
from pathlib import Path

import numpy as np

from . import frames as F

#: a factor of 2 in D*, the issue's alternative to the joint interval (item 2)
FACTOR = 2.0


def _seg(folder: Path, tag: str, k: int, ext: str) -> Path:
    return folder / f"{tag}_seg{k:03d}.{ext}"


def run_segments(potential: str, elements: tuple[str, ...], start_file: str, folder: str,
                 tag: str, temperature_k: float, ps: float, sample_fs: float,
                 timestep_fs: float, segment_ps: float, seed: int) -> dict:
    """Dask task: ``ps`` of NVT for ``potential`` (a name in potentials/ or a file) from the
    frame in ``start_file``, in segments; segments already written are kept."""
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    from .. import potentials
    from ..mpi import MPI  # noqa: F401  (mpi4py before lammps)
    from .explore import Model, run_md

    folder_p = Path(folder)
    folder_p.mkdir(parents=True, exist_ok=True)
    start = F.read(start_file, require_labels=False)[0]
    n_seg = max(1, math.ceil(ps / segment_ps - 1e-9))
    model = Model(potentials.load(potential), elements)
    t0, failure, steps = time.perf_counter(), None, 0
    try:
        for k in range(n_seg):
            npz, rst = _seg(folder_p, tag, k, "npz"), _seg(folder_p, tag, k, "restart")
            if npz.is_file() and rst.is_file():
                continue
            prev = _seg(folder_p, tag, k - 1, "restart") if k else None
            seg_ps = min(segment_ps, ps - k * segment_ps)
            md = run_md(model, start, temperature_k, seg_ps, sample_fs, timestep_fs, seed,
                        {"kind": f"diffusion {tag}"}, restart_in=prev, restart_out=rst,
                        track_li=True, keep_snapshots=False)
            if md.failure:
                failure = f"segment {k}: {md.failure}"
                break
            buf = io.BytesIO()
            np.savez(buf, li=np.asarray(md.li_positions), cell=start.cell,
                     dt_ps=sample_fs / 1000.0, steps=md.steps, seconds=md.seconds,
                     natoms=start.n)
            tmp = npz.with_suffix(".part")
            tmp.write_bytes(buf.getvalue())
            tmp.replace(npz)
            steps += md.steps
    finally:
        model.close()
    return {"tag": tag, "failure": failure, "steps_run_now": steps,
            "seconds": time.perf_counter() - t0}


def load_segments(folder: Path, tag: str) -> tuple[np.ndarray, np.ndarray, float, dict]:
    """The concatenated Li positions (frames, N_Li, 3), the cell, the sample interval (ps) and
    the cost (steps, seconds, atoms) of every finished segment."""
    parts, k = [], 0
    while _seg(folder, tag, k, "npz").is_file():
        with np.load(_seg(folder, tag, k, "npz")) as z:
            parts.append({key: z[key] for key in z.files})
        k += 1
    if not parts:
        raise ValueError(f"no finished segment of {tag} in {folder}")
    pos = np.concatenate([p["li"] for p in parts])
    cost = {"segments": len(parts), "steps": int(sum(p["steps"] for p in parts)),
            "seconds": float(sum(p["seconds"] for p in parts)), "natoms": int(parts[0]["natoms"])}
    cost["atom_steps_per_s"] = (cost["natoms"] * cost["steps"] / cost["seconds"]
                                if cost["seconds"] > 0 else None)
    return pos, parts[0]["cell"], float(parts[0]["dt_ps"]), cost


def measure(positions: np.ndarray, cell: np.ndarray, dt_ps: float, discard_ps: float,
            seed: int = 1) -> dict:
    """D* (cm^2/s) with its kinisi posterior from unwrapped Li positions, after dropping the
    first ``discard_ps``; the window is the MD stage's own (``md.analysis.diffusivity``).
    ``{"failure": why}`` where no diffusive regime can be fitted."""
    from ..md import analysis as A
    from ..md.diffusion import kinisi_diffusion

    pos = np.asarray(positions, float)[int(round(discard_ps / dt_ps)):]
    if len(pos) < 8:
        return {"failure": f"only {len(pos)} samples after the first {discard_ps:g} ps"}
    try:
        block, _, _ = A.diffusivity(pos, dt_ps)
        kin = kinisi_diffusion(pos, cell, dt_ps, block.window.start_ps, seed=seed,
                               collective=False)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {"failure": f"no diffusive fit ({str(exc).splitlines()[0][:160]})"}
    t = kin.tracer
    return {"D_cm2_s": t.median, "D_err_cm2_s": t.std, "D_ci95_cm2_s": list(t.ci95),
            "window_ps": [block.window.start_ps, block.window.end_ps], "n_hops": kin.n_hops,
            "ps_analysed": (len(pos) - 1) * dt_ps, "estimator": f"kinisi {kin.kinisi_version}"}


def _log_sd(m: dict) -> float:
    """The sd of ln D from the 95 % interval (half its log width over 1.96)."""
    lo, hi = m["D_ci95_cm2_s"]
    if lo > 0 and hi > 0:
        return (math.log(hi) - math.log(lo)) / (2 * 1.96)
    return m["D_err_cm2_s"] / m["D_cm2_s"]     # a posterior reaching zero: the relative sd


def agreement(student: dict, teacher: dict) -> dict:
    """Whether the student's D* agrees with the teacher's: within the joint 95 % interval of
    ln D (the two posteriors' sds in quadrature) or within a factor ``FACTOR``."""
    for who, m in (("student", student), ("teacher", teacher)):
        if "failure" in m:
            return {"passed": False, "why": f"the {who}'s D* could not be measured: {m['failure']}"}
        if not m["D_cm2_s"] > 0:
            return {"passed": False, "why": f"the {who}'s D* is not positive ({m['D_cm2_s']:.3g})"}
    ratio = student["D_cm2_s"] / teacher["D_cm2_s"]
    sd = math.hypot(_log_sd(student), _log_sd(teacher))
    z = abs(math.log(ratio)) / sd if sd > 0 else math.inf
    ok = z <= 1.96 or 1.0 / FACTOR <= ratio <= FACTOR
    return {"passed": bool(ok), "ratio": ratio, "z_log": z,
            "why": (f"D* student/teacher = {ratio:.2f} ({z:.1f} joint sd in ln D); agreement "
                    f"needs |z| <= 1.96 or a ratio within a factor {FACTOR:g}")}
