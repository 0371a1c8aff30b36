"""What every rendered view of matrix.json shares: cell labels, the probe × column grid,
writing the file, and the re-render command line."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from .report import atomic_write, load


def cell_label(cell: dict) -> str:
    """A cell in a few words: what the API did (or the errno delivered), then the verdict mark."""
    if cell["kind"] == "raw":
        text = "/".join(cell["delivered"].values())
    else:
        text = cell["errno"] if cell["outcome"] == "error" and cell["errno"] else (cell["outcome"] or "?")
        if cell.get("works") is False:  # the API did not do its job, whatever the verdict
            text = f"✗ {text}"
    verdict = cell["verdict"]
    if verdict == "expected-break":
        return f"{text} (break)"
    if verdict == "unexpected":
        return f"{text} UNEXPECTED"
    if verdict == "error":
        return "ERROR"
    if verdict == "n/a":
        return f"n/a ({text})" if text not in ("n/a", "?") else "n/a"
    return text


def by_image(cells: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for cell in cells:
        out[cell["image"]].append(cell)
    return dict(sorted(out.items()))


def grid(cells: list[dict]) -> tuple[list[tuple[str, str]], dict[str, dict[tuple[str, str], dict]]]:
    """Columns (runtime, profile) and rows probe -> column -> cell, both sorted."""
    rows: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
    for cell in cells:
        rows[cell["probe"]][(cell["runtime"], cell["profile"])] = cell
    columns = sorted({(c["runtime"], c["profile"]) for c in cells})
    return columns, dict(sorted(rows.items()))


def image_heading(image: str, cells: list[dict]) -> str:
    libcs = sorted({c["libc"] for c in cells if c.get("libc")})
    arches = sorted({c["arch"] for c in cells if c.get("arch")})
    return f"{image} ({', '.join(libcs) or 'libc unknown'}, {', '.join(arches) or '?'})"


def write_view(report: dict, directory: Path, filename: str, render) -> Path:
    return atomic_write(directory / filename, render(report))


def view_main(argv: list[str], prog: str, filename: str, render) -> int:
    """`python -m fallbackcheck.<prog> [matrix.json]`: re-render one view beside the JSON."""
    src = Path(argv[0]) if argv else Path("reports/matrix.json")
    try:
        report = load(src)
    except (OSError, ValueError) as exc:
        print(f"{prog}: cannot read {src}: {exc}", file=sys.stderr)
        return 2
    print(write_view(report, src.parent, filename, render))
    return 0
