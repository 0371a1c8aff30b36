"""The progress of a matrix run as one line: counts, pacing and the text, without pytest.

"cells done/total, batches, failed, elapsed": rewritten in place on a terminal at most every
TTY_INTERVAL seconds, a new line at most every LOG_INTERVAL seconds elsewhere (CI logs). The
pytest side (fallbackcheck/pytest_plugin/progressline.py) feeds it from pytest's hooks and gives it the
terminal to write on.
"""

from __future__ import annotations

import time

TTY_INTERVAL = 0.5  # seconds between rewrites of the line on a terminal
LOG_INTERVAL = 15.0  # seconds between lines where the output is not a terminal


class Progress:
    """`terminal`: has isatty, rewrite(text, erase=), write_line(text), flush() (pytest's
    terminal reporter does). `batches()`, where known (one process runs every batch), gives
    (finished, asked)."""

    def __init__(self, terminal, batches=None, clock=time.monotonic):
        self.terminal = terminal
        self.tty = bool(terminal.isatty)  # a bool in pytest 8, a callable bool in pytest 9
        self.interval = TTY_INTERVAL if self.tty else LOG_INTERVAL
        self.batches = batches
        self.clock = clock
        self.total = self.done = self.failed = 0
        self.started = self.shown_at = clock()
        self.shown = ""

    def cell_done(self) -> None:
        self.done += 1
        now = self.clock()
        if now - self.shown_at >= self.interval:
            self.show(now)

    def refresh(self) -> None:
        """Before the run waits for a batch: the line as it is now, on a terminal."""
        now = self.clock()
        if self.tty and now - self.shown_at >= 0.1:
            self.show(now)

    def finish(self) -> None:
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
