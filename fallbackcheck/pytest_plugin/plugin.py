"""The pytest surface of fallbackcheck: options, the cell matrix as pytest items, the cell
protocol, the progress line, the report at the end, xdist. It only wires: the run itself
(selection, batches, judging, fixes, the report) is fallbackcheck.matrix, which knows
nothing of pytest. pytest, pluggy and xdist are used through their public API only.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys

import pytest

from .. import cache, stopping
from . import cellprotocol, progressline
from ..errors import UsageError
from ..matrix.finish import write_report
from ..matrix.invocation import asked_for_details, items_are_the_selection, runs_matrix
from ..matrix.options import COMMAND_LINE, RunOptions
from ..matrix.order import CELL_FIXTURES, batch_group, cell_of, cells_of, grouped_by_batch
from ..matrix.run import MatrixRun
from ..matrix.texts import header_lines, summary_lines

# Up to this many cores, `-n auto` runs the matrix in one process (its batches still run
# concurrently): measured on 2-core machines, see docs/benchmark.md.
AUTO_SINGLE_PROCESS_CORES = 4


class PytestSide:
    """What the plugin keeps beside a process's run: how its cells meet pytest."""

    def __init__(self, config):
        self.cell_protocol = cellprotocol.usable(config)  # cells may skip pytest's per-test hooks
        self.lean = False  # every collected item is a plain cell: the cell protocol runs them
        self.passed_phases = True  # whether a cell's passed setup/teardown are reported
        self.ihooks: dict = {}  # a test file's path -> its hook proxy (fixed once collected)

    def ihook_of(self, item):
        """item.ihook, asked once per test file: pytest works it out per item from the
        conftests that apply to its path, and none are added once collection is done."""
        hook = self.ihooks.get(item.path)
        if hook is None:
            hook = self.ihooks[item.path] = item.ihook
        return hook


RUN = pytest.StashKey[MatrixRun]()
SIDE = pytest.StashKey[PytestSide]()


def run_of(config) -> MatrixRun | None:
    """This process's matrix run, or None where pytest runs no matrix (kept in config.stash)."""
    return config.stash.get(RUN, None)


def pytest_addoption(parser):
    group = parser.getgroup("fallbackcheck", "fallbackcheck compatibility matrix")
    for flag, spec in COMMAND_LINE:
        group.addoption(flag, **spec)


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Every process: end the run's part here (the batch scheduler stopped, cancelling what
    has not started when interrupted; this process's rows flushed before the controller
    merges them)."""
    run = run_of(session.config)
    if run is None:
        return
    with stopping.shielded():
        run.end_process(cancel=exitstatus not in (0, 1), cut_short=bool(session.shouldfail or session.shouldstop))


def pytest_configure(config):
    cache.set_progress_stream(cache.real_stderr())
    config.addinivalue_line("markers", "cell: one (probe, image, runtime, profile) cell of the compatibility matrix")
    if runs_matrix(config.args):
        # Before the run starts anything (an engine generation is provisioned while the
        # selection is resolved): a signal then must still end in the clean-up.
        stopping.install()
        _MATRIX_CONFIG["config"] = config
        stopping.phase("the set-up (resolving the selection: engine generations, images, probe builds)")
        opt = config.option
        options = RunOptions.from_namespace(opt, wants_properties=bool(getattr(opt, "xmlpath", None) or
                                                                        getattr(opt, "report_log", None)))
        try:
            run = config.stash[RUN] = MatrixRun(options, getattr(config, "workerinput", None))
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[SIDE] = PytestSide(config)
        if _is_controller(config):
            config.pluginmanager.register(ReportWriter(run), "fallbackcheck-report")


@pytest.hookimpl(wrapper=True)
def pytest_keyboard_interrupt(excinfo):
    """A stopped run ends with our one line, not pytest's KeyboardInterrupt banner; entries
    without a line number (Python 3.11 may leave tb_lineno None) go first, since the terminal's
    rendering of them, which runs before we drop it, would fail with a traceback of its own."""
    if not all(map(_has_line, excinfo.traceback)):
        excinfo.traceback = excinfo.traceback.filter(_has_line)
    result = yield
    config = _MATRIX_CONFIG.get("config")
    if config is not None:
        stopping.note_interrupt(excinfo.value)
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None and hasattr(terminal, "_report_keyboardinterrupt"):
            # The banner's one way out, and the one private piece of pytest we use (no public
            # way exists; test_structure names it). Where it is gone, pytest's banner returns.
            terminal._report_keyboardinterrupt = lambda: None
    return result


def _has_line(entry) -> bool:
    try:
        return entry.lineno is not None
    except TypeError:  # pytest computes it from a tb_lineno that Python 3.11 may leave None
        return False


_MATRIX_CONFIG: dict = {}  # the config of this process's matrix run, if it runs one


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto` for the matrix: batches already run several at a time in one process, and
    every xdist worker adds a pytest per test plus the controller's share; on machines with
    few cores that costs more than it brings (docs/benchmark.md), so the matrix then runs in
    one process. Other test runs keep xdist's own choice."""
    if not runs_matrix(config.args):
        return None
    cores = os.cpu_count() or 1
    return 0 if cores <= AUTO_SINGLE_PROCESS_CORES else cores // 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Cells grouped by batch (grouped_by_batch), after any plugin has reordered or deselected."""
    run = run_of(config)
    if run is not None:
        items[:] = grouped_by_batch(items, run.run_order)


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    config = session.config
    run = run_of(config)
    one_process = _is_controller(config) and config.pluginmanager.getplugin("dsession") is None
    if run is not None and items_are_the_selection(config.option, config.args, one_process):
        run.start_batches_early()


def pytest_collection_finish(session):
    run = run_of(session.config)
    if run is None:
        return
    side = session.config.stash[SIDE]
    run.collected_cells(list(cells_of(session.items)))
    side.passed_phases = cellprotocol.passed_phases_read(session.config)
    side.lean = side.cell_protocol and cellprotocol.plain_cells(session.items, CELL_FIXTURES, run)
    run.phase("collected")
    if run.scheduler is not None:  # started before collection
        run.check_early_index()
    # The collected cells (58,800 items on the main job) live until the run ends, and every
    # full garbage collection walks them: the automatic ones during the run, and pytest's
    # own at the end (5.6 s on the main job). Frozen, the collector no longer looks at them.
    gc.collect()
    gc.freeze()


def pytest_unconfigure(config):
    run = run_of(config)
    if run is None:
        return
    if _is_controller(config) and not run.cleaned:
        # A stop that landed where pytest calls no pytest_sessionfinish (in pytest_sessionstart)
        run.end_unfinished()
    # pytest's unraisable-exception plugin collects garbage five times when the run ends, each
    # time walking every object made since collection (the rows, the report): collected once
    # here, what survives is frozen, and its five collections only see what is newer.
    gc.collect()
    gc.freeze()


def pytest_sessionstart(session):
    config = session.config
    run = run_of(config)
    if run is None or not _is_controller(config):
        return
    # The terminal reporter exists from here on. Batches finished / asked: known where this
    # process runs them (not under xdist).
    progress = progressline.install(config, lambda: run.scheduler.progress() if run.scheduler else (0, 0))
    if progress is not None:
        run.before_waiting = progress.refresh
    if asked_for_details(config.invocation_params.args):
        return
    # A matrix run has thousands of skipped and xfailed cells: the summary keeps only the
    # failed and errored ones (and warnings) unless -r/-v was given explicitly.
    config.option.reportchars = "fEw"
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.reportchars = "fEw"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist's documented channel: each worker's run is built from what the controller's
    run hands it (session label, rows directory, kernel baselines)."""
    run = run_of(node.config)
    if run is not None:
        node.workerinput.update(run.worker_input())


def pytest_report_header(config):
    run = run_of(config)
    if run is None:
        return None
    return header_lines(run.selection, getattr(run, "baselines", {}))


def pytest_generate_tests(metafunc):
    for name, kind in CELL_FIXTURES.items():
        if name not in metafunc.fixturenames:
            continue
        run = run_of(metafunc.config)
        if run is None:
            raise pytest.UsageError("the matrix suites need their plugin state; run them as `pytest suites`")
        cells = run.cells_of_kind(kind)
        if hasattr(metafunc.config, "workerinput"):
            # One batch = one xdist group: under --dist loadgroup a batch runs once, on one
            # worker, and the API and raw cells of a batch share its single container.
            params = [pytest.param(c, id=c.id, marks=pytest.mark.xdist_group(batch_group(c))) for c in cells]
        else:
            # One process runs every cell: nothing to group (a mark per cell is a measurable
            # share of collecting the main job's 58,800 cells).
            params = [pytest.param(c, id=c.id) for c in cells]
        metafunc.parametrize(name, params)


@pytest.fixture(scope="session")
def fallbackcheck_run(request) -> MatrixRun:
    """Session scope: the matrix run of this process (selection, batch cache)."""
    return run_of(request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Where every collected item is a plain cell, each runs under the cell protocol
    (fallbackcheck/pytest_plugin/cellprotocol.py: pytest's reports without pytest's per-test hooks);
    otherwise every item runs under pytest's own."""
    run = run_of(item.config)
    if run is None:
        return None
    if not run.controller:  # an xdist worker: the batch after this one's may start early
        run.next_cell = cell_of(nextitem) if nextitem is not None else None
    side = item.config.stash[SIDE]
    if not side.lean:
        return None
    return cellprotocol.run(item, nextitem, run.take_properties, side.ihook_of(item), side.passed_phases)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """A session of plain cells in one process: the cell loop (cellprotocol.loop)."""
    run = run_of(session.config)
    if run is None or not run.controller or not session.config.stash[SIDE].lean or \
            session.config.pluginmanager.getplugin("dsession") is not None:
        return None
    return cellprotocol.loop(session, sys.modules[__name__])


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """The cell that just ran hands its facts to its teardown report (JUnit reads them there)."""
    run = run_of(item.config)
    if run is not None:
        item.user_properties.extend(run.take_properties())


class ReportWriter:
    """Controller-only plugin: gathers every cell row and writes the report at the end.

    Registered only where not hasattr(config, "workerinput"), so xdist workers never write.
    """

    def __init__(self, run: MatrixRun):
        self.run = run

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.section("fallbackcheck")
        for line, markup in summary_lines(self.run):
            terminalreporter.write_line(line, **markup)

    def pytest_keyboard_interrupt(self, excinfo):
        self.run.interrupt()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session):
        result = yield
        stopping.hold()  # the loop ended: shielded until the report is written (pytest's code between)
        return result

    def pytest_sessionfinish(self, session, exitstatus):
        # Shielded: a signal now (a second Ctrl-C, a SIGTERM after a Ctrl-C, or the first one
        # during the fix reruns or the report) stops the fix reruns not yet started and marks
        # the report incomplete, but cannot cut short the removal of the run's containers.
        stopping.phase("the end of the run (fix reruns, removing containers, writing the report)")
        with stopping.shielded():
            self._finish(session, exitstatus)
        stopping.release()

    def _finish(self, session, exitstatus):
        if session.config.option.collectonly:
            shutil.rmtree(self.run.parts, ignore_errors=True)
            return  # nothing ran: keep the last report
        status = write_report(self.run, ended_normally=exitstatus in (0, 1),
                              cut_short=bool(session.shouldfail or session.shouldstop))
        if status == "write-error":
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        elif status == "stopped":
            session.exitstatus = pytest.ExitCode.INTERRUPTED
