"""One candidate's evaluation, as run by a Dask worker.

Each stage is the project's own CLI in a subprocess (``sse-driver md``, then
``sse-driver phasefield``), under the environment's ``mpirun`` when a task has more than one
rank. A subprocess isolates crashes and MPI aborts from the worker, and a timeout kills its
whole process group. Each attempt writes the exact settings it used next to its results.

A failed stage leaves ``error.json`` in its folder (``errors.record``: class, message and
the class's own retry policy, ``retry`` on each error class), and the retry applies that
policy (each retry changes the inputs, never repeats them). Today's policies:

| class | retry with |
|---|---|
| LostAtomsError | half the timestep, new velocity seed |
| NonFiniteError | 0.75 x timestep, new velocity seed |
| LammpsError (other) | new velocity seed |
| ConvergenceError (phase field) | time.dt_scale / 10: dt, dt_min and dt_max of the effective settings / 10 |
| input errors (exit 2), DeckError, LammpsTimeout, TaskTimeout, TaskStalled | none: recorded as failed |
| a crash without error.json (a bug, a signal) | new velocity seed |
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .. import families
from ..families.compositions import Candidate
from ..md.result import MDResult
from ..md.result import read as read_result
from ..phasefield.result import DegradationResult, PenetrationResult
from ..phasefield.result import read as read_pf_result
from .watchdog import Watchdog



def candidate(camp, x: dict) -> Candidate:
    """The composition of a campaign point (its family builds it; the campaign's box may
    reach the chemistry's limits)."""
    return families.get(camp.family).from_campaign(camp, x)


def _cli(args: list[str], ranks: int) -> list[str]:
    exe = str(Path(sys.executable).with_name("sse-driver"))
    if ranks > 1:
        from ..mpi import mpirun_command
        return mpirun_command(ranks, [exe, *args], python=False)
    return [exe, *args]


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = parent.children(recursive=True) + [parent]
    for p in procs:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass


# What an MPI launcher puts in its ranks' environment. A stage started from a worker that is
# itself an MPI rank (dask-mpi) must not inherit them, or its own mpirun / singleton MPI would
# try to join the worker's job (MPICH hydra: PMI_*; Open MPI: OMPI_*, PMIX_*).
_LAUNCHER_PREFIXES = ("PMI_", "PMIX_", "OMPI_", "MPI_LOCALNRANKS", "MPI_LOCALRANKID")


def stage_env(environ: dict[str, str]) -> dict[str, str]:
    """The environment of a stage: the worker's, minus MPI-launcher variables, with
    OMP_NUM_THREADS = 1 unless set (threads are a layout choice: docs/cluster.md)."""
    env = {k: v for k, v in environ.items() if not k.startswith(_LAUNCHER_PREFIXES)}
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _die_with_parent() -> None:
    """In the stage's child before exec (Linux): SIGKILL it when the worker that started it
    dies. Killing the campaign's process group takes the stages with it anyway; this covers a
    worker killed alone (``kill -9 PID``, the OOM killer), which otherwise left the stage
    running as an orphan, writing into a run folder the resumed campaign no longer tracks
    (seen 2026-11-30: an MD stage ran on for 25 min after its worker was killed). The signal
    follows the thread that forked, which blocks in ``run_stage`` until the stage ends."""
    _PRCTL(1, int(signal.SIGKILL))   # PR_SET_PDEATHSIG; resolved in the parent (run_stage
    # passes this function only when it is), so the forked child loads nothing


def _libc_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):      # not Linux: the process-group rule still holds
        return None


_PRCTL = _libc_prctl() if sys.platform.startswith("linux") else None


#: how often a running stage's progress is looked at (s)
POLL_S = 5.0


#: the Dask event topic of the evaluations' progress (``Client.get_events(PROGRESS_TOPIC)``,
#: ``Client.subscribe_topic``); the same lines go to the worker's log, which the dashboard
#: shows (Info -> the worker -> logs)
PROGRESS_TOPIC = "sse-driver-progress"
#: how often an unchanged stage is said again (s)
PROGRESS_EVERY_S = 60.0


def publish_progress(proposal_id: int, text: str) -> bool:
    """Say where evaluation ``proposal_id`` is, on the Dask worker that runs it: an event of
    ``PROGRESS_TOPIC`` and a line of the worker's log. False outside a Dask worker."""
    try:
        from distributed import get_worker
        worker = get_worker()
    except (ImportError, ValueError):
        return False
    import logging
    logging.getLogger("distributed.worker").info("sse-driver p%d: %s", proposal_id, text)
    worker.log_event(PROGRESS_TOPIC, {"proposal": proposal_id, "stage": text, "t": time.time()})
    return True


def progress_reporter(runs_dir: str | Path, proposal_id: int):
    """A callable for run_stage: publishes the evaluation's stage (``stage_of``) when it
    changes, and at least every PROGRESS_EVERY_S while it runs."""
    last = {"text": None, "t": 0.0}

    def report() -> None:
        text, now = stage_of(runs_dir, proposal_id), time.time()
        if text != last["text"] or now - last["t"] >= PROGRESS_EVERY_S:
            publish_progress(proposal_id, text)
            last.update(text=text, t=now)
    return report


def run_stage(cmd: list[str], timeout: float | None, log: Path, folder: Path | None = None,
              dog: Watchdog | None = None, report=None) -> tuple[int, str]:
    """Run a stage, watched: it is stopped (its whole process tree: mpirun and ranks) when
    the watchdog says it stopped progressing or overran (``campaign/watchdog.py``; reading
    ``folder``, the stage's output folder), or after ``timeout`` s where one is set. It stays
    in the worker's process group, so killing the campaign (kill -9 of its group, a batch
    job ending) takes the stages with it, and it dies with its worker
    (``_die_with_parent``): no orphan keeps writing into a run folder."""
    from ..md.progress import heartbeat, read

    env = stage_env(dict(os.environ))
    pre = _die_with_parent if _PRCTL is not None else None
    dog = dog or Watchdog(stall_s=None, overrun=None)
    dog.hard_s = timeout
    t0 = time.time()
    with open(log, "w") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True, env=env,
                             preexec_fn=pre)
        while True:
            try:
                _, err = p.communicate(timeout=POLL_S)
                break
            except subprocess.TimeoutExpired:
                pass
            if report is not None:
                report()
            now = time.time()
            beat = heartbeat(folder) if folder is not None else None
            since = now - max(t0, beat or t0)
            why = dog.verdict(now - t0, since, read(folder) if folder is not None else None, now)
            if why:
                _kill_tree(p.pid)
                p.communicate()
                return -9, why
    return p.returncode, err


def stage_error(rc: int, stderr: str, folder: Path | None) -> dict:
    """What stopped a stage, as a typed record (errors.record's fields): the watchdog's own
    verdict (rc -9: TaskTimeout/TaskStalled, not retried), an input error (exit 2, not
    retried), the stage's ``error.json``, or, without one, a crash (a bug or a signal:
    retried with a new seed). No class is recovered from the text of stderr."""
    from ..errors import ERROR_FILE, ERROR_SCHEMA
    if rc == -9 and stderr.startswith(("TaskTimeout", "TaskStalled")):
        return {"class": stderr.split(":", 1)[0], "message": stderr[:500], "retry": None}
    if rc == 2:
        return {"class": "InputError", "message": _first_line(stderr), "retry": None}
    path = folder / ERROR_FILE if folder is not None else None
    if path is not None and path.is_file():
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            rec = {}
        if rec.get("schema") == ERROR_SCHEMA and isinstance(rec.get("class"), str):
            retry = rec.get("retry")
            return {"class": rec["class"], "message": str(rec.get("message", ""))[:500],
                    "retry": retry if isinstance(retry, dict) else None}
    return {"class": f"Crash(rc={rc})", "message": _first_line(stderr), "retry": {"new_seed": True}}


def error_class(rc: int, stderr: str, folder: Path | None = None) -> str:
    return stage_error(rc, stderr, folder)["class"]


def _first_line(stderr: str) -> str:
    lines = [l for l in stderr.strip().splitlines() if l.startswith("sse-driver")]
    return (lines[0] if lines else (stderr.strip().splitlines() or ["(no message)"])[-1])[:500]


def _md_retry(err: dict, md: dict, attempt: int) -> dict | None:
    """The MD settings of the next attempt under the failure's retry policy (None: none)."""
    policy = err.get("retry")
    if not policy:
        return None
    out = dict(md)
    if "timestep_factor" in policy:
        out["timestep_fs"] = md["timestep_fs"] * float(policy["timestep_factor"])
    if policy.get("new_seed"):
        out["seed"] = md["seed"] + 7919 * attempt
    return out if out != md else None


#: why a degradation score is not computed for a candidate (its MD measured no D(T))
NO_DEGRADATION_D = ("not measurable: the MD had < 2 diffusive temperatures, so there is no "
                    "D(T) of this candidate for the degradation model (another material's D "
                    "would score another material)")


def _degradation_block(s, camp, md_result: MDResult, md_path: str) -> dict | None:
    """The Cahn-Hilliard degradation inputs for one candidate (stability_model: degradation),
    with ``_source`` saying where D came from: the candidate's MD Arrhenius fit, or the D the
    config fixes. None when neither exists (fewer than two diffusive temperatures): the
    score is then not measurable (NO_DEGRADATION_D), never computed from a default D of some
    other electrolyte."""
    deg = dict(s.phasefield.degradation.model_dump(mode="json", exclude_none=True)) \
        if s.phasefield.degradation else {}
    deg["interfacial_energy_J_m2"] = deg.get("interfacial_energy_J_m2", camp.interfacial_energy_J_m2)
    if md_result.diffusive_count() >= 2 and "D_cm2_s" not in deg:
        deg["md_result"] = md_path
        deg["_source"] = "MD Arrhenius"
        return deg
    if deg.get("D_cm2_s") is None:
        return None
    deg.pop("md_result", None)
    deg["shear_modulus_GPa"] = md_result.elastic.shear_vrh_GPa
    deg["_source"] = "config"
    return deg


def stability_outputs(pf_result: DegradationResult | PenetrationResult | None) -> dict:
    """What the interface-stability stage adds to a record: the degradation score, or the
    critical current density (mA/cm2) with its error (median x sd of ln, for the log-space
    surrogate) and 95 % interval; null with the reason when the MD did not measure enough."""
    if pf_result is None:
        return {"stability": None, "stability_err": None, "degraded_fraction": None}
    if isinstance(pf_result, DegradationResult):
        return {"stability": pf_result.metrics.stability_score, "stability_err": None,
                "degraded_fraction": pf_result.metrics.degraded_fraction}
    m = pf_result.metrics
    if m is None:
        return {"critical_current": None, "critical_current_err": None,
                "critical_current_note": pf_result.not_measurable_reason}
    i = m.critical_current_mA_cm2
    return {"critical_current": i.median, "critical_current_err": i.median * i.ln_sd,
            "critical_current_interval_95": i.interval_95,
            "current_amplification": m.current_amplification.median,
            "fracture_toughness": m.fracture_toughness_MPa_m05.median}


def outputs(md_result: MDResult, pf_result: DegradationResult | PenetrationResult | None,
            D_source: str | None) -> dict:
    hot = md_result.hottest()
    arr = md_result.arrhenius
    e = md_result.elastic
    from ..families.compositions import per_formula_unit
    out = {"formula": per_formula_unit(md_result.formula),      # older results: integers
           "cell_formula": md_result.cell_formula,
           "realized": md_result.provenance.get("realized_variables"),
           "T_hot_K": hot.temperature_K, "sigma_hot": hot.sigma_S_cm,
           "sigma_hot_err": hot.sigma_err_S_cm, "diffusive_hot": hot.diffusive,
           "sigma_300K": arr.sigma_300K_S_cm if arr else None,
           "sigma_300K_err": (arr.sigma_300K_S_cm * arr.sigma_300K_ln_err) if arr else None,
           "sigma_300K_interval_95": arr.sigma_300K_interval_95 if arr else None,
           "Ea": arr.Ea_eV if arr else None, "Ea_err": arr.Ea_err_eV if arr else None,
           "shear_modulus": e.shear_vrh_GPa, "shear_modulus_err": e.shear_vrh_err_GPa,
           "bulk_modulus": e.bulk_vrh_GPa, "bulk_modulus_err": e.bulk_vrh_err_GPa,
           "lattice_A": md_result.npt_lowest_T.lattice_A,
           **stability_outputs(pf_result),
           "phasefield_D_source": D_source,
           "md_protocol": md_protocol(md_result)}
    return out


def md_protocol(md_result: MDResult) -> dict | None:
    """Family, potential and MD protocol of a result: what the skill on record is looked up
    by (report.skill_by_protocol), kept in the ledger so that ``status`` need not open every
    result.json. None where its formula has no family or its settings no protocol."""
    from ..families.compositions import parse
    from ..kb.skill_records import protocol_of

    try:
        family = md_result.provenance.get("family")
        if family in (None, "cif"):          # older results: the family from the formula
            family = parse(md_result.formula).family
        return {"family": family,
                "potential": md_result.potential.name,
                "protocol": protocol_of(md_result.settings)}
    except Exception:      # a composition no family parses, settings of an older schema
        return None


def where() -> dict:
    """Provenance of the process running a task: host, pid, Python, Dask worker name and the
    batch job holding it (Slurm or PBS job id), so a result can be traced to its job log."""
    try:
        from dask.distributed import get_worker
        name = str(get_worker().name)
    except ValueError:            # not inside a Dask worker (a direct call)
        name = None
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "python": platform.python_version(), "worker": name,
            "batch_job": os.environ.get("SLURM_JOB_ID") or os.environ.get("PBS_JOBID")}


def stage_of(runs_dir: str | Path, proposal_id: int, now: float | None = None) -> str:
    """Where an evaluation in flight is (issue 32): its newest attempt's stage and the MD
    stage's own progress, e.g. 'md T1000K nvt 45/100 ps (5/6), ~6 min left'."""
    from ..md.progress import eta_s, read

    run = Path(runs_dir) / f"p{proposal_id:04d}"
    attempts = sorted(run.glob("attempt*"), key=_attempt_number)
    if not attempts:
        return "queued"
    a = attempts[-1]
    tag = f"attempt {_attempt_number(a)}: " if len(attempts) > 1 else ""
    if (a / "pf").exists():
        return tag + "phase field"
    prog = read(a / "md")
    if prog is None:
        return tag + "md starting"
    eta = eta_s(prog, now)
    return tag + prog.describe() + (f", ~{eta / 60:.0f} min left" if eta is not None else "")


def _attempt_number(folder: Path) -> int:
    """k of an ``attemptk`` folder (0 for a name that is not one)."""
    tail = folder.name.removeprefix("attempt")
    return int(tail) if tail.isdigit() else 0


def evaluate(proposal_id: int, x: dict, settings_dict: dict, out_dir: str) -> dict:
    """Evaluate one candidate. Returns a record; expected failures are data, not exceptions."""
    from ..schema import Settings

    s = Settings.model_validate(settings_dict)
    camp = s.campaign
    run = Path(out_dir) / f"p{proposal_id:04d}"
    run.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    errors: list[dict] = []
    record = {"status": "failed", "outputs": None, "errors": errors, "attempts": 0,
              "run_dir": str(run), "started": t0, "where": where()}
    from ..kb.checks import as_dicts, candidate_checks
    from . import screening
    md = s.md.model_dump(mode="json")
    if screening.is_screen(x):            # a listed candidate: its own structure and potential
        source = screening.md_source_args(x)
        md["potential"] = x["potential"]
        checks = screening.checks(x, s.md, tuple(s.md.supercell))
    else:
        try:
            cand = candidate(camp, x)
        except Exception as exc:  # outside the space: an input error, not retried
            errors.append({"attempt": 1, "stage": "checks", "class": "InputError", "message": str(exc)})
            record.update(attempts=1, finished=time.time())
            return record
        # the candidate crosses to the MD stage as a typed file, family and variables kept
        # (families/candidate_file.py), not as a formula the stage would parse again
        from ..families import candidate_file
        source = ["--candidate", str(candidate_file.write(run / "candidate.json", cand))]
        # the logic-consistency checks run before any simulation; their verdicts are kept
        checks = candidate_checks(cand.formula, s.md.potential, s.md, tuple(s.md.supercell))
    record["checks"] = as_dicts(checks)
    blocking = [c for c in checks if not c.ok and c.name in
                ("charge_neutrality", "potential_coverage", "site_occupancy")]
    if blocking:
        for c in blocking:
            errors.append({"attempt": 1, "stage": "checks", "class": "InputError",
                           "message": f"{c.name}: {c.reason}"})
        record.update(attempts=1, finished=time.time())
        return record
    md_result = md_result_prev = prev_adir = None
    attempt = extensions = 0
    # a resumed evaluation (its earlier try was killed) starts in a fresh folder
    first = len(list(run.glob("attempt*")))
    while attempt < camp.retry.max_attempts + extensions and md is not None:
        attempt += 1
        md_result = None
        adir = run / f"attempt{first + attempt}"
        adir.mkdir(exist_ok=True)
        (adir / "md.yaml").write_text(yaml.safe_dump({"md": md}))
        # runs an earlier try finished (a killed attempt, the run an extension lengthens)
        # are adopted when their inputs are identical, newest first (md/reuse.py)
        earlier = [p / "md" for p in sorted(run.glob("attempt*"), key=_attempt_number,
                                             reverse=True) if p != adir and (p / "md").is_dir()]
        reuse = ["--reuse", *map(str, earlier)] if earlier else []
        rc, err = run_stage(_cli(["md", *source, "--config", str(adir / "md.yaml"),
                                  "--out", str(adir / "md"), "--force", *reuse], s.md.ranks),
                            camp.task_timeout_s, adir / "md.stdout", adir / "md",
                            Watchdog(camp.stall_timeout_s, camp.overrun_factor),
                            report=progress_reporter(out_dir, proposal_id))
        if rc == 0:
            md_result = read_result(adir / "md" / "result.json")
            if camp.meta.extend_md:
                from .meta import md_extension
                new_prod, why = md_extension(md_result, md["prod_ps"], camp.meta.max_prod_ps)
                record.setdefault("decisions", []).append(f"md attempt {first + attempt}: {why}")
                if new_prod is not None:
                    md = {**md, "prod_ps": new_prod}
                    extensions += 1
                    md_result_prev, prev_adir = md_result, adir
                    continue
            break
        failure = stage_error(rc, err, adir / "md")
        errors.append({"attempt": attempt, "stage": "md", "class": failure["class"],
                       "message": failure["message"]})
        md = _md_retry(failure, md, attempt)
    record["attempts"] = attempt
    if md_result is None and md_result_prev is not None:
        md_result, adir = md_result_prev, prev_adir   # an extension failed: keep the last finished run
    if md_result is None:
        record["finished"] = time.time()
        return record

    pf_result, D_source, pf_note = None, None, None
    if camp.phasefield:
        pf = s.phasefield.model_dump(mode="json", exclude_none=True)
        md_path = str(adir / "md" / "result.json")
        if camp.stability_model == "li_penetration":
            pf.pop("degradation", None)
            pen = dict(pf.get("penetration") or {})
            for k in ("sigma_S_cm", "sigma_ln_err", "bulk_modulus_GPa", "bulk_modulus_err_GPa",
                      "shear_modulus_GPa", "shear_modulus_err_GPa"):
                pen.pop(k, None)         # the candidate's own MD, never a config value
            pf["penetration"] = {**pen, "md_result": md_path}
            D_source = "MD Arrhenius sigma(T), VRH moduli"
        else:
            pf.pop("penetration", None)
            deg = _degradation_block(s, camp, md_result, md_path)
            if deg is None:
                pf_note = NO_DEGRADATION_D
            else:
                pf["degradation"] = deg
                D_source = deg.pop("_source")
        for pf_attempt in (1, 2) if pf_note is None else ():
            (adir / "pf.yaml").write_text(yaml.safe_dump({"phasefield": pf}))
            rc, err = run_stage(_cli(["phasefield", str(adir / "pf.yaml"), "--out", str(adir / "pf"),
                                      "--force"], s.md.ranks), camp.task_timeout_s, adir / "pf.stdout",
                                report=progress_reporter(out_dir, proposal_id))
            if rc == 0:
                pf_result = read_pf_result(adir / "pf" / "result.json")
                break
            failure = stage_error(rc, err, adir / "pf")
            errors.append({"attempt": attempt, "stage": "phasefield", "class": failure["class"],
                           "message": failure["message"]})
            factor = (failure["retry"] or {}).get("dt_scale_factor")
            if factor is None:
                break
            t = pf.setdefault("time", {})   # applied after degradation.apply sets the steps
            t["dt_scale"] = t.get("dt_scale", 1.0) * float(factor)
        if pf_result is None and pf_note is None:
            record["finished"] = time.time()
            return record
    out = outputs(md_result, pf_result, D_source)
    if pf_note:
        out["stability_note"] = pf_note     # told to the surrogate as not measured
    out["check_warnings"] = [f"{c.name}: {c.reason}" for c in checks if not c.ok]
    if screening.is_screen(x):
        out["label"], out["potential"] = x["label"], x["potential"]
    record.update(status="done", outputs=out, finished=time.time(), run_dir=str(adir))
    return record
