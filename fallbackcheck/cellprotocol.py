"""The run protocol of a matrix cell: pytest's own, minus what a cell does not use.

pytest runs about twenty hooks per test: setup, call and teardown, each wrapped by output
capture, log capture, warning capture, fixture set-up and tear-down, and a report made
through every plugin. On these machines that is 0.6 ms per test (scripts/benchmark prints it
as pytest_alone_per_test_ms), more than judging the cell costs. A cell's test needs none of
it: its arguments are its cell and the session's run, it has no fixture to set up or tear
down, it prints nothing.

So for a cell item this protocol calls the test function itself and logs the three reports
pytest would (setup passed, the call's report, teardown passed), through the same hooks:
the terminal, -x/--maxfail, --junitxml (with the cell's properties on the teardown report)
and xdist see what they always see; the call's report is made by pytest's makereport hook,
so pytest.skip / pytest.xfail in the test (and --runxfail) behave as ever. The passed setup
and teardown reports are made only where something may read them (passed_phases_read:
JUnit, xdist, --durations, any plugin not known to ignore them); pytest's own terminal,
session and cache do nothing visible with them.

Anything else keeps pytest's protocol (run() returns None): an item that is not a cell, a
cell with a mark (skip, xfail, usefixtures, filterwarnings … added by a conftest) or a
fixture beyond its own two (an autouse one included), --pdb/--trace, --setup-show,
--setup-only/--setup-plan, and FALLBACKCHECK_PYTEST_PROTOCOL=1 (to compare the two).
What a cell gives up: per-cell output and log capture (a cell writes nothing), per-cell
warning capture and the PYTEST_CURRENT_TEST variable.

In a process that runs every cell itself (no xdist workers), loop() also stands in for
pytest's run loop, for the hook wrappers around each test's protocol: warnings (a
catch_warnings and the config's filters applied anew per test: here once around the whole
loop, so a cell's warning still reaches the summary, without the cell's id), faulthandler
(acts only with faulthandler_timeout: then pytest's loop runs) and unittest (acts only on
unittest items, which are never cells). pytest's assertion wrapper stays around every cell,
opened once for each run of cells of one test file (AssertionScope) and the cell's protocol
called directly: a failed `assert` in a cell explains itself as ever. The loop runs only where every
implementation of pytest_runtest_protocol is one of those known here; a plugin with its own
(pytest-timeout, pytest-rerunfailures ...) gets pytest's loop and sees every test.
"""

from __future__ import annotations

import functools
import os
import time

import bdb

import pytest
from pytest import CallInfo, TestReport

from .memo import IdentityMemo

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


def arguments(item, cell_fixtures, run) -> dict | None:
    """The test function's arguments when `item` is a plain cell, else None."""
    params = getattr(getattr(item, "callspec", None), "params", None)
    info = getattr(item, "_fixtureinfo", None)
    if not params or info is None:
        return None
    names = _cell_argnames(info, cell_fixtures)
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


def _plain_argnames(info, cell_fixtures) -> tuple | None:
    """A test function's argument names when they are only cell fixtures and the run, with
    no other fixture in their closure (an autouse one included); else None."""
    names = tuple(info.argnames)
    plain = bool(names) and all(n in cell_fixtures or n == RUN_FIXTURE for n in names) and \
        set(info.names_closure) - {"request"} == set(names)
    return names if plain else None


# Worked out once per test function: its parametrised items share one fixture information
# (not hashable, hence by identity).
_cell_argnames = IdentityMemo(_plain_argnames, size=64, key=lambda cell_fixtures: tuple(cell_fixtures))


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


# test function -> (path relative to the root, line): the same for every cell of it.
_function_places: dict = {}


def location(item) -> tuple:
    """item.location, without asking the file system again for each of a function's cells:
    pytest computes it per item (a stat of the module per cell, 15 % of a cell's time). The
    answer is also left where pytest's cached property keeps it, for the call's report."""
    if not isinstance(item.parent, pytest.Module) or not _LOCATION_CACHED:
        return item.location
    place = _function_places.get(item.obj)
    if place is None:
        place = _function_places.setdefault(item.obj, item.location[:2])
    return item.__dict__.setdefault("location", (*place, item.name))


_LOCATION_CACHED = isinstance(getattr(pytest.Item, "location", None), functools.cached_property)


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


def _passed(item, place: tuple, when: str) -> TestReport:
    now = time.time()
    return TestReport(item.nodeid, place, dict.fromkeys(item.keywords, 1), "passed", None, when, (), 0.0, now, now,
                      user_properties=item.user_properties)


def run(item, nextitem, args: dict, properties, ihook=None, passed_phases: bool = True) -> bool:
    """Run one cell item (its arguments from arguments()); `properties()` gives the JUnit
    properties of the cell that just ran; `ihook`: item.ihook, if known already;
    `passed_phases`: whether its passed setup and teardown reports are logged
    (passed_phases_read()). Returns True, as pytest_runtest_protocol must."""
    ihook = ihook or item.ihook
    nodeid, place = item.nodeid, location(item)
    ihook.pytest_runtest_logstart(nodeid=nodeid, location=place)
    node_keywords = item.keywords
    item.keywords = flat_keywords(item)  # read by every report pytest makes of the cell
    if passed_phases:
        ihook.pytest_runtest_logreport(report=_passed(item, place, "setup"))
    item.funcargs = args  # what pytest's own call would hold (--showlocals, plugins)
    call = CallInfo.from_call(lambda: item.obj(**args), when="call", reraise=reraised(item.config))
    report = ihook.pytest_runtest_makereport(item=item, call=call)
    ihook.pytest_runtest_logreport(report=report)
    if interactive(call, report):
        ihook.pytest_exception_interact(node=item, call=call, report=report)
    item.user_properties.extend(properties())
    teardown = _teardown(item, nextitem, place, passed_phases)
    if teardown is not None:
        ihook.pytest_runtest_logreport(report=teardown)
    item.funcargs = None
    item.keywords = node_keywords
    ihook.pytest_runtest_logfinish(nodeid=nodeid, location=place)
    return True


# Among pytest's own implementations of the two hooks that carry a passed setup or teardown
# report, those that do nothing anyone sees with one: the terminal (files it under "", which
# no summary line shows, and asks the status hook, which gives it no letter), live logging
# (notes the phase), the session (counts failures), --lf's cache (notes failures and passed
# calls); and the status hook's. pytest 9 on this machine: the two passed phases were a
# quarter of a cell's time in the cells' thread (py-spy).
SILENT_ON_PASSED_PHASES = {
    "pytest_runtest_logreport": frozenset({"terminalreporter", "logging-plugin", "session", "lfplugin"}),
    "pytest_report_teststatus": frozenset({"terminal", "runner", "skipping", "subtests"}),
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


# parent node -> its keywords as (name, value) pairs: the same for every cell of a module.
_parent_keywords: dict = {}


def flat_keywords(item) -> dict:
    """item.keywords as a plain dict, same names, values and order. pytest's keywords walk
    the node's parents on every iteration (module, directories, session: one generator per
    level), and each report iterates them: a sixth of a cell's time. The parents' part is
    taken once per parent. Where the keywords are not pytest's NodeKeywords as known here,
    they are iterated as they are."""
    own = getattr(item.keywords, "_markers", None)
    parent = item.parent
    if type(own) is not dict or parent is None or getattr(item.keywords, "parent", None) is not parent:
        return {name: item.keywords[name] for name in item.keywords}
    inherited = _parent_keywords.get(parent)
    if inherited is None:
        inherited = _parent_keywords[parent] = [(name, parent.keywords[name]) for name in parent.keywords]
    flat = dict(own)
    for name, value in inherited:
        if name not in own:
            flat[name] = value
    return flat


def _teardown(item, nextitem, place: tuple, passed_phases: bool) -> TestReport | None:
    """A cell sets nothing up; but an item before it under pytest's protocol may have left
    its module's or session's fixtures set up: torn down here as pytest would (down to what
    the next item shares), so that the next item finds a consistent state, and reported.
    With nothing to tear down: a passed report, or None where none is read."""
    state = item.session._setupstate
    if not state.stack:
        return _passed(item, place, "teardown") if passed_phases else None
    if item.session.shouldfail or item.session.shouldstop:
        nextitem = None
    call = CallInfo.from_call(lambda: state.teardown_exact(nextitem), when="teardown",
                              reraise=reraised(item.config))
    return item.ihook.pytest_runtest_makereport(item=item, call=call)


# pytest_runtest_protocol's implementations loop() knows: pytest's runner (never reached for
# a cell: the cell protocol answers first), the assertion wrapper (kept), and the wrappers it
# replaces (see the module's docstring). Anything else and pytest's loop runs.
KNOWN_PROTOCOL_PLUGINS = frozenset({"runner", "assertion", "warnings", "faulthandler", "unittest"})
REPLACED_WRAPPERS = ("warnings", "faulthandler", "unittest")


def loop(session, own_plugin, is_cell) -> bool | None:
    """pytest's run loop, with the wrappers REPLACED_WRAPPERS left out of each cell's protocol
    (`is_cell(item)` says which items are cells); None where pytest's own loop must run."""
    config = session.config
    pm = config.pluginmanager
    if session.testsfailed or config.option.collectonly:
        return None  # pytest's loop says why it stops, or that it only collected
    impls = config.hook.pytest_runtest_protocol.get_hookimpls()
    if any(i.plugin is not own_plugin and i.plugin_name not in KNOWN_PROTOCOL_PLUGINS for i in impls):
        return None
    if float(config.getini("faulthandler_timeout") or 0) > 0:
        return None
    try:
        from _pytest.warnings import catch_warnings_for_item
    except ImportError:
        return None
    full = config.hook.pytest_runtest_protocol
    scope = AssertionScope.of(config, impls)
    if scope is not None:  # the assertion wrapper opened by the loop: the cell protocol called directly
        cell = own_plugin.pytest_runtest_protocol
    else:  # through the hook, without the wrappers the loop stands in for
        replaced = [p for p in map(pm.get_plugin, REPLACED_WRAPPERS) if p is not None]
        cell = pm.subset_hook_caller("pytest_runtest_protocol", remove_plugins=replaced)
    items = session.items
    with catch_warnings_for_item(config, ihook=config.hook, when="runtest", item=None):
        try:
            for i, item in enumerate(items):
                nextitem = items[i + 1] if i + 1 < len(items) else None
                if not is_cell(item):
                    if scope is not None:
                        scope.close()
                    full(item=item, nextitem=nextitem)
                else:
                    if scope is not None:
                        scope.open(item)
                    cell(item=item, nextitem=nextitem)
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
        finally:
            if scope is not None:
                scope.close()
    return True


class AssertionScope:
    """pytest's assertion wrapper (it makes a failed `assert` explain itself through the
    pytest_assertrepr_compare hook of the item's conftests) opened once for a run of cells
    of one test file, instead of once per cell through the protocol hook: the only things it
    takes from the item are its hook proxy (one per file) and the config. Used only where it
    is pytest's new-style wrapper and no plugin implements pytest_assertion_pass (which is
    handed the item); else each cell's protocol goes through the hook (the lean caller)."""

    def __init__(self, wrapper):
        self.wrapper = wrapper
        self.path = None
        self.running = None

    @classmethod
    def of(cls, config, protocol_impls) -> "AssertionScope | None":
        found = [i for i in protocol_impls if i.plugin_name == "assertion"]
        if len(found) != 1 or not found[0].wrapper or config.hook.pytest_assertion_pass.get_hookimpls():
            return None
        return cls(found[0].function)

    def open(self, item) -> None:
        if self.running is not None and item.path == self.path:
            return
        self.close()
        running = self.wrapper(item=item)
        next(running)  # the wrapper's set-up, up to where the protocol would run
        self.running, self.path = running, item.path

    def close(self) -> None:
        running, self.running, self.path = self.running, None, None
        if running is not None:
            running.close()  # its clean-up (restores what it replaced)
