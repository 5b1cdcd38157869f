"""The closed loop on Dask: propose -> evaluate (tasks.evaluate on workers) -> record ->
refit -> propose, until the budget is spent.

- execution (driver/campaign/cluster.py): an embedded LocalCluster bound to localhost by
  default (``cores // md.ranks`` single-threaded workers, so MPI tasks do not oversubscribe
  cores), an existing scheduler (``--scheduler``), dask-mpi ranks, or Slurm/PBS jobs;
- async mode: as soon as a result arrives it is told to the optimizer and a new proposal is
  submitted, so workers never idle; sync mode: whole batches (reproducible proposals);
- every proposal batch and every finished evaluation is committed to the ledger first
  (driver/campaign/ledger.py), so ``--resume`` after a kill -9 loses nothing finished and
  re-runs nothing finished.
"""

from __future__ import annotations

import contextlib

import hashlib
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import ConfigError, UserError
from ..fileio import atomic_write_text
from ..optimize.multiobjective import ahp_weights
from ..optimize.optimizer import Objective, Optimizer
from ..optimize.space import Space
from ..schema import Settings
from .cluster import execution
from ..kb.prior import experimental_prior
from ..objectives import get as objective
from ..objectives.expert_rating import OBJECTIVE as RATING
from .ledger import Ledger


def _rated(name: str) -> bool:
    """Whether objective ``name`` comes from reviews, not from the evaluation."""
    return objective(name).source == "review"


def build_space(s: Settings) -> Space:
    """The composition space on its realizable grid: 1/(Z x cells) per variable."""
    from .. import families
    from ..families.roles import chosen_species, prototype

    camp = s.campaign
    fam = families.get(camp.family)
    cells = int(np.prod(s.md.supercell))
    z = prototype(fam, chosen_species(camp))[1]   # formula units per prototype cell
    step = 1.0 / (z * cells)
    d = {"variables": {k: [v[0], v[1], step] for k, v in camp.variables.items()}}
    cons = fam.constraints(camp.variables)
    if cons:
        d["constraints"] = cons
    return Space.from_dict(d, source="campaign.variables")


def campaign_species(s: Settings) -> set[str]:
    """Every element a composition of the campaign space can contain. Each amount is linear
    in the variables, so an element present anywhere in the box is present at a corner. The
    amounts are evaluated at every corner, also one a family constraint excludes (argyrodite
    br + i <= 1): the maximum of a linear amount over the allowed part is at most its maximum
    over the box, so no element is missed (one only the excluded part has would be refused
    too: the safe side for a coverage check)."""
    from .. import families
    from ..families.roles import chosen_species

    fam = families.get(s.campaign.family)
    species = chosen_species(s.campaign)
    return {el for x in families.box_corners(s.campaign.variables)
            for el, a in fam.amounts(x, species).items() if a > 1e-9}


def check_space_exists(s: Settings, space: Space) -> None:
    """Refuse, before anything runs, a box that reaches compositions which cannot exist (the
    family's PHYSICAL_BOUNDS, e.g. more Al than the NASICON framework site holds): every
    proposal there would fail one by one. Checked at each corner of the box the space's own
    constraints allow (the limits are bounds per variable, so a corner reaches them first)."""
    from .. import families
    from ..errors import CompositionError
    from ..families.compositions import OutOfBounds

    fam = families.get(s.campaign.family)
    for x in families.box_corners(s.campaign.variables):
        if not space.feasible(space.as_array([x]))[0]:
            continue
        try:
            fam.from_campaign(s.campaign, x)
        except OutOfBounds as exc:
            raise ConfigError(
                f"campaign.variables.{exc.name}: {exc.space} {exc.name} = {exc.value:g} cannot "
                f"exist (its physical limits are [{exc.lo:g}, {exc.hi:g}]); narrow the range"
            ) from None
        except CompositionError as exc:
            at = ", ".join(f"{k} = {v:g}" for k, v in x.items())
            raise ConfigError(f"campaign.variables: at {at}: {exc}; narrow the range") from None


def check_potential_coverage(s: Settings) -> None:
    """Refuse, before anything runs, a campaign whose space needs pairs md.potential lacks
    (otherwise every such candidate would fail one by one)."""
    from ..potentials import load as load_pot

    load_pot(s.md.potential).check_covers(campaign_species(s))


def build_optimizer(s: Settings) -> Optimizer:
    camp = s.campaign
    weights = [o.weight for o in camp.objectives]
    if camp.ahp_matrix is not None:
        weights = ahp_weights(camp.ahp_matrix)["weights"]
    objs = [Objective(o.name, o.direction, o.log, w, optional=_rated(o.name))
            for o, w in zip(camp.objectives, weights)]
    return Optimizer(build_space(s), objs, seed=camp.seed, n_initial=camp.initial_design,
                     acquisition=camp.acquisition, priors=camp.gp_priors,
                     batch=camp.batch_method)


def config_hash(s: Settings) -> str:
    return hashlib.sha256(json.dumps(s.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def resume_settings(saved: Path, meta: dict, config_path: str | None = None) -> Settings:
    """The settings a campaign resumes with: its saved config.yaml, unchanged since the start
    (checked by the file's hash, so a newer sse-driver whose schema gained keys still resumes
    it), and equal to ``config_path`` when one is given (compared as loaded settings)."""
    from .. import config

    s = config.load(Settings, saved)
    if "config_sha256" in meta:
        intact = meta["config_sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    else:                        # ledgers from before the file hash: the settings' hash
        intact = meta.get("config_hash") == config_hash(s)
    if not intact:
        raise ConfigError(f"--resume: {saved} differs from the config the campaign started with "
                          "(edited, or written by an older sse-driver whose settings differ); "
                          "restore it, or start a new campaign")
    if config_path is not None and config_hash(config.load(Settings, config_path)) != config_hash(s):
        raise ConfigError(f"--resume: {config_path} differs from the config the campaign started "
                          f"with ({saved}); resume without a config or with that one")
    return s


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def apply_reviews(opt: Optimizer, ledger: Ledger, rating_noise: float = 0.5) -> list[str]:
    """Reviews in the ledger, applied to the optimizer: a veto becomes an exclusion region of
    its space; ratings, when ``expert_rating`` is an objective, become that objective's value
    for the rated point (mean of its ratings, error rating_noise / sqrt(n)). Idempotent."""
    from ..optimize.space import Exclusion

    from .screening import is_screen

    have = {(json.dumps(e.center, sort_keys=True), e.radius) for e in opt.space.exclusions}
    added = []
    for r in ledger.reviews():
        if r["action"] != "veto" or not r["x_json"]:
            continue
        center = json.loads(r["x_json"])
        if is_screen(center):    # a listed candidate: nothing is proposed near it
            continue
        radius = float(r["rating"]) if r["rating"] is not None else 0.1
        key = (json.dumps(center, sort_keys=True), radius)
        if key not in have:
            opt.space.exclusions.append(Exclusion(center, radius, r["note"] or "vetoed by reviewer"))
            have.add(key)
            added.append(f"veto {center} radius {radius:g}: {r['note'] or 'no note'}")
    if any(o.name == RATING.name for o in opt.objectives):
        for x, vals in ledger.ratings().values():
            if x is None or is_screen(x):
                continue
            mean, err = float(np.mean(vals)), rating_noise / np.sqrt(len(vals))
            old = next((o.y.get(RATING.name) for o in opt.observations
                        if o.source == "evaluation" and o.y and o.x == x), None)
            if old != mean and opt.update(x, RATING.name, mean, err):
                added.append(f"rating {x}: {mean:g} +- {err:.2g} from {len(vals)} review(s)")
    return added


def with_objectives(outputs: dict, opt: Optimizer) -> dict:
    """``outputs`` with each objective's value and error under its name (``name``,
    ``name_err``) where the stages did not write them: an objective derived from measured
    quantities (driver/objectives/) is then recorded, reported and fused like any other."""
    out = dict(outputs)
    for ob in opt.objectives:
        if not _rated(ob.name) and ob.name not in out:
            obj = objective(ob.name)
            out[ob.name], out[f"{ob.name}_err"] = obj.value(outputs), obj.error(outputs)
    return out


def _shown(outputs: dict, opt: Optimizer) -> list[tuple[str, float | None]]:
    """The values the console shows for a finished evaluation: the hot conductivity (always
    measured) and each objective (None where not measured)."""
    names = dict.fromkeys(["sigma_hot", *(ob.name for ob in opt.objectives)])
    return [(k, objective(k).value(outputs)) for k in names]


def _describe(x: dict) -> str:
    from .screening import is_screen

    if is_screen(x):
        return f"#{x['screen']} {x['label']} ({x['potential']})"
    return "{" + ", ".join(f"{k}={v:.4g}" for k, v in x.items()) + "}"


def _tell(opt: Optimizer, x: dict, rec: dict) -> None:
    from .screening import is_screen

    if is_screen(x):      # a listed candidate is not a point of the optimizer's space
        return
    if rec["status"] != "done":
        opt.tell(x, feasible=False)
        return
    out = rec["outputs"]
    y, err, guessed = {}, {}, []
    for o in opt.objectives:
        if _rated(o.name):                # arrives with a review (apply_reviews)
            continue
        v = objective(o.name).value(out)
        if not o.measurable(v):
            guess = unmeasured_value(opt, o)
            if guess is None:
                opt.tell(x, feasible=False)   # nothing to anchor an uncertain value on yet
                return
            y[o.name], err[o.name] = guess    # finished, but this objective not measurable
            guessed.append(o.name)
            continue
        y[o.name] = float(v)
        e = objective(o.name).error(out)
        err[o.name] = e if e is not None else 0.0
    # a point with a guessed objective informs the model but is never reported as the best
    opt.tell(x, y, err, source="unmeasured" if guessed else "evaluation")


#: the uncertainty given to an objective a finished evaluation could not measure (e.g.
#: sigma_300K without two diffusive temperatures), in its fitted units: decades for a log
#: objective, standard deviations of the measured values otherwise
UNMEASURED_SPREAD = 3.0


def unmeasured_value(opt: Optimizer, obj) -> tuple[float, float] | None:
    """(value, error) that tells the surrogate "evaluated, but this objective is unknown":
    the median of the values measured so far with an error of UNMEASURED_SPREAD (3 decades
    for a log objective), so the point counts as explored without pulling the model. None
    until two values are measured (the evaluation is then told as infeasible, as before)."""
    vals = [ob.y[obj.name] for ob in opt.observations
            if ob.source == "evaluation" and ob.feasible and ob.y and obj.name in ob.y
            and obj.measurable(ob.y[obj.name])]
    if len(vals) < 2:
        return None
    z = np.array([obj.scaled(v) for v in vals])
    med = float(np.median(z))
    if obj.log:
        value = 10.0 ** med
        return value, value * np.log(10) * UNMEASURED_SPREAD   # delta method back to log10
    return med, UNMEASURED_SPREAD * max(float(np.std(z, ddof=1)), 1e-12)


def _calibrate(opt: Optimizer, x: dict, rec: dict, z2: list[float], window: int,
               ledger: Ledger, echo) -> None:
    """Meta loop rule 2: standardized residual of the new result against the model that had
    not seen it; adapt exploration when the model is over- or under-confident."""
    from .meta import calibration_decision, residuals

    if sum(1 for o in opt.observations if o.feasible and o.y) < 3:
        return
    try:
        pred = opt.predict([x])
    except Exception:
        return
    z = residuals(pred, rec["outputs"], opt.objectives)
    if not z:
        return
    z2.append(float(np.mean(np.square(z))))
    xi, beta, why = calibration_decision(z2, opt.acquisition, opt.xi, opt.beta, window)
    if why:
        opt.xi, opt.beta = xi, beta
        ledger.log("meta", why)
        echo(f"meta: {why}")


def check_md_ranges(s: Settings) -> None:
    """Refuse up front MD settings that the logic checks (kb/checks.md_ranges) would fail for
    every candidate: such a campaign would only record failures."""
    from ..kb.checks import md_ranges

    bad = [c.reason for c in md_ranges(s.md) if not c.ok]
    if bad:
        raise ConfigError(f"md: {'; '.join(bad)} (every candidate would fail its logic checks); "
                          "change md.temperatures_k, md.timestep_fs or md.prod_ps")


def load_checked(config_path: str | None, settings: Settings | None = None,
                 scheduler: str | None = None) -> tuple[Settings, list[dict] | None]:
    """The settings and, for a screening campaign, its checked list (screening.screen_items):
    every check ``run`` makes before writing anything, shared with ``config validate``."""
    from .. import config
    from .cluster import backend, check_local_ranks
    from .screening import screen_items

    s = settings if settings is not None else config.load(Settings, config_path)
    opt = build_optimizer(s)              # validates the space
    check_md_ranges(s)
    if backend(s, scheduler) == "local":
        check_local_ranks(s)
    if s.campaign.candidates is not None:
        base = Path(config_path).resolve().parent if config_path else Path.cwd()
        return s, screen_items(s, base)
    check_space_exists(s, opt.space)
    check_potential_coverage(s)
    return s, None


def run_campaign(config_path: str | None, out: str | Path, resume: bool = False,
                 scheduler: str | None = None, n_workers: int | None = None,
                 echo=print, settings: Settings | None = None) -> dict:
    """Start (or ``resume``) the campaign of ``config_path`` (or of ``settings``) in ``out``."""
    from .. import config
    from .report import write_report

    out = Path(out).resolve()
    led_path = Ledger.file_in(out)
    fresh_dir = False
    if resume:
        if not led_path.exists():
            raise UserError(f"--resume {out}: no {Ledger.FILE} there; start a campaign with a config")
        saved = out / "config.yaml"
        ledger = Ledger(led_path)
        s = resume_settings(saved, ledger.meta(), config_path)
        opt = Optimizer.from_json(ledger.started_state())
        ledger.log("resume", f"resumed: {ledger.counts()}")
    else:
        if led_path.exists():
            raise UserError(f"{out} already holds a campaign; use --resume {out} or another --out")
        if out.is_dir() and any(out.iterdir()):
            raise UserError(f"--out {out} is not empty and holds no campaign; choose a new or "
                            "empty folder")
        s, screen = load_checked(config_path, settings, scheduler)   # before anything is written
        opt = build_optimizer(s)
        fresh_dir = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", config.dump_yaml(s))
        ledger = Ledger(led_path)
        from ..potentials import load as load_pot
        pot = load_pot(s.md.potential)
        ledger.set_meta({"config_hash": config_hash(s),
                         "config_sha256": hashlib.sha256((out / "config.yaml").read_bytes()).hexdigest(),
                         "created": time.time(), "seed": s.campaign.seed,
                         "sse_driver": __version__, "python": platform.python_version(),
                         "git_commit": _git_commit(), "potential": pot.name,
                         "potential_sha256": pot.sha256, "name": s.campaign.name,
                         # a screening list as checked at the start: what a resume evaluates
                         "screen_items": screen})
        if s.campaign.prior.enabled:
            pts = experimental_prior(s.campaign)
            for x, sigma, doi in pts:
                opt.tell_prior(x, {"sigma_300K": sigma},
                               {"sigma_300K": sigma * np.log(10) * s.campaign.prior.noise_log10})
            ledger.log("prior", f"{len(pts)} experimental conductivities from OBELiX (CC BY 4.0) told "
                       f"as prior with +- {s.campaign.prior.noise_log10:g} decade(s): "
                       + "; ".join(f"{x} {sig:.2g} S/cm doi:{doi}" for x, sig, doi in pts[:12]))
        ledger.save_state(opt.to_json())
        ledger.log("start", f"campaign {s.campaign.name} started"
                   + (f": screening {len(s.campaign.candidates)} listed candidates"
                      if s.campaign.candidates is not None else ""))
    t_start = time.time()
    settings_dict = s.model_dump(mode="json")

    screen = ledger.meta().get("screen_items")
    stack = contextlib.ExitStack()
    try:
        ex = stack.enter_context(execution(s, out, scheduler, n_workers, echo))
    except BaseException:
        if not resume:   # nothing ran: leave no campaign behind that the same command refuses
            ledger.close()
            _undo_start(out, fresh_dir)
        raise
    with stack:
        echo(f"dask dashboard: {ex.client.dashboard_link}")
        stop_reason = _loop(s, opt, ledger, out, ex, settings_dict, t_start, echo, screen)
    ledger.log("stop", stop_reason or "stopped")
    echo(f"campaign stopped: {stop_reason}")
    report = write_report(out)
    echo(f"report: {report}")
    summary = {"counts": ledger.counts(), "stop_reason": stop_reason, "report": str(report)}
    ledger.close()
    return summary


def _undo_start(out: Path, fresh_dir: bool) -> None:
    """Remove what a start wrote when its workers never came up (the folder, if it made it)."""
    import shutil

    if fresh_dir:
        shutil.rmtree(out, ignore_errors=True)
        return
    from ..sqlitefile import remove_database

    (out / "config.yaml").unlink(missing_ok=True)
    remove_database(Ledger.file_in(out))


def _loop(s: Settings, opt: Optimizer, ledger: Ledger, out: Path, ex, settings_dict: dict,
          t_start: float, echo, screen: list[dict] | None = None) -> str | None:
    """Keep ex.capacity evaluations in flight until a budget is spent; return why it stopped.
    With ``screen`` (a screening list) the proposals are its entries in order and the budget
    is its length."""
    from dask.distributed import wait

    from .console import EvaluationsBar
    from .tasks import evaluate, stage_of

    camp = s.campaign
    budget = camp.budget.evaluations if screen is None else len(screen)
    client, capacity, resources = ex.client, ex.capacity, ex.resources
    futures = {}
    z2_history: list[float] = []

    def submit(pid: int, x: dict) -> None:
        futures[client.submit(evaluate, pid, x, settings_dict, str(out / "runs"), key=f"candidate-{pid}",
                              resources=resources, pure=False, retries=2)] = (pid, x)

    # at a terminal a progress bar naming each evaluation's stage (campaign/console.py);
    # in a log a line on the evaluations in flight every 5 min
    c0 = ledger.counts()
    bar = EvaluationsBar(budget, done=c0["done"] + c0["failed"])
    echo = bar.say(echo)
    progress_every = 5.0 if bar.enabled else 300.0
    last_progress = time.time()
    try:
        for pid, x in ledger.pending():     # owed from before a kill: resubmit
            submit(pid, x)
        stop_reason = None
        while True:
            c = ledger.counts()
            finished = c["done"] + c["failed"]
            proposed = finished + c["pending"]
            over_time = camp.budget.wall_time_s and time.time() - t_start > camp.budget.wall_time_s
            if finished >= budget:
                stop_reason = f"budget of {budget} evaluations spent"
                break
            if over_time and not futures:
                stop_reason = "wall-time budget spent"
                break
            want = 0
            if not over_time and proposed < budget:
                free = capacity - len(futures)
                if camp.mode == "async":
                    want = min(free, budget - proposed)
                elif not futures:
                    want = min(camp.batch_size, budget - proposed)
            if want > 0:
                for msg in apply_reviews(opt, ledger, camp.rating_noise):
                    ledger.log("review", msg)
                    echo(f"review applied: {msg}")
                xs = opt.ask(want) if screen is None else screen[proposed:proposed + want]
                if xs:
                    ids = ledger.add_proposals(xs, opt.to_json())
                    for pid, x in zip(ids, xs):
                        submit(pid, x)
                    echo(f"{'proposed' if screen is None else 'submitted'} {len(xs)}: " + ", ".join(
                        _describe(x) for x in xs))
                elif not futures:
                    stop_reason = "the space has no unevaluated realizable point left"
                    break
            if not futures:
                continue
            if time.time() - last_progress > progress_every:
                last_progress = time.time()
                stages = [f"p{pid} {stage_of(out / 'runs', pid)}"
                          for pid, _ in sorted(futures.values(), key=lambda t: t[0])]
                if bar.enabled:
                    bar.running(stages)
                else:
                    echo("  running: " + "; ".join(stages))
            try:
                done, _ = wait(list(futures), return_when="FIRST_COMPLETED", timeout=5)
            except TimeoutError:   # nothing finished in 5 s: check the wall-time budget again
                continue
            for f in done:
                pid, x = futures.pop(f)
                try:
                    rec = f.result()
                except Exception as exc:  # the task itself died (worker lost repeatedly)
                    rec = {"status": "failed", "outputs": None, "attempts": 1, "run_dir": "",
                           "started": time.time(), "finished": time.time(),
                           "errors": [{"stage": "dask", "class": type(exc).__name__, "message": str(exc)[:500]}]}
                if rec["status"] == "done" and rec["outputs"]:
                    rec["outputs"] = with_objectives(rec["outputs"], opt)
                if camp.meta.adapt_exploration and rec["status"] == "done" and screen is None:
                    _calibrate(opt, x, rec, z2_history, camp.meta.window, ledger, echo)
                for d in rec.get("decisions", []):
                    ledger.log("meta", f"candidate {pid}: {d}")
                _tell(opt, x, rec)
                ledger.record(pid, rec["status"], rec["outputs"], rec["errors"], rec["attempts"],
                              rec["run_dir"], rec["started"], rec["finished"],
                              rec.get("where", {}), opt.to_json())
                c = ledger.counts()
                n = c["done"] + c["failed"]
                bar.finished(n)
                last_progress = 0.0          # show the evaluations still in flight at once
                o = rec["outputs"] or {}
                echo(f"[{n}/{budget}] candidate {pid} {rec['status']}"
                     + (f": {o.get('formula')} " + ", ".join(
                         f"{k}={'n/a' if v is None else format(v, '.3g')}"
                         for k, v in _shown(o, opt))
                        if rec["status"] == "done" else
                        f": {rec['errors'][-1]['class'] if rec['errors'] else ''}"))
    finally:
        for f in futures:
            f.cancel()
        bar.close()
    return stop_reason
