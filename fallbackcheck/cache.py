"""Where fallbackcheck keeps built artefacts, and the cross-process lock that guards them.

Under pytest-xdist several workers may want the same image or probe build at once; an
flock per artefact makes the first one build it and the others wait and reuse it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path


def cache_dir() -> Path:
    root = os.environ.get("FALLBACKCHECK_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "fallbackcheck")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def locked(name: str):
    """Hold an exclusive lock named `name` (one file under the cache's locks/)."""
    locks = cache_dir() / "locks"
    locks.mkdir(exist_ok=True)
    with open(locks / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_progress_stream = None  # set by the pytest plugin: the terminal, past pytest's capture


def set_progress_stream(stream) -> None:
    global _progress_stream
    _progress_stream = stream


def progress(message: str) -> None:
    """One line on the terminal about long work (a build), whatever pytest captures: builds
    run in batch threads and xdist workers, where the terminal reporter is not at hand.
    While a test runs, pytest's fd capture has file descriptor 2 pointing at its buffer, so
    a line written there would vanish with a passing cell; the plugin hands over the
    terminal itself (set_progress_stream)."""
    import sys

    stream = _progress_stream or sys.__stderr__
    if stream is not None:
        stream.write(f"fallbackcheck: {message}\n")
        stream.flush()


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def tree_digest(root: Path, exclude: tuple[str, ...] = ()) -> str:
    """Content hash of every file below `root` (paths and bytes), skipping `exclude` dirs."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in exclude:
            continue
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def real_stderr():
    """A stream on the real standard error that pytest's output capture will not take over:
    a duplicate of file descriptor 2 made in pytest_configure, where pytest has suspended its
    global capture (it captures while loading conftests and around each test, and restores
    the real descriptors in between)."""
    try:
        return os.fdopen(os.dup(2), "w", buffering=1, errors="replace")
    except OSError:
        return None
