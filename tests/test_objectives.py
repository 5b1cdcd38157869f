"""The objective registry (driver/objectives/, issue 31 item 5): every module of the package
is an objective the campaign knows, each complete; a derived objective is computed from an
evaluation's outputs and recorded with them; a plug-in installed through the
``sse_driver.objectives`` entry point runs a tiny campaign (tests/test_campaign.py)."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

from driver import objectives as O
from driver.objectives.base import Objective


def test_every_module_of_the_package_is_a_complete_registered_objective():
    here = Path(O.__file__).parent
    mods = {m.name for m in pkgutil.iter_modules([str(here)])} - {"base", "registry"}
    known = O.all_objectives()
    assert {m for m in mods} == {n.lower() for n in known}
    for name, obj in known.items():
        assert obj.unit and obj.description and obj.source in ("md", "phasefield", "review")
        for key, _ in obj.needs:            # a need names a real campaign setting
            from driver.campaign.settings import CampaignSettings
            assert key in CampaignSettings.model_fields, (name, key)


def test_values_and_errors_are_read_from_outputs_and_non_finite_is_not_measured():
    sigma = O.get("sigma_hot")
    assert sigma.value({"sigma_hot": 1e-3, "sigma_hot_err": 2e-4}) == 1e-3
    assert sigma.error({"sigma_hot": 1e-3, "sigma_hot_err": 2e-4}) == 2e-4
    assert sigma.value({"sigma_hot": float("nan")}) is None
    assert sigma.value({}) is None and sigma.error({"sigma_hot": 1.0}) is None
    derived = Objective("volume_per_a", "A^2", "toy", read=lambda o: o["v"] / o["a"])
    assert derived.value({"v": 10.0, "a": 2.0}) == 5.0 and derived.error({}) is None


def test_a_name_is_registered_once():
    twin = Objective("sigma_hot", "S/cm", "another sigma_hot")
    with pytest.raises(ValueError, match="registered twice"):
        O.register(twin)
    with pytest.raises(TypeError):
        O.register({"name": "x"})
    with pytest.raises(KeyError, match="known: .*sigma_hot"):
        O.get("beauty")


def test_the_campaign_records_a_derived_objective_with_the_outputs():
    """campaign/loop.with_objectives: an objective the stages did not write is added under
    its name (value and error) from the outputs; a written one and a rated one are left."""
    from driver.campaign.loop import with_objectives
    from driver.objectives import registry

    toy = Objective("mean_lattice_a", "A", "mean NPT lattice length",
                    read=lambda o: sum(o["lattice_A"]) / 3)
    registry._OBJECTIVES[toy.name] = toy
    try:
        class Opt:
            objectives = [type("Ob", (), {"name": n}) for n in
                          ("sigma_hot", "mean_lattice_a", "expert_rating")]
        out = with_objectives({"sigma_hot": 1e-3, "sigma_hot_err": 1e-4,
                               "lattice_A": [12.0, 12.3, 12.6]}, Opt)
        assert out["mean_lattice_a"] == pytest.approx(12.3) and out["mean_lattice_a_err"] is None
        assert out["sigma_hot"] == 1e-3 and "expert_rating" not in out
    finally:
        registry._OBJECTIVES.pop(toy.name)


def test_an_objective_registered_first_does_not_hide_the_built_in_ones(monkeypatch):
    """The registry loads the package's modules on the first look-up even when something
    was registered before it (a plug-in registering itself at import)."""
    from driver.objectives import registry

    monkeypatch.setattr(registry, "_OBJECTIVES", {})
    monkeypatch.setattr(registry, "_loaded", False)
    early = O.register(Objective("early_toy", "1", "registered before any look-up"))
    assert registry.get("early_toy") is early
    assert {"sigma_hot", "critical_current", "expert_rating"} <= set(registry.all_objectives())


@pytest.mark.parametrize("module, needle", [
    ("import not_a_module_anywhere\n", "failed to import: ModuleNotFoundError"),
    ("X = 1\n", "names no Objective"),
])
def test_a_broken_plugin_is_one_line_naming_it(tmp_path, module, needle):
    """An installed objective plug-in that does not import, or names no Objective, is one
    line naming the entry point and its package, exit 2 (not a traceback from every command
    that looks an objective up)."""
    import os

    from tests.conftest import assert_one_line_error, run_cli, write_campaign
    plug = tmp_path / "plug"
    (plug / "broken_objective-0.1.dist-info").mkdir(parents=True)
    (plug / "broken_objective.py").write_text(module)
    (plug / "broken_objective-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-objective\nVersion: 0.1\n")
    (plug / "broken_objective-0.1.dist-info" / "entry_points.txt").write_text(
        "[sse_driver.objectives]\nbroken = broken_objective\n")
    cfg = write_campaign(tmp_path)
    env = {"PYTHONPATH": os.pathsep.join([str(plug), os.environ.get("PYTHONPATH", "")])}
    r = run_cli("config", "validate", str(cfg), env=env)
    assert_one_line_error(r, "objective plug-in 'broken'", "broken-objective", needle)
