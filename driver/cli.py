"""The ``sse-driver`` command line.

User mistakes (bad flag, bad config, bad composition) print one line on stderr and exit 2;
nothing is written half-way. Heavy imports (LAMMPS, DOLFINx, Dask) happen inside the
subcommands so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .errors import UserError


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
        print(f"{args.file}: valid")
    else:
        sys.stdout.write(config.dump_yaml(settings))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    """The default job until the campaign lands: the doctor, written to OUT."""
    out = Path(args.out)
    print(f"sse-driver demo: preflight; results go to {out}/")
    rc = _cmd_doctor(argparse.Namespace(ranks=2, json=False, out=str(out)))
    print(f"wrote {out / 'doctor.json'}")
    return rc


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
    d.add_argument("--ranks", type=int, default=2, help="ranks for the MPI runs (default 2)")
    d.add_argument("--out", help="also write OUT/doctor.json")
    d.set_defaults(func=_cmd_doctor)

    c = sub.add_parser("config", help="show or validate a configuration",
                       description="Resolve defaults <- FILE <- SSE_DRIVER_* environment and "
                       "print the result as YAML (show), or only validate it (validate).")
    c.add_argument("action", choices=["show", "validate"])
    c.add_argument("file", nargs="?", help="YAML config file")
    c.set_defaults(func=_cmd_config)

    m = sub.add_parser("demo", help="the embedded default job (what `make demo` runs)",
                       description="Run the embedded default job and write its outputs to OUT.")
    m.add_argument("--out", default="runs/demo", help="output folder (default runs/demo)")
    m.set_defaults(func=_cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "validate" and not args.file:
        sys.stderr.write("sse-driver config: error: validate needs a FILE\n")
        return 2
    try:
        return args.func(args)
    except UserError as exc:
        sys.stderr.write(f"sse-driver {args.command}: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
