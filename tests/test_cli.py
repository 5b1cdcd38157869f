"""The command line: help, version, one-line errors with exit code 2."""

from __future__ import annotations

import pytest

from driver.cli import build_parser
from tests.conftest import assert_one_line_error, run_cli

SUBCOMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip().startswith("sse-driver ")


@pytest.mark.parametrize("cmd", SUBCOMMANDS)
def test_every_subcommand_has_help(cmd):
    r = run_cli(cmd, "--help", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "usage: sse-driver " + cmd in r.stdout


def test_unknown_flag_is_one_line_exit_2():
    r = run_cli("doctor", "--no-such-flag")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "--no-such-flag" in r.stderr
    assert "Traceback" not in r.stderr


def test_config_show_prints_defaults():
    r = run_cli("config", "show")
    assert r.returncode == 0
    assert "temperatures_k" in r.stdout and "127.0.0.1" in r.stdout


def test_bad_config_unknown_key(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("md:\n  temperatures_k: [900, 1000]\n  timestepp_fs: 2\n")
    r = run_cli("config", "validate", str(f))
    assert_one_line_error(r, str(f), "md.timestepp_fs", "unknown key", "timestep_fs")


def test_bad_config_wrong_type(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("md:\n  temperatures_k: [900, hot]\n")
    r = run_cli("config", "validate", str(f))
    assert_one_line_error(r, str(f), "md.temperatures_k.1", "'hot'")


def test_bad_config_physical_range(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("md:\n  timestep_fs: -1\n")
    assert_one_line_error(run_cli("config", "validate", str(f)), "md.timestep_fs", "greater than 0")


def test_bad_yaml_names_line(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("md:\n  temperatures_k: [900, 1000\n")
    assert_one_line_error(run_cli("config", "validate", str(f)), str(f), "not valid YAML", "line")


def test_missing_config_file(tmp_path):
    assert_one_line_error(run_cli("config", "validate", str(tmp_path / "nope.yaml")), "not found")


def test_yaml_is_data_not_code(tmp_path):
    """A Python-object tag is refused by the safe loader, never constructed."""
    f = tmp_path / "c.yaml"
    f.write_text("md: !!python/object/apply:os.system ['echo pwned']\n")
    r = run_cli("config", "validate", str(f))
    assert_one_line_error(r, "not valid YAML")
    assert "pwned" not in r.stdout


def test_layering_file_env_override(tmp_path):
    from driver import config
    from driver.schema import Settings

    f = tmp_path / "c.yaml"
    f.write_text("md:\n  seed: 7\n  prod_ps: 20\n")
    s = config.load(Settings, f, overrides={"md": {"prod_ps": 30}},
                    environ={"SSE_DRIVER_MD__SEED": "11", "SSE_DRIVER_MD__RANKS": "2"})
    assert (s.md.seed, s.md.ranks, s.md.prod_ps) == (11, 2, 30)
    assert s.md.timestep_fs == 1.0  # untouched default


def test_bad_env_override_names_source():
    from driver import config
    from driver.errors import ConfigError
    from driver.schema import Settings

    with pytest.raises(ConfigError, match="environment.*md.ranks"):
        config.load(Settings, environ={"SSE_DRIVER_MD__RANKS": "zero"})


def test_repeated_temperature_is_refused():
    """Each temperature has one run folder and one Arrhenius point: a repeat would overwrite a
    run and count one temperature twice; md.replicas is the way to repeat runs."""
    import pydantic

    from driver.schema import MDSettings

    with pytest.raises(pydantic.ValidationError, match="temperatures_k repeats 800 K"):
        MDSettings(temperatures_k=[800, 1000, 800.0])
    assert MDSettings(temperatures_k=[800, 1000]).temperatures_k == [800.0, 1000.0]


@pytest.mark.parametrize("args, needle", [
    (["doctor", "--ranks", "0"], "--ranks"),
    (["doctor", "--ranks", "-1"], "--ranks"),
    (["doctor", "--ranks", "1000"], "cores"),
    (["review", ".", "--accept", "99999999999999999999999"], "--accept"),
    (["review", ".", "--veto", "0"], "--veto"),
    (["review", ".", "--rate", "99999999999999999999999", "3"], "not a candidate id"),
    (["kb", "ingest", "x.csv", "--show-rejects", "-1"], "--show-rejects"),
    (["md", "--composition", "Li7La3Zr2O12", "--seed", "0"], "--seed"),
    (["md", "--composition", "Li7La3Zr2O12", "--supercell", "1", "1", "0"], "--supercell"),
    (["screen", "list.txt", "--out", "o", "--workers", "-1"], "--workers"),
    (["run", "c.yaml", "--out", "o", "--workers", "0"], "--workers"),
    (["distil", "--composition", "Li3InCl6", "--out", "o", "--generations", "1e3"], "integer"),
])
def test_cli_integers_out_of_range_are_one_line_errors(tmp_path, args, needle):
    """Issue 33, class 5: every integer flag is checked where it enters (a range, and the
    machine's cores for processes started here), before anything starts or is written."""
    r = run_cli(*args, cwd=tmp_path, timeout=60)
    assert_one_line_error(r, needle)
    assert list(tmp_path.iterdir()) == []
