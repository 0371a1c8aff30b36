"""The run protocol of a matrix cell: pytest's reports, without pytest's per-test hooks.

pytest's protocol (setup, call and teardown, each wrapped by capture, fixtures and a report
through every plugin) costs more per test than judging a cell, which has no fixture, prints
nothing and whose arguments are its cell and the run. So a cell's test is called directly
and the reports pytest would make are logged through the same hooks: the call's by pytest's
makereport hook (pytest.skip/xfail, --runxfail as ever), the passed setup and teardown only
where something reads them (passed_phases_read). Terminal, -x/--maxfail, --junitxml and xdist
see what they always see. Where one process runs every cell, loop() stands in for pytest's
run loop and leaves three per-test wrappers that do nothing for a cell out of each cell's
protocol (warnings are caught once around the loop): 0.08 ms less per cell (docs/benchmark.md).

Public API only (pytest.CallInfo, pytest.TestReport, item.stash, hooks). pytest keeps the
state of set-up fixtures private, so the protocol runs for a whole session or not at all:
only where every collected item is a plain cell (plain_cells(): no mark but ours, no fixture
but its two) is nothing ever set up. Otherwise, and under --pdb/--trace, --setup-show/-only/
-plan or FALLBACKCHECK_PYTEST_PROTOCOL=1, every item keeps pytest's protocol. A cell gives
up per-cell output capture and PYTEST_CURRENT_TEST.
"""

from __future__ import annotations

import bdb
import functools
import inspect
import os
import sys
import warnings

import pytest
from pytest import CallInfo, TestReport

FORCE_PYTEST_PROTOCOL = "FALLBACKCHECK_PYTEST_PROTOCOL"
RUN_FIXTURE = "fallbackcheck_run"
# Marks the matrix itself puts on cells; any other mark takes pytest's protocol.
OWN_MARKS = frozenset({"xdist_group", "cell"})
# Options under which a person interacts with a test, or asks to see its fixtures.
INTERACTIVE_OPTIONS = ("usepdb", "trace", "setupshow", "setuponly", "setupplan")


def usable(config) -> bool:
    """Whether this run may use the cell protocol at all (decided once per run)."""
    if os.environ.get(FORCE_PYTEST_PROTOCOL) == "1":
        return False
    return not any(getattr(config.option, name, False) for name in INTERACTIVE_OPTIONS)


CELL_ARGUMENTS = pytest.StashKey[dict]()


def arguments(item, cell_fixtures, run) -> dict | None:
    """The test function's arguments when `item` is a plain cell, else None."""
    params = getattr(getattr(item, "callspec", None), "params", None)
    closure = getattr(item, "fixturenames", None)
    if not params or closure is None or not isinstance(item, pytest.Function):
        return None
    names = _plain_argnames(item.obj, tuple(closure), tuple(cell_fixtures))
    if names is None or any(m.name not in OWN_MARKS for m in item.own_markers) or _marked_above(item.parent):
        return None
    args = {}
    for name in names:
        if name == RUN_FIXTURE:
            args[name] = run
        elif name in params:
            args[name] = params[name]
        else:
            return None
    return args


def plain_cells(items, cell_fixtures, run) -> bool:
    """Whether every item is a plain cell; their arguments are then kept in each item's
    stash for run(). Asked once, when collection is done."""
    found = []
    for item in items:
        args = arguments(item, cell_fixtures, run)
        if args is None:
            return False
        found.append(args)
    places: dict = {}
    for item, args in zip(items, found):
        item.stash[CELL_ARGUMENTS] = args
        if isinstance(item.parent, pytest.Module):
            # pytest works out each item's place from its function's source (a stat of the
            # file per item: four tenths of a cell's time); every cell of a function shares it.
            place = places.get(item.obj)
            if place is None:
                place = places[item.obj] = item.reportinfo()[:2]
            item.reportinfo = functools.partial(_place, place, item.name)
    return bool(items)


def _place(place: tuple, name: str) -> tuple:
    """A cell's reportinfo(): its function's file and line, and its name (a module-level
    function's modpath)."""
    return (*place, name)


_argnames: dict = {}


def _plain_argnames(function, closure: tuple, cell_fixtures: tuple) -> tuple | None:
    """A test function's argument names when they are only cell fixtures and the run, with
    no other fixture in their closure (an autouse one included); else None. Worked out once
    per (function, closure): a function's parametrised items share both."""
    key = (function, closure, cell_fixtures)
    if key not in _argnames:
        names = tuple(inspect.signature(function).parameters)
        plain = bool(names) and all(n in cell_fixtures or n == RUN_FIXTURE for n in names) and \
            set(closure) - {"request"} == set(names)
        _argnames[key] = names if plain else None
    return _argnames[key]


# node -> whether it or a node above it has a mark the matrix did not put there (asked once
# per module: item.iter_markers() walks every parent for every cell).
_parents_marked: dict = {}


def _marked_above(node) -> bool:
    if node is None:
        return False
    marked = _parents_marked.get(node)
    if marked is None:
        marked = _parents_marked[node] = any(m.name not in OWN_MARKS for n in node.listchain() for m in n.own_markers)
    return marked


def reraised(config) -> tuple:
    """The exceptions a cell's call lets through instead of reporting them: pytest.exit's,
    and Ctrl-C unless --pdb asks to stop there (pytest's own rule for every test, written
    here because pytest keeps it private: pytest 9 names it get_reraise_exceptions, pytest 8
    spells it inline)."""
    return (pytest.exit.Exception,) + (() if config.getoption("usepdb", False) else (KeyboardInterrupt,))


def interactive(call, report) -> bool:
    """Whether the call's exception is one to hand to pytest_exception_interact (--pdb and
    plugins that look at a failure as it happens): an unexpected one, not an expected failure,
    a skip or a debugger's quit."""
    excinfo = call.excinfo
    return excinfo is not None and not hasattr(report, "wasxfail") and \
        not isinstance(excinfo.value, (pytest.skip.Exception, bdb.BdbQuit))


def _passed(item, when: str) -> TestReport:
    return TestReport.from_item_and_call(item, CallInfo.from_call(lambda: None, when=when))


def run(item, nextitem, properties, ihook=None, passed_phases: bool = True) -> bool:
    """Run one cell item (plain_cells() kept its arguments); `properties()` gives the JUnit
    properties of the cell that just ran; `ihook`: item.ihook, if known already;
    `passed_phases`: whether its passed setup and teardown reports are logged
    (passed_phases_read()). Returns True, as pytest_runtest_protocol must."""
    ihook = ihook or item.ihook
    args = item.stash[CELL_ARGUMENTS]
    nodeid, place = item.nodeid, item.location
    ihook.pytest_runtest_logstart(nodeid=nodeid, location=place)
    if passed_phases:
        ihook.pytest_runtest_logreport(report=_passed(item, "setup"))
    item.funcargs = args  # what pytest's own call would hold (--showlocals, plugins)
    call = CallInfo.from_call(lambda: item.obj(**args), when="call", reraise=reraised(item.config))
    report = ihook.pytest_runtest_makereport(item=item, call=call)
    ihook.pytest_runtest_logreport(report=report)
    if interactive(call, report):
        ihook.pytest_exception_interact(node=item, call=call, report=report)
    item.user_properties.extend(properties())
    if passed_phases:
        ihook.pytest_runtest_logreport(report=_passed(item, "teardown"))
    item.funcargs = None
    ihook.pytest_runtest_logfinish(nodeid=nodeid, location=place)
    return True


# The implementations of the two hooks that carry a passed setup or teardown report which do
# nothing anyone sees with one (the terminal files it under "", live logging notes the phase,
# the session and --lf's cache count failures, our progress line too). Both phases were a
# quarter of a cell's time (py-spy, pytest 9).
SILENT_ON_PASSED_PHASES = {
    "pytest_runtest_logreport": frozenset({"terminalreporter", "logging-plugin", "session", "lfplugin",
                                           "fallbackcheck-progress"}),
    "pytest_report_teststatus": frozenset({"terminal", "runner", "skipping", "subtests", "fallbackcheck-progress"}),
}


def passed_phases_read(config) -> bool:
    """Whether anything may read a cell's passed setup and teardown reports: --junitxml,
    xdist, --report-log, --sw, --durations (it lists the phases), any plugin not known above.
    Then they are logged as pytest would; otherwise they are not made. Asked once collection
    is done (conftests' plugins are registered by then)."""
    if getattr(config.option, "durations", None) is not None:
        return True
    return any(impl.plugin_name not in known
               for hook, known in SILENT_ON_PASSED_PHASES.items()
               for impl in getattr(config.hook, hook).get_hookimpls())


# pytest_runtest_protocol's implementations the cell loop knows: pytest's runner (a cell never
# reaches it), the assertion wrapper (kept around each cell: a failed assert explains itself)
# and the three wrappers it leaves out of a cell's protocol, which do nothing for one: per-test
# warning capture (one capture around the loop instead), faulthandler (acts only with a
# faulthandler_timeout) and unittest (unittest items only). Anything else: pytest's loop.
LEFT_OUT = ("warnings", "faulthandler", "unittest")
KNOWN = frozenset({"runner", "assertion", *LEFT_OUT})


def loop(session, own_plugin) -> bool | None:
    """pytest's run loop for a session of plain cells, each cell's protocol called without the
    LEFT_OUT wrappers (pluggy's subset_hook_caller); None where pytest's loop must run: a
    plugin with its own protocol, a faulthandler_timeout, warning filters of the user's."""
    config = session.config
    if session.testsfailed or config.option.collectonly:
        return None
    impls = config.hook.pytest_runtest_protocol.get_hookimpls()
    if any(i.plugin is not own_plugin and i.plugin_name not in KNOWN for i in impls) or \
            float(config.getini("faulthandler_timeout") or 0) > 0 or \
            config.getini("filterwarnings") or config.getoption("pythonwarnings", None):
        return None
    pm = config.pluginmanager
    cell = pm.subset_hook_caller("pytest_runtest_protocol",
                                 remove_plugins=[p for p in map(pm.get_plugin, LEFT_OUT) if p is not None])
    items = session.items
    with warnings.catch_warnings(record=True) as caught:
        if not sys.warnoptions:  # what pytest's capture does without filters of the user's
            warnings.filterwarnings("always", category=DeprecationWarning)
            warnings.filterwarnings("always", category=PendingDeprecationWarning)
        try:
            for i, item in enumerate(items):
                cell(item=item, nextitem=items[i + 1] if i + 1 < len(items) else None)
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
        finally:
            if pm.get_plugin("warnings") is not None:
                for message in caught:
                    config.hook.pytest_warning_recorded.call_historic(
                        kwargs=dict(warning_message=message, when="runtest", nodeid="", location=None))
    return True
