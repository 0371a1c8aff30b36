"""reports/matrix.json: the single source of truth, and its reader.

Schema 2 stores every cell row without repeating what rows share (docs/report-format.md):

- `probes`:  per probe id, the fields whose value is the same in every row of that probe
             (catalogue facts: kind, api, syscalls, ...);
- `batches`: per (image, runtime, profile), the fields the same in every row of that batch
             (libc, arch, container, the batch summary, ...);
- `columns` + `values` + `cells`: the remaining fields, one column each, dictionary-encoded:
             a cell is [batch index, probe index, one value index per column], -1 where the
             row had no such field;
- `profiles`: the seccomp JSON of each profile of the run, once.

Which table a field goes to is decided from the rows themselves, so a field added to rows
later (by any module) is stored and read back without code here knowing its name.
`load(path)` (or `Report(data)`) gives back the full rows: `Report.cells`.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import platform
from functools import cached_property
from pathlib import Path

from ..model import profiles

SCHEMA = 2
READABLE = (1, 2)
BATCH_KEY = ("image", "runtime", "profile")
PROBE_KEY = "probe"
_MISSING = object()


def _canon(value):
    """A hashable, key-order-free form of a JSON value (for equality and dictionary encoding).
    Tagged so that no two kinds of value share a form: a string is itself, a number, bool or
    null is (type, value) (True == 1 in Python, but not here), containers are tagged tuples.
    Built in Python rather than by JSON encoding: 180,000 encodings cost 2 s per main job."""
    kind = type(value)
    if kind is str:
        return value
    if value is None or kind in (int, float, bool):
        return (kind.__name__, value)
    if kind is dict:
        return ("dict",) + tuple(sorted((key, _canon(item)) for key, item in value.items()))
    if kind in (list, tuple):
        return ("list",) + tuple(_canon(item) for item in value)
    return ("json", json.dumps(value, sort_keys=True, separators=(",", ":")))


def _batch_of(row: dict) -> tuple:
    return tuple(row.get(k) for k in BATCH_KEY)


def _constant_within(rows: list[dict], canon: list[dict], field: str, keys: list) -> bool:
    seen: dict = {}
    for key, values in zip(keys, canon):
        value = values.get(field, _MISSING)
        if seen.setdefault(key, value) != value:
            return False
    return True


def is_fix_row(row: dict) -> bool:
    """Rows of the fix reruns (fixes.py) are stored with the run's rows but are not its matrix."""
    return bool(row.get("fix_of"))


def summary(rows: list[dict]) -> dict:
    counts: dict[str, int] = {}
    matrix = [r for r in rows if not is_fix_row(r)]
    for row in matrix:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    return {"cells": len(matrix), "verdicts": counts, "batches": len({_batch_of(r) for r in matrix}),
            "containers": len({r["container"] for r in matrix if r.get("container")})}


def canonical_forms(rows: list[dict]) -> dict[int, tuple[dict, dict]]:
    """id(row) -> (row, the canonical form of each of its fields): the first and largest part
    of encode(), for a caller that has most rows before the rest (FormsWhileWaiting).
    Rows must not change afterwards."""
    known: dict[int, tuple] = {}  # id(value) -> (value, canon): the rows of a batch share its summary

    def canon_of(value):
        if type(value) is not dict:
            return _canon(value)
        hit = known.get(id(value))
        if hit is None or hit[0] is not value:
            hit = known[id(value)] = (value, _canon(value))
        return hit[1]

    return {id(r): (r, {f: canon_of(v) for f, v in r.items() if f not in BATCH_KEY and f != PROBE_KEY})
            for r in rows}


def in_report_order(rows) -> list[dict]:
    """The rows in the order the report stores them (and Report.all_cells gives them back)."""
    return sorted(rows, key=lambda c: (bool(c.get("fix_of")), c["image"], c["runtime"], c["profile"],
                                       c.get("kind") != "api", c["probe"]))


class FormsWhileWaiting:
    """canonical_forms() of rows handed over as they are judged, computed a slice at a time
    by the thread that runs the cells while it would otherwise wait for a batch (the main
    job's 58,800 rows take a second of CPU: at the end it was a second of the run's tail,
    in a thread of its own it held the interpreter lock while the cells ran)."""

    SLICE = 200  # rows per step: a few milliseconds, so a batch that is ready waits little

    def __init__(self):
        self.forms: dict[int, tuple[dict, dict]] = {}
        self.pending: collections.deque = collections.deque()  # appended by other threads

    def add(self, rows: list[dict]) -> None:
        for start in range(0, len(rows), self.SLICE):
            self.pending.append(rows[start:start + self.SLICE])

    def step(self) -> bool:
        """Computes one slice; False when there was none."""
        try:
            rows = self.pending.popleft()
        except IndexError:
            return False
        self.forms.update(canonical_forms(rows))
        return True


def encode(rows: list[dict], forms: dict[int, tuple[dict, dict]] | None = None) -> dict:
    """Rows -> the probes/batches/columns/values/cells tables (lossless); `forms` from
    canonical_forms() for some of them, if computed already."""
    rows = in_report_order(rows)
    fields = list(dict.fromkeys(k for r in rows for k in r if k not in BATCH_KEY and k != PROBE_KEY))
    forms = dict(forms or {})
    missing = [r for r in rows if forms.get(id(r), (None,))[0] is not r]
    forms.update(canonical_forms(missing))
    canon = [forms[id(r)][1] for r in rows]
    probe_keys = [r[PROBE_KEY] for r in rows]
    batch_keys = [_batch_of(r) for r in rows]
    probe_fields = [f for f in fields if _constant_within(rows, canon, f, probe_keys)]
    batch_fields = [f for f in fields if f not in probe_fields and _constant_within(rows, canon, f, batch_keys)]
    columns = [f for f in fields if f not in probe_fields and f not in batch_fields]
    probes: dict[str, dict] = {}
    batches: list[dict] = []
    batch_index: dict[tuple, int] = {}
    probe_index: dict[str, int] = {}
    values: dict[str, list] = {c: [] for c in columns}
    value_index: dict[str, dict[str, int]] = {c: {} for c in columns}
    cells = []
    for row, row_canon, bkey in zip(rows, canon, batch_keys):
        pid = row[PROBE_KEY]
        if pid not in probe_index:
            probe_index[pid] = len(probe_index)
            probes[pid] = {f: row[f] for f in probe_fields if f in row}
        if bkey not in batch_index:
            batch_index[bkey] = len(batches)
            batches.append({**dict(zip(BATCH_KEY, bkey)), **{f: row[f] for f in batch_fields if f in row}})
        encoded = [batch_index[bkey], probe_index[pid]]
        for col in columns:
            if col not in row:
                encoded.append(-1)
                continue
            key = row_canon[col]
            index = value_index[col].get(key)
            if index is None:
                index = value_index[col][key] = len(values[col])
                values[col].append(row[col])
            encoded.append(index)
        cells.append(encoded)
    return {"probes": probes, "batches": batches, "columns": columns, "values": values, "cells": cells}


def build(cells: list[dict], environment: dict, selection: dict, complete: bool, *,
          profiles: dict | None = None, forms: dict | None = None, **sections) -> dict:
    """The report of a run. `sections` are further top-level parts (fixes, changes) views read;
    `forms`: canonical_forms() of some of the cells, computed earlier."""
    return {
        "schema": SCHEMA,
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,
        "environment": {"kernel": platform.release(), "machine": platform.machine(), **environment},
        "selection": selection,
        "summary": summary(cells),
        "profiles": profiles or {},
        **sections,
        **encode(cells, forms),
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


def atomic_write_all(directory: Path, texts: dict[str, str]) -> tuple[Path, ...]:
    """Write several files of one report all or none: every text goes to a temporary file
    first, and only when all are written are they renamed into place. A full disk leaves
    the previous matrix.json and its views as they were, consistent with each other."""
    directory.mkdir(parents=True, exist_ok=True)
    pending = [(directory / f".{name}.tmp", directory / name) for name in texts]
    try:
        for (tmp, _), text in zip(pending, texts.values()):
            tmp.write_text(text)
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, path in pending:
        os.replace(tmp, path)
    return tuple(path for _, path in pending)


def dumps(report: dict) -> str:
    """The report's JSON text: one line per table entry (cells, batches), so that it stays
    small yet greppable and diffable by line."""
    data = report.data if isinstance(report, Report) else report
    parts = []
    for key, value in data.items():
        if key in ("cells", "batches") and isinstance(value, list):
            body = ",\n".join(json.dumps(v, separators=(",", ":")) for v in value)
            parts.append(f"{json.dumps(key)}: [\n{body}\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write(report: dict, directory: Path) -> Path:
    return atomic_write(directory / "matrix.json", dumps(report))


class Report:
    """A matrix.json, read: top-level parts by key (report["summary"]) and the full cell rows.

    `cells` are the matrix's rows, `fix_cells` the rows of the fix reruns (fixes.py);
    `all_cells` both. Every row has the same fields it had when the run wrote it.
    """

    def __init__(self, data: dict, rows: list[dict] | None = None):
        """`rows`: the rows `data` was just built from (the run that wrote it), which saves
        decoding them again; each equal to its decoded row, in_report_order()."""
        if data.get("schema") not in READABLE:
            raise ValueError(f"unsupported report schema {data.get('schema')!r} (this reader knows {READABLE})")
        self.data = data
        if rows is not None:
            self.__dict__["all_cells"] = in_report_order(rows)

    def __getitem__(self, key):
        return self.cells if key == "cells" else self.data[key]

    def get(self, key, default=None):
        return self.cells if key == "cells" else self.data.get(key, default)

    @cached_property
    def all_cells(self) -> list[dict]:
        data = self.data
        if data["schema"] == 1:
            return list(data["cells"])
        probes = list(data["probes"].items())
        batches, columns, values = data["batches"], data["columns"], data["values"]
        tables = [values[c] for c in columns]
        rows = []
        for encoded in data["cells"]:
            pid, probe_fields = probes[encoded[1]]
            batch = batches[encoded[0]]
            row = {PROBE_KEY: pid, **probe_fields, **batch}
            for col, table, index in zip(columns, tables, encoded[2:]):
                if index >= 0:
                    row[col] = table[index]
            rows.append(row)
        return rows

    @cached_property
    def cells(self) -> list[dict]:
        return [r for r in self.all_cells if not is_fix_row(r)]

    @cached_property
    def fix_cells(self) -> list[dict]:
        return [r for r in self.all_cells if is_fix_row(r)]


def profile_facts(report, profile_id: str) -> dict:
    """A profile's parts (family, kernel, errno, ...) as the run wrote them
    (selection.profile_facts), so views read fields instead of parsing ids; for a report written
    before the run wrote them, read from the id by the grammar's own reader."""
    found = ((report.get("selection") or {}).get("profile_facts") or {}).get(profile_id)
    return found if found is not None else profiles.facts(profile_id)


def runtime_facts(report, runtime_id: str) -> dict:
    """A runtime's kind, host ("" = the machine that ran it) and kind facts as the run wrote
    them (environment.runtime_kinds); for a report written before they carried kind and host,
    those two from the id (<kind>[@<host>]; every local@linux-* a kernel host)."""
    found = ((report.get("environment") or {}).get("runtime_kinds") or {}).get(runtime_id) or {}
    if "kind" in found:
        return found
    kind, _, host = runtime_id.partition("@")
    return {**found, "kind": kind, "host": host,
            "shared_column": "kernels" if kind == "local" and host.startswith("linux-") else None}


def as_report(report) -> Report:
    return report if isinstance(report, Report) else Report(report)


def load(path: Path) -> Report:
    """Read a matrix.json (schema 1 or 2). Raises ValueError for anything that is not one."""
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a fallbackcheck report")
    try:
        return Report(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
