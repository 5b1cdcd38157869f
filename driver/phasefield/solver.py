"""Cahn-Hilliard with a reaction term in DOLFINx 0.11 (mixed c-mu, P1 x P1), MPI-parallel.

    dc/dt = div(M(c) grad mu) - k g(c),     mu = f'(c) - kappa lap(c)

with natural (no-flux) boundaries, or periodic ones (driver/phasefield/periodic.py: Newton
on the periodic subspace through a prolongation matrix). Time stepping is the theta method on the whole system
(theta = 1/2 Crank-Nicolson, theta = 1 backward Euler) solved by PETSc SNES Newton; dt
adapts to the Newton iteration count, and a failed step is retried at half dt.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..mpi import MPI

import ufl  # noqa: E402
from basix.ufl import element, mixed_element  # noqa: E402
from dolfinx import fem, io, mesh  # noqa: E402
from dolfinx.fem.petsc import NonlinearProblem  # noqa: E402

from ..errors import ConfigError, SSEError  # noqa: E402
from .expr import Expression  # noqa: E402
from .settings import PhaseFieldSettings  # noqa: E402


class ConvergenceError(SSEError):
    """Newton failed even at the smallest allowed time step."""


def _linear_options(kind: str) -> dict:
    if kind in ("mumps", "superlu_dist"):
        return {"ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": kind}
    if kind == "gmres_ilu":  # block-Jacobi/ILU(0) in parallel
        return {"ksp_type": "gmres", "ksp_rtol": 1e-10, "ksp_max_it": 2000,
                "pc_type": "bjacobi", "sub_pc_type": "ilu", "ksp_gmres_restart": 200}
    return {"ksp_type": "gmres", "ksp_rtol": 1e-10, "ksp_max_it": 2000, "pc_type": "asm",
            "sub_pc_type": "ilu", "pc_asm_overlap": 1, "ksp_gmres_restart": 200}


def fourier_noise(x: np.ndarray, y: np.ndarray, lx: float, ly: float, modes: int,
                  seed: int) -> np.ndarray:
    """A smooth random field with zero mean and unit standard deviation (over random
    phases), built from ``modes`` wavenumbers per axis: the same field at the same point
    on any mesh and any number of ranks."""
    rng = np.random.default_rng(seed)
    kx, ky = np.meshgrid(np.arange(modes + 1), np.arange(-modes, modes + 1), indexing="ij")
    keep = (kx > 0) | (ky > 0)
    kx, ky = kx[keep], ky[keep]
    amp = rng.normal(size=kx.size) / np.sqrt(kx.size / 2)
    phase = rng.uniform(0, 2 * np.pi, kx.size)
    out = np.zeros_like(x, dtype=float)
    for a, p, i, j in zip(amp, phase, kx, ky):
        out += a * np.cos(2 * np.pi * (i * x / lx + j * y / ly) + p)
    return out


@dataclass
class StepRecord:
    step: int
    t: float
    dt: float
    energy: float
    mass: float
    c_min: float
    c_max: float
    newton_its: int


@dataclass
class CahnHilliard:
    settings: PhaseFieldSettings
    comm: object = None
    msh: object = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.comm = self.comm or MPI.COMM_WORLD
        d = s.domain
        cell = mesh.CellType.triangle if d.cell == "triangle" else mesh.CellType.quadrilateral
        self.msh = mesh.create_rectangle(self.comm, [[0.0, 0.0], [d.lx, d.ly]], [d.nx, d.ny], cell)
        P1 = element("Lagrange", self.msh.basix_cell(), 1)
        self.ME = fem.functionspace(self.msh, mixed_element([P1, P1]))
        self.V, self.c_dofs = self.ME.sub(0).collapse()
        self.u, self.u0 = fem.Function(self.ME), fem.Function(self.ME)
        self.dt = fem.Constant(self.msh, float(s.time.dt))
        self._build_forms()
        self.c_out = fem.Function(self.V, name="c")

    # ---------------------------------------------------------------- model
    def free_energy_density(self, c):
        fe = self.settings.free_energy
        if fe.kind == "double_well":
            return fe.rho * (c - fe.c_alpha) ** 2 * (fe.c_beta - c) ** 2
        return fe.theta * (c * ufl.ln(c) + (1 - c) * ufl.ln(1 - c)) + fe.chi * c * (1 - c)

    def _mobility(self, c):
        m = self.settings.mobility
        if m.kind == "constant":
            return fem.Constant(self.msh, m.m0)
        return m.m0 * (ufl.max_value(c * (1 - c), 0.0) + m.m_min)

    def _reaction(self, c):
        r, fe = self.settings.reaction, self.settings.free_energy
        ca, cb = (fe.c_alpha, fe.c_beta) if fe.kind == "double_well" else (0.0, 1.0)
        if r.kind == "none" or r.k == 0:
            return None
        g = (c - ca) if r.kind == "linear" else (c - ca) * (cb - c)
        return r.k * g

    def _build_forms(self) -> None:
        s = self.settings
        self.theta = fem.Constant(self.msh, float(s.time.theta_value))
        th = self.theta
        c, mu = ufl.split(self.u)
        c0, mu0 = ufl.split(self.u0)
        q, v = ufl.TestFunctions(self.ME)
        cv = ufl.variable(c)
        dfdc = ufl.diff(self.free_energy_density(cv), cv)
        c_mid = (1 - th) * c0 + th * c
        mu_mid = (1 - th) * mu0 + th * mu
        dx = ufl.dx
        F0 = (ufl.inner(c - c0, q) * dx
              + self.dt * ufl.inner(self._mobility(c_mid) * ufl.grad(mu_mid), ufl.grad(q)) * dx)
        src = self._reaction(c_mid)
        if src is not None:
            F0 += self.dt * src * q * dx
        F1 = (ufl.inner(mu, v) * dx - ufl.inner(dfdc, v) * dx
              - s.kappa * ufl.inner(ufl.grad(c), ufl.grad(v)) * dx)
        opts = {"snes_type": "newtonls", "snes_linesearch_type": "none",
                "snes_rtol": s.solver.snes_rtol, "snes_atol": s.solver.snes_atol,
                "snes_stol": 0.0, "snes_max_it": s.solver.max_it, "snes_error_if_not_converged": False,
                **_linear_options(s.solver.linear)}
        if s.boundary == "periodic":
            from .periodic import PeriodicProblem
            self.problem = PeriodicProblem(F0 + F1, self.u, s.domain.lx, s.domain.ly,
                                           f"ch{id(self)}_", opts)
        else:
            self.problem = NonlinearProblem(F0 + F1, self.u, petsc_options_prefix=f"ch{id(self)}_",
                                            petsc_options=opts)
        # total free energy F = int f(c) + kappa/2 |grad c|^2, and the mass int c
        self._energy_form = fem.form((self.free_energy_density(c)
                                      + 0.5 * s.kappa * ufl.inner(ufl.grad(c), ufl.grad(c))) * dx)
        self._mass_form = fem.form(c * dx)

    # ------------------------------------------------------------ state
    def set_initial(self) -> None:
        s, ini = self.settings, self.settings.initial
        d = s.domain
        if ini.kind == "noise":
            f = lambda x: ini.mean + ini.amplitude * fourier_noise(  # noqa: E731
                x[0], x[1], d.lx, d.ly, ini.modes, ini.seed)
        else:
            expr = Expression(ini.expression)
            f = lambda x: expr(x=x[0], y=x[1], lx=d.lx, ly=d.ly)  # noqa: E731
        self.u.sub(0).interpolate(f)
        self.u.x.scatter_forward()
        if s.boundary == "periodic":      # slaves take their masters' values
            self.problem.periodize()
        if s.free_energy.kind == "regular_solution":
            cvals = self.u.x.array[self.c_dofs]
            if np.any((cvals <= 0) | (cvals >= 1)):
                raise ConfigError("initial c must lie strictly inside (0, 1) for the "
                                  "regular-solution free energy (logarithms)")
        self._update_mu()
        self.u0.x.array[:] = self.u.x.array

    def _update_mu(self) -> None:
        """Consistent initial mu: solve the mu equation for the given c (one Newton step
        of the full system at dt = 0 leaves c unchanged and sets mu)."""
        saved = float(self.dt.value)
        self.dt.value = 0.0
        self.u0.x.array[:] = self.u.x.array
        self.problem.solve()
        self.dt.value = saved

    def energy(self) -> float:
        return self.comm.allreduce(fem.assemble_scalar(self._energy_form), op=MPI.SUM)

    def mass(self) -> float:
        return self.comm.allreduce(fem.assemble_scalar(self._mass_form), op=MPI.SUM)

    def c_range(self) -> tuple[float, float]:
        c = self.u.x.array[self.c_dofs]
        n_own = self.V.dofmap.index_map.size_local * self.V.dofmap.index_map_bs
        c = c[:n_own] if len(c) >= n_own else c
        lo = self.comm.allreduce(float(c.min()) if len(c) else np.inf, op=MPI.MIN)
        hi = self.comm.allreduce(float(c.max()) if len(c) else -np.inf, op=MPI.MAX)
        return lo, hi

    # ------------------------------------------------------------- step
    def step(self) -> int:
        """One accepted step (retrying at smaller dt on failure); returns Newton iterations."""
        tcfg = self.settings.time
        while True:
            self.problem.solve()
            snes = self.problem.solver
            reason, its = snes.getConvergedReason(), snes.getIterationNumber()
            finite = np.all(np.isfinite(self.u.x.array))
            if reason > 0 and finite:
                return its
            self.u.x.array[:] = self.u0.x.array   # reject: back to the last accepted state
            new_dt = 0.5 * float(self.dt.value)
            if not tcfg.adaptive or new_dt < tcfg.dt_min:
                raise ConvergenceError(
                    f"Newton did not converge (reason {reason}) at dt = {float(self.dt.value):.3g}; "
                    "lower time.dt / time.dt_min, refine the mesh, or check the parameters")
            self.dt.value = new_dt

    def run(self, out: Path | None = None, progress=None) -> list[StepRecord]:
        """Integrate to t_end. Writes ``history.csv`` and snapshots into ``out`` (rank 0 /
        collective XDMF) when given."""
        tcfg, ocfg = self.settings.time, self.settings.output
        t, n = 0.0, 0
        history = [StepRecord(0, 0.0, float(self.dt.value), self.energy(), self.mass(),
                              *self.c_range(), 0)]
        snaps = ([tcfg.t_end * (i + 1) / ocfg.snapshots for i in range(ocfg.snapshots)]
                 if ocfg.snapshots else [])
        writer = self._open_writer(out) if out is not None and snaps else None
        if writer is not None:
            self._write(writer, 0.0)
        t0 = time.perf_counter()
        try:
            while t < tcfg.t_end * (1 - 1e-12):
                if n >= tcfg.max_steps:
                    raise ConvergenceError(f"reached time.max_steps = {tcfg.max_steps} at t = {t:.4g} "
                                           f"< t_end = {tcfg.t_end:.4g}; raise max_steps or dt_max")
                self.dt.value = min(float(self.dt.value), tcfg.t_end - t)
                # Rannacher start-up: backward Euler damps the stiff mesh-scale modes of the
                # initial data that Crank-Nicolson would carry along with factor ~ -1
                self.theta.value = 1.0 if n < tcfg.startup_euler_steps else tcfg.theta_value
                its = self.step()
                t += float(self.dt.value)
                n += 1
                self.u0.x.array[:] = self.u.x.array
                history.append(StepRecord(n, t, float(self.dt.value), self.energy(), self.mass(),
                                          *self.c_range(), its))
                while writer is not None and snaps and t >= snaps[0] * (1 - 1e-9):
                    self._write(writer, t)
                    snaps.pop(0)
                if progress:
                    progress(history[-1])
                if tcfg.adaptive:
                    if its <= 3:
                        self.dt.value = min(tcfg.dt_max, 1.25 * float(self.dt.value))
                    elif its >= 8:
                        self.dt.value = max(tcfg.dt_min, 0.7 * float(self.dt.value))
        finally:
            if writer is not None:
                writer.close()
        self.seconds = time.perf_counter() - t0
        if out is not None and self.comm.rank == 0:
            write_history(Path(out) / "history.csv", history)
        return history

    def _open_writer(self, out: Path):
        out = Path(out)
        if self.settings.output.format == "vtx":
            return io.VTXWriter(self.comm, str(out / "fields.bp"), [self.c_out], engine="BP4")
        w = io.XDMFFile(self.comm, str(out / "fields.xdmf"), "w")
        w.write_mesh(self.msh)
        return w

    def _write(self, writer, t: float) -> None:
        self.c_out.x.array[:] = self.u.x.array[self.c_dofs]
        if isinstance(writer, io.XDMFFile):
            writer.write_function(self.c_out, t)
        else:
            writer.write(t)

    # ----------------------------------------------------------- sampling
    def sample_grid(self, n: int) -> np.ndarray | None:
        """c on an (n+1) x (n+1) grid of the rectangle, gathered on rank 0 (None elsewhere).
        Uses point evaluation, so any mesh and partition give the same grid."""
        from dolfinx import geometry

        d = self.settings.domain
        xs = np.linspace(0, d.lx, n + 1)
        ys = np.linspace(0, d.ly, n + 1)
        X, Y = np.meshgrid(xs, ys, indexing="ij")
        pts = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
        pts[:, 0] = np.clip(pts[:, 0], 1e-12 * d.lx, d.lx * (1 - 1e-12))
        pts[:, 1] = np.clip(pts[:, 1], 1e-12 * d.ly, d.ly * (1 - 1e-12))
        self.c_out.x.array[:] = self.u.x.array[self.c_dofs]
        self.c_out.x.scatter_forward()
        tree = geometry.bb_tree(self.msh, self.msh.topology.dim)
        cand = geometry.compute_collisions_points(tree, pts)
        coll = geometry.compute_colliding_cells(self.msh, cand, pts)
        vals = np.full(len(pts), np.nan)
        idx, cells = [], []
        for i in range(len(pts)):
            links = coll.links(i)
            if len(links):
                idx.append(i)
                cells.append(links[0])
        if idx:
            vals[idx] = self.c_out.eval(pts[idx], np.array(cells, dtype=np.int32)).ravel()
        allv = self.comm.gather(vals, root=0)
        if self.comm.rank != 0:
            return None
        merged = np.full(len(pts), np.nan)
        for v in allv:
            ok = ~np.isnan(v)
            merged[ok] = v[ok]
        return merged.reshape(X.shape)


def write_history(path: Path, history: list[StepRecord]) -> None:
    from ..fileio import atomic_write_text
    import io as _io

    buf = _io.StringIO()
    w = csv.writer(buf)
    w.writerow(["step", "t", "dt", "free_energy", "mass", "c_min", "c_max", "newton_its"])
    for r in history:
        w.writerow([r.step, f"{r.t:.10g}", f"{r.dt:.6g}", f"{r.energy:.12g}", f"{r.mass:.15g}",
                    f"{r.c_min:.8g}", f"{r.c_max:.8g}", r.newton_its])
    atomic_write_text(path, buf.getvalue())

