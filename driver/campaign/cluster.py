"""Where a campaign's tasks run, built from the ``dask:`` section of the config.

Kept apart from the loop (as jobflow keeps execution backends apart from flows): the loop
only sees a ``Client``, how many tasks may run at once, and the resource tag to put on each.

- ``local``: a LocalCluster of ``cores // md.ranks`` single-threaded worker processes;
- an existing scheduler (``--scheduler`` or ``dask.scheduler_address``);
- ``mpi``: dask-mpi, when ``sse-driver run`` is itself started by ``mpirun -n N``: rank 0
  is the scheduler, rank 1 runs the campaign, ranks 2.. are workers;
- ``slurm`` / ``pbs``: dask-jobqueue, workers in batch jobs; ``job_script`` shows the script
  before anything is submitted.

Every worker carries the resource ``MPI = md.ranks`` and every task asks for it, so a
worker never runs two MPI stages at once.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import ConfigError
from ..resources import cores as local_cores
from ..schema import Settings

JOBQUEUE = ("slurm", "pbs")

#: glibc malloc settings of every worker process. Dask's nanny sets
#: ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers (``distributed.nanny.pre-spawn-environ``,
#: to hand freed memory back to the system), and setting any of these turns off glibc's
#: dynamic mmap threshold, so every block above 128 kB is mapped and unmapped anew: the
#: teacher's tensors (PyTorch, a few MB per step) then cost a page fault per page per step.
#: Measured (2026-12-07, 52-atom Li6PS5Cl, sevennet0 through LAMMPS, one Dask worker, a
#: 2-core machine at load 4.5; bench/worker_malloc.py, docs/benchmarks.md): 2.39 s per MD
#: step (0.71 s of it in the kernel, 275k page faults) with Dask's setting, 0.95 s (0.006 s,
#: 419 faults) with these: 2.5x.
#: The mmap threshold is glibc's largest (32 MiB on 64-bit, mallopt(3)); the trim threshold
#: still returns a free top of heap above 256 MiB. A value the user exported before the
#: run wins.
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": 268435456, "MALLOC_MMAP_THRESHOLD_": 33554432}
#: what the user exported, read before any nanny ran in this process (a nanny writes its
#: pre-spawn values into its own process's environment, and the next nanny reads the
#: environment before its config: Dask's 65536 would then come back)
_EXPORTED = {k: os.environ.get(k) for k in WORKER_MALLOC}


@contextmanager
def worker_malloc() -> Iterator[None]:
    """Workers spawned by a nanny in this context get ``WORKER_MALLOC`` (or what the user
    exported)."""
    import dask

    env = {k: _EXPORTED[k] if _EXPORTED[k] is not None else str(v)
           for k, v in WORKER_MALLOC.items()}
    os.environ.update(env)
    key = "distributed.nanny.pre-spawn-environ"
    with dask.config.set({key: {**dask.config.get(key, {}), **env}}):
        yield


def mpi_world_size() -> int:
    """World size announced by an MPI launcher in the environment (1 when not launched).

    Read from the launcher's variables (MPICH/Intel MPI hydra: PMI_SIZE; Open MPI:
    OMPI_COMM_WORLD_SIZE) so that a plain ``sse-driver run`` never initializes MPI."""
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        v = os.environ.get(var, "")
        if v.isdigit():
            return int(v)
    return 1


def backend(s: Settings, scheduler: str | None = None) -> str:
    """The backend a run uses: an explicit scheduler wins, then the config, then auto."""
    if scheduler or s.dask.scheduler_address:
        return "scheduler"
    if s.dask.backend == "auto":
        return "mpi" if mpi_world_size() > 1 else "local"
    return s.dask.backend


def loopback(host: str) -> bool:
    """A bind address only this machine can reach."""
    return host in ("localhost", "::1") or host.startswith("127.")


def check_local_ranks(s: Settings) -> int:
    """This machine's cores; ConfigError when one local task would oversubscribe them."""
    cores = local_cores()
    if s.md.ranks > cores:
        raise ConfigError(f"md.ranks {s.md.ranks} is more than the {cores} cores of this "
                          "machine (dask.backend local); lower md.ranks or run on a cluster "
                          "backend (dask.backend slurm, pbs or mpi)")
    return cores


#: A command that asks the batch system's controller something harmless.
_QUERY = {"slurm": ["squeue", "-h", "-o", "%i", "-u"], "pbs": ["qstat", "-u"]}


def check_batch_system(kind: str) -> None:
    """ConfigError unless this machine can talk to the batch system ``kind``.

    dask-jobqueue submits asynchronously: when ``sbatch`` cannot reach a controller it only
    logs the failure, and the campaign then waits for workers that never come. One query
    first turns that into a one-line error before anything is submitted.
    """
    import getpass
    import subprocess

    cmd = _QUERY[kind] + [getpass.getuser()]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ConfigError(f"dask.backend is {kind} but `{cmd[0]}` is not on PATH: run from a "
                          f"{kind} login node, or choose dask.backend local") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"dask.backend is {kind} but `{' '.join(cmd)}` did not answer in "
                          "60 s: is the controller up?") from None
    if r.returncode != 0:
        why = next((l for l in r.stderr.splitlines() if l.strip()), f"exit {r.returncode}")
        raise ConfigError(f"dask.backend is {kind} but `{' '.join(cmd)}` failed ({why.strip()}); "
                          f"run from a {kind} login node, or choose dask.backend local")


def job_kwargs(s: Settings, out: str | Path | None = None) -> dict[str, Any]:
    """dask-jobqueue keyword arguments for one batch job of workers (pure: no side effects)."""
    jq = s.dask.jobqueue
    ranks = s.md.ranks
    cores = jq.processes * ranks * jq.omp_threads
    log_dir = jq.log_directory or (str(Path(out) / "dask-jobs") if out else None)
    kw: dict[str, Any] = {
        "cores": cores,
        "processes": jq.processes,
        "memory": jq.memory,
        "walltime": jq.walltime,
        "job_name": "sse-worker",
        "death_timeout": jq.death_timeout_s,
        # one task at a time per worker: the task's MPI ranks take the worker's cores
        "worker_extra_args": ["--resources", f"MPI={ranks}"],
        "job_script_prologue": [f"export OMP_NUM_THREADS={jq.omp_threads}",
                                *(f"export {k}={v}" for k, v in WORKER_MALLOC.items()),
                                *jq.job_script_prologue],
        "job_extra_directives": list(jq.job_extra_directives),
    }
    for key, val in (("account", jq.account), ("queue", jq.queue),
                     ("local_directory", jq.local_directory), ("log_directory", log_dir),
                     ("interface", s.dask.interface)):
        if val is not None:
            kw[key] = val
    return kw


def _job_class(name: str):
    if name == "slurm":
        from dask_jobqueue.slurm import SLURMJob
        return SLURMJob
    from dask_jobqueue.pbs import PBSJob
    return PBSJob


def _cluster_class(name: str):
    if name == "slurm":
        from dask_jobqueue import SLURMCluster
        return SLURMCluster
    from dask_jobqueue import PBSCluster
    return PBSCluster


def job_script(s: Settings, out: str | Path | None = None,
               scheduler_address: str = "tcp://SCHEDULER:PORT") -> str:
    """The batch script each worker job will run, without starting or submitting anything.

    The scheduler address is only known once the campaign starts it, hence the placeholder."""
    name = s.dask.backend
    if name not in JOBQUEUE:
        raise ConfigError(f"dask.backend is {name!r}: batch scripts exist for slurm or pbs; "
                          "set dask.backend: slurm (or pbs) in the config")
    kw = job_kwargs(s, out)
    log_dir = kw.pop("log_directory", None)
    # dask-jobqueue creates the log directory when it builds a job; render with a stand-in
    # so that showing the script writes nothing
    with tempfile.TemporaryDirectory() as stand_in:
        script = _job_class(name)(scheduler=scheduler_address, name="sse-worker",
                                  log_directory=stand_in if log_dir else None, **kw).job_script()
    return script.replace(stand_in, log_dir) if log_dir else script


@contextmanager
def _quiet_startup():
    """Dask's own start-up chatter (a busy dashboard port moved elsewhere, 'Cluster closed
    without starting up') off the console: a failure is reported once, by us, in one line;
    the dashboard's real address is printed with the run."""
    import logging
    import warnings

    log = logging.getLogger("distributed")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        log.setLevel(level)


def _first_line(exc: BaseException) -> str:
    """The innermost cause's first line (Dask wraps the real reason: 'Cluster failed to
    start' over an OSError naming the address)."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


@dataclass
class Execution:
    """What the loop needs: a client, how many tasks to keep in flight, the task resource."""

    client: Any
    capacity: int
    resources: dict[str, int] | None
    kind: str


@contextmanager
def execution(s: Settings, out: str | Path, scheduler: str | None = None,
              n_workers: int | None = None, echo=print) -> Iterator[Execution]:
    """Start (or join) the cluster for a campaign; close what was started on exit."""
    from dask.distributed import Client

    kind = backend(s, scheduler)
    res = {"MPI": s.md.ranks}
    cluster = None
    if kind == "scheduler":
        addr = scheduler or s.dask.scheduler_address
        try:
            client = Client(addr, timeout="30s")
        except OSError as exc:   # refused, unknown host, timed out
            raise ConfigError(f"cannot reach the Dask scheduler at {addr} ({exc}); start it "
                              "or fix --scheduler / dask.scheduler_address") from None
        n = len(client.scheduler_info().get("workers", {}))
        ex = Execution(client, max(1, n), None, kind)   # foreign workers may lack the tag
    elif kind == "mpi":
        import dask

        addr = dask.config.get("scheduler_address", None)
        if not addr:
            raise ConfigError("dask.backend is mpi but no dask-mpi scheduler is running: start "
                              "the campaign with `mpirun -n N sse-driver run CONFIG` (N >= 3)")
        try:
            client = Client(addr, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the dask-mpi scheduler at {addr} "
                              f"({_first_line(exc)}): is rank 0 up?") from None
        n = max(1, mpi_world_size() - 2)
        ex = Execution(client, n, res, kind)
    elif kind == "local":
        from dask.distributed import LocalCluster

        cores = check_local_ranks(s)
        n = n_workers or s.dask.n_workers or max(1, cores // s.md.ranks)
        if n * s.md.ranks > cores:
            raise ConfigError(f"{n} local worker(s) x md.ranks {s.md.ranks} is more than the "
                              f"{cores} cores of this machine; lower dask.n_workers / "
                              "--workers or use a cluster backend (dask.backend slurm, pbs, mpi)")
        try:
            with _quiet_startup(), worker_malloc():
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                       host=s.dask.host,
                                       dashboard_address=s.dask.dashboard_address,
                                       resources=res)
        except (RuntimeError, OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"the local Dask cluster did not start on dask.host {s.dask.host!r} "
                              f"(dashboard {s.dask.dashboard_address!r}): {_first_line(exc)}; "
                              "use an address of this machine (127.0.0.1) and a free port "
                              "(or :0)") from None
        client = Client(cluster)
        ex = Execution(client, n, res, kind)
    else:
        jq = s.dask.jobqueue
        check_batch_system(kind)
        sched = {"dashboard_address": s.dask.dashboard_address}
        if s.dask.interface is None:
            sched["host"] = s.dask.host
        kw = job_kwargs(s, out)
        Path(kw["log_directory"]).mkdir(parents=True, exist_ok=True)   # the scheduler writes job logs here
        try:
            cluster = _cluster_class(kind)(scheduler_options=sched, **kw)
        except (RuntimeError, OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"the {kind} cluster's scheduler did not start on "
                              f"{s.dask.interface or s.dask.host!r}: {_first_line(exc)}; check "
                              "dask.host / dask.interface and dask.jobqueue") from None
        if jq.adapt:
            cluster.adapt(minimum_jobs=jq.adapt.minimum_jobs, maximum_jobs=jq.adapt.maximum_jobs)
            jobs = jq.adapt.maximum_jobs
        else:
            cluster.scale(jobs=jq.jobs)
            jobs = jq.jobs
        client = Client(cluster)
        echo(f"{kind}: up to {jobs} batch job(s) of {jq.processes} worker(s); the job script is "
             f"in `sse-driver cluster script CONFIG`")
        ex = Execution(client, jobs * jq.processes, res, kind)
    try:
        yield ex
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
