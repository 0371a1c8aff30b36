"""What a person sees while a matrix runs at default verbosity: one progress line.

pytest would write a letter per cell and the test file's name each time it changes (a matrix
alternates its two suite files batch by batch). While the cells run, their reports get an
empty letter and word (the status hook: the terminal writes nothing, its statistics and
summary stay), showfspath is off, and this plugin writes "cells done/total, batches, failed,
elapsed": rewritten in place on a terminal, a new line at most every LOG_INTERVAL seconds
elsewhere (CI logs). Not registered under -v, which keeps pytest's lines.
"""

from __future__ import annotations

import time

import pytest

PLUGIN_NAME = "fallbackcheck-progress"
TTY_INTERVAL = 0.5  # seconds between rewrites of the line on a terminal
LOG_INTERVAL = 15.0  # seconds between lines where the output is not a terminal


class ProgressLine:
    """Registered on the controller (the process that writes the terminal) of a matrix run.
    `batches()`, where known (one process runs every batch), gives (finished, asked)."""

    def __init__(self, terminal, batches=None, clock=time.monotonic):
        self.terminal = terminal
        self.tty = bool(terminal.isatty)  # a bool in pytest 8, a callable bool in pytest 9
        self.interval = TTY_INTERVAL if self.tty else LOG_INTERVAL
        self.batches = batches
        self.clock = clock
        self.total = 0
        self.done = 0
        self.failed = 0
        self.started = self.shown_at = clock()
        self.shown = ""
        self.running = False

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
        self.done += 1
        now = self.clock()
        if now - self.shown_at >= self.interval:
            self.show(now)

    def refresh(self) -> None:
        """Before the run waits for a batch: the line as it is now, on a terminal."""
        now = self.clock()
        if self.tty and now - self.shown_at >= 0.1:
            self.show(now)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session):
        self.running = True
        try:
            return (yield)
        finally:
            self.running = False
            if self.done and self.tty:  # a log's last line would only repeat the summary's counts
                self.show(self.clock(), last=True)

    def line(self, now: float) -> str:
        parts = [f"{self.done:,}/{self.total:,} cells"]
        if self.batches is not None:
            finished, asked = self.batches()
            if asked:
                parts.append(f"{finished:,}/{asked:,} batches")
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        elapsed = int(now - self.started)
        parts.append(f"{elapsed // 60}:{elapsed % 60:02d}")
        return "fallbackcheck: " + ", ".join(parts)

    def show(self, now: float, last: bool = False) -> None:
        self.shown_at = now
        text = self.line(now)
        if self.tty:
            self.terminal.rewrite(text, erase=True)
            if last:
                self.terminal.write_line("")
            self.terminal.flush()
        elif text != self.shown:
            self.terminal.write_line(text)
        self.shown = text


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
