"""Nothing finished is run twice: an earlier try's finished LAMMPS runs are adopted only when
they are the same run (md/reuse.py), by `sse-driver md --reuse` and by a resumed campaign."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

from conftest import assert_one_line_error, run_cli
from driver.md.reuse import adopt, finished_run

TINY = {"md": {"potential": "adams_rao2011", "supercell": [1, 1, 1],
               "temperatures_k": [1300.0, 1500.0], "equil_ps": 0.5, "prod_ps": 2.0}}


def _run(tmp_path: Path, name: str, *extra: str, seed: int = 1) -> tuple[dict, float]:
    cfg = tmp_path / "md.yaml"
    cfg.write_text(yaml.safe_dump(TINY))
    t0 = time.perf_counter()
    r = run_cli("md", "--composition", "Li6.5La3Zr1.5Ta0.5O12", "--config", str(cfg),
                "--seed", str(seed), "--out", str(tmp_path / name), *extra, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return json.loads((tmp_path / name / "result.json").read_text()), time.perf_counter() - t0


def _deck(d: Path, deck: str = "run 10\n", marker: str | None = "SSE_DONE step 10 temp 1") -> Path:
    d.mkdir(parents=True)
    (d / "in.lammps").write_text(deck)
    (d / "structure.data").write_text("atoms\n")
    (d / "log.lammps").write_text("log\n")
    if marker is not None:
        (d / "md_done.txt").write_text(marker)
    return d


def test_only_a_finished_run_with_identical_inputs_is_adopted(tmp_path):
    inputs = ["structure.data", "in.lammps"]
    new = _deck(tmp_path / "new" / "T800K", marker=None)
    (new / "log.lammps").unlink()
    killed = _deck(tmp_path / "killed" / "T800K", marker=None)          # no marker: killed
    short = _deck(tmp_path / "short" / "T800K", marker="SSE_DONE step 7 temp 1")  # timer stop
    other = _deck(tmp_path / "other" / "T800K", deck="run 11\n")         # another deck
    good = _deck(tmp_path / "good" / "T800K")
    roots = [killed.parent, short.parent, other.parent, good.parent]
    assert finished_run(new, inputs, roots, "md", expected_steps=10) == good
    assert finished_run(new, inputs, roots[:3], "md", expected_steps=10) is None
    assert finished_run(new, inputs, [new.parent], "md", 10) is None     # never itself
    copied = adopt(good, new, inputs)
    assert copied == ["log.lammps", "md_done.txt"]                       # the marker last
    assert (new / "md_done.txt").read_text() == "SSE_DONE step 10 temp 1"
    assert (new / "in.lammps").read_text() == "run 10\n"                 # inputs untouched
    assert (good / "md_done.txt").exists()                               # the source kept
    assert (new / "reused_from.txt").read_text().strip() == str(good.resolve())


@pytest.mark.slow
def test_md_reuse_adopts_what_a_killed_run_finished_and_runs_the_rest(tmp_path):
    full, t_full = _run(tmp_path, "a")
    # a run killed during its second temperature: everything before it finished
    killed = tmp_path / "killed"
    shutil.copytree(tmp_path / "a", killed)
    (killed / "result.json").unlink()
    (killed / "T1500K" / "md_done.txt").unlink()
    again, _ = _run(tmp_path, "b", "--reuse", str(killed))
    names = [r.split()[0] for r in again["provenance"]["reused_runs"]]
    assert names == ["relax", "elastic", "T1300K"]
    # the adopted runs are the same numbers; the rerun temperature was run by LAMMPS again
    assert again["relaxed_0K"] == full["relaxed_0K"]
    assert again["elastic"]["C_GPa"] == full["elastic"]["C_GPa"]
    t13 = [t for t in again["temperatures"] if t["temperature_K"] == 1300.0][0]
    assert t13["D_cm2_s"] == [t for t in full["temperatures"]
                              if t["temperature_K"] == 1300.0][0]["D_cm2_s"]
    assert (tmp_path / "b" / "T1500K" / "md_done.txt").exists()
    assert not (tmp_path / "b" / "T1500K" / "reused_from.txt").exists()
    assert (tmp_path / "b" / "T1300K" / "reused_from.txt").exists()
    # another seed is another decoration and other velocities: nothing is the same run
    other, _ = _run(tmp_path, "c", "--reuse", str(tmp_path / "a"), seed=2)
    assert other["provenance"]["reused_runs"] == []
    # a folder that does not exist: one line, exit 2, nothing written
    r = run_cli("md", "--composition", "Li7La3Zr2O12", "--out", str(tmp_path / "d"),
                "--reuse", str(tmp_path / "nosuch"))
    assert_one_line_error(r, "--reuse", "nosuch")
    assert not (tmp_path / "d").exists()
