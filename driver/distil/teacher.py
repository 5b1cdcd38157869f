"""Teacher labels: energies, forces and stresses of frames from a shipped ML potential.

The teacher is any potential whose form gives an ASE calculator (``calculator(pot)``; today
``mlip_external``: SevenNet-0 with the weights its wheel ships, nothing downloaded). One
Dask task labels one chunk file and writes its labelled twin atomically, so a restarted
distillation labels only what no finished task wrote.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

from ..errors import UserError
from . import frames as F


def load_teacher(name: str):
    """The teacher's Potential; one-line refusal for one that is not an ML model."""
    from .. import potentials
    pot = potentials.load(name)
    if not hasattr(pot.spec, "calculator"):
        from .. import forcefields
        ml = [p for p in potentials.available()
              if hasattr(forcefields.get(potentials.load(p).form), "calculator")]
        raise UserError(f"teacher {name!r} is a {pot.form} potential, not an ML model that "
                        f"labels configurations; choose one of {', '.join(ml) or 'none shipped'}")
    return pot


def check_covers(pot, species: set[str]) -> None:
    missing = sorted(species - set(pot.charges))
    if missing:
        raise UserError(f"teacher {pot.name} does not cover {', '.join(missing)} (it covers "
                        f"{', '.join(sorted(pot.charges))}); choose another teacher or composition")


def _calculator(teacher: str):
    pot = load_teacher(teacher)
    with warnings.catch_warnings():
        # sevenn's advice to install a GPU tensor-product kernel: nothing a CPU user can act
        # on, and a command's stderr is its one-line error channel
        warnings.filterwarnings("ignore", message="No tensor product accelerator")
        return pot.spec.calculator(pot)


def label(frames: list[F.Frame], teacher: str, calc=None) -> list[F.Frame]:
    """The frames with the teacher's energy (eV), forces (eV/A) and stress (eV/A^3)
    (``calc``: the teacher's calculator, when the caller holds it already)."""
    calc = calc or _calculator(teacher)
    out = []
    for fr in frames:
        atoms = F.to_atoms(fr)
        atoms.calc = calc
        e = atoms.get_potential_energy()
        out.append(fr.with_labels(e, atoms.get_forces(), atoms.get_stress(voigt=True)))
    return out


def relax(frames: list[F.Frame], teacher: str, fmax: float, steps: int) -> list[F.Frame]:
    """Each frame relaxed by the teacher at zero stress (ASE FIRE on a Frechet cell filter:
    positions and cell together), brought back to LAMMPS's orientation and labelled there
    (the labels of the relaxed cell: ~zero forces and stress, the anchor of the lattice)."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE

    calc = _calculator(teacher)
    out = []
    for fr in frames:
        atoms = F.to_atoms(fr)
        atoms.calc = calc
        with warnings.catch_warnings():
            # the Frechet filter's matrix logarithm reports round-off of ~1e-13 at each step
            warnings.filterwarnings("ignore", message="logm result may be inaccurate")
            FIRE(FrechetCellFilter(atoms), logfile=None).run(fmax=fmax, steps=steps)
        relaxed = F.in_lammps_orientation(fr, atoms.get_scaled_positions(wrap=True),
                                          atoms.cell[:])
        out.append(F.Frame(relaxed.symbols, relaxed.positions, relaxed.cell,
                           {**fr.meta, "kind": "teacher relaxed"}))
    return label(out, teacher, calc)


#: what a teacher task may do to a chunk file
TASKS = {"label": label, "relax": relax}


def label_file(src: str, dst: str, teacher: str, task: str = "label", **kwargs) -> dict:
    """Dask task: label (or relax and label) the frames of ``src`` into ``dst``; one thread
    for torch (a worker is one core: docs/cluster.md)."""
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    t0 = time.perf_counter()
    labelled = TASKS[task](F.read(src, require_labels=False), teacher, **kwargs)
    sha = F.write(dst, labelled)
    return {"file": str(Path(dst).name), "sha256": sha, "frames": len(labelled),
            "atoms": sum(f.n for f in labelled), "seconds": time.perf_counter() - t0}
