"""reports/matrix.html, rendered from matrix.json only (python -m fallbackcheck.render_html [matrix.json]).

One self-contained page for publishing a matrix: a table per image, each cell coloured by
verdict, its detail and provenance in the cell's tooltip.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

from .views import by_image, cell_label, grid, image_heading, view_main, write_view

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: center; }
th.probe, td.probe { text-align: left; font-family: monospace; }
th { background: #f4f4f4; writing-mode: vertical-rl; transform: rotate(180deg); max-height: 16em; }
th.probe { writing-mode: horizontal-tb; transform: none; }
td.pass { background: #dff0d8; } td.expected-break { background: #fcf8e3; }
td.unexpected, td.error { background: #f2dede; font-weight: bold; } td.n\\/a { color: #999; }
"""


def _cell(cell: dict | None) -> str:
    if cell is None:
        return "<td></td>"
    tip = cell["detail"] + (f"\n[{cell['source']}]" if cell.get("source") else "")
    return (f'<td class="{html.escape(cell["verdict"])}" title="{html.escape(tip)}">'
            f"{html.escape(cell_label(cell))}</td>")


def _table(cells: list[dict]) -> list[str]:
    columns, rows = grid(cells)
    out = ["<table>", '<tr><th class="probe">probe</th>'
           + "".join(f"<th>{html.escape(rt)}<br>{html.escape(pf)}</th>" for rt, pf in columns) + "</tr>"]
    for probe, row in rows.items():
        out.append(f'<tr><td class="probe">{html.escape(probe)}</td>' + "".join(_cell(row.get(c)) for c in columns)
                   + "</tr>")
    out.append("</table>")
    return out


def render(report: dict) -> str:
    env = report["environment"]
    summary = report["summary"]
    out = ["<!doctype html>", '<html><head><meta charset="utf-8"><title>fallbackcheck matrix</title>',
           f"<style>{STYLE}</style></head><body>", "<h1>fallbackcheck compatibility matrix</h1>",
           "<p>Generated from matrix.json; do not edit. "
           f"{html.escape(report['generated'])}, kernel {html.escape(str(env.get('kernel')))}"
           + ("" if report.get("complete", True) else " <b>(partial run)</b>") + ".</p>",
           f"<p>{summary['cells']} cells in {summary['batches']} batches ({summary['containers']} containers): "
           + html.escape(", ".join(f"{k} {v}" for k, v in sorted(summary["verdicts"].items()))) + "</p>", "<ul>"]
    for rt, info in sorted((env.get("runtimes") or {}).items()):
        out.append(f"<li><code>{html.escape(rt)}</code>: "
                   + html.escape(", ".join(f"{k} {v}" for k, v in info.items() if v)) + "</li>")
    for rt, reason in sorted((env.get("skipped_runtimes") or {}).items()):
        out.append(f"<li><code>{html.escape(rt)}</code> skipped: {html.escape(reason)}</li>")
    out.append("</ul>")
    for image, cells in by_image(report["cells"]).items():
        out.append(f"<h2>{html.escape(image_heading(image, cells))}</h2>")
        for kind, title in (("api", "API probes"), ("raw", "Delivered errno (raw probes)")):
            subset = [c for c in cells if c["kind"] == kind]
            if subset:
                out += [f"<h3>{title}</h3>"] + _table(subset)
    out.append("</body></html>")
    return "\n".join(out)


def write(report: dict, directory: Path) -> Path:
    return write_view(report, directory, "matrix.html", render)


def main(argv: list[str]) -> int:
    return view_main(argv, "render_html", "matrix.html", render)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
