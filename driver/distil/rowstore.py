"""A fit's design rows kept on disk, one file per frame, read back on each pass of a fit.

Why: the rows of a frame grow with its atoms times the basis (3N + 7 rows of ``ncols``
doubles), and a distillation keeps every labelled frame's. The halide family (30-atom
cells, POD 3305 columns) holds 2.8 MB per frame, 3 GB at 1100 frames; a garnet cell (192
atoms) with the argyrodite basis (5514 columns) holds 26 MB per frame, so a thousand frames
would not fit this project's 23 GB machines in memory at all. The fit only ever passes over
the frames in turn (``fit.normal`` accumulates the normal equations block by block), so the
rows can live on disk: a fit holds one block, the operating system's page cache the rest.

The files are a cache keyed by content: the frame (species, positions, cell) and the part of
the basis the fitted rows depend on (not the walls or the ZBL core, which only set the
reference the fit subtracts: ``descriptors.reference``). A resumed distillation reads
its rows back instead of recomputing them (POD: 13 LAMMPS runs per frame; 15 min for the
halide family's 1100 frames, 2026-12-03). Writes are atomic, and a file that does not read
back with the expected shape is recomputed, so a run killed mid-write loses nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..fileio import write_together
from .descriptors import PodBasis, Rows, SnapBasis, reference, rows
from .frames import Frame

#: bump when the layout of a stored file changes: older files are then never read
FORMAT = 1
#: the basis fields that only shape the reference (not the fitted rows)
_REFERENCE_ONLY = ("walls", "zbl_inner", "zbl_outer")


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _basis_bytes(basis: SnapBasis | PodBasis, fitted_only: bool) -> bytes:
    fields = dataclasses.asdict(basis)
    if fitted_only:
        for k in _REFERENCE_ONLY:
            fields.pop(k, None)
    return f"{FORMAT} {type(basis).__name__} {sorted(fields.items())!r}".encode()


def frame_key(frame: Frame, basis: SnapBasis | PodBasis) -> str:
    """The key of a frame's fitted rows: its species, positions and cell, and the basis
    without its reference part."""
    return _digest(_basis_bytes(basis, True), " ".join(frame.symbols).encode(),
                   np.ascontiguousarray(frame.positions, "<f8").tobytes(),
                   np.ascontiguousarray(frame.cell, "<f8").tobytes())


def reference_key(basis: SnapBasis | PodBasis) -> str:
    """The key of the reference part (walls, ZBL core) of a basis."""
    return _digest(_basis_bytes(basis, False))[:16]


@dataclass(frozen=True)
class _Entry:
    path: Path                  # the fitted rows: (1 + 3N + 6, ncols), energy/forces/virial
    ref_energy: float
    ref_forces: np.ndarray
    ref_virial: np.ndarray
    n: int
    ncols: int
    volume: float


def _save(arrays: dict[Path, np.ndarray]) -> None:
    """The arrays as ``.npy`` files, written together (``fileio.write_together``: a reader
    sees each whole or not at all, and a failure leaves no temporary file)."""
    files = {}
    for path, array in arrays.items():
        buf = io.BytesIO()
        np.save(buf, array)
        files[path] = buf.getvalue()
    write_together(files)


def _load(path: Path, shape: tuple[int, int]) -> np.ndarray | None:
    """The stored array if it reads back with ``shape``, else None (missing, truncated,
    another layout: the caller recomputes it)."""
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return a if a.shape == shape and a.dtype == np.float64 else None


class RowStore(Sequence[Rows]):
    """The rows of a list of frames, on disk under ``folder`` (created): appended with
    ``append``/``extend``, read back by index (each access loads the frame's file, so only
    what a caller holds is in memory); ``rereferenced`` gives the store with a new reference
    part (walls moved)."""

    def __init__(self, folder: str | Path, entries: Iterable[_Entry] = ()) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._entries = list(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        e = self._entries[i]
        a = _load(e.path, (1 + 3 * e.n + 6, e.ncols))
        if a is None:
            raise RuntimeError(f"stored rows {e.path} are gone or damaged; the run's row "
                               "store was changed while it ran")
        return Rows(energy=a[0], forces=a[1:1 + 3 * e.n], virial=a[1 + 3 * e.n:],
                    ref_energy=e.ref_energy, ref_forces=e.ref_forces, ref_virial=e.ref_virial,
                    n=e.n, volume=e.volume)

    def _reference(self, frame: Frame, basis: SnapBasis | PodBasis, key: str) -> np.ndarray:
        """The reference of ``basis`` on the frame stored under ``key`` (energy, forces,
        virial in one vector): read back, or computed (one LAMMPS ``run 0``) and stored."""
        path = self._reference_path(key, basis)
        stored = _load(path, (1, 1 + 3 * frame.n + 6))
        if stored is not None:
            return stored[0]
        energy, forces, virial = reference(frame, basis)
        ref = np.concatenate([[energy], forces, virial])
        _save({path: ref[None, :]})
        return ref

    def _reference_path(self, key: str, basis: SnapBasis | PodBasis) -> Path:
        return self.folder / f"{key}.{reference_key(basis)}.ref.npy"

    def _entry(self, frame: Frame, basis: SnapBasis | PodBasis,
               computed: Rows | None = None) -> _Entry:
        """The frame's entry, computing (and storing) what is not stored (``computed``: its
        rows, already computed by the caller with this basis)."""
        key = frame_key(frame, basis)
        path = self.folder / f"{key}.npy"
        n = frame.n
        if computed is None and _load(path, (1 + 3 * n + 6, basis.ncols)) is not None:
            ref = self._reference(frame, basis, key)
        else:
            if computed is None:
                computed = rows(frame, basis)
            ref = np.concatenate([[computed.ref_energy], computed.ref_forces, computed.ref_virial])
            _save({path: np.vstack([computed.energy[None, :], computed.forces, computed.virial]),
                   self._reference_path(key, basis): ref[None, :]})
        return _Entry(path, float(ref[0]), ref[1:1 + 3 * n].copy(), ref[1 + 3 * n:].copy(),
                      n, basis.ncols, frame.volume)

    def append(self, frame: Frame, basis: SnapBasis | PodBasis,
               computed: Rows | None = None) -> None:
        """Adds ``frame``'s rows: read back if stored, else ``computed`` (rows the caller
        already has, of this frame and basis) or computed here, and stored."""
        self._entries.append(self._entry(frame, basis, computed))

    def extend(self, frames: Iterable[Frame], basis: SnapBasis | PodBasis) -> None:
        for f in frames:
            self.append(f, basis)

    def rereferenced(self, frames: Sequence[Frame], basis: SnapBasis | PodBasis) -> "RowStore":
        """The same frames (in order, ``frames`` being the ones stored) with the reference of
        ``basis``: the fitted rows are read from the same files, only the reference is new."""
        if len(frames) != len(self):
            raise ValueError(f"{len(frames)} frames for a store of {len(self)}")
        moved = []
        for f, e in zip(frames, self._entries):       # the fitted rows' file is kept as is
            ref = self._reference(f, basis, e.path.stem)
            moved.append(dataclasses.replace(e, ref_energy=float(ref[0]),
                                             ref_forces=ref[1:1 + 3 * e.n].copy(),
                                             ref_virial=ref[1 + 3 * e.n:].copy()))
        return RowStore(self.folder, moved)


__all__ = ["RowStore", "frame_key", "reference_key"]
