"""pytest's terminal output, flushed a few times a second instead of once per test.

pytest's terminal flushes its stream after every test report. On the main job that is
58,800 writes of one character: each one a system call that releases the interpreter lock
(a batch thread takes it, and the cells' thread waits to get it back) and, where a pipe
carries the output (CI, scripts/benchmark), wakes its reader, which then competes for a
core with the cells. Paced, the same characters go out in the same order, at most
`INTERVAL` seconds late, and always before the run waits for a batch, prints its summary,
is interrupted or ends: what a person watching sees does not change.

Installed only in a process that runs cells itself and has a terminal; under xdist the
controller writes what workers report, and is left as pytest made it.
"""

from __future__ import annotations

import time

INTERVAL = 0.2  # seconds: below what a person watching the progress dots can tell apart


class PacedStream:
    """A text stream whose flush() writes what is pending only if INTERVAL has passed since
    the last write; flush_now() always writes. Anything else is the wrapped stream's."""

    def __init__(self, stream):
        self.stream = stream
        self.pending: list[str] = []
        self.flushed_at = time.monotonic()

    def write(self, text: str) -> int:
        self.pending.append(text)
        return len(text)

    def flush(self) -> None:
        if time.monotonic() - self.flushed_at >= INTERVAL:
            self.flush_now()

    def flush_now(self) -> None:
        if self.pending:
            text, self.pending = "".join(self.pending), []
            self.stream.write(text)
        self.stream.flush()
        self.flushed_at = time.monotonic()

    def __getattr__(self, name):  # isatty, encoding, fileno ...: the real stream's
        return getattr(self.stream, name)


class PacedTerminal:
    """Paces a terminal reporter's stream while installed (install() / uninstall())."""

    def __init__(self, terminalreporter):
        # pytest offers no public way to change the terminal's stream; where its writer no
        # longer keeps it in `_file`, nothing is paced and pytest flushes per test as before.
        self.writer = getattr(terminalreporter, "_tw", None)
        self.paced: PacedStream | None = None

    def install(self) -> bool:
        stream = getattr(self.writer, "_file", None)
        if stream is None or isinstance(stream, PacedStream):
            return False
        self.paced = self.writer._file = PacedStream(stream)
        return True

    def flush(self) -> None:
        """Writes what is pending (before the run waits, so the dots so far are shown)."""
        if self.paced is not None and self.paced.pending:
            self.paced.flush_now()

    def uninstall(self) -> None:
        if self.paced is None:
            return
        paced, self.paced = self.paced, None
        paced.flush_now()
        if self.writer._file is paced:
            self.writer._file = paced.stream
