"""A log of what a run loaded into engines (image imports, copies into a host), so that
the report can say that a second run loaded nothing. One JSON-lines file per process in
the run's parts directory; the controller merges them into environment.engine_hosts."""

from __future__ import annotations

import json
import time
from pathlib import Path

_FILE: dict = {"path": None}


def configure(path: Path | None) -> None:
    _FILE["path"] = path


def record(host: str, what: str, started: float) -> None:
    path = _FILE["path"]
    if path is None:
        return
    with Path(path).open("a") as fh:
        fh.write(json.dumps({"host": host or "this host", "what": what,
                             "seconds": round(time.monotonic() - started, 1)}) + "\n")


def read(directory: Path) -> list[dict]:
    out = []
    for part in sorted(directory.glob("loads-*.jsonl")):
        out += [json.loads(line) for line in part.read_text().splitlines() if line.strip()]
    return out
