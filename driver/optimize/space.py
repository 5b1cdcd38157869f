"""Search spaces: bounded continuous variables, linear constraints, equalities (charge
neutrality) solved for a dependent variable, and vetoed regions.

The optimizer searches the *free* variables in the unit cube; each equality fixes one
dependent variable (``solve_for``), which is then checked against its bounds like every
inequality. A space is data: ``Space.from_dict`` validates it and names what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import qmc

from ..errors import ConfigError


@dataclass(frozen=True)
class Variable:
    name: str
    low: float
    high: float
    step: float | None = None   # realizable grid (e.g. 1/(Z n_cells) dopants per f.u.)


@dataclass(frozen=True)
class Linear:
    """sum(coeffs[v] * v) <= upper (inequality) or == value (equality, solved for a variable)."""

    coeffs: dict[str, float]
    upper: float | None = None
    value: float | None = None
    solve_for: str | None = None


@dataclass(frozen=True)
class Exclusion:
    """A vetoed ball in the unit-scaled free space (from expert review)."""

    center: dict[str, float]
    radius: float
    reason: str = ""


@dataclass
class Space:
    variables: list[Variable]
    inequalities: list[Linear] = field(default_factory=list)
    equalities: list[Linear] = field(default_factory=list)
    exclusions: list[Exclusion] = field(default_factory=list)

    # ------------------------------------------------------------- build
    @classmethod
    def from_dict(cls, d: dict, source: str = "space") -> "Space":
        def err(msg: str) -> ConfigError:
            return ConfigError(f"{source}: {msg}")

        if not isinstance(d, dict) or not isinstance(d.get("variables"), dict) or not d["variables"]:
            raise err("needs 'variables': a mapping name -> [low, high]")
        unknown = set(d) - {"variables", "constraints", "equalities", "exclusions"}
        if unknown:
            raise err(f"unknown key(s) {', '.join(sorted(unknown))} (allowed: variables, "
                      "constraints, equalities, exclusions)")
        vars_ = []
        for name, b in d["variables"].items():
            if not (isinstance(b, (list, tuple)) and len(b) in (2, 3)
                    and all(isinstance(v, (int, float)) and np.isfinite(v) for v in b)):
                raise err(f"variables.{name}: give [low, high] or [low, high, step] as numbers, got {b!r}")
            if not b[0] < b[1]:
                raise err(f"variables.{name}: low {b[0]} must be below high {b[1]}")
            step = float(b[2]) if len(b) == 3 else None
            if step is not None and not 0 < step <= b[1] - b[0]:
                raise err(f"variables.{name}: step {step} must be in (0, high - low]")
            vars_.append(Variable(str(name), float(b[0]), float(b[1]), step))
        names = {v.name for v in vars_}

        def linear(i: int, c: dict, kind: str) -> Linear:
            where = f"{kind}[{i}]"
            coeffs = c.get("coeffs") if isinstance(c, dict) else None
            if not isinstance(coeffs, dict) or not coeffs:
                raise err(f"{where}: needs 'coeffs': a mapping variable -> number")
            bad = set(coeffs) - names
            if bad:
                raise err(f"{where}: unknown variable(s) {', '.join(sorted(bad))} (known: {', '.join(sorted(names))})")
            if kind == "constraints":
                if not isinstance(c.get("upper"), (int, float)):
                    raise err(f"{where}: needs 'upper' (sum coeffs*x <= upper)")
                return Linear({k: float(v) for k, v in coeffs.items()}, upper=float(c["upper"]))
            sf = c.get("solve_for")
            if sf not in coeffs or coeffs[sf] == 0:
                raise err(f"{where}: 'solve_for' must name a variable with a non-zero coefficient")
            if not isinstance(c.get("value"), (int, float)):
                raise err(f"{where}: needs 'value' (sum coeffs*x == value)")
            return Linear({k: float(v) for k, v in coeffs.items()}, value=float(c["value"]), solve_for=sf)

        ineq = [linear(i, c, "constraints") for i, c in enumerate(d.get("constraints", []) or [])]
        eq = [linear(i, c, "equalities") for i, c in enumerate(d.get("equalities", []) or [])]
        dep = [e.solve_for for e in eq]
        if len(set(dep)) != len(dep):
            raise err("equalities: each must solve for a different variable")
        for e in eq:
            if any(v in dep and v != e.solve_for for v in e.coeffs):
                raise err("equalities: a dependent variable may not appear in another equality")
        if len(dep) >= len(vars_):
            raise err("equalities leave no free variable to search")
        exc = [Exclusion({k: float(v) for k, v in x["center"].items()}, float(x["radius"]),
                         str(x.get("reason", ""))) for x in d.get("exclusions", []) or []]
        sp = cls(vars_, ineq, eq, exc)
        if not sp.feasible(sp.from_unit(sp.sobol_unit(1024, seed=0))).any():
            raise err("no feasible point found in 1024 samples: constraints contradict the bounds")
        return sp

    def to_dict(self) -> dict:
        return {"variables": {v.name: [v.low, v.high] + ([v.step] if v.step else [])
                              for v in self.variables},
                "constraints": [{"coeffs": c.coeffs, "upper": c.upper} for c in self.inequalities],
                "equalities": [{"coeffs": c.coeffs, "value": c.value, "solve_for": c.solve_for}
                               for c in self.equalities],
                "exclusions": [{"center": x.center, "radius": x.radius, "reason": x.reason}
                               for x in self.exclusions]}

    # ---------------------------------------------------------- mapping
    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def free(self) -> list[Variable]:
        dep = {e.solve_for for e in self.equalities}
        return [v for v in self.variables if v.name not in dep]

    @property
    def dim(self) -> int:
        return len(self.free)

    def from_unit(self, U: np.ndarray) -> np.ndarray:
        """Free unit-cube points -> full variable vectors (dependent ones solved)."""
        U = np.atleast_2d(np.asarray(U, float))
        X = np.zeros((len(U), len(self.variables)))
        idx = {v.name: i for i, v in enumerate(self.variables)}
        for j, v in enumerate(self.free):
            x = v.low + U[:, j] * (v.high - v.low)
            if v.step:  # snap to the realizable grid k * step inside [low, high]
                k = np.clip(np.round(x / v.step), np.ceil(v.low / v.step - 1e-9),
                            np.floor(v.high / v.step + 1e-9))
                x = k * v.step
            X[:, idx[v.name]] = x
        for e in self.equalities:
            rest = sum(c * X[:, idx[n]] for n, c in e.coeffs.items() if n != e.solve_for)
            X[:, idx[e.solve_for]] = (e.value - rest) / e.coeffs[e.solve_for]
        return X

    def to_unit(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, float))
        idx = {v.name: i for i, v in enumerate(self.variables)}
        return np.column_stack([(X[:, idx[v.name]] - v.low) / (v.high - v.low) for v in self.free])

    def feasible(self, X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, float))
        idx = {v.name: i for i, v in enumerate(self.variables)}
        ok = np.ones(len(X), bool)
        for v in self.variables:
            span = v.high - v.low
            ok &= (X[:, idx[v.name]] >= v.low - tol * span) & (X[:, idx[v.name]] <= v.high + tol * span)
        for c in self.inequalities:
            ok &= sum(k * X[:, idx[n]] for n, k in c.coeffs.items()) <= c.upper + tol
        if self.exclusions:
            U = self.to_unit(X)
            for x in self.exclusions:
                cu = self.to_unit(np.array([[x.center.get(n, 0.0) for n in self.names]]))[0]
                ok &= np.linalg.norm(U - cu, axis=1) > x.radius
        return ok

    def as_dicts(self, X: np.ndarray) -> list[dict[str, float]]:
        return [{n: float(v) for n, v in zip(self.names, row)} for row in np.atleast_2d(X)]

    def as_array(self, points: list[dict[str, float]]) -> np.ndarray:
        try:
            return np.array([[float(p[n]) for n in self.names] for p in points]).reshape(len(points), -1)
        except KeyError as exc:
            raise ConfigError(f"point is missing variable {exc.args[0]!r} (space has {', '.join(self.names)})") from None

    # --------------------------------------------------------- sampling
    def sobol_unit(self, n: int, seed: int) -> np.ndarray:
        m = int(np.ceil(np.log2(max(n, 2))))
        return qmc.Sobol(self.dim, scramble=True, seed=seed).random_base2(m)[:n]

    def design(self, n: int, seed: int) -> np.ndarray:
        """A space-filling initial design of n feasible points (scrambled Sobol, rejection)."""
        U = self.sobol_unit(max(64, 8 * n), seed)
        X = self.from_unit(U)
        X = self._unique(X[self.feasible(X)])
        if len(X) < n:
            U = self.sobol_unit(4096 * max(1, n // 64 + 1), seed + 1)
            X2 = self.from_unit(U)
            X = self._unique(np.vstack([X, X2[self.feasible(X2)]]))
        if len(X) < n:
            raise ConfigError(f"space: only {len(X)} distinct feasible points of {n} requested; "
                              "relax constraints, widen bounds or refine the variable steps")
        return X[:n]

    @staticmethod
    def _unique(X: np.ndarray) -> np.ndarray:
        """Distinct rows in first-seen order (stepped variables make repeats)."""
        _, first = np.unique(np.round(X, 12), axis=0, return_index=True)
        return X[np.sort(first)]

    def snap_unit(self, U: np.ndarray) -> np.ndarray:
        """Unit points moved onto the grid of stepped variables."""
        return self.to_unit(self.from_unit(U))
