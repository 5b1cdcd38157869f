"""``sse-driver distil``: settings from preset <- config file's ``distil:`` <- flags, every input
checked before the output folder is touched, then the workflow on a Dask cluster (any
campaign backend: driver/campaign/cluster.py)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UserError

#: a student's name names its potential file: the rule of potentials/*.yaml names
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def settings(config_path: str | None, preset: str, flags: dict):
    """The root Settings with the distil section resolved (one-line ConfigError otherwise)."""
    from .. import config
    from ..errors import ConfigError
    from ..schema import Settings
    from .settings import PRESETS

    file_distil = {}
    if config_path:
        section = config.read_yaml(config_path).get("distil", {})
        if not isinstance(section, dict):
            raise ConfigError(f"{config_path}: distil must be a mapping of settings, not "
                              f"{type(section).__name__}")
        file_distil = section
    distil = {**PRESETS[preset], **file_distil, **{k: v for k, v in flags.items() if v is not None}}
    return config.load(Settings, config_path, overrides={"distil": distil})


def default_name(formula: str, form: str) -> str:
    return f"{form}_" + re.sub(r"[^A-Za-z0-9]", "", formula)[:40]


def check_out(out: Path) -> None:
    """A new or empty folder, or one holding a distillation to resume."""
    from .workflow import STATE
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / STATE).is_file():
        raise UserError(f"--out {out} is not empty and holds no distillation ({STATE}); "
                        "choose a new or empty folder")


def main(compositions: list[str] | None, out: str, name: str | None, teacher: str | None,
         preset: str, config_path: str | None, generations: int | None,
         scheduler: str | None, workers: int | None, echo=print,
         family: str | None = None, data: list[str] | None = None) -> int:
    from ..campaign.cluster import execution
    from ..families.compositions import PHYSICAL_BOUNDS, parse
    from . import workflow
    from .teacher import check_covers, load_teacher

    if family is not None:
        from .. import families
        if family not in families.FAMILIES:
            raise UserError(f"--family {family!r} is not a family; choose one of "
                            f"{', '.join(families.FAMILIES)}")
        corners = [c.formula for c in families.corners(family)]
        compositions = list(dict.fromkeys([*(compositions or []), *corners]))
    s = settings(config_path, preset, {"compositions": compositions, "teacher": teacher,
                                       "max_generations": generations,
                                       "seed_data": [str(Path(p).resolve()) for p in data]
                                       if data else None})
    d = s.distil
    if not d.compositions:
        raise UserError("no compositions to distil for: give --composition FORMULA (one or "
                        "more) or distil.compositions in --config")
    cands = [parse(c, PHYSICAL_BOUNDS) for c in d.compositions]     # one line if bad
    name = name or default_name(cands[0].formula, d.resolved_form(
        len({el for c in cands for el, n in c.amounts.items() if n > 0})))
    if not NAME.fullmatch(name):
        raise UserError(f"--name {name!r} must be a plain name (letters, digits, _ . -; at "
                        "most 64): it names the potential file")
    pot = load_teacher(d.teacher)
    species = {el for c in cands for el, n in c.amounts.items() if n > 0}
    check_covers(pot, species)
    basis = workflow.basis_for(d, workflow.order_elements(species))
    from .settings import MAX_FIT_COLUMNS
    if basis.ncols > MAX_FIT_COLUMNS:
        raise UserError(
            f"a {basis.label} student over {len(species)} elements "
            f"({' '.join(basis.elements)}) has {basis.ncols} coefficients (at most "
            f"{MAX_FIT_COLUMNS}: its normal equations would not fit in memory); distil fewer "
            "elements at once (fewer compositions), a smaller basis, or distil.form: pod")
    seed = workflow.seed_files(d, basis.elements)   # every seed file checked (one line)
    if seed:
        workflow.check_seed_teacher(seed, d.teacher)
    out_p = Path(out)
    check_out(out_p)
    echo(f"distil: {len(cands)} composition(s) ({', '.join(c.formula for c in cands)}), "
         f"teacher {pot.name}, preset {preset}, up to {d.max_generations} generation(s); "
         f"state in {out_p / workflow.STATE} (run the same command again to resume)")
    with execution(s, out_p, scheduler, n_workers=workers, echo=echo) as ex:
        final = workflow.run(d, out_p, name, ex.client, echo=echo, chunks=max(1, ex.capacity))
    return 0 if final["passed"] else 1
