"""The end of a matrix run on the controller: the fix reruns, the report and its views
written, the run's containers removed. pytest-free."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

from ..report import diff, render_html, render_md, render_table
from ..judging import fixes
from ..execution import fixruns
from .. import report, stopping
from ..execution.scheduler import CellTiming
from .texts import stop_line, stop_section, write_summaries


def read_rows(path: Path):
    """The rows one process wrote (a run cut short may end in half a row: stop there)."""
    with path.open("rb") as fh:
        while True:
            try:
                yield pickle.load(fh)
            except (EOFError, pickle.UnpicklingError, ValueError):
                return


def write_report(run, ended_normally: bool, cut_short: bool) -> str | None:
    """The controller, once every cell has run: the fix reruns (unless --no-fixes or the run
    did not end normally), the report written, the run's containers removed. `cut_short`:
    -x or --maxfail ended it. Returns what the run's exit status must say beyond pytest's:
    "write-error", "stopped", or None."""
    option = run.options
    directory = run.report_dir
    complete = ended_normally and not run.interrupted and not stopping.requested.is_set()
    if run.timing.first is not None:
        run.phase("first_cell", run.timing.first)
    if run.timing.last is not None:
        run.phase("last_cell", run.timing.last)
    planned, notes, fixes_when = [], None, None
    try:
        rows, timings = list(run.rows or ()), []
        for part in sorted(run.parts.glob("*.rows")):
            for item in read_rows(part):
                (timings.append(item["_timing"]) if "_timing" in item else rows.append(item))
        forms = run.report_forms.forms  # encode() uses those of rows that are still these rows
        if run.early_fixes is not None:
            if not complete or option.no_fixes or cut_short:
                run.early_fixes.stop()  # cut short (-x, --maxfail): the cells that ran decide
            run.early_fixes.wait()  # nothing of it may still be starting containers below
        if complete and not option.no_fixes:
            planned, notes = fixes.plan(rows, run.selection.profiles, directory / "fixes", run.catalogue,
                                        fixes.newer_default(), write=False)
            proven, missing = (run.early_fixes.split(planned, rows) if run.early_fixes is not None
                               else ([], list(planned)))
            if missing:
                proven += fixruns.rerun(run, missing, stop=stopping.requested)
                run.phase("fixes_proven")
            fixes_when = fixruns.when_proven(run.early_fixes is not None, len(planned), len(missing))
            for fix in planned:
                fix.write()
            rows += proven
        run.phase("rows_ready")
        run.read_parts()  # received profiles and load logs of every process, before they go
        shutil.rmtree(run.parts, ignore_errors=True)
    except BaseException:
        run.remove_everything()
        raise
    sections = {"fixes": [f.as_dict() for f in planned]}
    if notes is not None:  # planned: why the groups without a fix have none
        sections["unfixable"] = notes
    if run.baseline is not None:
        changes = diff.compare(run.baseline.values(), [r for r in rows if not report.is_fix_row(r)])
        sections["changes"] = {"baseline": option.baseline, **changes}
    profiles = {pid: p.oci for pid, p in run.selection.profiles.items()}
    profiles.update({f.profile_id: f.patched for f in planned})
    try:
        environment = run.environment()  # asks the generations their versions: before they go
    finally:
        run.remove_everything()
    # The seccomp sections the OCI runtimes received, once per distinct content; each
    # batch names its own by hash (cells' batch.received_profile).
    sections["received_profiles"] = dict(sorted(run._received.items()))
    stopping.phase("the writing of the report")
    stopping.checkpoint("report")
    complete = complete and not stopping.requested.is_set()  # a signal during the fix reruns or now
    run.phase("report_build")  # the last phase the report can carry (its own writing comes after)
    data = report.build(rows, {**environment, "timing": {**CellTiming.combine(timings), "fixes_proven": fixes_when,
                                                         "phases_s": dict(sorted(run.phases.items(),
                                                                                 key=lambda kv: kv[1]))}},
                        run.selection.as_dict(), complete, profiles=profiles, forms=forms,
                        **sections, **stop_section(complete))
    # one container per engine generation (its engines run inside it)
    data["summary"]["generation_containers"] = sum(1 for h in environment["engine_hosts"].values()
                                                   if h.get("container"))
    run.report = report.Report(data, rows)  # the views read the rows as they are, not decoded again
    try:
        run.written = report.atomic_write_all(directory, {
            "matrix.json": report.dumps(data), "matrix.md": render_md.render(run.report),
            "matrix.html": render_html.render(run.report), **render_table.texts(run.report)})
        write_summaries(run.report, option.summary, run.written[1])
        if not complete:
            run.stop_line = stop_line(data, run.written[0], run.session)
    except OSError as exc:  # a full disk, a directory gone read-only: one line, old report kept
        run.write_error = (f"ERROR: could not write the report to {directory}: {exc.strerror or exc} "
                           "(the previous matrix.json, if any, is intact)")
        return "write-error"
    if stopping.stopped_by():
        return "stopped"  # a stopped run never exits 0
    return None


