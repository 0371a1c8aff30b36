"""reports/matrix.html, rendered from matrix.json only (python -m fallbackcheck.report.render_html [matrix.json]).

One self-contained page: what changed and what breaks first (plain HTML, readable before
any script runs), then counts, then the full grid. The grid is drawn by a small script from
the cells embedded as compact JSON, for the filter's current choice (image, runtime,
profile, verdict, "only what breaks"), so that a report of tens of thousands of cells is
interactive at once instead of laying out every cell up front.
"""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path

from ..judging import causes
from . import filter_views, generation_views, kernel_views, matrix_views, merge_views, sandbox_views
from .tables import Table
from . import as_report
from .views import (machine_faults, by_image, cell_label, change_lines, counts_line, fix_lines, fix_status,
    image_heading, list_text, mechanism_text, old_kernel_like, proofs_text, unfixable_lines, view_main, what_breaks,
    write_view)

STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: center; }
th.probe, td.probe { text-align: left; font-family: monospace; }
#grid th { background: #f4f4f4; font-weight: normal; font-size: 11px; }
/* Tables off screen are neither laid out nor painted until scrolled to: the grid of a big
   report costs nothing while the reader is on "What breaks". */
#grid section { content-visibility: auto; contain-intrinsic-size: auto 1200px; }
td.pass { background: #dff0d8; } td.expected-break { background: #fcf8e3; }
td.unexpected, td.error { background: #f2dede; font-weight: bold; } td.na { color: #999; }
td.broken { outline: 2px solid #c9302c; outline-offset: -2px; }
.group { border-left: 4px solid #c9302c; padding: 0.2em 0.8em; margin: 0.8em 0; background: #fdf7f7; }
.group h3 { margin: 0.2em 0; font-size: 1.05em; }
.group ul { margin: 0.3em 0; padding-left: 1.2em; } .group li { margin: 0.15em 0; }
.proven { color: #2b7a0b; font-weight: bold; } .unproven { color: #c9302c; font-weight: bold; }
#filters { position: sticky; top: 0; background: #fff; padding: 0.5em 0; border-bottom: 1px solid #ccc; }
#filters label { margin-right: 1em; } #shown { color: #555; }
code { background: #f4f4f4; padding: 0 2px; }
table.causes td { text-align: left; } table.causes th { background: #f4f4f4; }
table.plain td { text-align: left; } table.plain th { writing-mode: horizontal-tb; transform: none; }
"""

# The grid script: reads the embedded cells, fills the filter menus, draws the selected part.
SCRIPT = r"""
(function () {
  var t0 = performance.now(), BIG = 5000;
  var D = JSON.parse(document.getElementById('cells').textContent);
  var grid = document.getElementById('grid'), shown = document.getElementById('shown');
  var menus = {image: D.images, runtime: D.runtimes, profile: D.profiles, verdict: D.verdicts};
  var sel = {};
  Object.keys(menus).forEach(function (name) {
    sel[name] = document.getElementById('f-' + name);
    var opts = ['<option value="">all</option>'];
    menus[name].forEach(function (v, i) { opts.push('<option value="' + i + '">' + esc(v) + '</option>'); });
    sel[name].innerHTML = opts.join('');
    sel[name].addEventListener('change', draw);
  });
  // A big report opens on its first image: laying out every cell at once is what makes a
  // page slow; "all" is one click away.
  if (D.cells.length > BIG && D.images.length > 1) sel.image.value = '0';
  var onlyBreaks = document.getElementById('f-breaks');
  onlyBreaks.addEventListener('change', draw);
  // The detail and source of a cell become its tooltip when the pointer reaches it (one
  // listener, not one long attribute per cell).
  grid.addEventListener('mouseover', function (e) {
    var td = e.target.closest('td[data-tip]');
    if (td && !td.title) td.title = D.tips[+td.getAttribute('data-tip')];
  });
  function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;'); }
  function want(name) { return sel[name].value === '' ? -1 : +sel[name].value; }
  function draw() {
    var img = want('image'), rt = want('runtime'), pf = want('profile'), vd = want('verdict');
    var breaks = onlyBreaks.checked, out = [], count = 0;
    // Cells are [image, runtime, profile, probe, label, verdict, works, tip, kind]; one table per image and kind.
    var tables = {};
    D.cells.forEach(function (c) {
      if ((img >= 0 && c[0] !== img) || (rt >= 0 && c[1] !== rt) || (pf >= 0 && c[2] !== pf) ||
          (vd >= 0 && c[5] !== vd) || (breaks && c[6] !== 0)) return;
      count++;
      var key = c[0] + '|' + c[8], t = tables[key];
      if (!t) t = tables[key] = {image: c[0], kind: c[8], cols: {}, colList: [], rows: {}, rowList: []};
      var col = c[1] + '|' + c[2];
      if (!(col in t.cols)) { t.cols[col] = 1; t.colList.push([c[1], c[2]]); }
      if (!(c[3] in t.rows)) { t.rows[c[3]] = {}; t.rowList.push(c[3]); }
      t.rows[c[3]][col] = c;
    });
    Object.keys(tables).sort().forEach(function (key) {
      var t = tables[key];
      t.colList.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
      t.rowList.sort(function (a, b) { return a - b; });
      out.push('<section><h3>' + esc(D.headings[t.image]) + ': ' +
               (t.kind ? 'delivered errno (raw probes)' : 'API probes') + '</h3><table><tr><th class="probe">probe</th>');
      t.colList.forEach(function (c) { out.push('<th>' + esc(D.runtimes[c[0]]) + '<br>' + esc(D.profiles[c[1]]) + '</th>'); });
      out.push('</tr>');
      t.rowList.forEach(function (p) {
        out.push('<tr><td class="probe">' + esc(D.probes[p]) + '</td>');
        var row = t.rows[p];
        t.colList.forEach(function (c) {
          var cell = row[c[0] + '|' + c[1]];
          if (!cell) { out.push('<td></td>'); return; }
          out.push('<td class="' + D.classes[cell[5]] + (cell[6] === 0 ? ' broken' : '') + '" data-tip="' +
                   cell[7] + '">' + esc(D.labels[cell[4]]) + '</td>');
        });
        out.push('</tr>');
      });
      out.push('</table></section>');
    });
    grid.innerHTML = out.join('');
    shown.textContent = count + ' of ' + D.cells.length + ' cells shown';
    grid.setAttribute('data-shown', count);
  }
  draw();
  document.body.setAttribute('data-script-ms', Math.round(performance.now() - t0));
  // Interactive = the first frame with the grid laid out and painted has been produced.
  requestAnimationFrame(function () { setTimeout(function () {
    document.body.setAttribute('data-interactive-ms', Math.round(performance.now()));
  }, 0); });
})();
"""


def _indexer():
    table: dict = {}

    def index(value) -> int:
        return table.setdefault(value, len(table))
    return table, index


def grid_data(report) -> dict:
    """The cells in the compact form the page's script reads."""
    cells = sorted(report.cells, key=lambda c: (c["image"], c["runtime"], c["profile"], c["probe"]))
    names = {k: sorted({c[k] for c in cells}) for k in ("image", "runtime", "profile", "probe", "verdict")}
    pos = {k: {v: i for i, v in enumerate(vs)} for k, vs in names.items()}
    labels, label_ix = _indexer()
    tips, tip_ix = _indexer()
    rows = []
    for c in cells:
        works = causes.works(c)
        tip = (c.get("detail") or "") + (f"\n[{c['source']}]" if c.get("source") else "")
        rows.append([pos["image"][c["image"]], pos["runtime"][c["runtime"]], pos["profile"][c["profile"]],
                     pos["probe"][c["probe"]], label_ix(cell_label(c)), pos["verdict"][c["verdict"]],
                     -1 if works is None else int(works), tip_ix(tip), int(c["kind"] == "raw")])
    return {"images": names["image"], "runtimes": names["runtime"], "profiles": names["profile"],
            "probes": names["probe"], "verdicts": names["verdict"],
            "classes": [v.replace("/", "") for v in names["verdict"]],
            "headings": _headings(cells, names["image"]),
            "labels": list(labels), "tips": list(tips), "cells": rows}


def _headings(cells: list[dict], images: list[str]) -> list[str]:
    grouped = by_image(cells)
    return [image_heading(i, grouped.get(i, [])) for i in images]


def _e(text) -> str:
    return html.escape(str(text))


def _changes(report) -> list[str]:
    changes = report.get("changes")
    if not changes:
        return []
    out = [f"<h2>What changed since <code>{_e(changes['baseline'])}</code></h2>"]
    lines = change_lines(report)
    if not lines:
        return out + ["<p>No changes.</p>"]
    out.append(f"<p>{len(changes['changed'])} changed, {len(changes['new'])} new, "
               f"{len(changes['vanished'])} vanished.</p><ul>")
    out += [f"<li>{_e(line)}</li>" for line in lines]
    return out + ["</ul>"]


def _what_breaks(report) -> list[str]:
    answers = what_breaks(report)
    old = old_kernel_like(report)
    out = ['<h2 id="what-breaks">What breaks</h2>']
    if not answers and not old:
        return out + ["<p>Every API cell that could be measured works.</p>"]
    total = sum(len(a.culprit.cells) for a in answers)
    out.append(f"<p>{total} API cells do not work (<code>works</code> = false) because of {len(answers)} culprits"
               + (f'; {sum(len(c.cells) for c in old)} more fail exactly as on a kernel without the syscall '
                  '(<a href="#old-kernel">listed apart</a>)' if old else "") + ".</p>")
    out.append('<table class="causes"><tr><th>#</th><th>culprit</th><th>cells</th><th>how</th><th>APIs</th>'
               "<th>fix</th></tr>")
    out += [f'<tr><td><a href="#cause-{n}">{n}</a></td><td class="probe">{_e(a.culprit.title)}</td>'
            f"<td>{len(a.culprit.cells)}</td><td>{_e(mechanism_text(a))}</td>"
            f"<td>{_e(list_text(a.culprit.probes, 3))}</td><td>{_e(fix_status(a))}</td></tr>"
            for n, a in enumerate(answers, 1)]
    out.append("</table>")
    for n, answer in enumerate(answers, 1):
        culprit = answer.culprit
        out += [f'<div class="group" id="cause-{n}"><h3>{n}. {_e(culprit.title)}: {len(culprit.cells)} cells</h3><ul>',
                f"<li>where: images {_e(list_text(culprit.images))}; runtimes {_e(list_text(culprit.runtimes))}; "
                f"profiles {_e(list_text(culprit.profiles))}</li>",
                f"<li>APIs: {_e(', '.join(culprit.probes))}</li>"]
        for sub in answer.subs:
            group = sub.group
            out.append(f"<li>{_e(group.cause.mechanism)}: {len(group.cells)} cells; runtimes "
                       f"{_e(list_text(group.runtimes))}; profiles {_e(list_text(group.profiles, 4))}</li>")
        for line in fix_lines(answer):
            css = "proven" if line.proven else "unproven"
            out.append(f"<li>fix: {_e(line.change)} — "
                       f'<span class="{css}">{_inline(proofs_text(line))}</span> '
                       f"(patched: {_inline(list_text([f'`{p}`' for p in line.patched], 2))})"
                       + (f"<br>diff: <code>{_e(line.diff)}</code>" if line.diff else "") + "</li>")
        for profiles, text in unfixable_lines(report, answer):
            out.append(f"<li>{_e(list_text(profiles, 4))}: {_e(text)}</li>")
        reasons = culprit.reasons()
        count = f"{len(reasons)} reason{'' if len(reasons) == 1 else 's'}"
        out.append(f"<li><details><summary>why ({count}, with sources)</summary><ul>")
        out += [f"<li><code>{_e(probe)}</code> ({_e(libc)}): {_e(why)}</li>" for probe, libc, why in reasons]
        out.append("</ul></details></li></ul></div>")
    if old:
        out += ['<h3 id="old-kernel">Fails exactly as on a kernel without the syscall</h3>',
                "<p>The API is a thin wrapper with no fallback and got ENOSYS, which is what a kernel without the "
                "syscall answers: a program using it has to cope with that on such a kernel anyway. Not a fallback "
                "the filter defeated, so no fix is offered.</p>",
                '<table class="causes"><tr><th>syscall</th><th>cells</th><th>how</th><th>APIs</th><th>profiles</th></tr>']
        out += [f'<tr><td class="probe">{_e(c.title)}</td><td>{len(c.cells)}</td>'
                f"<td>{_e(' · '.join(f'{g.cause.mechanism} {len(g.cells)}' for g in c.groups))}</td>"
                f"<td>{_e(list_text(c.probes, 3))}</td><td>{_e(list_text(c.profiles, 4))}</td></tr>" for c in old]
        out.append("</table>")
    return out


def tables_html(found: list[Table]) -> list[str]:
    """Titled tables as HTML; `code` in backquotes becomes <code>."""
    out: list[str] = []
    for table in found:
        out += [f"<h{table.level}>{_inline(table.title)}</h{table.level}>"]
        out += [f"<p>{_inline(table.intro)}</p>"] if table.intro else []
        out += ['<table class="plain">', "<tr>" + "".join(f"<th>{_inline(x)}</th>" for x in table.header) + "</tr>"]
        out += ["<tr>" + "".join(f"<td>{_inline(x)}</td>" for x in row) + "</tr>" for row in table.rows]
        out.append("</table>")
    return out


def _inline(text: str) -> str:
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def render(report) -> str:
    report = as_report(report)
    env = report["environment"]
    data = json.dumps(grid_data(report), separators=(",", ":")).replace("</", "<\\/")
    out = ["<!doctype html>", '<html><head><meta charset="utf-8"><title>fallbackcheck matrix</title>',
           f"<style>{STYLE}</style></head><body>", "<h1>fallbackcheck compatibility matrix</h1>",
           "<p>Generated from matrix.json; do not edit. "
           f"{_e(report['generated'])}, kernel {_e(env.get('kernel'))}"
           + ("" if report.get("complete", True) else " <b>(partial run)</b>") + ".</p>"]
    out += tables_html(merge_views.tables(report))  # a merged report's conflicts come before anything else
    out += _changes(report)
    out += _what_breaks(report)
    out += tables_html(sandbox_views.tables(report))  # "which APIs break under my sandbox's default?"
    out += tables_html(filter_views.tables(report))  # a wrapper's filter, read, beside its probes
    faults = machine_faults(report.cells)
    if faults:
        out += ["<h2>Problems of this machine</h2>", "<ul>"] + [
            f"<li><code>{_e(rt)}</code>: {_e(said)} ({n} cells not measured)</li>" for rt, said, n in faults] + ["</ul>"]
    out += ["<h2>Counts</h2>", f"<p>{_e(counts_line(report))}</p>", "<ul>"]
    for rt, info in sorted((env.get("runtimes") or {}).items()):
        out.append(f"<li><code>{_e(rt)}</code>: " + _e(", ".join(f"{k} {v}" for k, v in info.items() if v)) + "</li>")
    for rt, reason in sorted((env.get("skipped_runtimes") or {}).items()):
        out.append(f"<li><code>{_e(rt)}</code> skipped: {_e(reason)}</li>")
    out.append("</ul>")
    out += tables_html(matrix_views.oldest_vintage(report) + kernel_views.tables(report)
                       + generation_views.tables(report))
    out += ["<h2>The full grid</h2>",
            '<div id="filters">'
            + "".join(f'<label>{name} <select id="f-{name}"></select></label>'
                      for name in ("image", "runtime", "profile", "verdict"))
            + '<label><input type="checkbox" id="f-breaks"> only what breaks</label> <span id="shown"></span></div>',
            '<div id="grid"><p>The grid needs JavaScript; matrix.md has it as text.</p></div>',
            f'<script type="application/json" id="cells">{data}</script>',
            f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(out)


def write(report, directory: Path) -> Path:
    return write_view(report, directory, "matrix.html", render)


def main(argv: list[str]) -> int:
    return view_main(argv, "render_html", "matrix.html", render)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
