"""The ``sse-driver`` command line.

User mistakes (bad flag, bad config, bad composition) print one line on stderr and exit 2;
nothing is written half-way. Heavy imports (LAMMPS, DOLFINx, Dask) happen inside the
subcommands so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .cliargs import (SQLITE_MAX, existing_dir, finite, int_in, local_processes,
                      number, out_dir, positive_int, row_id, scheduler)
from .resources import cores
from .errors import SSEError, UserError


_PRINTING_RANK = 0   # under dask-mpi the campaign (and its messages) live on rank 1


def _is_root() -> bool:
    """True on the rank that prints (errors and summaries print once)."""
    mpi = sys.modules.get("driver.mpi")
    if mpi is not None:
        return mpi.MPI.COMM_WORLD.rank == _PRINTING_RANK
    rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK") or "0"
    return rank == "0"   # before MPI is loaded: the launcher's rank


#: What each command writes first into its --out: a folder holding one of them is the
#: command's own (a finished or interrupted run); any other non-empty folder is the user's.
OWN_FILES = {"md": ("result.json", "relax", "replica1", "structure.cif"),
             "phasefield": ("result.json", "history.csv", "fields.xdmf", "fields.bp")}


def _refuse_existing(result: Path, force: bool, command: str = "md") -> None:
    """Refuse to overwrite a result, or to write into a non-empty folder of the user's,
    unless --force."""
    if force:
        return
    if result.exists():
        raise UserError(f"{result} exists; choose another --out or pass --force")
    out = result.parent
    if out.is_dir() and any(out.iterdir()) and not any((out / n).exists()
                                                       for n in OWN_FILES[command]):
        raise UserError(f"--out {out} is not empty and holds no sse-driver {command} run; "
                        "choose a new or empty folder, or pass --force")


def _require_ledger(directory: str) -> None:
    from .campaign.ledger import Ledger
    if not Ledger.exists_in(directory):
        raise UserError(f"{directory}: no campaign ledger here (ledger.sqlite)")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from . import doctor
    from .fileio import atomic_write_json

    checks = doctor.run_all(ranks=args.ranks)
    print(doctor.to_json(checks) if args.json else doctor.table(checks))
    ok = all(c.ok for c in checks)
    if args.out:
        atomic_write_json(Path(args.out) / "doctor.json",
                          {"ok": ok, "checks": [c.__dict__ for c in checks]})
    if not args.json:
        print("doctor: all checks passed" if ok else
              "doctor: some checks FAILED; each says how to fix it")
    return 0 if ok else 1


def _load_settings(path: str | None):
    from . import config
    from .schema import Settings

    return config.load(Settings, path)


def _cmd_config(args: argparse.Namespace) -> int:
    from . import config

    settings = _load_settings(args.file)
    if args.action == "validate":
        from .campaign.loop import load_checked

        _, screen = load_checked(args.file, settings)
        print(f"{args.file}: valid" + (f" (screening {len(screen)} candidates)" if screen else ""))
    else:
        sys.stdout.write(config.dump_yaml(settings))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """The embedded default job: the preflight, then the default campaign
    (driver/default_campaign.yaml), both written to OUT. Run again, it resumes."""
    from .campaign.ledger import Ledger
    from .campaign.loop import run_campaign

    out = Path(args.out)
    print(f"sse-driver demo: results go to {out}/\n== preflight ==", flush=True)
    rc = _cmd_doctor(argparse.Namespace(ranks=2, json=False, out=str(out)))
    if rc != 0:
        return rc
    cfg = Path(__file__).with_name("default_campaign.yaml")
    camp = out / "campaign"
    resume = Ledger.exists_in(camp)
    print(f"\n== default campaign ({cfg.name}): Ta content of Li(7-y)La3Zr(2-y)Ta(y)O12 ==",
          flush=True)
    run_campaign(None if resume else str(cfg), camp, resume=resume,
                 echo=lambda m: print(m, flush=True))
    print(f"\ndemo done: {out / 'doctor.json'}; campaign in {camp}/: report.html, results.csv, "
          f"ledger.sqlite, runs/ (every LAMMPS deck, log and phase-field field)")
    return 0


def _cmd_md(args: argparse.Namespace) -> int:
    from . import config
    from .md.command import run
    from .md.workflow import RESULT
    from .schema import Settings

    over = {k: v for k, v in {
        "temperatures_k": args.temperatures, "supercell": args.supercell,
        "equil_ps": args.equil_ps, "prod_ps": args.prod_ps, "timestep_fs": args.timestep_fs,
        "potential": args.potential, "seed": args.seed}.items() if v is not None}
    settings = config.load(Settings, args.config, overrides={"md": over}).md
    out = Path(args.out)
    _refuse_existing(out / RESULT, args.force, "md")
    return run(settings, out, composition=args.composition, cif=args.cif,
               reuse=[Path(r) for r in args.reuse], candidate=args.candidate)


def _cmd_phasefield(args: argparse.Namespace) -> int:
    from . import config
    from .phasefield.command import run
    from .phasefield.workflow import RESULT
    from .schema import Settings

    settings = config.load(Settings, args.config).phasefield
    out = Path(args.out)
    _refuse_existing(out / RESULT, args.force, "phasefield")
    return run(settings, out)


def _cmd_run(args: argparse.Namespace) -> int:
    from . import config
    from .campaign.cluster import backend
    from .campaign.loop import run_campaign
    from .schema import Settings

    if not args.config and not args.resume:
        raise UserError("give a CONFIG to start a campaign, or --resume DIR to continue one")
    out = args.resume or args.out
    if not out:
        raise UserError("give --out DIR for a new campaign")
    path = args.config or Path(out) / "config.yaml"
    if Path(path).exists():   # otherwise run_campaign names the problem
        s = config.load(Settings, path)
        if backend(s, args.scheduler) == "mpi":
            return _run_under_dask_mpi(args, out, s)
    run_campaign(args.config, out, resume=bool(args.resume), scheduler=args.scheduler,
                 n_workers=args.workers, echo=lambda m: print(m, flush=True))
    return 0


def _run_under_dask_mpi(args: argparse.Namespace, out: str, s) -> int:
    return _under_dask_mpi(s, lambda: run_campaign_cli(args, out))


def run_campaign_cli(args: argparse.Namespace, out: str) -> None:
    from .campaign.loop import run_campaign

    run_campaign(args.config, out, resume=bool(args.resume), echo=lambda m: print(m, flush=True))


def _under_dask_mpi(s, client_fn) -> int:
    """``mpirun -n N sse-driver run|validate``: rank 0 schedules, rank 1 runs ``client_fn``
    (the campaign), the rest are workers (dask-mpi). Each worker runs one task at a time; a
    task's own MPI stages are started by this environment's mpirun with the launcher's
    variables removed."""
    global _PRINTING_RANK
    from . import mpi  # noqa: F401  (mpi4py first, the environment's libmpi)
    from .campaign.cluster import loopback

    size = mpi.MPI.COMM_WORLD.size
    if size < 3:
        raise UserError(f"dask-mpi needs mpirun -n N with N >= 3 (scheduler, campaign, >= 1 "
                        f"worker), got {size}; or set dask.backend: local")
    import dask_mpi
    from dask_mpi.execute import send_close_signal

    iface = s.dask.interface or ("lo" if loopback(s.dask.host) else None)
    _PRINTING_RANK = 1
    logging.getLogger("distributed").setLevel(logging.WARNING)   # as quiet as a LocalCluster
    is_client = dask_mpi.initialize(
        interface=iface, nthreads=1, dashboard_address=s.dask.dashboard_address,
        memory_limit="auto", worker_options={"resources": {"MPI": s.md.ranks}},
        exit=False)
    if not is_client:
        return 0
    try:
        client_fn()
    finally:
        send_close_signal()
    return 0


def _cmd_screen(args: argparse.Namespace) -> int:
    """Screen a list: a campaign over exactly the listed candidates (campaign.candidates)."""
    from . import config
    from .campaign.ledger import Ledger
    from .campaign.loop import run_campaign
    from .schema import Settings

    from .campaign.screening import read_list

    cands = read_list(Path(args.list))
    over = {"campaign": {"candidates": cands}}
    if args.potential:
        over["md"] = {"potential": args.potential}
    s = config.load(Settings, args.config, overrides=over)
    if s.campaign.candidates is not None and args.config and \
            (config.read_yaml(args.config).get("campaign") or {}).get("candidates"):
        raise UserError(f"{args.config} has campaign.candidates too; give the list in one place")
    if Ledger.exists_in(args.out):
        raise UserError(f"{args.out} already holds a campaign; continue it with "
                        f"`sse-driver run --resume {args.out}` or choose another --out")
    run_campaign(None, args.out, scheduler=args.scheduler, n_workers=args.workers,
                 echo=lambda m: print(m, flush=True), settings=s)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from . import config
    from .campaign.cluster import backend
    from .schema import Settings
    from .validation.run import run_validation

    out = args.out or f"runs/validate-{args.preset}"

    def go() -> None:
        run_validation(out, args.set, args.preset, args.config, args.only, args.limit,
                       args.scheduler, args.workers, echo=lambda m: print(m, flush=True),
                       potential=args.potential, score_only=args.score_only)

    s = config.load(Settings, args.config)
    if args.score_only:           # reads the ledger only: no workers, no MPI
        go()
        return 0
    if backend(s, args.scheduler) == "mpi":
        return _under_dask_mpi(s, go)
    go()
    return 0


def _cmd_distil(args: argparse.Namespace) -> int:
    from .distil.command import main as distil_main
    return distil_main(args.composition, args.out, args.name, args.teacher, args.preset,
                       args.config, args.generations, args.scheduler, args.workers,
                       echo=lambda m: print(m, flush=True), family=args.family,
                       data=args.data)


def _cmd_cluster(args: argparse.Namespace) -> int:
    """Print the batch script a worker job will run; nothing is started or submitted."""
    from . import config
    from .campaign.cluster import job_script
    from .schema import Settings

    s = config.load(Settings, args.config)
    print(job_script(s, Path(args.out).resolve() if args.out else None), end="")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from .campaign.report import status

    _require_ledger(args.dir)
    print(status(args.dir))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .campaign.report import write_report

    _require_ledger(args.dir)
    print(f"wrote {write_report(args.dir)} and {Path(args.dir) / 'results.csv'}")
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    """List candidates; accept, veto (a constraint on future proposals) or rate them.
    Writes through the ledger's own transactions, so it is safe on a running campaign."""
    from .campaign import review

    acts = [a for a in ("accept", "veto", "rate") if getattr(args, a) is not None]
    if len(acts) > 1:
        raise UserError("review: give one of --accept, --veto, --rate at a time")
    if acts:                      # every flag checked before the ledger is opened
        act = acts[0]
        pid = getattr(args, act) if act != "rate" else number(args.rate[0], int, "review --rate ID")
        if not 1 <= pid <= SQLITE_MAX:
            raise UserError(f"review --{act} ID: {pid} is not a candidate id (see `sse-driver "
                            f"review {args.dir}`)")
        if act == "rate":
            value = number(args.rate[1], float, "review --rate ID VALUE: VALUE")
            if not 0 <= value <= 5:
                raise UserError("review --rate ID VALUE: VALUE must be between 0 and 5")
    _require_ledger(args.dir)
    if not acts:
        review.show(args.dir)
        return 0
    if act == "veto" and not 0 < args.radius <= 1:
        raise UserError("review --radius must be in (0, 1] (unit-scaled distance)")
    review.record(args.dir, pid, act, value if act == "rate" else None, args.radius,
                  args.note or "")
    return 0


def _cmd_kb(args: argparse.Namespace) -> int:
    from .kb import command

    if args.action == "check":
        return command.check(args.formula, args.potential)
    path = Path(args.db or Path.home() / ".local/share/sse-driver/kb.sqlite")
    if args.action == "ingest":
        return command.ingest(path, list(args.files or []), args.obelix, args.show_rejects)
    return command.query(path, near=args.near, family=args.family, elements=args.elements,
                         sigma_min=args.sigma_min, sigma_max=args.sigma_max, limit=args.limit,
                         as_json=args.json)


def _execution_args(p: argparse.ArgumentParser) -> None:
    """Where a campaign's tasks run (run, screen, validate)."""
    p.add_argument("--scheduler", type=scheduler, help="address of an existing Dask scheduler "
                   "to use (tcp://HOST:PORT)")
    p.add_argument("--workers", type=local_processes,
                   help="LocalCluster workers (default cores // md.ranks; at most the cores)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sse-driver", description=(
        "Closed-loop discovery of solid-state electrolytes: LAMMPS MD, DOLFINx phase "
        "field and Gaussian-process batch proposals, distributed with Dask."))
    p.add_argument("--version", action="version", version=f"sse-driver {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser,
                           metavar="COMMAND")

    d = sub.add_parser("doctor", help="preflight: Python, MPI, LAMMPS, DOLFINx, Dask",
                       description="Check the stack on this machine or in this container: "
                       "one libmpi shared by mpi4py, LAMMPS and PETSc, the matching mpirun, "
                       "LAMMPS styles the potentials need, tiny LAMMPS and DOLFINx runs "
                       "serially and under mpirun, and a Dask dashboard on localhost. "
                       "Exit 0 only when everything passes.")
    d.add_argument("--json", action="store_true", help="print JSON instead of a table")
    d.add_argument("--ranks", type=local_processes, default=min(2, cores()),
                   help="ranks for the MPI runs (default 2; at most the cores)")
    d.add_argument("--out", type=out_dir, help="also write OUT/doctor.json")
    d.set_defaults(func=_cmd_doctor)

    c = sub.add_parser("config", help="show or validate a configuration",
                       description="Resolve defaults <- FILE <- SSE_DRIVER_* environment and "
                       "print the result as YAML (show), or only validate it (validate).")
    c.add_argument("action", choices=["show", "validate"])
    c.add_argument("file", nargs="?", help="YAML config file")
    c.set_defaults(func=_cmd_config)

    md = sub.add_parser("md", help="LAMMPS MD of one composition: D, sigma, Ea, RDF, moduli",
                        description="Build the structure, relax it, compute 0 K elastic "
                        "constants, run NPT then NVT at each temperature, and write DIR/result.json "
                        "(keys documented in docs/md.md) with MSD and Arrhenius plots. Runs under "
                        "mpirun -n K too (all ranks run LAMMPS together).")
    src = md.add_mutually_exclusive_group(required=True)
    src.add_argument("--composition", help="e.g. 'Li1.5Al0.5Ge1.5(PO4)3' or 'Li6.4La3Zr1.4Ta0.6O12'")
    src.add_argument("--cif", help="an ordered CIF file")
    src.add_argument("--candidate", metavar="FILE", help="a candidate file (JSON: family, "
                     "variables, species, formula), as a campaign hands one to this stage")
    md.add_argument("--config", help="YAML settings file (md: section); flags override it")
    md.add_argument("--temperatures", type=float, nargs="+", metavar="T", help="kelvin")
    md.add_argument("--supercell", type=positive_int, nargs=3, metavar=("A", "B", "C"))
    md.add_argument("--equil-ps", type=float, help="NPT equilibration per temperature (ps)")
    md.add_argument("--prod-ps", type=float, help="NVT production per temperature (ps)")
    md.add_argument("--timestep-fs", type=float)
    md.add_argument("--potential", help="name in potentials/ (default pedone2006)")
    md.add_argument("--seed", type=int_in(1, 2**31 - 1), help="decoration and velocity seed")
    md.add_argument("--out", type=out_dir, required=True, help="run directory")
    md.add_argument("--force", action="store_true", help="overwrite an existing result")
    md.add_argument("--reuse", type=existing_dir, nargs="+", metavar="DIR", default=[],
                    help="earlier --out folders of the same run (e.g. a killed one): their "
                    "finished relax, elastic and temperature runs with byte-identical inputs "
                    "are copied instead of run again (docs/md.md)")
    md.set_defaults(func=_cmd_md)

    pf = sub.add_parser("phasefield", help="DOLFINx Cahn-Hilliard run with stability metrics",
                        description="Solve the Cahn-Hilliard (+ reaction) model of the "
                        "'phasefield:' section of CONFIG (dimensionless, or the physical "
                        "'degradation' model) and write DIR/result.json, history.csv and "
                        "XDMF fields (docs/phasefield.md). Runs under mpirun -n K too.")
    pf.add_argument("config", help="YAML file with a phasefield: section")
    pf.add_argument("--out", type=out_dir, required=True, help="run directory")
    pf.add_argument("--force", action="store_true", help="overwrite an existing result")
    pf.set_defaults(func=_cmd_phasefield)

    r = sub.add_parser("run", help="run (or --resume) a closed-loop campaign on Dask",
                       description="Closed loop: propose compositions, evaluate each (MD, then "
                       "phase field) as Dask tasks, record every finished evaluation in "
                       "DIR/ledger.sqlite, refit the GPs, propose more, until the budget is spent; "
                       "then write DIR/report.html (docs/campaign.md).")
    r.add_argument("config", nargs="?", help="campaign YAML (campaign:, md:, phasefield:, dask:)")
    r.add_argument("--out", type=out_dir, help="campaign directory (new)")
    r.add_argument("--resume", metavar="DIR", help="continue the campaign in DIR after a stop or kill")
    _execution_args(r)
    r.set_defaults(func=_cmd_run)

    cl = sub.add_parser("cluster", help="show the batch script of Slurm/PBS worker jobs",
                        description="script: print the job script dask-jobqueue will submit for "
                        "each batch job of Dask workers (dask.backend: slurm or pbs), before "
                        "anything is submitted. The scheduler address is filled in at run time.")
    cl.add_argument("action", choices=["script"])
    cl.add_argument("config", help="campaign YAML with dask.backend: slurm or pbs")
    cl.add_argument("--out", type=out_dir, help="campaign directory (job logs go to OUT/dask-jobs)")
    cl.set_defaults(func=_cmd_cluster)

    st = sub.add_parser("status", help="done / running / failed and the best so far",
                        description="Summarize a campaign from its ledger (read-only).")
    st.add_argument("dir")
    st.set_defaults(func=_cmd_status)

    rp = sub.add_parser("report", help="write DIR/report.html and DIR/results.csv",
                        description="HTML report (best so far, Pareto front, Arrhenius plots, "
                        "surrogate over the space) and a CSV of all results, from the ledger.")
    rp.add_argument("dir")
    rp.set_defaults(func=_cmd_report)

    rv = sub.add_parser("review", help="list, accept, veto or rate campaign candidates",
                        description="Expert review between batches of a running or stopped campaign: "
                        "without an action, list the candidates; --accept ID, --veto ID (excludes a "
                        "region around it from future proposals), --rate ID VALUE (0-5, stored).")
    rv.add_argument("dir")
    rv.add_argument("--accept", type=row_id, metavar="ID")
    rv.add_argument("--veto", type=row_id, metavar="ID")
    rv.add_argument("--rate", nargs=2, metavar=("ID", "VALUE"))
    rv.add_argument("--radius", type=finite, default=0.1, help="veto radius in unit-scaled space (default 0.1)")
    rv.add_argument("--note", help="why")
    rv.set_defaults(func=_cmd_review)

    kb = sub.add_parser("kb", help="known-materials knowledge base: ingest, query, check",
                        description="ingest: tables (csv, xlsx), CIFs, tables in text PDFs into a SQLite "
                        "knowledge base (--obelix adds the shipped OBELiX table, CC BY 4.0); query: by "
                        "family, elements, conductivity range, or nearest known neighbours of a "
                        "formula (--near); check: the logic-consistency checks of a formula.")
    kb.add_argument("action", choices=["ingest", "query", "check"])
    kb.add_argument("files", nargs="*", help="ingest: files; check: the formula")
    kb.add_argument("--db", help="knowledge base file (default ~/.local/share/sse-driver/kb.sqlite)")
    kb.add_argument("--obelix", action="store_true", help="ingest: include the shipped OBELiX table")
    kb.add_argument("--show-rejects", type=int_in(0, 100_000), default=20, metavar="N",
                    help="ingest: list the last N rejects")
    kb.add_argument("--family")
    kb.add_argument("--elements", help="comma-separated, all must be present")
    kb.add_argument("--sigma-min", type=finite)
    kb.add_argument("--sigma-max", type=finite)
    kb.add_argument("--near", metavar="FORMULA", help="nearest known materials (novelty)")
    kb.add_argument("--limit", type=positive_int, default=10)
    kb.add_argument("--json", action="store_true")
    kb.add_argument("--potential", help="check: potential for coverage (default: the first "
                    "shipped potential that covers the formula)")
    kb.set_defaults(func=_cmd_kb)

    sc = sub.add_parser("screen", help="evaluate a given list of compositions (a screening campaign)",
                        description="High-throughput screening: every candidate of LIST (one per "
                        "line: FORMULA or FILE.cif, optionally a potential name and a label) is "
                        "evaluated like a campaign's proposals (Dask, ledger, retries, report) "
                        "instead of optimizer proposals. Resume with `sse-driver run --resume DIR`. "
                        "Same as a config with campaign.candidates (docs/campaign.md).")
    sc.add_argument("list", help="text file: FORMULA|FILE.cif [POTENTIAL] [LABEL] per line")
    sc.add_argument("--out", type=out_dir, required=True, help="campaign directory (new)")
    sc.add_argument("--config", help="campaign YAML for md:, phasefield:, dask: and objectives")
    sc.add_argument("--potential", help="md.potential for entries that name none")
    _execution_args(sc)
    sc.set_defaults(func=_cmd_screen)

    va = sub.add_parser("validate", help="score predicted sigma(300 K) against experiment",
                        description="Run a validation set of known electrolytes (default: the "
                        "OBELiX oxides the shipped potentials cover, driver/validation/"
                        "oxides_obelix.yaml) through the screening campaign with an MD preset, and "
                        "score sigma(300 K) against experiment: Spearman and Kendall with bootstrap "
                        "95 %% intervals, log10 MAE and bias, 95 %% interval coverage, per family; "
                        "OUT/validation.html, validation.json, parity.png (docs/validation.md). "
                        "Run the same command again to resume after a stop.")
    va.add_argument("--out", type=out_dir, help="output folder (default runs/validate-PRESET)")
    va.add_argument("--set", help="validation set YAML (default: the shipped OBELiX oxides)")
    va.add_argument("--preset", choices=["smoke", "screening", "production"], default="screening",
                    help="md.preset of the runs (default screening)")
    va.add_argument("--config", help="campaign YAML for dask:, md.ranks and other settings")
    va.add_argument("--only", nargs="+", metavar="LABEL", help="only these entries")
    va.add_argument("--potential", help="one force field (name in potentials/) for every "
                    "composition it covers, instead of each entry's own: to score force fields "
                    "side by side (the others are listed and left out)")
    va.add_argument("--limit", type=int_in(1, 100_000), help="only the first N entries")
    va.add_argument("--score-only", action="store_true",
                    help="run nothing: score what the run in --out has evaluated so far (it may "
                    "still be running; give the same --preset, --config, --only, --limit and "
                    "--potential); the outputs name the compositions still pending, and a "
                    "family with pending ones gets no skill record")
    _execution_args(va)
    va.set_defaults(func=_cmd_validate)

    di = sub.add_parser("distil", help="distil an ML teacher into a fast LAMMPS-native student",
                        description="Fit a linear POD (or SNAP) student on a ZBL core to the labels of an "
                        "ML teacher (default sevennet0) by active learning over the given "
                        "compositions: rattled and strained cells, then the student's own hot MD, "
                        "the teacher labelling what a committee of fits disagrees on. The student "
                        "is checked on configurations it never saw (forces, energy, stress), for "
                        "stability, NVE drift, its relaxed lattice and (last, the costly part) "
                        "its Li D* against the teacher's own MD, and written as OUT/NAME.yaml "
                        "only when it passes (exit 1 and the reasons otherwise). Run the same "
                        "command again to resume. docs/distil.md")
    di.add_argument("--composition", nargs="+", metavar="FORMULA",
                    help="compositions the student must cover (or distil.compositions in --config)")
    di.add_argument("--family", help="add the family's compositions at the corners of its default "
                    "box (with its default species): what a campaign over that box reaches")
    di.add_argument("--out", type=out_dir, required=True, help="output folder (new, or a "
                    "distillation to resume)")
    di.add_argument("--name", help="the student's name (default pod_FORMULA or snap_FORMULA)")
    di.add_argument("--teacher", help="teacher potential (default sevennet0; an ML potential)")
    di.add_argument("--preset", choices=["tiny", "standard"], default="standard",
                    help="recipe (driver/distil/settings.py): tiny for tests, standard for use")
    di.add_argument("--config", help="YAML with a distil: section (and dask:)")
    di.add_argument("--generations", type=int_in(0, 50), help="most active-learning generations")
    di.add_argument("--data", action="append", metavar="EXTXYZ",
                    help="labelled frames of the same teacher from an earlier distillation (its "
                    "NAME.extxyz or data/*/labelled_*.extxyz), added to generation 0; repeat "
                    "for several files (or distil.seed_data in --config)")
    _execution_args(di)
    di.set_defaults(func=_cmd_distil)

    m = sub.add_parser("demo", help="the embedded default job (what `make demo` runs)",
                       description="Run the embedded default job and write its outputs to OUT.")
    m.add_argument("--out", type=out_dir, default="runs/demo", help="output folder (default runs/demo)")
    m.set_defaults(func=_cmd_demo)
    return p


def _write_error(out: str | None, exc: SSEError) -> None:
    """The failed stage's typed record (errors.record) as OUT/error.json, where the run's
    folder exists: the campaign reads the class and its retry policy from it, not from the
    text on stderr."""
    from .errors import ERROR_FILE, record
    from .fileio import atomic_write_json
    if out and Path(out).is_dir():
        try:
            atomic_write_json(Path(out) / ERROR_FILE, record(exc))
        except OSError:
            pass                    # the message on stderr still says what failed


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "kb" and not any(e.startswith("-") for e in extra):
        args.files = [*args.files, *extra]    # `kb ingest --db X FILE...`: files after options
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "action", None) == "validate" and not args.file:
        sys.stderr.write("sse-driver config: error: validate needs a FILE\n")
        return 2
    if args.command == "kb" and args.action == "check":
        if len(args.files) != 1:
            sys.stderr.write("sse-driver kb: error: check needs exactly one FORMULA\n")
            return 2
        args.formula = args.files[0]
    try:
        if os.environ.get("SSE_DRIVER_HOME"):     # a user setting: checked before any command
            from .resources import data_dir
            data_dir("potentials"), data_dir("templates")
        return args.func(args)
    except UserError as exc:
        if _is_root():  # one line, not one per rank
            sys.stderr.write(f"sse-driver {args.command}: error: {exc}\n")
        return exc.exit_code
    except SSEError as exc:  # a run failed (LAMMPS error, timeout): not the user's input
        if _is_root():
            _write_error(getattr(args, "out", None), exc)
            sys.stderr.write(f"sse-driver {args.command}: {type(exc).__name__}: {exc}\n")
            tail = getattr(exc, "log_tail", "")
            if tail:
                sys.stderr.write("--- last lines of log.lammps ---\n" + tail + "\n")
        return 3
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
