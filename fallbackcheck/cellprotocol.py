"""The run protocol of a matrix cell: pytest's reports, without pytest's per-test hooks.

pytest runs about twenty hooks per test: setup, call and teardown, each wrapped by output
capture, log capture, fixture set-up and tear-down, and a report made through every plugin.
On these machines that is 0.6 ms per test (scripts/benchmark prints it as
pytest_alone_per_test_ms), more than judging the cell costs. A cell's test needs none of it:
its arguments are its cell and the session's run, it has no fixture to set up or tear down,
it prints nothing.

So for a cell item this protocol calls the test function itself and logs the three reports
pytest would (setup passed, the call's report, teardown passed), through the same hooks:
the terminal, -x/--maxfail, --junitxml (with the cell's properties on the teardown report)
and xdist see what they always see; the call's report is made by pytest's makereport hook,
so pytest.skip / pytest.xfail in the test (and --runxfail) behave as ever. The passed setup
and teardown reports are made only where something may read them (passed_phases_read:
JUnit, xdist, --durations, any plugin not known to ignore them); pytest's own terminal,
session and cache do nothing visible with them.

Only pytest's public API is used (pytest.CallInfo, pytest.TestReport, item.ihook,
item.stash, the hooks), so it runs on every pytest the package declares. That shapes one
decision: the protocol is used for a whole session or not at all. pytest keeps the state of
set-up fixtures private, so a cell cannot tear down what a non-cell item before it set up;
where every collected item is a plain cell (plain_cells()), nothing is ever set up. Otherwise
(an item that is not a cell, a cell with a mark (skip, xfail, usefixtures ... added by a
conftest) or a fixture beyond its own two (an autouse one included)) every item keeps
pytest's protocol, as do --pdb/--trace, --setup-show, --setup-only/--setup-plan, and
FALLBACKCHECK_PYTEST_PROTOCOL=1 (to compare the two). What a cell gives up: per-cell output
and log capture (a cell writes nothing) and the PYTEST_CURRENT_TEST variable. pytest's own
run loop still runs each cell's protocol hook, so its wrappers (warnings, assertion
rewriting's explanations, faulthandler) and any plugin's stay around every cell.
"""

from __future__ import annotations

import bdb
import inspect
import os

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
    for item, args in zip(items, found):
        item.stash[CELL_ARGUMENTS] = args
    return bool(items)


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


# Among pytest's own implementations of the two hooks that carry a passed setup or teardown
# report, those that do nothing anyone sees with one: the terminal (files it under "", which
# no summary line shows, and asks the status hook, which gives it no letter), live logging
# (notes the phase), the session (counts failures), --lf's cache (notes failures and passed
# calls), our own progress line (counts failures); and the status hook's. pytest 9 on this machine: the two passed phases were a
# quarter of a cell's time in the cells' thread (py-spy).
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
