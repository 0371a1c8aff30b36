"""The package's import graph: no module imports itself back through others. Views compute
tables, renderers render them; runtimes translate a launch, hosts say where. Every import
counts, also those inside functions (they cycle all the same, only later)."""

import ast
import re
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


def with_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph as Python runs it: importing a.b.c first runs a/__init__ and a/b/__init__,
    so an import of a module is also an import of every package above it (its own excepted)."""
    out = {}
    for name, targets in graph.items():
        edges = set(targets)
        for target in targets:
            parts = target.split(".")
            for i in range(2, len(parts)):
                package = ".".join(parts[:i])
                if package in graph and package != name and not name.startswith(package + "."):
                    edges.add(package)
        out[name] = edges
    return out


def test_the_package_imports_no_cycle():
    """Views compute, renderers render; batch makes launch descriptions (launch.py) that
    runtimes translate; hosts say where; engines are below both; nothing imports its importer
    back, counting the package __init__ each import runs first."""
    assert cycles(with_package_inits(import_graph())) == []


# Sub-packages from the bottom up, each by its concern (issue 32; docs/design.md draws it): none
# imports one above it. Below them all, the ground floor: the few modules left at the top.
LAYERS = tuple(f"fallbackcheck.{layer}" for layer in (
    "model",          # the catalogue, profiles, syscalls, libc identities, documented behaviours
    "artefacts",      # what is built or fetched before anything runs, cached by content
    "batches",        # the batch contract: launch plan, runner output, observations, results
    "engines",        # the container engines' clients and the builder containers
    "hosts",          # where a runtime runs: this machine, generations, ssh, kernel guests
    "runtimes",       # how a batch is launched: one module per kind, the registry
    "judging",        # observations against the catalogue: verdicts, cells, causes, fixes
    "report",         # matrix.json, diff, merge, views and renderers
    "execution",      # selection, shards, scheduling, running batches and fix reruns
    "matrix",         # the whole run, pytest-free
    "pytest_plugin",  # the pytest surface: public API only
    "tools",          # commands: the installed command, prune, benchmark floor, browser check
))
GROUND_FLOOR = {"fallbackcheck", "fallbackcheck.errors", "fallbackcheck.paths", "fallbackcheck.cache",
                "fallbackcheck.memo", "fallbackcheck.runs", "fallbackcheck.stopping"}


def test_the_top_of_the_package_is_its_ground_floor():
    """At most about a dozen modules at the top, importing nothing but each other: everything
    else lives in the sub-package of its concern."""
    top = {m for m in import_graph() if m.count(".") == 1 and f"{m}" not in LAYERS} | {"fallbackcheck"}
    assert top == GROUND_FLOOR, sorted(top ^ GROUND_FLOOR)
    graph = with_package_inits(import_graph())
    assert {f"{m} -> {t}" for m in GROUND_FLOOR for t in graph[m] if t not in GROUND_FLOOR} == set()
    assert set(LAYERS) | GROUND_FLOOR == {m for m in import_graph() if m.count(".") <= 1}


def test_no_sub_package_imports_one_above_it():
    graph, climbs = with_package_inits(import_graph()), []
    for name, targets in graph.items():
        mine = next((i for i, layer in enumerate(LAYERS) if name == layer or name.startswith(layer + ".")), None)
        for target in targets:
            theirs = next((i for i, layer in enumerate(LAYERS) if target == layer or target.startswith(layer + ".")), None)
            if mine is not None and theirs is not None and theirs > mine:
                climbs.append(f"{name} -> {target}")
    assert climbs == []


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


def test_a_cycle_through_a_package_init_is_found():
    # p/__init__ imports p.x, p.x imports q.y, q/__init__ imports p.z: importing p.x runs
    # q/__init__, which runs p/__init__ again. No module imports its importer by name.
    graph = {"f.p": {"f.p.x"}, "f.p.x": {"f.q.y"}, "f.p.z": set(), "f.q": {"f.p.z"}, "f.q.y": set()}
    assert cycles(graph) == []
    assert cycles(with_package_inits(graph)) == [["f.p", "f.p.x", "f.q"]]


# pytest's own modules and its plugin machinery: what a pytest-free module never imports.
PYTEST_MODULES = ("pytest", "_pytest", "pluggy", "xdist")
# The one private piece of pytest still used, and why (no public way exists): a stopped run
# ends with our one line instead of pytest's KeyboardInterrupt banner, which the terminal
# reporter prints from its own memo of the interruption (plugin.pytest_keyboard_interrupt).
PRIVATE_PYTEST_ALLOWED = {("plugin.py", "_report_keyboardinterrupt")}
PRIVATE_PYTEST = {  # what each private piece looks like in our code
    "_pytest": r"\b_pytest\b", "_setupstate": r"_setupstate", "_tw": r"\._tw\b|\"_tw\"",
    "_report_keyboardinterrupt": r"_report_keyboardinterrupt", "_fixtureinfo": r"_fixtureinfo",
    "_rawentry": r"_rawentry", "_markers": r"\._markers\b|\"_markers\"", "location": r"__dict__\[.location.\]",
    "_file": r"\._file\b|\"_file\"", "WorkerInteractor": r"WorkerInteractor|\.torun\b",
    "_global_capturing": r"_global_capturing|targetfd_save", "_fallbackcheck": r"\._fallbackcheck\b",
}


def _imports_pytest(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        if any(n.split(".")[0] in PYTEST_MODULES for n in names):
            return True
    return False


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in PACKAGE.rglob("*.py")}


def test_the_run_and_everything_it_imports_is_pytest_free():
    graph, modules = import_graph(), _modules()
    seen, todo = set(), [m for m in modules if m.startswith("fallbackcheck.matrix")]
    assert todo, "the run package is gone"
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += graph[name]
    assert not [m for m in sorted(seen) if _imports_pytest(modules[m])]
    assert "fallbackcheck.pytest_plugin.plugin" not in seen  # nothing the run uses calls back into the plugin


def test_the_pytest_surface_is_small():
    importers = {m: p for m, p in _modules().items() if _imports_pytest(p)}
    lines = sum(len(p.read_text().splitlines()) for p in importers.values())
    # the plugin, the cell protocol, the progress line, and the installed command (pytest.main)
    assert set(importers) <= {"fallbackcheck.pytest_plugin.plugin", "fallbackcheck.pytest_plugin.cellprotocol", "fallbackcheck.pytest_plugin.progressline",
                              "fallbackcheck.tools.cli"}, sorted(importers)
    # 1,427 before the run moved out (issue 31); 660 until the shield from the cell loop's end
    # to the report (stopping.hold) took five more
    assert lines <= 665, (lines, sorted(importers))


def test_pytest_is_used_through_its_public_api_only():
    found = []
    for path in PACKAGE.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for piece, pattern in PRIVATE_PYTEST.items():
                if re.search(pattern, line) and (path.name, piece) not in PRIVATE_PYTEST_ALLOWED:
                    found.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_every_sub_package_is_installed():
    """pyproject.toml lists its packages: one left out imports in a checkout and fails only
    once installed (`pip install .`, the `fallbackcheck` command)."""
    import tomllib

    listed = set(tomllib.loads((Path(ROOT) / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")
             if "share" not in p.parts}
    assert found - listed == set()


def test_the_scripts_import_what_exists():
    """scripts/ are run by hand (benchmark, publish-matrix): a module moved by concern must not
    leave one of them importing its old place."""
    import importlib
    import importlib.util

    missing = []
    for script in sorted((Path(ROOT) / "scripts").iterdir()):
        text = script.read_text(errors="replace")
        if not text.startswith("#!/usr/bin/env python3"):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fallbackcheck"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name) and \
                            importlib.util.find_spec(f"{node.module}.{alias.name}") is None:
                        missing.append(f"{script.name}:{node.lineno}: {node.module}.{alias.name}")
    assert missing == []
