"""The report: JSON is the source of truth, matrix.md is rendered from it alone."""

import json

from fallbackcheck.report import render_md
from fallbackcheck import report
from fallbackcheck.judging import survival


def cell(**kw):
    base = {"probe": "pthread_create", "kind": "api", "api": "pthread_create", "syscalls": ["clone3"],
            "image": "debian-12", "libc": "glibc 2.36", "arch": "amd64", "runtime": "docker-runc",
            "profile": "deny:clone3:EPERM", "delivered": {"clone3": "EPERM"}, "outcome": "error",
            "errno": "EPERM", "verdict": "expected-break", "detail": "pthread_create returned EPERM",
            "container": "abc"}
    base.update(kw)
    return base


def test_build_counts_and_schema(tmp_path):
    cells = [cell(), cell(profile="deny:clone3:ENOSYS", delivered={"clone3": "ENOSYS"}, outcome="ok",
                          errno=None, verdict="pass", container="def")]
    data = report.build(cells, {"runtimes": {}}, {"images": ["debian-12"]}, complete=True)
    assert data["schema"] == 2
    assert data["summary"] == {"cells": 2, "verdicts": {"expected-break": 1, "pass": 1},
                               "batches": 2, "containers": 2}
    path = report.write(data, tmp_path)
    assert report.load(path)["cells"][0]["probe"] == "pthread_create"


def test_markdown_is_rendered_from_json_only(tmp_path):
    data = report.build([cell(), cell(probe="raw:clone3", kind="raw", verdict="pass", outcome="ok",
                                      errno="EPERM")], {}, {}, complete=False)
    path = report.write(data, tmp_path)
    assert render_md.main([str(path)]) == 0
    text = (tmp_path / "matrix.md").read_text()
    assert "EPERM (break)" in text
    assert "partial run" in text
    assert "## debian-12 (glibc 2.36, amd64)" in text


def test_unexpected_cells_are_listed_with_detail():
    data = report.build([cell(verdict="unexpected", detail="catalogue predicts error EPERM")], {}, {}, True)
    text = render_md.render(data)
    assert "UNEXPECTED" in text and "catalogue predicts error EPERM" in text


def test_render_reads_schema_1(tmp_path):
    """Reports written before schema 2 still render and diff (their rows are stored whole)."""
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps({"schema": 1, "generated": "x", "complete": True, "environment": {},
                                "selection": {}, "summary": {"cells": 1, "verdicts": {"pass": 1}, "batches": 1,
                                                             "containers": 1}, "cells": [cell(verdict="pass")]}))
    assert report.load(path).cells == [cell(verdict="pass")]
    assert render_md.main([str(path)]) == 0


def test_render_refuses_unknown_schema(tmp_path):
    path = tmp_path / "matrix.json"
    path.write_text(json.dumps({"schema": 99}))
    assert render_md.main([str(path)]) == 2


def raw_cell(runtime, profile, syscall, asked, delivered, behaviour=None, verdict="pass"):
    return cell(probe=f"raw:{syscall}", kind="raw", syscalls=[syscall], runtime=runtime, profile=profile,
                delivered={syscall: delivered}, expected=asked, behaviour=behaviour, verdict=verdict,
                outcome="ok", errno=None)


def test_runtime_section_lists_what_was_not_asked():
    cells = [raw_cell("runc", "vintage:5.2:EPERM", "clone3", "EPERM", "ENOSYS", "runc's ENOSYS stub: clone3 ..."),
             raw_cell("runc", "vintage:5.2:EPERM", "read", "allowed", "allowed"),
             raw_cell("crun", "vintage:5.2:EPERM", "clone3", "EPERM", "ENOSYS", None, "unexpected")]
    text = render_md.render(report.build(cells, {}, {}, True))
    assert "| `vintage:5.2:EPERM` | EPERM | ENOSYS | clone3 | runc's ENOSYS stub |" in text
    assert "UNEXPECTED (no documented behaviour)" in text
    assert "| read |" not in text


def test_oldest_vintage_view_uses_works_not_verdict():
    cells = [cell(profile="vintage:5.2:EPERM", runtime="runc", verdict="pass", works=True),
             cell(profile="vintage:5.8:EPERM", runtime="runc", verdict="pass", works=True),
             cell(profile="vintage:5.2:EPERM", runtime="crun", verdict="expected-break", works=False),
             cell(profile="vintage:5.8:EPERM", runtime="crun", verdict="pass", works=True),
             cell(profile="vintage:5.2:ENOSYS", runtime="crun", verdict="expected-break", works=False),
             # a thin wrapper that answers ENOSYS as documented: "pass", but it does not work
             cell(probe="mseal", profile="vintage:5.2:EPERM", runtime="runc", verdict="pass", works=False,
                  fails_like_old_kernel=False, outcome="error", errno="EPERM"),
             cell(probe="mseal", profile="vintage:5.8:EPERM", runtime="runc", verdict="pass", works=False,
                  fails_like_old_kernel=True, outcome="error", errno="ENOSYS")]
    text = render_md.render(report.build(cells, {}, {}, True))
    assert "| runc |  | 5.8 (1) |" in text or "| runc | 5.8 (1) |" in text, text
    assert "| crun | none [5.2] | 5.8 |" in text
    assert "✗ EPERM (break)" in text


def test_survives_counts_works_only():
    assert survival.survives([cell(works=True), cell(works=None)]) == (True, 0)
    assert survival.survives([cell(works=False, verdict="pass")]) == (False, 0)
    assert survival.survives([cell(works=False, fails_like_old_kernel=True)]) == (True, 1)
    # an API that does not work even with no filter is not the profile's doing
    assert survival.survives([cell(probe="lchmod", works=False)], works_unfiltered={"pthread_create"}) == (True, 0)
    assert survival.survives([cell(works=False)], works_unfiltered={"pthread_create"}) == (False, 0)


def test_vintage_view_leaves_out_apis_broken_without_a_filter():
    cells = [cell(probe="lchmod", profile="unconfined", works=False, verdict="n/a"),
             cell(probe="lchmod", profile="vintage:5.4:ENOSYS", works=False, verdict="n/a"),
             cell(probe="pthread_create", profile="unconfined", works=True, verdict="pass"),
             cell(probe="pthread_create", profile="vintage:5.4:ENOSYS", works=True, verdict="pass")]
    text = render_md.render(report.build(cells, {}, {}, True))
    assert "| docker-runc | 5.4 |" in text, text


def test_html_is_rendered_from_json_with_verdict_classes_and_escaped_detail(tmp_path):
    from fallbackcheck.report import render_html

    data = report.build([cell(detail="<script>x</script>"), cell(profile="deny:clone3:ENOSYS", verdict="unexpected")],
                        {}, {}, True)
    path = report.write(data, tmp_path)
    assert render_html.main([str(path)]) == 0
    text = (tmp_path / "matrix.html").read_text()
    grid = render_html.grid_data(report.load(path))
    assert grid["classes"] == ["expected-break", "unexpected"]
    assert "<script>x</script>" not in text  # in the embedded JSON it is <\/script>
    assert "<\\/script>" in text


def test_a_report_given_its_rows_reads_and_renders_as_one_decoded():
    # the run hands the views the rows it built the report from instead of decoding them again
    from fallbackcheck.report import render_html

    rows = [cell(), cell(probe="raw:clone3", kind="raw", verdict="pass", outcome="ok", errno="EPERM"),
            cell(runtime="crun", container="c2", detail="other"),
            cell(profile="file:/x/p-fixed.json", fix_of="deny:clone3:EPERM", fix_group="g", outcome="ok",
                 errno=None, verdict="pass", container="c3")]
    data = report.build(list(reversed(rows)), {}, {}, complete=True)
    given, decoded = report.Report(data, list(reversed(rows))), report.Report(data)
    assert given.all_cells == decoded.all_cells and given.fix_cells == decoded.fix_cells
    assert [r["runtime"] for r in given.cells] == [r["runtime"] for r in decoded.cells]
    assert render_md.render(given) == render_md.render(decoded)
    assert render_html.render(given) == render_html.render(decoded)


def test_forms_computed_while_waiting_encode_as_computed_at_the_end():
    rows = [cell(), cell(probe="raw:clone3", kind="raw", verdict="pass", outcome="ok", errno="EPERM"),
            cell(runtime="crun", container="c2", detail="other", delivered={"clone3": "ENOSYS"})]
    waiting = report.FormsWhileWaiting()
    waiting.add(rows[:2])
    while waiting.step():
        pass
    assert set(waiting.forms) == {id(r) for r in rows[:2]}
    assert report.encode(rows, waiting.forms) == report.encode(rows)
    # and they are what encode() uses for those rows (so the equality above is not by chance)
    wrong = {**waiting.forms, id(rows[0]): (rows[0], {**waiting.forms[id(rows[0])][1], "detail": "x"})}
    assert report.encode(rows, wrong) != report.encode(rows)
