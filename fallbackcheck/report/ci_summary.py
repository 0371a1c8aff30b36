"""Short answers for a terminal and for CI: the terminal summary's few lines and the Markdown
step summary (GITHUB_STEP_SUMMARY or --summary PATH), both from the report alone."""

from __future__ import annotations

from pathlib import Path

from . import as_report
from .views import (change_lines, counts_line, fix_lines, list_text, machine_faults, mechanism_text, proofs_text,
    what_breaks)

MAX_LINES = 60


def terminal_lines(report, written: tuple[Path, ...] = (), top: int = 3) -> list[str]:
    report = as_report(report)
    out = [counts_line(report)]
    out += [f"PROBLEM OF THIS MACHINE: {said} ({n} cells not measured)" for _, said, n in machine_faults(report.cells)]
    changes = report.get("changes")
    if changes:
        out.append(f"since {changes['baseline']}: {len(changes['changed'])} changed, {len(changes['new'])} new, "
                   f"{len(changes['vanished'])} vanished")
    answers = what_breaks(report)
    for answer in answers[:top]:
        culprit = answer.culprit
        fixes = "; ".join(f"fix {'proven' if line.proven else 'NOT proven'} on {len(line.proofs)} profile(s)"
                          for line in fix_lines(answer))
        out.append(f"breaks: {culprit.title} ({mechanism_text(answer)}): {len(culprit.cells)} cells "
                   f"({list_text(culprit.probes, 3)})" + (f"; {fixes}" if fixes else ""))
    if len(answers) > top:
        out.append(f"... {len(answers) - top} more culprits in the report")
    if written:
        out.append(f"report: {written[0]} (views: {', '.join(p.name for p in written[1:])})")
    return out


def markdown(report, report_path: str = "") -> str:
    """At most MAX_LINES lines: counts, what changed, what breaks with the proven fixes."""
    report = as_report(report)
    out = ["## fallbackcheck", "", counts_line(report) + ".", ""]
    changes = report.get("changes")
    if changes:
        lines = change_lines(report, limit=10)
        out += [f"### What changed since `{changes['baseline']}`", ""]
        out += [f"- {line}" for line in lines] or ["No changes."]
        out.append("")
    answers = what_breaks(report)
    if answers:
        out += ["### What breaks", ""]
    budget = MAX_LINES - len(out) - 3
    shown = 0
    for answer in answers:
        culprit = answer.culprit
        lines = [f"- **{culprit.title}** ({mechanism_text(answer)}): {len(culprit.cells)} cells; "
                 f"{list_text(culprit.probes, 4)}; profiles {list_text(culprit.profiles, 3)}"]
        lines += [f"  - fix: {line.change} — {proofs_text(line, 4)}" for line in fix_lines(answer)]
        if len(lines) > budget:
            break
        out += lines
        budget -= len(lines)
        shown += 1
    if shown < len(answers):
        out.append(f"- ... {len(answers) - shown} more culprits in matrix.md")
    if report_path:
        out += ["", f"Full report: `{report_path}`"]
    return "\n".join(out[:MAX_LINES]) + "\n"
