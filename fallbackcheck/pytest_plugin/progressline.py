"""What a person sees while a matrix runs at default verbosity: one progress line.

pytest would write a letter per cell and the test file's name each time it changes (a matrix
alternates its two suite files batch by batch). While the cells run, their reports get an
empty letter and word (the status hook: the terminal writes nothing, its statistics and
summary stay), showfspath is off, and the line of fallbackcheck.matrix.progress is written
instead. Not registered under -v, which keeps pytest's lines.
"""

from __future__ import annotations

import pytest

from ..matrix.progress import Progress

PLUGIN_NAME = "fallbackcheck-progress"


class ProgressLine(Progress):
    """The progress line fed by pytest's hooks; registered on the controller (the process
    that writes the terminal) of a matrix run."""

    running = False  # whether the cells run now (pytest's run loop)

    def pytest_collection_finish(self, session):
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.total = len(ids)  # every worker collects the whole selection

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report):
        status = yield
        # Blank while the cells run (the terminal's per-test letter and word); the summary
        # after the loop asks again and gets pytest's words (FAILED, XFAIL ...).
        return (status[0], "", "") if self.running else status

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed += 1

    def pytest_runtest_logfinish(self, nodeid):
        self.cell_done()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session):
        self.running = True
        try:
            return (yield)
        finally:
            self.running = False
            self.finish()


def install(config, batches=None) -> ProgressLine | None:
    """Registers the progress line where a person reads the terminal at default verbosity
    (or -q); None under -v, without a terminal, or in an xdist worker."""
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is None or config.getoption("verbose") > 0 or hasattr(config, "workerinput"):
        return None
    terminal.showfspath = False
    progress = ProgressLine(terminal, batches)
    config.pluginmanager.register(progress, PLUGIN_NAME)
    return progress
