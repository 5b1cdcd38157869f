"""The settings schema. Every default names its source or the reasoning behind it.

Sections are small models with ``extra="forbid"`` so a misspelt key is an error, not a
silently ignored setting. Later stages (phase field, optimizer, campaign) add sections.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from .campaign.settings import CampaignSettings
from .distil.settings import DistilSettings
from .md.settings import MD_PRESETS, MDSettings  # noqa: F401  (the root's sections, re-exported)
from .phasefield.settings import PhaseFieldSettings
from .schema_base import Strict, line_breakers


class AdaptSettings(Strict):
    """dask-jobqueue adaptive scaling bounds, in batch jobs."""

    minimum_jobs: int = Field(0, ge=0)
    maximum_jobs: PositiveInt = 4

    @model_validator(mode="after")
    def _order(self) -> "AdaptSettings":
        if self.minimum_jobs > self.maximum_jobs:
            raise ValueError("minimum_jobs must be <= maximum_jobs")
        return self




class JobQueueSettings(Strict):
    """Batch jobs that host Dask workers (backend slurm or pbs, through dask-jobqueue).

    One job holds ``processes`` workers; each worker runs one task at a time, and a task runs
    ``md.ranks`` MPI ranks x ``omp_threads`` threads, so a job asks for
    processes x md.ranks x omp_threads cores (docs/cluster.md)."""

    processes: PositiveInt = Field(1, description="Dask workers per batch job")
    omp_threads: PositiveInt = Field(1, description="OMP_NUM_THREADS of every stage")
    memory: str = Field("4GiB", description="per job, e.g. 16GiB")
    walltime: str = Field("01:00:00", description="[D-]HH:MM:SS per job")
    account: str | None = None
    queue: str | None = Field(None, description="Slurm partition or PBS queue")
    job_extra_directives: list[str] = Field([], description="extra #SBATCH / #PBS lines")
    job_script_prologue: list[str] = Field([], description="shell lines before the worker "
                                           "starts (module load ..., cd ...)")
    local_directory: str | None = Field(None, description="worker scratch (node-local disk)")
    log_directory: str | None = Field(None, description="job logs; unset = OUT/dask-jobs")
    death_timeout_s: PositiveFloat = Field(
        60.0, le=86400, description="a worker that cannot reach the scheduler this long exits "
        "(dask-jobqueue default)")
    jobs: PositiveInt = Field(1, description="batch jobs to start (when adapt is unset)")
    adapt: AdaptSettings | None = Field(None, description="scale between bounds instead")

    @field_validator("account", "queue", "local_directory", "log_directory",
                     "job_extra_directives", "job_script_prologue")
    @classmethod
    def _one_line(cls, v):
        """Each value becomes one line of a batch script: a line break or control character
        in it would start a line nobody wrote (the prologue lines are shell by design, and
        `sse-driver cluster script` shows the whole script before anything is submitted)."""
        for item in ([] if v is None else [v] if isinstance(v, str) else v):
            if line_breakers(item):
                raise ValueError(f"{item!r} holds a line break or control character; give one "
                                 "line per entry")
        return v

    @field_validator("walltime")
    @classmethod
    def _walltime(cls, v: str) -> str:
        m = re.fullmatch(r"(?:(\d{1,3})-)?(\d{1,3}):(\d{2}):(\d{2})", v.strip())
        if not m:
            raise ValueError(f"walltime {v!r} is not [D-]HH:MM:SS (e.g. 01:30:00 or 1-00:00:00)")
        d, h, mi, se = (int(x or 0) for x in m.groups())
        total = ((d * 24 + h) * 60 + mi) * 60 + se
        if mi > 59 or se > 59 or not 0 < total <= 365 * 86400:
            raise ValueError(f"walltime {v!r}: minutes and seconds run to 59 and the total "
                             "must be above zero and at most a year (e.g. 01:30:00)")
        return v

    @field_validator("account", "queue")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        """Accounts and partitions are plain names to every batch system (Slurm: letters,
        digits, _ - .); anything else would be a malformed #SBATCH/#PBS line."""
        if v is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}", v):
            raise ValueError(f"{v[:40]!r} is not a plain account or queue name (letters, "
                             "digits, _ . @ + -; at most 64)")
        return v

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str) -> str:
        from dask.utils import parse_bytes

        try:
            n = parse_bytes(v)
            if not 2**20 <= n <= 2**46:
                raise ValueError
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"memory {v!r} is not a size between 1MiB and 64TiB such as 4GiB "
                             "or 16GB") from None
        return v


class DaskSettings(Strict):
    """Where tasks run. The scheduler and dashboard bind to localhost unless asked."""

    backend: Literal["auto", "local", "mpi", "slurm", "pbs"] = Field(
        "auto", description="auto = dask-mpi when started by mpirun with > 1 rank, else a "
        "LocalCluster; slurm/pbs = workers in batch jobs (dask-jobqueue)")
    scheduler_address: str | None = Field(None, description="join an existing scheduler")
    n_workers: PositiveInt | None = Field(None, description="None = one per core")
    host: str = Field("127.0.0.1", description="scheduler/worker bind address")
    dashboard_address: str = Field("127.0.0.1:8787", description="':0' picks a free port")
    interface: str | None = Field(
        None, description="network interface of the scheduler and workers under dask-mpi or "
        "batch jobs (e.g. ib0, needed across nodes); unset = dask.host (dask-mpi: lo)")
    jobqueue: JobQueueSettings = JobQueueSettings()

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        return check_host(v)

    @field_validator("interface")
    @classmethod
    def _interface(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,32}", v):
            raise ValueError(f"interface {v!r} is not a network interface name (e.g. ib0, eth0)")
        return v

    @field_validator("scheduler_address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        return None if v is None else check_scheduler_address(v)

    @field_validator("dashboard_address")
    @classmethod
    def _dashboard(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if not sep or not port.isdigit() or int(port) > 65535 or (host and check_host(host) != host):
            raise ValueError("dashboard_address is HOST:PORT or :PORT (e.g. 127.0.0.1:8787)")
        return v


_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


def check_host(v: str) -> str:
    """An IP address or a host name (RFC 1123); ValueError naming the fix otherwise."""
    import ipaddress

    try:
        ipaddress.ip_address(v.strip("[]"))
        return v
    except ValueError:
        pass
    if len(v) <= 253 and _HOSTNAME.fullmatch(v):
        return v
    raise ValueError(f"host {v!r} is neither an IP address nor a host name (e.g. 127.0.0.1)")


def check_scheduler_address(v: str) -> str:
    """A Dask scheduler address: [tcp://|tls://]HOST:PORT; ValueError naming the fix."""
    rest = v.split("://", 1)[1] if "://" in v else v
    scheme = v.split("://", 1)[0] if "://" in v else "tcp"
    host, sep, port = rest.rpartition(":")
    ok = scheme in ("tcp", "tls") and sep and port.isdigit() and 0 < int(port) <= 65535
    try:
        ok = ok and bool(check_host(host))
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"scheduler address {v!r} is not tcp://HOST:PORT (e.g. "
                         "tcp://127.0.0.1:8786)")
    return v


class Settings(Strict):
    """The whole configuration file: one section per stage."""

    campaign: CampaignSettings = CampaignSettings()
    md: MDSettings = MDSettings()
    phasefield: PhaseFieldSettings = PhaseFieldSettings()
    dask: DaskSettings = DaskSettings()
    distil: DistilSettings = DistilSettings()
