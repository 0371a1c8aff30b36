"""matrix-table.{json,md,csv,html}: the published compatibility table (compat_table.py),
rendered from matrix.json only: `python3 -m fallbackcheck.report.render_table [matrix.json]`.

Rows: one per API and image, grouped by the syscalls the API depends on; images whose
row reads the same are one row. Columns: the environments of compat_table. A cell: what
the API does under the runtime's `default` profile (kernel hosts: no filter, newest
kernel), then since when it works (`≥6.6 EPERM`: from vintage:6.6:EPERM on).
"""

from __future__ import annotations

import csv
import html
import io
import json
import sys

from .compat_table import KERNELS, table
from . import as_report, atomic_write_all
from .views import view_source

FILES = ("matrix-table.json", "matrix-table.md", "matrix-table.csv", "matrix-table.html")


def headline(cell: dict | None, column: str) -> tuple[str, str]:
    """(text, class) of a cell's first word: ✓, ✗ errno, n/a, or blank when not measured."""
    if not cell:
        return "", "none"
    state = cell.get("unconfined" if column == KERNELS else "default") or cell.get("unconfined")
    if not state:
        return "·", "none"
    if state["status"] == "works":
        return "✓", "works"
    if state["status"] == "breaks":
        return "✗ " + str(state.get("errno")) + (" (like an old kernel)" if state.get("like_old_kernel") else ""), "breaks"
    return state["status"] + (f" ({state['reason']})" if state.get("reason") else ""), "na"


def since_text(cell: dict | None) -> str:
    """`≥6.6 EPERM` (breaks under older vintages), `all` (works under every one that ran),
    `never` (not even under the newest)."""
    since = (cell or {}).get("since") or {}
    measured = (cell or {}).get("measured_from") or {}
    parts = []
    vintages = {k: v for k, v in since.items() if k.startswith("vintage:")}
    if vintages and all(v == measured.get(k) for k, v in vintages.items()):
        parts.append(f"all vintages ≥{min(measured[k] for k in vintages)}" if len(set(vintages.values())) == 1
                     else "all vintages")
    else:
        for key, value in vintages.items():
            err = key.split(":")[1]
            parts.append(f"never {err}" if value == "none" else
                         f"all {err}" if value == measured.get(key) else f"≥{value} {err}")
    for key, value in since.items():
        if key == "kernel":
            parts.append("no kernel" if value == "none" else
                         f"all kernels ≥{value}" if value == measured.get(key) else f"kernel ≥{value}")
        elif key == "generation" and value != "this host":  # the oldest measured: nothing to say
            parts.append(f"default since {value}" if value != "none" else "default: no generation")
    return " · ".join(parts)


def rows(data: dict):
    """(syscalls, probe, images, cells by column) per row, images reading alike merged."""
    columns = [c["id"] for c in data["columns"]]
    for group in data["groups"]:
        for api in group["apis"]:
            merged: list[tuple[list[str], dict]] = []
            for image, entry in api["images"].items():
                cells = entry["cells"]
                key = json.dumps([cells.get(c) for c in columns], sort_keys=True)
                same = next((m for m in merged if m[2] == key), None)
                if same is None:
                    merged.append(([f"{image}"], cells, key))
                else:
                    same[0].append(image)
            for images, cells, _ in merged:
                yield group["syscalls"], api["probe"], images, cells


def _column_title(col: dict) -> str:
    if col["id"] == KERNELS:
        return f"kernel hosts ({col['versions']})"
    return col["id"] + (f" ({col['versions']})" if col.get("versions") else "")


def markdown(data: dict) -> str:
    cols = data["columns"]
    out = ["# fallbackcheck compatibility table", "",
           f"_Generated from matrix.json ({data['generated_from']['generated']}); format "
           f"`{data['format']}` {data['version']} (matrix-table.json).{' ' + published_line(data) if published_line(data) else ''}_", "",
           *[line for w in _warnings(data) for line in (f"**{w}**", "")],
           "A cell: what the API does under the runtime's `default` profile (kernel hosts: no filter, newest kernel): "
           "✓ works, ✗ breaks with that errno, n/a; then since when it works: `≥6.6 EPERM` = under every vintage "
           "profile from `vintage:6.6:EPERM` on; `kernel ≥5.10`; `default since <generation>`.", "",
           "| syscalls | API | images | " + " | ".join(_column_title(c) for c in cols) + " |",
           "|---|---|---|" + "---|" * len(cols)]
    for syscalls, probe, images, cells in rows(data):
        texts = []
        for col in cols:
            head, _ = headline(cells.get(col["id"]), col["id"])
            since = since_text(cells.get(col["id"]))
            texts.append((head + (f" · {since}" if since else "")).replace("|", "\\|"))
        out.append(f"| {', '.join(syscalls) or '-'} | `{probe}` | {', '.join(images)} | " + " | ".join(texts) + " |")
    return "\n".join(out) + "\n"


CSV_FIELDS = ("syscalls", "probe", "image", "libc", "arch", "column", "default", "unconfined",
              "since_vintage_EPERM", "since_vintage_ENOSYS", "since_kernel", "since_generation")


def _state(state: dict | None) -> str:
    if not state:
        return ""
    return state["status"] + (f" {state['errno']}" if state.get("errno") else "")


def csv_text(data: dict) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for group in data["groups"]:
        for api in group["apis"]:
            for image, entry in api["images"].items():
                for column, cell in entry["cells"].items():
                    since = cell.get("since") or {}
                    writer.writerow([" ".join(group["syscalls"]), api["probe"], image, entry.get("libc") or "",
                                     entry.get("arch") or "", column, _state(cell.get("default")),
                                     _state(cell.get("unconfined")), since.get("vintage:EPERM", ""),
                                     since.get("vintage:ENOSYS", ""), since.get("kernel", ""),
                                     since.get("generation", "")])
    return buf.getvalue()


STYLE = """
body { font-family: sans-serif; margin: 1em; font-size: 13px; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 1px 5px; }
td { max-width: 10em; } td.api { white-space: nowrap; }
th { background: #f4f4f4; font-weight: normal; font-size: 11px; position: sticky; top: 0; }
td.works { background: #dff0d8; } td.breaks { background: #f2dede; } td.na, td.none { color: #888; }
td small { color: #444; } tr.group td { background: #eef; font-weight: bold; }
td.api { font-family: monospace; } #find { margin: 0.5em 0; }
td.images { white-space: normal; max-width: 16em; font-size: 11px; } th { white-space: normal; max-width: 12em; }
td.older { background: #fcf3cf; } p.warn { color: #a94442; font-weight: bold; }
table.env td { max-width: none; font-size: 11px; }
"""

SCRIPT = r"""
// Typing API names (or opening matrix-table.html#find=lchmod,pthread_create) shows only their rows.
var find = document.getElementById('find');
find.addEventListener('input', function (e) {
  var words = e.target.value.toLowerCase().split(/[\s,|]+/).filter(Boolean);
  document.querySelectorAll('tr.row').forEach(function (tr) {
    var api = tr.getAttribute('data-api');
    tr.style.display = !words.length || words.some(function (w) { return api.indexOf(w) >= 0; }) ? '' : 'none';
  });
  document.querySelectorAll('tr.group').forEach(function (g) {  // a syscall's heading only with rows shown
    var n = g.nextElementSibling, any = false;
    while (n && n.classList.contains('row')) { any = any || n.style.display !== 'none'; n = n.nextElementSibling; }
    g.style.display = any ? '' : 'none';
  });
});
if (location.hash.indexOf('#find=') === 0) {
  find.value = decodeURIComponent(location.hash.slice(6));
  find.dispatchEvent(new Event('input'));
}
"""


def _warnings(data: dict) -> list[str]:
    """A merged matrix that should not be published as it is says so at the top."""
    source = data["generated_from"]
    out = []
    if source.get("conflicts"):
        out.append(f"{source['conflicts']} cells were measured differently by two sources (matrix.md lists "
                   "them): this table shows the first source's.")
    if source.get("missing_shards"):
        out.append(f"Incomplete: {', '.join(source['missing_shards'])} missing.")
    elif not source.get("complete", True):
        out.append("Made from an incomplete run: some cells were not measured.")
    return out


def published_line(data: dict) -> str:
    """The stamp of a published data set (fallbackcheck.report.publish), or ""."""
    p = data.get("published")
    if not p:
        return ""
    return (f"Published {p['date']}: measured {p['measured']} with fallbackcheck {p['fallbackcheck']}, "
            f"catalogue {p['catalogue']} ({len(p.get('catalogue_probes') or [])} APIs).")


def environment_text(column: dict) -> str:
    """A column's environment as the run reported it, in one line."""
    env = column.get("environment") or {}
    if column["id"] == KERNELS:
        return "; ".join(f"{rid}: " + ", ".join(f"{k} {v}" for k, v in sub.items()) for rid, sub in env.items())
    return "; ".join(f"{k}: {v}" for k, v in env.items())


def _environments_html(cols: list[dict]) -> list[str]:
    e = html.escape
    if not any(c.get("environment") for c in cols):
        return []
    return ["<h2>The environment of each column</h2>", '<table class="env"><tr><th>column</th><th>where</th>'
            "<th>environment</th></tr>",
            *[f"<tr><td>{e(c['id'])}</td><td>{e(c['host'])}</td><td>{e(environment_text(c))}</td></tr>" for c in cols],
            "</table>"]


def html_text(data: dict) -> str:
    e = html.escape
    cols = data["columns"]
    out = ["<!doctype html>", '<html><head><meta charset="utf-8"><title>fallbackcheck compatibility table</title>',
           f"<style>{STYLE}</style></head><body>", "<h1>Which glibc API works where</h1>",
           *([f"<p>{e(published_line(data))}</p>"] if published_line(data) else []),
           f"<p>Generated from matrix.json ({e(str(data['generated_from']['generated']))}); the data is "
           f"<a href=\"matrix-table.json\">matrix-table.json</a> (format <code>{e(data['format'])}</code> "
           f"{data['version']}), also as CSV. A cell: what the API does under the runtime's <code>default</code> "
           "profile (kernel hosts: no filter, newest kernel) — ✓ works (green; yellow: breaks under older vintage profiles), ✗ breaks with that errno (red) — then since when "
           "it works: <code>≥6.6 EPERM</code> under every vintage profile from <code>vintage:6.6:EPERM</code> on "
           "(a runtime whose allow-list knows the syscalls of Linux 6.6); <code>kernel ≥5.10</code>; "
           "<code>default since</code> an engine generation.</p>",
           *[f'<p class="warn">{e(w)}</p>' for w in _warnings(data)],
           '<input id="find" size="40" placeholder="find APIs: lchmod pthread_create">',
           "<table><tr><th>API</th><th>images</th>" + "".join(f"<th>{e(_column_title(c))}</th>" for c in cols) + "</tr>"]
    last = None
    for syscalls, probe, images, cells in rows(data):
        if syscalls != last:
            out.append(f'<tr class="group"><td colspan="{len(cols) + 2}">{e(", ".join(syscalls) or "no syscall of its own")}</td></tr>')
            last = syscalls
        tds = []
        for col in cols:
            head, css = headline(cells.get(col["id"]), col["id"])
            since = since_text(cells.get(col["id"]))
            if css == "works" and since and not since.startswith("all"):
                css = "older"  # works under `default`, breaks under older vintages
            tds.append(f'<td class="{css}">{e(head)}' + (f" <small>{e(since)}</small>" if since else "") + "</td>")
        out.append(f'<tr class="row" data-api="{e(probe.lower())}" id="api-{e(probe)}-{e(images[0])}">'
                   f'<td class="api">{e(probe).replace(".", ".<wbr>")}</td><td class="images">{e(", ".join(images))}</td>' + "".join(tds) + "</tr>")
    out += ["</table>", *_environments_html(cols), f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(out)


def texts(report) -> dict[str, str]:
    data = table(as_report(report))
    return {"matrix-table.json": json.dumps(data, indent=1) + "\n", "matrix-table.md": markdown(data),
            "matrix-table.csv": csv_text(data), "matrix-table.html": html_text(data)}


def main(argv: list[str]) -> int:
    found = view_source(argv, "render_table")
    if found is None:
        return 2
    src, report = found
    for path in atomic_write_all(src.parent, texts(report)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
