"""Cahn-Hilliard with a reaction term in DOLFINx 0.11 (mixed c-mu, P1 x P1), MPI-parallel.

    dc/dt = div(M(c) grad mu) - k g(c),     mu = f'(c) - kappa lap(c)

with natural (no-flux) boundaries, or periodic ones (driver/phasefield/periodic.py: Newton
on the periodic subspace through a prolongation matrix). Time stepping is the theta method on the whole system
(theta = 1/2 Crank-Nicolson, theta = 1 backward Euler) solved by PETSc SNES Newton. dt adapts
to each step's local truncation error (driver/phasefield/stepping.py; or, as before, to the
Newton iteration count), steps land exactly on the output times, and a step whose Newton
fails is retried at half dt.
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
from .stepping import ErrorController  # noqa: E402
from .settings import PhaseFieldSettings  # noqa: E402


class ConvergenceError(SSEError):
    """Newton failed even at the smallest allowed time step. Retried with every time-step
    bound a tenth (``time.dt_scale``)."""

    retry = {"dt_scale_factor": 0.1}


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
        self.V, c_dofs = self.ME.sub(0).collapse()
        self.c_dofs = np.asarray(c_dofs, dtype=np.int64).reshape(-1)   # DOLFINx gives [array]
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

    def _owned_c(self, v: np.ndarray) -> np.ndarray:
        """The c values this rank owns, from a vector on the mixed space's local array (the
        collapsed map lists owned dofs first, then ghosts)."""
        n_own = self.V.dofmap.index_map.size_local * self.V.dofmap.index_map_bs
        return v[self.c_dofs[:n_own]]

    def c_range(self) -> tuple[float, float]:
        c = self._owned_c(self.u.x.array)
        lo = self.comm.allreduce(float(c.min()) if len(c) else np.inf, op=MPI.MIN)
        hi = self.comm.allreduce(float(c.max()) if len(c) else -np.inf, op=MPI.MAX)
        return lo, hi

    # ------------------------------------------------------------- step
    def _solve_once(self, guess: np.ndarray | None) -> tuple[bool, int, int]:
        """One Newton solve from ``guess`` (or the last state); (converged, its, reason)."""
        if guess is not None:
            self.u.x.array[:] = guess
        self.problem.solve()
        snes = self.problem.solver
        reason, its = snes.getConvergedReason(), snes.getIterationNumber()
        return bool(reason > 0 and np.all(np.isfinite(self.u.x.array))), its, reason

    def _rms_owned_c(self, v: np.ndarray) -> float:
        """RMS over every rank's owned c dofs of a vector on the mixed space's local array."""
        c = self._owned_c(v)
        sq = self.comm.allreduce(float(np.dot(c, c)), op=MPI.SUM)
        n = self.comm.allreduce(len(c), op=MPI.SUM)
        return float(np.sqrt(sq / max(n, 1)))

    def step(self, t: float, ctrl: ErrorController | None = None) -> tuple[int, float | None]:
        """One accepted step from t with the current dt (retried at smaller dt when Newton
        fails or, with the error controller, when the local error exceeds the tolerance).
        Returns (Newton iterations of the accepted solve, the controller's next dt or None)."""
        tcfg = self.settings.time
        theta = float(self.theta.value)
        while True:
            dt = float(self.dt.value)
            guess = ctrl.predictor(t + dt, theta) if ctrl is not None else None
            ok, its, reason = self._solve_once(guess)
            if ok and ctrl is not None and ctrl.can_estimate(theta):   # then guess exists
                err = ctrl.error(self.u.x.array, guess, t + dt, theta, self._rms_owned_c)
                if err <= 1.0 or dt <= tcfg.dt_min * (1 + 1e-9):
                    return its, ctrl.next_dt(dt, err, theta)
                new_dt = ctrl.next_dt(dt, err, theta, accepted=False)
                self.u.x.array[:] = self.u0.x.array   # too inaccurate: redo with new_dt
                self.dt.value = new_dt
                self.rejected += 1
                continue
            if ok:
                return its, None
            self.u.x.array[:] = self.u0.x.array   # reject: back to the last accepted state
            self.rejected += 1
            new_dt = 0.5 * dt
            if not tcfg.adaptive or new_dt < tcfg.dt_min:
                raise ConvergenceError(
                    f"Newton did not converge (reason {reason}) at dt = {dt:.3g}; "
                    "lower time.dt / time.dt_min, refine the mesh, or check the parameters")
            self.dt.value = new_dt

    def run(self, out: Path | None = None, progress=None) -> list[StepRecord]:
        """Integrate to t_end, landing exactly on ``time.outputs`` and on the snapshot times.
        Writes ``history.csv`` and snapshots into ``out`` (rank 0 / collective XDMF) when
        given; ``self.outputs`` holds (t, free energy, mass) at each output time."""
        tcfg, ocfg = self.settings.time, self.settings.output
        t, n = 0.0, 0
        history = [StepRecord(0, 0.0, float(self.dt.value), self.energy(), self.mass(),
                              *self.c_range(), 0)]
        snaps = ([tcfg.t_end * (i + 1) / ocfg.snapshots for i in range(ocfg.snapshots)]
                 if ocfg.snapshots else [])
        stops = _merge_stops(tcfg.outputs, snaps, tcfg.t_end)
        self.outputs, self.rejected = [], 0
        ctrl = (ErrorController(tcfg.tolerance, tcfg.dt_min, tcfg.dt_max)
                if tcfg.adaptive and tcfg.controller == "error" else None)
        if ctrl is not None:
            ctrl.accepted(0.0, self.u.x.array)
        writer = self._open_writer(out) if out is not None and snaps else None
        if writer is not None:
            self._write(writer, 0.0)
        t0 = time.perf_counter()
        proposed = float(self.dt.value)
        try:
            while stops:
                stop, is_output, is_snapshot = stops[0]
                if n >= tcfg.max_steps:
                    raise ConvergenceError(f"reached time.max_steps = {tcfg.max_steps} at t = {t:.4g} "
                                           f"< t_end = {tcfg.t_end:.4g}; raise max_steps or dt_max")
                # land on the next stop exactly; stretch a step by up to 10 % (never beyond
                # dt_max) rather than leave a sliver
                left = stop - t
                fits = left <= tcfg.dt_max * (1 + 1e-9)
                self.dt.value = left if proposed >= left / 1.1 and fits else proposed
                # Rannacher start-up: backward Euler damps the stiff mesh-scale modes of the
                # initial data that Crank-Nicolson would carry along with factor ~ -1
                self.theta.value = 1.0 if n < tcfg.startup_euler_steps else tcfg.theta_value
                its, new_dt = self.step(t, ctrl)
                landed = float(self.dt.value) == left
                t = stop if landed else t + float(self.dt.value)
                n += 1
                self.u0.x.array[:] = self.u.x.array
                if ctrl is not None:
                    ctrl.accepted(t, self.u.x.array)
                history.append(StepRecord(n, t, float(self.dt.value), self.energy(), self.mass(),
                                          *self.c_range(), its))
                if landed:
                    stops.pop(0)
                    if is_output:
                        self.outputs.append({"t": t, "free_energy": history[-1].energy,
                                             "mass": history[-1].mass})
                    if writer is not None and is_snapshot:
                        self._write(writer, t)
                if progress:
                    progress(history[-1])
                proposed = self._next_dt(float(self.dt.value), its, new_dt, landed, proposed)
        finally:
            if writer is not None:
                writer.close()
        self.seconds = time.perf_counter() - t0
        if out is not None and self.comm.rank == 0:
            write_history(Path(out) / "history.csv", history)
        return history

    def _next_dt(self, dt: float, its: int, new_dt: float | None, landed: bool,
                 proposed: float) -> float:
        """The step after an accepted one. A step shortened to land on a stop says little
        about the step that was wanted: the earlier proposal stands unless the short step
        asks for less."""
        tcfg = self.settings.time
        if not tcfg.adaptive:
            return proposed
        if tcfg.controller == "error":
            nxt = dt if new_dt is None else new_dt
        elif its <= 3:
            nxt = min(tcfg.dt_max, 1.25 * dt)
        elif its >= 8:
            nxt = max(tcfg.dt_min, 0.7 * dt)
        else:
            nxt = dt
        if landed and dt < proposed:
            return proposed if nxt >= dt else nxt
        return nxt

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


def _merge_stops(outputs: list[float], snapshots: list[float],
                 t_end: float) -> list[tuple[float, bool, bool]]:
    """Times the steps must land on, as (t, is an output, is a snapshot), ascending; times
    within 1e-9 t_end of each other are one stop (t_end * 10 / 10 need not equal t_end)."""
    tagged = sorted([(t, True, False) for t in outputs] + [(t, False, True) for t in snapshots]
                    + [(t_end, False, False)])
    merged: list[list] = []
    for t, o, sn in tagged:
        if merged and t - merged[-1][0] <= 1e-9 * t_end:
            merged[-1][0] = max(merged[-1][0], t)
            merged[-1][1] |= o
            merged[-1][2] |= sn
        else:
            merged.append([t, o, sn])
    merged[-1][0] = t_end        # the last stop holds t_end (nothing lies beyond it)
    return [(t, o, sn) for t, o, sn in merged]


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

