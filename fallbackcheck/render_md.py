"""reports/matrix.md, rendered from matrix.json only (python -m fallbackcheck.render_md [matrix.json])."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from . import generation_views
from . import render_kernels
from .report import as_report
from .views import (by_image, cell_label, change_lines, counts_line, fix_status, grid, image_heading, list_text,
                    proof_text, unfixable_lines, view_main, what_breaks, write_view)

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


def _runtime_sections(cells: list[dict]) -> list[str]:
    """Per runtime: what it delivered that the profile did not literally ask for."""
    groups: dict[str, dict[tuple, list[str]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        if c["kind"] != "raw" or not c.get("expected") or c["verdict"] == "n/a":
            continue
        delivered = next(iter(c["delivered"].values()), "?")
        if delivered == c["expected"] or delivered.startswith("allowed|"):
            continue
        why = (c.get("behaviour") or "").split(":")[0] or "UNEXPECTED (no documented behaviour)"
        key = (c["profile"], c["expected"], delivered, why)
        name = next(iter(c["delivered"]))
        if name not in groups[c["runtime"]][key]:
            groups[c["runtime"]][key].append(name)
    out = []
    for runtime in sorted(groups):
        out += [f"## {runtime}: delivered what the profile did not ask for", "",
                "| profile | asked | delivered | syscalls | why |", "|---|---|---|---|---|"]
        for (profile, asked, delivered, why), names in sorted(groups[runtime].items()):
            out.append(f"| `{profile}` | {asked} | {delivered} | {', '.join(sorted(names))} | {why} |")
        out.append("")
    return out


def survives(cells: list[dict], works_unfiltered: set | None = None) -> tuple[bool, int]:
    """(every API that was called works, how many failures were excused): a failure is
    excused only where the API fails exactly as on a kernel without its syscall (a syscall
    it needs answered ENOSYS and the catalogue documents no fallback), which is what that
    kernel itself would give. `works` decides, never the verdict; null means "never called"
    (absent from this libc, no libc, not measured) and counts neither way. With
    `works_unfiltered` (the probes that work with no filter on the same image and runtime),
    an API that does not work even then is not the profile's doing and does not count."""
    failed = [c for c in cells if c.get("works") is False
              and (works_unfiltered is None or c["probe"] in works_unfiltered)]
    excused = [c for c in failed if c.get("fails_like_old_kernel")]
    return len(failed) == len(excused), len(excused)


def _vintage_view(cells: list[dict]) -> list[str]:
    """Per image: the oldest vintage profile from which on every API works (survives()),
    per errno and runtime, from the vintage profiles that ran."""
    groups: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    unfiltered: dict[tuple, set] = defaultdict(set)
    for c in cells:
        if c["kind"] == "api" and c["profile"] == "unconfined" and c.get("works"):
            unfiltered[(c["image"], c["runtime"])].add(c["probe"])
    for c in cells:
        if c["kind"] != "api" or not c["profile"].startswith("vintage:"):
            continue
        _, kernel, err = c["profile"].split(":")
        groups[(c["image"], c["runtime"], err)][kernel].append(c)
    if not groups:
        return []
    from .libc import parse_version

    out = ["## Oldest vintage profile from which on every API works", "",
           "Per image, runtime and default errno: the oldest vintage that ran under which every API probe "
           "that was called works (`works`), and every newer one too. An API that does not work even with no "
           "filter (unconfined, same image and runtime) is not the profile's doing and does not count; nor does "
           "one that fails exactly as on a kernel without its syscall (ENOSYS, no fallback documented), whose "
           "cells are counted in parentheses. `none` means no vintage that ran (in brackets) survives.", ""]
    for image in sorted({k[0] for k in groups}):
        errs = sorted({k[2] for k in groups if k[0] == image})
        out += [f"### {image}", "", "| runtime | " + " | ".join(errs) + " |", "|---|" + "---|" * len(errs)]
        for runtime in sorted({k[1] for k in groups if k[0] == image}):
            row = []
            for err in errs:
                by_kernel = groups.get((image, runtime, err), {})
                kernels = sorted(by_kernel, key=parse_version)
                baseline = unfiltered.get((image, runtime))  # None: no unconfined cells ran
                verdicts = {k: survives(by_kernel[k], baseline) for k in kernels}
                oldest = None
                for k in reversed(kernels):  # newest first: stop at the first that breaks
                    if not verdicts[k][0]:
                        break
                    oldest = k
                if oldest is None:
                    row.append(f"none [{', '.join(kernels)}]" if kernels else "")
                else:
                    excused = verdicts[oldest][1]
                    row.append(oldest + (f" ({excused})" if excused else ""))
            out.append(f"| {runtime} | " + " | ".join(row) + " |")
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
    out = [f"{heading} What breaks", ""]
    if not answers:
        return out + ["Every API cell that could be measured works.", ""]
    total = sum(len(a.group.cells) for a in answers)
    out += [f"{total} API cells do not work (`works` = false), in {len(answers)} cause groups.", "",
            "| # | cause | cells | APIs | fix |", "|---|---|---|---|---|"]
    out += [f"| {n} | {a.group.cause.title} | {len(a.group.cells)} | {list_text(a.group.probes, 3)} | {fix_status(a)} |"
            for n, a in enumerate(answers, 1)]
    out.append("")
    for n, answer in enumerate(answers, 1):
        group = answer.group
        out += [f"{heading}# {n}. {group.cause.title}: {len(group.cells)} cells", "",
                f"- where: images {list_text(group.images)}; runtimes {list_text(group.runtimes)}; "
                f"profiles {list_text([f'`{p}`' for p in group.profiles])}",
                f"- APIs: {list_text([f'`{p}`' for p in group.probes], 12)}"]
        reasons = group.reasons()
        for probe, libc, why in reasons[:reasons_per_group]:
            out.append(f"- why, `{probe}` ({libc}): {why}")
        if len(reasons) > reasons_per_group:
            out.append(f"- ... {len(reasons) - reasons_per_group} more reasons in matrix.html")
        for fix, worked, rerun in answer.fixes:
            out.append(f"- fix for `{fix['profile']}`: {fix['change']} — {proof_text(worked, rerun)} "
                       f"(`{fix['patched_profile'][5:]}`)")
            if fix.get("diff"):
                out.append(f"  - diff: `{fix['diff']}`")
        for profiles, text in unfixable_lines(report, answer):
            out.append(f"- {list_text([f'`{p}`' for p in profiles], 4)}: {text}")
        out.append("")
    return out


def render(report) -> str:
    report = as_report(report)
    env = report["environment"]
    out = ["# fallbackcheck compatibility matrix", "",
           "_Generated from matrix.json; do not edit._", ""]
    out += _what_changed(report)
    out += what_breaks_lines(report)
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
    out += _runtime_sections(report.cells)
    out += _vintage_view(report.cells)
    out += render_kernels.markdown(report)
    out += generation_views.markdown(report)
    bad = [c for c in report.cells if c["verdict"] in ("unexpected", "error")]
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
