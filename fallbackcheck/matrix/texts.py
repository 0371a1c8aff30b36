"""What a matrix run says in words: its header, a cell's JUnit properties, the line of a
stopped run, the short summaries. pytest-free."""

from __future__ import annotations

import os
from pathlib import Path

from ..report import ci_summary
from .. import stopping
from ..judging.causes import works
from ..hosts.cleanup import leftovers

# The facts of a cell that --junitxml carries as <property> elements (CI reads them without
# opening the report).
JUNIT_PROPERTIES = ("verdict", "outcome", "errno", "works", "delivered", "source", "container")


def junit_properties(row: dict) -> list[tuple[str, str]]:
    out = []
    for name in JUNIT_PROPERTIES:
        value = works(row) if name == "works" else row.get(name)
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        out.append((name, "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)))
    return out



def header_lines(sel, baselines: dict | None = None) -> list[str]:
    lines = [f"fallbackcheck: runtimes {', '.join(sel.runtimes)}; images {', '.join(sel.images)}; "
             f"{len(sel.profiles)} profiles; {len(sel.probes)} probes"]
    if sel.shard_info:
        info = sel.shard_info
        lines.append(f"fallbackcheck: shard {info['index']}/{info['of']} of selection {info['of_selection']}: "
                     f"{info['cells']} of {info['selection_cells']} cells, {info['batches']} batches")
    lines += [f"fallbackcheck: NOTE {note}" for note in sel.notes]
    lines += [f"fallbackcheck: skipped runtime {rid}: {why}" for rid, why in sel.skipped_runtimes.items()]
    # A kernel host that cannot be fetched or booted says so here, before its cells error.
    lines += [f"fallbackcheck: kernel baseline of {machine} {b.error}" for machine, b in (baselines or {}).items()
              if b.error and machine != "host"]
    return lines


def stop_section(complete: bool) -> dict:
    """The report says which signal stopped the run and where (report-format: `stopped`)."""
    if complete or not stopping.stopped_by():
        return {}
    return {"stopped": {"signal": stopping.stopped_by(), "during": stopping.stopped_in()}}


def stop_line(data: dict, path: Path, session: str) -> str | None:
    """The one line of a run that did not end by itself; None for one that did (an error or
    -x ends a run early too, and pytest says so itself)."""
    if not stopping.stopped_by():
        return None
    cells = data["summary"]["cells"]
    return stopping.line(f"{cells} cells measured, report marked incomplete: {path}; {what_is_left(session)}")


def what_is_left(session: str) -> str:
    """The end of a stop line: checked on the engines, not assumed."""
    try:
        left = leftovers(session)
    except Exception as exc:  # the line must still come
        return f"could not check for containers left ({type(exc).__name__})"
    if not left:
        return "no container of the run is left"
    return f"left on this machine: {', '.join(left[:5])} (label fallbackcheck.session={session})"


def write_summaries(data, summary_path: str | None, md_path: Path) -> None:
    """The short Markdown summary: to --summary PATH, and appended to $GITHUB_STEP_SUMMARY."""
    text = ci_summary.markdown(data, str(md_path))
    if summary_path:
        Path(summary_path).write_text(text)
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a") as fh:
            fh.write(text)


def summary_lines(run) -> list[tuple[str, dict]]:
    """The terminal's fallbackcheck section: (line, markup) pairs."""
    out = [(line, {}) for line in header_lines(run.selection, run.baselines)]
    if run.report is not None and not run.stop_line:
        out += [(line, {}) for line in ci_summary.terminal_lines(run.report, run.written)]
    if run.stop_line:
        out.append((run.stop_line, {"yellow": True}))
    if run.write_error:
        out.append((run.write_error, {"red": True}))
    return out
