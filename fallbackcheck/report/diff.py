"""What changed between two reports: `python3 -m fallbackcheck.report.diff A/matrix.json B/matrix.json`.

A cell is the same cell in both when its (probe, image, runtime, profile) is; it changed when
its outcome, works, delivered errnos or verdict did. Cells only in B are new, cells only in
A vanished. Exit status: 0 no changes, 1 changes, 4 bad input (one ERROR: line).
The plugin's --baseline uses the same comparison and fails each changed cell.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..judging.causes import works
from . import Report, load

COMPARED = ("outcome", "works", "delivered", "verdict")


def key(row: dict) -> tuple[str, str, str, str]:
    return (row["probe"], row["image"], row["runtime"], row["profile"])


def key_text(k: tuple) -> str:
    probe, image, runtime, profile = k
    return f"{probe} {image} {runtime} {profile}"


def facts(row: dict) -> dict:
    return {"outcome": row.get("outcome"), "works": works(row), "delivered": row.get("delivered"),
            "verdict": row.get("verdict")}


def changed_fields(old: dict, new: dict) -> dict[str, list]:
    a, b = facts(old), facts(new)
    return {f: [a[f], b[f]] for f in COMPARED if a[f] != b[f]}


def compare(old_rows, new_rows) -> dict:
    """{"changed": [{cell, fields: {name: [old, new]}}], "new": [cell...], "vanished": [cell...]}"""
    old = {key(r): r for r in old_rows}
    new = {key(r): r for r in new_rows}
    changed = []
    for k in sorted(old.keys() & new.keys()):
        fields = changed_fields(old[k], new[k])
        if fields:
            changed.append({"cell": list(k), "fields": fields})
    return {"changed": changed, "new": [list(k) for k in sorted(new.keys() - old.keys())],
            "vanished": [list(k) for k in sorted(old.keys() - new.keys())]}


def _short(value) -> str:
    if isinstance(value, dict):
        return ",".join(f"{s} {d}" for s, d in value.items()) or "-"
    return "-" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def change_text(change: dict) -> str:
    return "; ".join(f"{f} {_short(a)} -> {_short(b)}" for f, (a, b) in change["fields"].items())


def lines(changes: dict, limit: int | None = None) -> list[str]:
    if not any(changes.get(k) for k in ("changed", "new", "vanished")):
        return ["no changes"]
    out = [f"{len(changes['changed'])} changed, {len(changes['new'])} new, {len(changes['vanished'])} vanished"]
    for what in ("changed", "new", "vanished"):
        items = changes[what]
        shown = items if limit is None else items[:limit]
        for item in shown:
            if what == "changed":
                out.append(f"changed: {key_text(item['cell'])}: {change_text(item)}")
            else:
                out.append(f"{what}: {key_text(item)}")
        if len(shown) < len(items):
            out.append(f"... and {len(items) - len(shown)} more {what}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("ERROR: usage: python3 -m fallbackcheck.report.diff OLD/matrix.json NEW/matrix.json", file=sys.stderr)
        return 4
    reports: list[Report] = []
    for arg in argv:
        try:
            reports.append(load(Path(arg)))
        except OSError as exc:
            print(f"ERROR: cannot read {arg}: {exc.strerror}", file=sys.stderr)
            return 4
        except (ValueError, KeyError) as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 4
    changes = compare(reports[0].cells, reports[1].cells)
    text = lines(changes)
    try:
        print("\n".join(text))
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0 if text == ["no changes"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
