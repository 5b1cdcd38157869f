"""A reference DOLFINx solver for PFHub benchmark 1b, written apart from driver/phasefield on
purpose, for `bench/phasefield.py --pfhub` to time side by side with the driver.

What a phase-field practitioner would write from the DOLFINx Cahn-Hilliard demo
(docs.fenicsproject.org, demo_cahn-hilliard.py: mixed P1 x P1, Newton, MUMPS) and the NIST
PFHub implementations (github.com/tkphd/dolfinx-bm1-spinodal): variable-step BDF2 (first
step BDF1), fully implicit mu, each Newton solve started from the last state, and the step
chosen from the local truncation error against a quadratic extrapolation (Milne's device)
with the elementary controller dt * 0.9 * err^(-1/3) in [0.2, 2]:

    BDF2:  a0 c + a1 c_n + a2 c_{n-1} = k div(M grad mu),  w = k / k_prev,
           a0 = (1 + 2w)/(1 + w), a1 = -(1 + w), a2 = w^2/(1 + w)
    LTE:   c - c_exact = A u''',  A = k^2 (k + k_prev) / (6 a0)
    P:     c_exact - P = B u''',  B = k (k + k1) (k + k1 + k2) / 6
    =>     LTE = (c - P) A / (A + B)

PFHub 1 (pages.nist.gov/pfhub/benchmarks/benchmark1.ipynb): f = rho (c - ca)^2 (cb - c)^2,
rho = 5, ca = 0.3, cb = 0.7, kappa = 2, M = 5, 200 x 200 square, no-flux (1b),
c0 = 0.5 + 0.01 [cos(0.105x)cos(0.11y) + (cos(0.13x)cos(0.087y))^2 + cos(0.025x - 0.15y)
cos(0.07x - 0.02y)].
"""

from __future__ import annotations

import time

import numpy as np

PFHUB_IC = ("0.5 + 0.01*(cos(0.105*x)*cos(0.11*y) + (cos(0.13*x)*cos(0.087*y))**2"
            " + cos(0.025*x - 0.15*y)*cos(0.07*x - 0.02*y))")
RHO, CA, CB, KAPPA, MOB, L = 5.0, 0.3, 0.7, 2.0, 5.0, 200.0


def _ic(x):
    return 0.5 + 0.01 * (np.cos(0.105 * x[0]) * np.cos(0.11 * x[1])
                         + (np.cos(0.13 * x[0]) * np.cos(0.087 * x[1])) ** 2
                         + np.cos(0.025 * x[0] - 0.15 * x[1]) * np.cos(0.07 * x[0] - 0.02 * x[1]))


def run(n: int, t_end: float, outputs: list[float], tol: float, dt0: float = 1e-2,
        comm=None) -> dict:
    from mpi4py import MPI

    import ufl
    from basix.ufl import element, mixed_element
    from dolfinx import fem, mesh
    from dolfinx.fem.petsc import NonlinearProblem

    comm = comm or MPI.COMM_WORLD
    msh = mesh.create_rectangle(comm, [[0.0, 0.0], [L, L]], [n, n], mesh.CellType.triangle)
    P1 = element("Lagrange", msh.basix_cell(), 1)
    ME = fem.functionspace(msh, mixed_element([P1, P1]))
    V, cmap = ME.sub(0).collapse()
    cmap = np.asarray(cmap).reshape(-1)
    n_own = V.dofmap.index_map.size_local
    u, u1, u2 = fem.Function(ME), fem.Function(ME), fem.Function(ME)   # n+1, n, n-1
    a0, a1, a2 = (fem.Constant(msh, v) for v in (1.0, -1.0, 0.0))
    k = fem.Constant(msh, dt0)
    c, mu = ufl.split(u)
    c1, _ = ufl.split(u1)
    c2, _ = ufl.split(u2)
    q, v = ufl.TestFunctions(ME)
    cv = ufl.variable(c)
    fdens = RHO * (cv - CA) ** 2 * (CB - cv) ** 2
    F = ((a0 * c + a1 * c1 + a2 * c2) * q * ufl.dx + k * MOB * ufl.inner(ufl.grad(mu), ufl.grad(q)) * ufl.dx
         + mu * v * ufl.dx - ufl.diff(fdens, cv) * v * ufl.dx
         - KAPPA * ufl.inner(ufl.grad(c), ufl.grad(v)) * ufl.dx)
    opts = {"snes_type": "newtonls", "snes_linesearch_type": "none", "snes_rtol": 1e-9,
            "snes_atol": 1e-12, "snes_stol": 0.0, "snes_max_it": 25,
            "snes_error_if_not_converged": False,
            "ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
    problem = NonlinearProblem(F, u, petsc_options_prefix="pfhubref_", petsc_options=opts)
    u.sub(0).interpolate(_ic)
    u.x.scatter_forward()
    energy = fem.form((RHO * (c - CA) ** 2 * (CB - c) ** 2 + 0.5 * KAPPA * ufl.inner(ufl.grad(c), ufl.grad(c))) * ufl.dx)

    def F_total():
        return comm.allreduce(fem.assemble_scalar(energy), op=MPI.SUM)

    def rms(vec):
        cv_ = vec[cmap[:n_own]]
        return np.sqrt(comm.allreduce(float(cv_ @ cv_), op=MPI.SUM)
                       / comm.allreduce(len(cv_), op=MPI.SUM))

    t0 = time.perf_counter()
    hist_t, hist_u = [0.0], [u.x.array.copy()]
    u1.x.array[:] = u.x.array
    u2.x.array[:] = u.x.array
    t, dt, k_prev, steps, its_total, rejected = 0.0, dt0, None, 0, 0, 0
    stops = sorted(set(outputs) | {t_end})
    Fout = {}
    while stops:
        stop = stops[0]
        h = stop - t if dt >= (stop - t) / 1.1 else dt
        while True:
            w = h / k_prev if k_prev else 0.0
            if k_prev:                                   # BDF2
                a0.value, a1.value, a2.value = (1 + 2 * w) / (1 + w), -(1 + w), w * w / (1 + w)
            else:                                        # BDF1 start
                a0.value, a1.value, a2.value = 1.0, -1.0, 0.0
            k.value = h
            u.x.array[:] = u1.x.array                    # Newton from the last state
            problem.solve()
            snes = problem.solver
            ok = snes.getConvergedReason() > 0
            if not ok:
                rejected += 1
                h *= 0.5
                continue
            its_total += snes.getIterationNumber()
            if len(hist_t) >= 3:
                tn = t + h
                ts = hist_t[-3:]
                P = sum(hist_u[-3:][i] * np.prod([(tn - ts[j]) / (ts[i] - ts[j]) for j in range(3) if j != i])
                        for i in range(3))
                A = h * h * (h + k_prev) / (6 * float(a0.value))
                B = (tn - ts[2]) * (tn - ts[1]) * (tn - ts[0]) / 6
                err = rms((u.x.array - P) * A / (A + B)) / tol
                new = h * min(2.0, max(0.2, 0.9 * max(err, 1e-10) ** (-1 / 3)))
                if err > 1:
                    rejected += 1
                    h = new
                    continue
            else:
                new = h
            break
        landed = h == stop - t
        t = stop if landed else t + h
        steps += 1
        k_prev = h
        u2.x.array[:] = u1.x.array
        u1.x.array[:] = u.x.array
        hist_t.append(t)
        hist_u.append(u.x.array.copy())
        del hist_t[:-3], hist_u[:-3]
        if landed:
            stops.pop(0)
            Fout[t] = F_total()
            dt = dt if (new >= h and h < dt) else new
        else:
            dt = new
    return {"steps": steps, "newton": its_total, "rejected": rejected,
            "seconds": time.perf_counter() - t0, "F": Fout}
