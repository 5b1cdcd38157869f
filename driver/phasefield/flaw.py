"""Current focusing at a Li-filled surface flaw: the secondary current distribution in DOLFINx.

Geometry (2-D, plane strain section): the electrolyte fills the half plane y > 0 above a flat
Li electrode (y = 0) from which a Li-filled flaw protrudes as a half ellipse of depth ``l``
(along y, the current direction) and half width ``b``. The electrolyte is an ohmic conductor
(sigma); every Li surface has a linear charge-transfer (interface) resistance R (area
specific), so the current density into the Li is i = phi / R with phi the electrolyte
potential against the Li; far away the current density is uniform, i0 along -y.

Scaled by l (lengths) and i0 l / sigma (potential), the problem has one number besides the
shape, the Wagner number Wa = sigma R / l:

    -lap(phi) = 0,   d phi/dn + phi / Wa = 0 on Li,   d phi/dn = (e_y . n) far away,

and the current density at the flaw tip over the far-field one is A = phi_tip / Wa. Limits
(both used as verification, tests/test_flaw.py): Wa -> 0 (primary distribution) gives the
potential-flow value A = 1 + l / b at the tip of a half ellipse; a half circle (l = b) with a
Dirichlet plane and a resistive circle gives A = 2 / (1 + Wa) exactly (phi = E0 (r - B a^2 / r)
cos theta with B = (1 - Wa) / (1 + Wa)). Wa -> infinity gives A -> 1 (uniform current).

The mesh is structured in elliptic coordinates (x = c sinh(mu) sin(nu), y = c cosh(mu) cos(nu),
c^2 = l^2 - b^2; polar coordinates when l = b): mu0 is the flaw, nu = +-pi/2 the flat
electrode, mu1 a far confocal ellipse of radius ~ ``domain_factor`` x l. The map clusters
elements at the tip, where the current concentrates, with no mesh generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..mpi import MPI

import ufl  # noqa: E402
from dolfinx import fem, mesh  # noqa: E402
import dolfinx.fem.petsc as fem_petsc  # noqa: E402

FLAW, PLANE, FAR = 1, 2, 3          # facet tags


@dataclass(frozen=True)
class FlawMesh:
    """Resolution of the elliptic-coordinate mesh (cells along mu and nu, P-degree).

    P1 by default: the tip current is read from the Robin relation i = phi / R at the tip
    node, and with P2 that nodal value oscillates between vertex and edge nodes when Wa is
    small (measured: l/b = 2, Wa = 1e-5: P2 3.46, 3.22, 3.10 on 48, 96, 192 radial cells vs
    P1 3.014, 3.003, 3.001; exact 3)."""

    radial: int = 128
    angular: int = 256
    degree: int = 1
    domain_factor: float = 100.0


def _coords(l: float, b: float, far: float):
    """(mu0, mu1, map) of the elliptic (or polar, l = b) coordinates: the flaw at mu = mu0,
    the far ellipse (semi-axis ``far`` along y) at mu = mu1."""
    if abs(l - b) < 1e-12 * l:
        return np.log(l), np.log(far), (lambda mu, nu: (np.exp(mu) * np.sin(nu),
                                                        np.exp(mu) * np.cos(nu)))
    c = np.sqrt(l * l - b * b)
    return np.arctanh(b / l), np.arccosh(far / c), (
        lambda mu, nu: (c * np.sinh(mu) * np.sin(nu), c * np.cosh(mu) * np.cos(nu)))


def build_mesh(l_over_b: float, res: FlawMesh, comm=None):
    """The scaled (l = 1) half plane above the electrode with the half-elliptic flaw, and its
    facet tags (FLAW, PLANE, FAR)."""
    comm = comm or MPI.COMM_WORLD
    mu0, mu1, to_xy = _coords(1.0, 1.0 / l_over_b, res.domain_factor)
    msh = mesh.create_rectangle(comm, [np.array([mu0, -np.pi / 2]), np.array([mu1, np.pi / 2])],
                                [res.radial, res.angular], mesh.CellType.triangle,
                                diagonal=mesh.DiagonalType.crossed)
    tdim = msh.topology.dim
    msh.topology.create_connectivity(tdim - 1, tdim)
    facets = {FLAW: mesh.locate_entities_boundary(msh, tdim - 1, lambda p: np.isclose(p[0], mu0)),
              PLANE: mesh.locate_entities_boundary(msh, tdim - 1,
                                                   lambda p: np.isclose(np.abs(p[1]), np.pi / 2)),
              FAR: mesh.locate_entities_boundary(msh, tdim - 1, lambda p: np.isclose(p[0], mu1))}
    idx = np.concatenate(list(facets.values()))
    val = np.concatenate([np.full(len(v), k, dtype=np.int32) for k, v in facets.items()])
    order = np.argsort(idx)
    # a corner facet belongs to one side only; keep the first tag of a repeated index
    idx, first = np.unique(idx[order], return_index=True)
    tags = mesh.meshtags(msh, tdim - 1, idx.astype(np.int32), val[order][first])
    x = msh.geometry.x
    X, Y = to_xy(x[:, 0].copy(), x[:, 1].copy())
    x[:, 0], x[:, 1] = X, Y
    return msh, tags


def current_amplification(l_over_b: float, wagner: float | np.ndarray, res: FlawMesh = FlawMesh(),
                          plane: str = "robin", comm=None) -> np.ndarray:
    """Tip current density over the far-field one, A(Wa), for each Wagner number given.

    ``plane='dirichlet'`` holds the flat electrode at the Li potential (no interface
    resistance there): only for the half-circle verification case. One mesh and one
    assembled Laplacian serve every Wa: the operator is K + M_Li / Wa, re-factorized per Wa
    on the same sparsity (K: the Laplacian, M_Li: the mass matrix on the Li surfaces)."""
    from petsc4py import PETSc

    comm = comm or MPI.COMM_WORLD
    msh, tags = build_mesh(l_over_b, res, comm)
    V = fem.functionspace(msh, ("Lagrange", res.degree))
    u, v = ufl.TrialFunction(V), ufl.TestFunction(V)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=tags)
    n = ufl.FacetNormal(msh)
    robin = ds((FLAW, PLANE)) if plane == "robin" else ds(FLAW)
    bcs = []
    if plane == "dirichlet":
        dofs = fem.locate_dofs_topological(V, msh.topology.dim - 1, tags.find(PLANE))
        bcs = [fem.dirichletbc(0.0, dofs, V)]
    K = fem_petsc.assemble_matrix(fem.form(ufl.inner(ufl.grad(u), ufl.grad(v)) * ufl.dx), bcs=bcs)
    M = fem_petsc.assemble_matrix(fem.form(u * v * robin), bcs=bcs, diag=0.0)
    K.assemble()
    M.assemble()
    b = fem_petsc.assemble_vector(fem.form(n[1] * v * ds(FAR)))
    b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
    fem_petsc.set_bc(b, bcs)            # the Dirichlet value is 0: no lifting needed
    A = K.duplicate(copy=True)
    ksp = PETSc.KSP().create(comm)
    ksp.setType("preonly")
    ksp.getPC().setType("lu")
    ksp.getPC().setFactorSolverType("mumps")
    phi = fem.Function(V)
    # the tip: the flaw point on the y axis (scaled y = 1)
    tip_dofs = fem.locate_dofs_geometrical(V, lambda p: np.isclose(p[0], 0.0, atol=1e-9)
                                           & np.isclose(p[1], 1.0, atol=1e-9))
    owned = tip_dofs[tip_dofs < V.dofmap.index_map.size_local]
    out = []
    for wa in np.atleast_1d(np.asarray(wagner, float)):
        K.copy(A, structure=PETSc.Mat.Structure.SAME_NONZERO_PATTERN)
        A.axpy(1.0 / wa, M, structure=PETSc.Mat.Structure.SUBSET_NONZERO_PATTERN)
        ksp.setOperators(A)
        ksp.solve(b, phi.x.petsc_vec)
        phi.x.scatter_forward()
        local = phi.x.array[owned]
        tip = comm.allreduce(float(local[0]) if len(local) else -np.inf, op=MPI.MAX)
        out.append(tip / wa)
    for obj in (ksp, A, K, M, b):
        obj.destroy()
    return np.array(out)
