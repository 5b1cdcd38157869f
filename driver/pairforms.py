"""Short-range pair forms used by ``potentials/*.yaml`` files: pure functions.

``buck_core`` is the partial-charge Buckingham form of Teter and Du
(L. Deng, J. Du, J. Am. Ceram. Soc. 102, 2482 (2019), doi:10.1111/jace.16082):

    E(r) = A exp(-r/rho) - C / r^6                 for r >= r0
    E(r) = B / r^n + D r^2                         for r <  r0

The Buckingham term turns over and dives to -infinity at short range (the "Buckingham
catastrophe"), which hot MD reaches. Deng and Du replace it inside r0 by a repulsive core
whose value and first two derivatives match at r0, with r0 the inner zero of the third
derivative of the Buckingham term. Given (A, rho, C) that rule fixes (r0, B, n, D) in
closed form (:func:`core`); tests check that it reproduces the published core parameters.
Pairs with C = 0 are monotonic and need no core.

``softbv`` is the bond-valence force field of S. Adams and R. P. Rao (Phys. Status
Solidi A 208, 1746 (2011), doi:10.1002/pssa.201001116): a Morse term between each cation
and anion whose parameters follow from bond-valence parameters, and a screened Coulomb
repulsion between ions of like sign, with no cation-anion Coulomb term:

    E_cat-an(r) = D0 [(exp(alpha (Rmin - r)) - 1)^2 - 1]
    E_like(r)   = k_e q_i q_j / sqrt(n_i n_j) erfc(r / rho) / r,  rho = f (r_i + r_j)

q: formal charges, n: principal quantum numbers, r: softBV covalent radii, f = 0.74.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import brentq
from scipy.special import erfc

#: Coulomb constant e^2 / (4 pi eps0) in eV A (CODATA 2018; LAMMPS metal units use the same).
COULOMB_EV_A = 14.399645


def buckingham(r, A: float, rho: float, C: float, k: int = 0):
    """k-th derivative (k = 0..3) of A exp(-r/rho) - C r^-6."""
    r = np.asarray(r, dtype=float)
    falling = {0: 1.0, 1: -6.0, 2: 42.0, 3: -336.0}[k]  # d^k/dr^k r^-6 = falling * r^-(6+k)
    return A * (-1.0 / rho) ** k * np.exp(-r / rho) - C * falling * r ** (-6.0 - k)


@dataclass(frozen=True)
class Core:
    r0: float
    B: float
    n: float
    D: float

    def energy(self, r):
        r = np.asarray(r, dtype=float)
        return self.B * r ** -self.n + self.D * r * r

    def force(self, r):
        """-dE/dr."""
        r = np.asarray(r, dtype=float)
        return self.n * self.B * r ** (-self.n - 1.0) - 2.0 * self.D * r


def core(A: float, rho: float, C: float) -> Core | None:
    """The repulsive core of Deng and Du for one pair, or None when C = 0.

    r0: the inner zero of E''' (the first sign change outward from 0.3 A, where the C r^-6
    term still dominates and E''' > 0). Then with E0, E1, E2 the value and first two
    derivatives at r0 and u = B r0^-n, matching B r^-n + D r^2 gives
    n = 1 + (E2 r0^2 - 2 E0) / (2 E0 - E1 r0), u = (2 E0 - E1 r0) / (n + 2),
    D = (E0 - u) / r0^2.
    """
    if C <= 0:
        return None
    grid = np.linspace(0.3, 6.0, 5701)
    d3 = buckingham(grid, A, rho, C, 3)
    change = np.nonzero(np.sign(d3[:-1]) != np.sign(d3[1:]))[0]
    if len(change) == 0:
        raise ValueError(f"Buckingham A={A} rho={rho} C={C} has no inflection of the force "
                         "between 0.3 and 6 A; the core rule does not apply")
    i = change[0]
    r0 = brentq(lambda r: float(buckingham(r, A, rho, C, 3)), grid[i], grid[i + 1],
                xtol=1e-12)
    E0, E1, E2 = (float(buckingham(r0, A, rho, C, k)) for k in range(3))
    n = 1.0 + (E2 * r0 * r0 - 2.0 * E0) / (2.0 * E0 - E1 * r0)
    u = (2.0 * E0 - E1 * r0) / (n + 2.0)
    return Core(r0=r0, B=u * r0 ** n, n=n, D=(E0 - u) / (r0 * r0))


def buck_core_energy_force(r, A: float, rho: float, C: float):
    """(E, -dE/dr) of the full buck_core form at distances r (A)."""
    r = np.asarray(r, dtype=float)
    e = buckingham(r, A, rho, C)
    f = -buckingham(r, A, rho, C, 1)
    c = core(A, rho, C)
    if c is not None:
        inside = r < c.r0
        e = np.where(inside, c.energy(r), e)
        f = np.where(inside, c.force(r), f)
    return e, f


def morse_bv(r, D0: float, r_min: float, alpha: float):
    """(E, -dE/dr) of the bond-valence Morse term D0 [(exp(alpha (Rmin - r)) - 1)^2 - 1]."""
    r = np.asarray(r, dtype=float)
    x = np.exp(alpha * (r_min - r))
    return D0 * ((x - 1.0) ** 2 - 1.0), 2.0 * D0 * alpha * (x - 1.0) * x


def screened_coulomb(r, qq: float, rho: float):
    """(E, -dE/dr) of k_e qq erfc(r / rho) / r, qq the effective charge product."""
    r = np.asarray(r, dtype=float)
    k = COULOMB_EV_A * qq
    e = k * erfc(r / rho) / r
    return e, e / r + k * 2.0 / (np.sqrt(np.pi) * rho) * np.exp(-(r / rho) ** 2) / r


EnergyForce = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def lammps_table(sections: dict[str, EnergyForce], r_lo: float, r_cut: float, n: int,
                 header: str) -> str:
    """A LAMMPS ``pair_style table`` file, one section per keyword (e.g. ``Li-O``).

    Each section is a function r -> (E, -dE/dr). Energies are shifted to zero at r_cut so
    the truncation adds no step (what ``pair_modify shift yes`` does for analytic styles);
    forces are analytic.
    """
    r = np.linspace(r_lo, r_cut, n)          # r[-1] == r_cut
    out = [f"# {line}" for line in header.splitlines()] + [""]
    for key, energy_force in sections.items():
        e, f = energy_force(r)
        e = e - e[-1]
        out += [key, f"N {n} R {r_lo:g} {r_cut:g}", ""]
        out += [f"{i + 1} {ri:.10f} {ei:.10e} {fi:.10e}" for i, (ri, ei, fi) in
                enumerate(zip(r, e, f))]
        out.append("")
    return "\n".join(out)
