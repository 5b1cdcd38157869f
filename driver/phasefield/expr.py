"""A small, safe expression language for initial conditions: arithmetic over x, y.

Parsed with :mod:`ast` and evaluated by walking a whitelist of node types with numpy;
nothing is ever passed to ``eval``. Allowed: numbers, x, y, lx, ly, pi, e, + - * / **,
unary minus, and the functions below.
"""

from __future__ import annotations

import ast
import math

import numpy as np

from ..errors import ConfigError

FUNCTIONS = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "exp": np.exp,
             "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "min": np.minimum,
             "max": np.maximum, "where": np.where}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
           ast.Div: np.divide, ast.Pow: np.power}
_CMPOPS = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater,
           ast.GtE: np.greater_equal}


#: an initial condition is a formula a person writes: generous bounds that keep the
#: recursive checks and evaluation of the tree (one frame per level) well inside Python's
#: default recursion limit of 1000 (a sum of 400 terms is 400 deep)
MAX_CHARS = 10_000
MAX_DEPTH = 400


def _depth(node: ast.AST) -> int:
    """Depth of the tree, iteratively (a recursive walk of 100,000 nested minus signs would
    itself exceed the recursion limit)."""
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in ast.iter_child_nodes(n))
    return best


class Expression:
    """A compiled expression; call with coordinate arrays ``x``, ``y`` (and lx, ly)."""

    def __init__(self, text: str, names: tuple[str, ...] = ("x", "y", "lx", "ly")):
        self.text = text
        self.names = names
        if len(text) > MAX_CHARS:
            raise ConfigError(f"expression of {len(text)} characters (at most {MAX_CHARS}): an "
                              "initial condition is a formula, not data; write it shorter")
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, RecursionError, MemoryError) as exc:
            where = f" at column {exc.offset}" if isinstance(exc, SyntaxError) else ""
            raise ConfigError(f"expression {text[:60]!r}: cannot be parsed{where} "
                              f"({type(exc).__name__})") from None
        depth = _depth(tree.body)
        if depth > MAX_DEPTH:
            raise ConfigError(f"expression {text[:60]!r}: nested {depth} deep (at most "
                              f"{MAX_DEPTH}); simplify it")
        self._check(tree.body)
        self.tree = tree.body

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
                raise ConfigError(f"expression {self.text!r}: only numbers are allowed as constants")
        elif isinstance(node, ast.Name):
            if node.id not in self.names and node.id not in CONSTANTS:
                raise ConfigError(f"expression {self.text!r}: unknown name {node.id!r} "
                                  f"(allowed: {', '.join(self.names + tuple(CONSTANTS))})")
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            self._check(node.operand)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPOPS:
            self._check(node.left)
            self._check(node.comparators[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in FUNCTIONS and not node.keywords):
            for a in node.args:
                self._check(a)
        else:
            what = type(node).__name__
            if isinstance(node, ast.Call):
                what = f"call of {ast.unparse(node.func)!r} (allowed: {', '.join(FUNCTIONS)})"
            raise ConfigError(f"expression {self.text!r}: {what} is not allowed")

    def _eval(self, node: ast.AST, env: dict):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return env[node.id] if node.id in env else CONSTANTS[node.id]
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, env)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Compare):
            return _CMPOPS[type(node.ops[0])](self._eval(node.left, env),
                                              self._eval(node.comparators[0], env)).astype(float)
        return FUNCTIONS[node.func.id](*(self._eval(a, env) for a in node.args))

    def __call__(self, **env) -> np.ndarray:
        shape = np.shape(env.get("x", 0.0))
        with np.errstate(all="ignore"):
            out = np.broadcast_to(np.asarray(self._eval(self.tree, env), float), shape).copy()
        if not np.all(np.isfinite(out)):
            raise ConfigError(f"expression {self.text!r}: gives non-finite values in the domain")
        return out
