"""The import graph of ``driver/`` (issue 31): no circle between modules, and no import from
a lower layer up to a higher one. Every import counts, also one inside a function (a lazy
import that only dodges a circle is still one). The layers are those of
docs/architecture.md, lowest first; a new module belongs to the layer of its package unless
listed more precisely."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "driver"

#: lowest first; a module takes the layer of its longest listed prefix
LAYERS = [
    # foundations: errors, files, the MPI import order, strict models, YAML settings I/O
    ["driver", "driver.errors", "driver.fileio", "driver.resources", "driver.mpi",
     "driver.sqlitefile", "driver.schema_base", "driver.pairforms", "driver.config"],
    # the chemistry layer, force-field forms, the optimizer, the objectives (pure)
    ["driver.families", "driver.forcefields", "driver.optimize", "driver.objectives"],
    # potential files and the knowledge base (OBELiX, prior, skill records)
    ["driver.potentials", "driver.kb"],
    # each stage's settings, beside its stage, and the pure models they validate with
    ["driver.md.settings", "driver.phasefield.settings", "driver.phasefield.expr",
     "driver.campaign.settings", "driver.distil.settings"],
    # the stages
    ["driver.md", "driver.phasefield"],
    # the root settings, assembled from the stages' sections
    ["driver.schema"],
    # workflows over the stages
    ["driver.campaign", "driver.distil", "driver.validation"],
    # entry points
    ["driver.cli", "driver.cliargs", "driver.doctor", "driver.probe"],
]


def _modules() -> dict[str, Path]:
    out = {}
    for f in ROOT.rglob("*.py"):
        parts = f.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def _edges(mods: dict[str, Path]) -> dict[str, set[str]]:
    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {}
    for m, f in mods.items():
        pkg = m.split(".") if f.name == "__init__.py" else m.split(".")[:-1]
        for node in ast.walk(ast.parse(f.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(pkg[:len(pkg) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            for t in targets:
                t = known(t) if t.startswith("driver") else None
                if t and t != m:
                    edges.setdefault(m, set()).add(t)
    return edges


def _layer(module: str) -> int:
    best = (-1, -1)
    for i, names in enumerate(LAYERS):
        for n in names:
            if (module == n or module.startswith(n + ".")) and len(n) > best[1]:
                best = (i, len(n))
    assert best[0] >= 0, f"{module} is in no layer: add its package to LAYERS (and docs)"
    return best[0]


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in list(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_the_import_graph_has_no_circle():
    assert _cycles(_edges(_modules())) == []


def test_no_module_imports_from_a_higher_layer():
    edges = _edges(_modules())
    up = sorted(f"{a} (layer {_layer(a)}) imports {b} (layer {_layer(b)})"
                for a, bs in edges.items() for b in bs if _layer(b) > _layer(a))
    assert up == []


def test_the_checks_catch_a_circle_and_an_upward_import():
    """The checks themselves can fail: a made-up circle and a made-up upward edge."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _layer("driver.md.workflow") < _layer("driver.campaign.loop")
    assert _layer("driver.md.settings") < _layer("driver.md.workflow")


def test_the_ledger_file_is_named_in_one_place():
    """Issue 31, item 6: `Ledger.open(folder)` / `Ledger.file_in(folder)` name the ledger's
    file; no other module spells it as a path literal."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "driver"
    spelled = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if re.search(r"""["']ledger\.sqlite["']""", p.read_text())]
    assert spelled == ["campaign/ledger.py"], spelled
