"""The package's import graph: no module imports itself back through others. Views compute
tables, renderers render them; runtimes translate a launch, hosts say where. Every import
counts, also those inside functions (they cycle all the same, only later)."""

import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = Path(ROOT) / "fallbackcheck"


def import_graph() -> dict[str, set[str]]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    graph = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                graph[name] |= {a.name for a in node.names if a.name in mods}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target in mods:
                    graph[name].add(target)
                graph[name] |= {f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in mods}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_package_imports_no_cycle():
    """Views compute, renderers render; batch makes launch descriptions (launch.py) that
    runtimes translate; hosts say where; nothing imports its importer back."""
    assert cycles(import_graph()) == []


def test_no_relative_import_reaches_above_the_package():
    """`from .. import x` in a top-level module fails only when that line runs (an import
    inside a function, moved from a subpackage): found here, not in a batch."""
    bad = []
    for path in PACKAGE.rglob("*.py"):
        depth = len(path.relative_to(PACKAGE).parts)  # fallbackcheck/x.py: 1; fallbackcheck/runtimes/x.py: 2
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > depth:
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert bad == []


def test_the_detector_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
