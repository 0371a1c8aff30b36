"""reports/matrix.md, rendered from matrix.json only (python -m fallbackcheck.report.render_md [matrix.json])."""

from __future__ import annotations

import sys
from pathlib import Path

from . import filter_views, generation_views, kernel_views, matrix_views, merge_views, sandbox_views
from . import as_report
from .tables import Table
from .views import (machine_faults, by_image, cell_label, change_lines, counts_line, fix_lines, fix_status, grid,
    image_heading, list_text, mechanism_text, old_kernel_like, proofs_text, unfixable_lines, view_main, what_breaks,
    write_view)

LEGEND = """\
How to read a cell: what the API did, then the verdict.
`ok` works · `EPERM` (any errno name) the call failed with that errno · `abort` killed by a signal ·
`cannot-start` the loader or runtime could not start the probe · `timeout` · `absent` the libc lacks the API.
Verdict marks: no mark = pass · `(break)` expected-break: the filter's errno defeats an ENOSYS-only
fallback, as documented · `UNEXPECTED` the catalogue did not predict this · `ERROR` not measured ·
`n/a` not applicable (always for a predicted reason: `na_reason` in matrix.json).
`✗` the API did not do its job (`works: false`), even where the catalogue predicted that (e.g. a thin
wrapper answering ENOSYS). Raw rows show the errno the filter delivered (`allowed` = reached the kernel;
`kernel-ENOSYS` = this kernel lacks the syscall, per the kernel baseline measured at the start of the run)."""


def _cell_text(cell: dict) -> str:
    label = cell_label(cell)
    return f"**{label}**" if cell["verdict"] in ("unexpected", "error") else label


def _table(cells: list[dict]) -> list[str]:
    columns, rows = grid(cells)
    head = ["probe"] + [f"{rt}<br>{pf}" for rt, pf in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for probe, row in rows.items():
        lines.append("| " + " | ".join([f"`{probe}`"] + [_cell_text(row[c]) if c in row else "" for c in columns]) + " |")
    return lines


def tables_md(found: list[Table]) -> list[str]:
    """Titled tables as Markdown."""
    out: list[str] = []
    for table in found:
        out += ["#" * table.level + f" {table.title}", ""] + ([table.intro, ""] if table.intro else [])
        out += ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in table.rows]
        out.append("")
    return out


def _baseline_lines(env: dict) -> list[str]:
    out = []
    for machine, base in (env.get("kernel_baseline") or {}).items():
        lacks = "; ".join(f"{arch}: {', '.join(names) or 'nothing catalogued'}"
                          for arch, names in (base.get("lacks") or {}).items())
        out.append(f"- kernel baseline ({machine}, {base.get('kernel')}): lacks {lacks or '?'}"
                   + (f" — {base['error']}" if base.get("error") else ""))
    return out


def _what_changed(report) -> list[str]:
    changes = report.get("changes")
    if not changes:
        return []
    lines = change_lines(report)
    total = sum(len(changes[k]) for k in ("changed", "new", "vanished"))
    out = [f"## What changed since `{changes['baseline']}`", ""]
    if not total:
        return out + ["No changes.", ""]
    out += [f"{len(changes['changed'])} changed, {len(changes['new'])} new, {len(changes['vanished'])} vanished "
            "(changed = outcome, works, delivered errno or verdict).", ""]
    out += [f"- {line}" for line in lines]
    if len(lines) < total:
        out.append(f"- ... {total - len(lines)} more in matrix.json `changes`")
    return out + [""]


def what_breaks_lines(report, heading: str = "##", reasons_per_group: int = 8) -> list[str]:
    answers = what_breaks(report)
    old = old_kernel_like(report)
    out = [f"{heading} What breaks", ""]
    if not answers and not old:
        return out + ["Every API cell that could be measured works.", ""]
    total = sum(len(a.culprit.cells) for a in answers)
    out += [f"{total} API cells do not work (`works` = false) because of {len(answers)} culprits"
            + (f"; {sum(len(c.cells) for c in old)} more fail exactly as on a kernel without the syscall "
               "(listed apart, below)" if old else "") + ".", "",
            "| # | culprit | cells | how | APIs | fix |", "|---|---|---|---|---|---|"]
    out += [f"| {n} | {a.culprit.title} | {len(a.culprit.cells)} | {mechanism_text(a)} | "
            f"{list_text(a.culprit.probes, 3)} | {fix_status(a)} |" for n, a in enumerate(answers, 1)]
    out.append("")
    for n, answer in enumerate(answers, 1):
        culprit = answer.culprit
        out += [f"{heading}# {n}. {culprit.title}: {len(culprit.cells)} cells", "",
                f"- where: images {list_text(culprit.images)}; runtimes {list_text(culprit.runtimes)}; "
                f"profiles {list_text([f'`{p}`' for p in culprit.profiles])}",
                f"- APIs: {list_text([f'`{p}`' for p in culprit.probes], 12)}"]
        for sub in answer.subs:
            group = sub.group
            out.append(f"- {group.cause.mechanism}: {len(group.cells)} cells; runtimes {list_text(group.runtimes)}; "
                       f"profiles {list_text([f'`{p}`' for p in group.profiles], 4)}")
        reasons = culprit.reasons()
        for probe, libc, why in reasons[:reasons_per_group]:
            out.append(f"- why, `{probe}` ({libc}): {why}")
        if len(reasons) > reasons_per_group:
            out.append(f"- ... {len(reasons) - reasons_per_group} more reasons in matrix.html")
        for line in fix_lines(answer):
            out.append(f"- fix: {line.change} — {proofs_text(line)} (patched: "
                       f"{list_text([f'`{p}`' for p in line.patched], 2)})")
            if line.diff:
                out.append(f"  - diff: `{line.diff}`")
        for profiles, text in unfixable_lines(report, answer):
            out.append(f"- {list_text([f'`{p}`' for p in profiles], 4)}: {text}")
        out.append("")
    if old:
        out += [f"{heading}# Fails exactly as on a kernel without the syscall", "",
                "The API is a thin wrapper with no fallback and got ENOSYS, which is what a kernel without the "
                "syscall answers: a program using it has to cope with that on such a kernel anyway. Not a fallback "
                "the filter defeated, so no fix is offered.", "",
                "| syscall | cells | how | APIs | profiles |", "|---|---|---|---|---|"]
        out += [f"| {c.title} | {len(c.cells)} | {' · '.join(f'{g.cause.mechanism} {len(g.cells)}' for g in c.groups)} "
                f"| {list_text(c.probes, 3)} | {list_text([f'`{p}`' for p in c.profiles], 4)} |" for c in old]
        out.append("")
    return out


def machine_fault_lines(cells: list[dict]) -> list[str]:
    faults = machine_faults(cells)
    if not faults:
        return []
    return ["## Problems of this machine", ""] + [f"- `{rt}`: {said} ({n} cells not measured)"
                                                 for rt, said, n in faults] + [""]


def render(report) -> str:
    report = as_report(report)
    env = report["environment"]
    out = ["# fallbackcheck compatibility matrix", "",
           "_Generated from matrix.json; do not edit._", ""]
    out += tables_md(merge_views.tables(report))  # a merged report's conflicts come before anything else
    out += _what_changed(report)
    out += what_breaks_lines(report)
    out += tables_md(sandbox_views.tables(report))  # "which APIs break under my sandbox's default?"
    out += tables_md(filter_views.tables(report))  # a wrapper's filter, read, beside its probes
    out += ["## Counts", "", f"- {counts_line(report)}",
            f"- generated: {report['generated']}" + ("" if report.get("complete", True) else " (**partial run**)"),
            f"- kernel: {env.get('kernel')} ({env.get('machine')})"]
    for rt, info in sorted((env.get("runtimes") or {}).items()):
        out.append(f"- runtime `{rt}`: " + ", ".join(f"{k} {v}" for k, v in info.items() if v))
    for rt, reason in sorted((env.get("skipped_runtimes") or {}).items()):
        out.append(f"- runtime `{rt}` skipped: {reason}")
    out += _baseline_lines(env)
    out += ["", "## The full grid", "", LEGEND, ""]
    for image, cells in by_image(report.cells).items():
        out += [f"### {image_heading(image, cells)}", ""]
        for kind, title in (("api", "API probes"), ("raw", "Delivered errno (raw probes)")):
            subset = [c for c in cells if c["kind"] == kind]
            if subset:
                out += [f"#### {title}", ""] + _table(subset) + [""]
    out += tables_md(matrix_views.delivered_differently(report.cells) + matrix_views.oldest_vintage(report)
                     + kernel_views.tables(report) + generation_views.tables(report))
    out += machine_fault_lines(report.cells)
    bad = [c for c in report.cells if c["verdict"] in ("unexpected", "error")
           and not (c.get("batch") or {}).get("machine_fault")]
    if bad:
        out += ["## Unexpected and errored cells", ""]
        for c in bad:
            out.append(f"- `{c['probe']}` {c['image']} {c['runtime']} `{c['profile']}`: {c['verdict']}: {c['detail']}")
        out.append("")
    return "\n".join(out)


def write(report, directory: Path) -> Path:
    return write_view(report, directory, "matrix.md", render)


def main(argv: list[str]) -> int:
    return view_main(argv, "render_md", "matrix.md", render)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
