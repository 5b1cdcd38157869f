"""Cluster execution: job scripts, dask-mpi under mpirun -n 4, and a campaign whose workers
are jobs of a real (one-node, localhost) Slurm started by the test set-up."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from driver.campaign.cluster import backend, execution, job_kwargs, job_script, mpi_world_size
from driver.campaign.ledger import Ledger
from driver.campaign.tasks import stage_env
from driver.errors import ConfigError
from driver.mpi import mpirun_command
from driver.schema import Settings
from tests.conftest import BIN, ROOT, assert_one_line_error, run_cli, write_campaign

TWO = {"budget": {"evaluations": 2}}     # the tiny campaign, two evaluations


def test_job_layout_asks_for_ranks_times_threads_cores_and_tags_workers():
    s = Settings(md={"ranks": 4}, dask={"backend": "slurm", "jobqueue": {
        "processes": 2, "omp_threads": 3, "account": "mat42", "queue": "short",
        "job_script_prologue": ["module load gcc"]}})
    kw = job_kwargs(s, "/scratch/c1")
    assert kw["cores"] == 2 * 4 * 3 and kw["processes"] == 2
    assert kw["worker_extra_args"] == ["--resources", "MPI=4"]
    # the malloc settings before the user's own lines (which may override them)
    assert kw["job_script_prologue"] == ["export OMP_NUM_THREADS=3",
                                         "export MALLOC_TRIM_THRESHOLD_=268435456",
                                         "export MALLOC_MMAP_THRESHOLD_=33554432",
                                         "module load gcc"]
    assert kw["log_directory"] == "/scratch/c1/dask-jobs"
    assert kw["account"] == "mat42" and kw["queue"] == "short" and "interface" not in kw


def test_slurm_and_pbs_scripts_show_the_request_before_anything_is_submitted(tmp_path):
    cfg = write_campaign(tmp_path, md={"ranks": 2}, dask={"backend": "slurm", "jobqueue": {
        "queue": "debug", "walltime": "02:30:00", "memory": "8GiB",
        "job_extra_directives": ["--constraint=cpu"]}})
    r = run_cli("cluster", "script", str(cfg), "--out", str(tmp_path / "c1"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    for want in ("#SBATCH -p debug", "#SBATCH --cpus-per-task=2", "#SBATCH -t 02:30:00",
                 "#SBATCH --constraint=cpu", "#SBATCH --mem=8G", "export OMP_NUM_THREADS=1"):
        assert want in lines, (want, r.stdout)
    worker = lines[-1]
    assert "distributed.cli.dask_worker tcp://SCHEDULER:PORT" in worker and "--resources MPI=2" in worker
    assert not (tmp_path / "c1").exists()                   # nothing started or written
    pbs = job_script(Settings(dask={"backend": "pbs", "jobqueue": {"walltime": "00:10:00"}}))
    assert "#PBS -l walltime=00:10:00" in pbs and "#PBS -l select=1:ncpus=1" in pbs


def test_cluster_script_errors_are_one_line(tmp_path):
    auto = write_campaign(tmp_path)                                    # backend auto
    assert_one_line_error(run_cli("cluster", "script", str(auto)), "dask.backend: slurm")
    bad = write_campaign(tmp_path, dask={"backend": "slurm", "jobqueue": {"walltime": "2h"}})
    assert_one_line_error(run_cli("cluster", "script", str(bad)), "walltime '2h' is not [D-]HH:MM:SS")
    with pytest.raises(ValueError, match="memory 'lots'"):
        Settings(dask={"jobqueue": {"memory": "lots"}})


def test_backend_choice_and_stage_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("PMI_SIZE", raising=False)
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE", raising=False)
    assert mpi_world_size() == 1 and backend(Settings()) == "local"
    monkeypatch.setenv("PMI_SIZE", "4")
    assert mpi_world_size() == 4 and backend(Settings()) == "mpi"
    assert backend(Settings(dask={"backend": "local"})) == "local"
    assert backend(Settings(), scheduler="tcp://127.0.0.1:8786") == "scheduler"
    env = stage_env({"PMI_RANK": "2", "PMI_FD": "9", "PMIX_RANK": "1", "OMPI_COMM_WORLD_SIZE": "4",
                     "MPI_LOCALRANKID": "2", "PATH": "/bin", "SLURM_JOB_ID": "7"})
    assert env == {"PATH": "/bin", "SLURM_JOB_ID": "7", "OMP_NUM_THREADS": "1"}
    with pytest.raises(ConfigError, match=r"mpirun -n N sse-driver run CONFIG"):
        with execution(Settings(dask={"backend": "mpi"}), tmp_path):   # no dask-mpi scheduler
            pass


def _where(out: Path) -> list[dict]:
    led = Ledger(out / "ledger.sqlite", readonly=True)
    return [e["provenance"] for e in led.evaluations() if e["status"] == "done"]


def _workers(out: Path) -> list[str]:
    return [w["worker"] for w in _where(out)]


@pytest.mark.slow
def test_mpirun_n4_runs_the_campaign_through_dask_mpi(tmp_path):
    """Rank 0 schedules, rank 1 runs the loop, ranks 2 and 3 are the workers."""
    cfg = write_campaign(tmp_path, campaign=TWO)
    out = tmp_path / "camp"
    r = subprocess.run(mpirun_command(4, [str(BIN / "sse-driver"), "run", str(cfg), "--out", str(out)],
                                      python=False),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "campaign stopped: budget of 2 evaluations spent" in r.stdout
    assert r.stdout.count("dask dashboard:") == 1            # one campaign, on rank 1
    assert sorted(_workers(out)) == ["2", "3"]               # the two worker ranks shared it
    assert (out / "report.html").exists()


def test_dask_mpi_needs_three_ranks(tmp_path):
    cfg = write_campaign(tmp_path, campaign=TWO, dask={"backend": "mpi"})
    r = subprocess.run(mpirun_command(2, [str(BIN / "sse-driver"), "run", str(cfg), "--out",
                                          str(tmp_path / "c")], python=False),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert r.stderr.count("dask-mpi needs mpirun -n N with N >= 3") == 1   # printed once
    assert not (tmp_path / "c").exists()


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A one-node Slurm on localhost (.ci/slurm-local; .ci/run installs Slurm when missing)."""
    if not shutil.which("slurmctld") or os.geteuid() != 0:
        why = "needs Debian's slurm-wlm and munge and root: `.ci/slurm-local install`"
        if os.environ.get("SSE_REQUIRE_SLURM"):     # .ci/run: the Slurm path must be tested
            pytest.fail(why)
        pytest.skip(why)
    d = tmp_path_factory.mktemp("slurm")
    up = subprocess.run([str(ROOT / ".ci/slurm-local"), "up", str(d)], capture_output=True,
                        text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    yield up.stdout.strip()
    subprocess.run([str(ROOT / ".ci/slurm-local"), "down", str(d)], timeout=30)


@pytest.mark.slow
def test_campaign_workers_are_slurm_jobs(tmp_path, slurm):
    cfg = write_campaign(tmp_path, campaign=TWO, dask={"backend": "slurm", "jobqueue": {
        "jobs": 2, "memory": "2GiB", "walltime": "00:20:00"}})
    out = tmp_path / "camp"
    env = {"SLURM_CONF": slurm}
    r = run_cli("run", str(cfg), "--out", str(out), env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "campaign stopped: budget of 2 evaluations spent" in r.stdout
    # which job took which task depends on how fast each job started
    where = _where(out)
    assert len(where) == 2 and {w["worker"] for w in where} <= {"SLURMCluster-0", "SLURMCluster-1"}
    for w in where:                    # each ran inside a Slurm job whose log is in dask-jobs/
        assert w["batch_job"] and (out / "dask-jobs" / f"sse-worker-{w['batch_job']}.out").exists()
    for _ in range(50):                                      # the jobs were cancelled at the end
        q = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True,
                           env={**os.environ, **env})
        if "sse-worker" not in q.stdout:
            break
        time.sleep(0.2)
    assert "sse-worker" not in q.stdout, q.stdout


@pytest.mark.parametrize("jobqueue, needle", [
    ({"walltime": "1:99:99"}, "minutes and seconds"),
    ({"walltime": "00:00:00"}, "above zero"),
    ({"memory": "1e30 TB"}, "between 1MiB and 64TiB"),
    ({"death_timeout_s": 1e300}, "death_timeout_s"),
    ({"account": "proj; rm -rf ~"}, "plain account or queue name"),
    ({"queue": "a b"}, "plain account or queue name"),
])
def test_cluster_resources_are_checked_before_a_script_is_rendered(tmp_path, jobqueue, needle):
    """Issue 33, class 12: batch-script values that would render malformed #SBATCH lines are
    refused by the schema, in one line."""
    bad = write_campaign(tmp_path, dask={"backend": "slurm", "jobqueue": jobqueue})
    assert_one_line_error(run_cli("cluster", "script", str(bad)), needle)


def test_local_workers_beyond_the_cores_are_refused(tmp_path):
    cfg = write_campaign(tmp_path, dask={"backend": "local", "n_workers": 4096,
                                         "dashboard_address": "127.0.0.1:0"})
    r = run_cli("run", str(cfg), "--out", str(tmp_path / "o"), timeout=120)
    assert_one_line_error(r, "cores")
    assert not (tmp_path / "o").exists()


def test_local_workers_run_with_the_malloc_settings_not_dasks(tmp_path, monkeypatch):
    """Dask's nanny gives its workers MALLOC_TRIM_THRESHOLD_=65536, which maps and unmaps
    every block above 128 kB anew (the ML teacher 2.4x slower, cluster.WORKER_MALLOC); a
    local cluster's workers run with the project's settings instead, and a task's own
    subprocesses (the MD stage) inherit them."""
    s = Settings(dask={"backend": "local", "dashboard_address": "127.0.0.1:0"})
    # what an earlier nanny in this process leaves in its environment (Dask's value)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")

    def environ() -> dict:
        import subprocess
        import sys
        child = subprocess.run([sys.executable, "-c", "import os; print(os.environ['MALLOC_TRIM_THRESHOLD_'])"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return {"trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                "mmap": os.environ.get("MALLOC_MMAP_THRESHOLD_"), "child": child}

    with execution(s, tmp_path, n_workers=1, echo=lambda *_: None) as ex:
        got = ex.client.submit(environ, pure=False).result()
    assert got == {"trim": "268435456", "mmap": "33554432", "child": "268435456"}
