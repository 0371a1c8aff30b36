"""reports/matrix.json: the single source of truth. Views are rendered from it (render_md.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path

SCHEMA = 1


def build(cells: list[dict], environment: dict, selection: dict, complete: bool) -> dict:
    cells = sorted(cells, key=lambda c: (c["image"], c["runtime"], c["profile"], c["kind"] != "api", c["probe"]))
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell["verdict"]] = counts.get(cell["verdict"], 0) + 1
    batches = {(c["image"], c["runtime"], c["profile"]) for c in cells}
    containers = {c["container"] for c in cells if c.get("container")}
    return {
        "schema": SCHEMA,
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,
        "environment": {"kernel": platform.release(), "machine": platform.machine(), **environment},
        "selection": selection,
        "summary": {"cells": len(cells), "verdicts": counts, "batches": len(batches), "containers": len(containers)},
        "cells": cells,
    }


def atomic_write(path: Path, text: str) -> Path:
    """Write `text` to `path` whole or not at all: a full disk or a crash half way leaves the
    previous file as it was (and no temporary file behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write(report: dict, directory: Path) -> Path:
    return atomic_write(directory / "matrix.json", json.dumps(report, indent=1, sort_keys=False) + "\n")


def load(path: Path) -> dict:
    report = json.loads(path.read_text())
    if report.get("schema") != SCHEMA:
        raise ValueError(f"{path}: unsupported report schema {report.get('schema')!r}")
    return report
