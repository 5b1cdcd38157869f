"""Shared fixtures. Tests run the real stack: LAMMPS, DOLFINx, MPI and Dask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# One thread per process: the CI machine has 2 cores and MPI tests use both.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def run_cli(*args: str, timeout: float = 600, env: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``sse-driver`` console script."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(BIN / "sse-driver"), *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)


def run_mpi(n: int, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``mpirun -n N python args...`` with the environment's own launcher."""
    from driver.mpi import mpirun_command

    return subprocess.run(mpirun_command(n, list(args)), capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    """A user mistake: exit 2, exactly one line on stderr naming the problem, no traceback."""
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.endswith("\n"), r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


# The smallest real campaign: the Ta content y of the softBV garnet (no long-range
# Coulomb: about half the cost of a PPPM NASICON per evaluation), one hot temperature, MD
# only (so its objective is one the MD measures: an objective of a stage that is off is
# refused). NASICON: the campaign keys that make it x of Li(1+x)Al(x)Ge(2-x)(PO4)3 (Pedone).
TINY_CAMPAIGN = {
    "campaign": {"name": "t", "family": "garnet", "dopant_M": "Ta",
                 "variables": {"y": [0.0, 0.75]}, "initial_design": 2,
                 "batch_size": 2, "budget": {"evaluations": 3}, "seed": 5, "phasefield": False,
                 "objectives": [{"name": "sigma_hot", "log": True}],
                 # the meta loop may double a non-diffusive run once (4 -> 8 ps), not to 200 ps
                 "meta": {"max_prod_ps": 8.0}, "retry": {"max_attempts": 2}},
    # 4 ps: the MSD window needs lags between the 1 ps ballistic cut and half the run
    "md": {"temperatures_k": [1500], "equil_ps": 0.5, "prod_ps": 4, "potential": "adams_rao2011"},
    "dask": {"dashboard_address": "127.0.0.1:0"},
}
NASICON = {"family": "nasicon", "variables": {"x": [0.0, 0.8]}}


#: a result.json of `sse-driver md` (LAGP, pedone2006, 2 temperatures, written 2026-12-03)
MD_RESULT = Path(__file__).parent / "data" / "md_result.json"


def md_result(**over):
    """The shipped MD result (tests/data/md_result.json) with top-level fields replaced;
    a dict under ``elastic`` updates that block key by key."""
    from driver.md.result import parse
    data = json.loads(MD_RESULT.read_text())
    if "elastic" in over:
        over = {**over, "elastic": {**data["elastic"], **over["elastic"]}}
    return parse({**data, **over})


def write_campaign(tmp_path: Path, **over: dict) -> Path:
    """TINY_CAMPAIGN with sections updated key by key, as tmp_path/campaign.yaml."""
    d = json.loads(json.dumps(TINY_CAMPAIGN))
    for sec, vals in over.items():
        d[sec] = {**d.get(sec, {}), **vals}
    p = tmp_path / "campaign.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def atoms_on_sites(struct, site_frac, el: str) -> int:
    """How many ``el`` atoms of ``struct`` sit on the given fractional positions (of the same
    cell, periodic): which refined site a decoration used."""
    import numpy as np
    pos = np.array([s.frac_coords for s in struct if str(s.specie) == el]).reshape(-1, 3)
    d = (pos[:, None, :] - np.asarray(site_frac)[None, :, :] + 0.5) % 1.0 - 0.5
    return int((np.abs(d).max(axis=2) < 1e-6).any(axis=1).sum())


def docs_campaign_config(intro: str, path: Path) -> Path:
    """The campaign config docs/campaign.md shows after the paragraph starting ``intro``
    (its indented block), written to ``path``: the docs' configs are tested as written."""
    text = (Path(__file__).parents[1] / "docs" / "campaign.md").read_text()
    block = text.split(intro, 1)[1].split("\n\n    campaign:", 1)[1]
    lines = ["campaign:"] + [ln[4:] for ln in block.split("\n\n")[0].splitlines()
                             if ln.startswith("    ")]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def cli():
    return run_cli
