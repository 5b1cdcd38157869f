"""Periodic boundaries by a prolongation matrix, without a multi-point-constraint library.

dolfinx_mpc (the usual route) has no PyPI wheel, so periodicity is imposed algebraically:
the dofs on x = lx and y = ly ("slaves") are copies of the dofs at the same point shifted to
x = 0 / y = 0 ("masters", the corner maps to the origin). With P the (full x reduced)
matrix that copies each reduced unknown to its dof and its slaves, Newton solves

    P^T F(P u_r) = 0,        Jacobian P^T J(P u_r) P   (PETSc MatPtAP)

which is exactly the Galerkin method on the periodic space. Works in parallel: masters and
slaves may live on different ranks (the master candidates on x = 0 or y = 0, O(sqrt N) of
them, are gathered on every rank and matched by coordinates).
"""

from __future__ import annotations

import numpy as np
from petsc4py import PETSc
from scipy.spatial import cKDTree

import ufl
from dolfinx import fem
from dolfinx.fem.petsc import assemble_matrix, assemble_vector, create_matrix, create_vector

from ..errors import SSEError


def prolongation(V: fem.FunctionSpace, lx: float, ly: float) -> tuple[PETSc.Mat, np.ndarray]:
    """P for a (possibly mixed) Lagrange space on [0, lx] x [0, ly], and the local indices of
    this rank's owned master dofs in the order of its reduced unknowns."""
    comm = V.mesh.comm
    imap = V.dofmap.index_map
    bs = V.dofmap.index_map_bs
    if bs != 1:
        raise SSEError("periodic: blocked spaces are not supported")
    n_own, n_glob = imap.size_local, imap.size_global
    n_all = n_own + imap.num_ghosts
    coords = np.full((n_all, 2), np.nan)
    comp = np.full(n_all, -1)
    n_sub = V.element.num_sub_elements or 1
    for i in range(n_sub):
        Vi, dofs = V.sub(i).collapse() if n_sub > 1 else (V, np.arange(n_all))
        dofs = np.asarray(dofs).ravel()        # a list holding one array in DOLFINx 0.11
        coords[dofs] = Vi.tabulate_dof_coordinates()[:, :2]
        comp[dofs] = i
    tol = 1e-8 * max(lx, ly)
    x, y = coords[:n_own, 0], coords[:n_own, 1]
    slave = (x > lx - tol) | (y > ly - tol)
    masters = np.flatnonzero(~slave)
    n_red = masters.size
    offset = comm.exscan(n_red) or 0
    n_red_glob = comm.allreduce(n_red)
    red = np.full(n_own, -1, dtype=np.int64)
    red[masters] = offset + np.arange(n_red)
    # master candidates on the x = 0 or y = 0 edges, from every rank
    edge = masters[(x[masters] < tol) | (y[masters] < tol)]
    cand = np.column_stack([comp[edge], x[edge], y[edge], red[edge]])
    cand = np.vstack([c for c in comm.allgather(cand) if len(c)]) if n_glob else cand
    cols = red.copy()
    sl = np.flatnonzero(slave)
    if sl.size:
        tx = np.where(x[sl] > lx - tol, 0.0, x[sl])
        ty = np.where(y[sl] > ly - tol, 0.0, y[sl])
        for i in range(n_sub):
            mine = comp[sl] == i
            pool = cand[cand[:, 0] == i]
            d, j = cKDTree(pool[:, 1:3]).query(np.column_stack([tx[mine], ty[mine]]))
            if np.any(d > tol):
                raise SSEError("periodic: a boundary dof has no partner on the opposite edge "
                               "(the mesh must match across the boundary)")
            cols[sl[mine]] = pool[j, 3].astype(np.int64)
    P = PETSc.Mat().createAIJ(((n_own, n_glob), (n_red, n_red_glob)), nnz=(1, 1), comm=comm)
    P.setOption(PETSc.Mat.Option.NEW_NONZERO_ALLOCATION_ERR, False)
    rstart = imap.local_range[0]
    for r, c in enumerate(cols):
        P.setValue(rstart + r, int(c), 1.0)
    P.assemble()
    return P, masters


class PeriodicProblem:
    """Newton on the periodic subspace: the interface of dolfinx's NonlinearProblem that the
    solver uses (``solve()``, ``solver``), with the residual and Jacobian projected by P."""

    def __init__(self, F: ufl.Form, u: fem.Function, lx: float, ly: float, prefix: str,
                 petsc_options: dict):
        self.u = u
        V = u.function_space
        self.F = fem.form(F)
        self.J = fem.form(ufl.derivative(F, u, ufl.TrialFunction(V)))
        self.P, self.masters = prolongation(V, lx, ly)
        self.A = create_matrix(self.J)
        self.b = create_vector(V)
        self.x_red = self.P.createVecRight()
        self.F_red = self.P.createVecRight()
        self._assemble_A()
        self.J_red = self.A.PtAP(self.P)
        opts = PETSc.Options()
        for k, v in petsc_options.items():
            opts[f"{prefix}{k}"] = v
        self.solver = PETSc.SNES().create(V.mesh.comm)
        self.solver.setOptionsPrefix(prefix)
        self.solver.setFunction(self._residual, self.F_red)
        self.solver.setJacobian(self._jacobian, self.J_red)
        self.solver.setFromOptions()

    def _to_full(self, x_red: PETSc.Vec) -> None:
        self.P.mult(x_red, self.u.x.petsc_vec)
        self.u.x.scatter_forward()

    def _assemble_A(self) -> None:
        self.A.zeroEntries()
        assemble_matrix(self.A, self.J)
        self.A.assemble()

    def _residual(self, snes, x, f) -> None:
        self._to_full(x)
        with self.b.localForm() as loc:
            loc.set(0.0)
        assemble_vector(self.b, self.F)
        self.b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        self.P.multTranspose(self.b, f)

    def _jacobian(self, snes, x, J, Pmat) -> None:
        self._to_full(x)
        self._assemble_A()
        self.A.PtAP(self.P, result=J)

    def periodize(self) -> None:
        """Make u periodic: each slave takes its master's value (e.g. after setting an
        initial condition that is not periodic itself)."""
        self.x_red.array[:] = self.u.x.array[self.masters]
        self._to_full(self.x_red)

    def solve(self) -> None:
        self.x_red.array[:] = self.u.x.array[self.masters]
        self.solver.solve(None, self.x_red)
        self._to_full(self.x_red)
