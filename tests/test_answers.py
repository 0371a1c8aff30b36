"""What breaks and why (causes), the fix (fixes), what changed (diff), the compact report
(schema 2) and the short summaries: all from rows, without an engine."""

import json
import subprocess
import sys

import pytest

from fallbackcheck.model import catalogue as catalogue_mod
from fallbackcheck.judging import causes, fixes
from fallbackcheck.model import profiles
from fallbackcheck import report
from fallbackcheck.report import ci_summary, diff, render_html, render_md

from helpers import ROOT


def row(**kw):
    base = {"probe": "pthread_create", "kind": "api", "api": "pthread_create", "syscalls": ["clone3"],
            "image": "debian-12", "libc": "glibc 2.36", "arch": "amd64", "runtime": "docker-runc",
            "profile": "deny:clone3:EPERM", "delivered": {"clone3": "EPERM", "statx": "allowed"}, "outcome": "error",
            "errno": "EPERM", "verdict": "expected-break", "detail": "pthread_create returned EPERM",
            "source": "clone-internal.c: falls back only on ENOSYS", "container": "c1",
            "batch": {"container": "c1", "exit": 0}}
    base.update(kw)
    return base


def ok(**kw):
    return row(**{"outcome": "ok", "errno": None, "verdict": "pass", **kw})


def raw(syscall, delivered, **kw):
    return row(**{"probe": f"raw:{syscall}", "kind": "raw", "api": None, "syscalls": [syscall],
                  "delivered": {syscall: delivered}, "outcome": "ok", "errno": None, "verdict": "pass", **kw})


# --- works and causes -------------------------------------------------------------------

@pytest.mark.parametrize("cell, expected", [
    (row(), False), (ok(), True), (row(works=True), True), (raw("clone3", "EPERM"), None),
    (row(outcome="absent", verdict="n/a"), None), (row(verdict="error", outcome=None), None),
    (row(verdict="pass", outcome="error", errno="ENOSYS"), False),  # a thin wrapper's pass is not "works"
])
def test_works(cell, expected):
    assert causes.works(cell) is expected


def test_groups_by_culprit_syscalls_and_errno():
    rows = [row(), row(probe="posix_spawn", image="debian-13"), row(profile="vintage:5.2:EPERM"),
            row(probe="faccessat", syscalls=["faccessat2"], delivered={"faccessat2": "EPERM"}),
            row(outcome="cannot-start", errno=None, syscalls=["statx"],
                delivered={"statx": "allowed", "statx_i386": "EPERM"}, probe="stat"),
            row(outcome="error", errno="EINVAL", delivered={"clone3": "allowed"}, probe="weird"),
            row(outcome="error", errno="ENOSYS", verdict="n/a", works=False, probe="stub"),  # filter irrelevant
            ok(), raw("clone3", "EPERM")]
    got = {g.cause.id: g for g in causes.groups(rows)}
    assert set(got) == {"clone3:EPERM", "faccessat2:EPERM", "loader:statx_i386:EPERM", "other:error EINVAL",
                        "other:error ENOSYS"}
    clone3 = got["clone3:EPERM"]
    assert len(clone3.cells) == 3
    assert clone3.images == ["debian-12", "debian-13"]
    assert clone3.profiles == ["deny:clone3:EPERM", "vintage:5.2:EPERM"]
    assert clone3.reasons()[0] == ("posix_spawn", "glibc 2.36", "clone-internal.c: falls back only on ENOSYS")
    assert causes.groups(rows)[0] is not None and causes.groups(rows)[0].cause.id == "clone3:EPERM"


def test_a_documented_runtime_behaviour_is_a_cause_of_its_own():
    profile = "vintage:5.4:ENOSYS"
    rows = [row(profile=profile, runtime="docker-crun"),
            raw("clone3", "EPERM", profile=profile, runtime="docker-crun", expected="ENOSYS",
                behaviour="Docker 20.10.24 drops defaultErrnoRet: its profile type ..."),
            row(profile=profile, runtime="crun"),  # no raw cell says what was asked: a plain cause
            raw("clone3", "EPERM", profile=profile, runtime="podman-crun", expected="EPERM"),
            row(profile=profile, runtime="podman-crun")]
    got = {g.cause.id: g for g in causes.groups(rows)}
    assert set(got) == {"runtime:clone3:EPERM", "clone3:EPERM"}
    runtime = got["runtime:clone3:EPERM"]
    assert runtime.runtimes == ["docker-crun"]
    assert runtime.cause.title == "clone3 → EPERM where the profile asks ENOSYS: Docker 20.10.24 drops defaultErrnoRet"
    assert got["clone3:EPERM"].runtimes == ["crun", "podman-crun"]


def test_survivors_name_the_runtimes_that_do_not_break():
    rows = [row(profile="default", runtime="docker-runc"), ok(profile="default", runtime="podman-crun"),
            ok(profile="default", runtime="crun")]
    group = causes.groups(rows)[0]
    assert causes.survivors(rows, group) == {"default": ["crun", "podman-crun"]}


# --- fixes ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def catalogue():
    return catalogue_mod.load()


def test_patch_moves_the_culprit_out_of_its_old_rule():
    oci = profiles.parse("deny:clone3,close_range:EPERM").oci
    rule = {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
    patched, removed = fixes.patch(oci, ["clone3"], rule)
    assert patched["syscalls"] == [rule, {"names": ["close_range"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]
    assert removed == ["clone3 from rule 0 (SCMP_ACT_ERRNO)"]
    assert profiles.asks_in(patched, "clone3", "amd64") == "ENOSYS"
    assert profiles.asks_in(patched, "close_range", "amd64") == "EPERM"


def test_plan_writes_enosys_fix_and_a_one_line_diff_for_a_user_file(tmp_path, catalogue):
    user = tmp_path / "site.json"
    text = json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                       "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}, indent=2)
    user.write_text(text)
    pid = f"file:{user}"
    rows = [row(profile=pid), row(profile=pid, probe="posix_spawn", image="debian-13", libc="glibc 2.41")]
    planned, notes = fixes.plan(rows, {pid: profiles.parse(pid)}, tmp_path / "fixes", catalogue)
    assert notes == {}
    assert len(planned) == 1
    fix = planned[0]
    assert list(fix.rules) == ["clone3:EPERM"]
    entry = fix.rules["clone3:EPERM"]
    assert entry["rules"] == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    assert "add {names:[clone3], action: SCMP_ACT_ERRNO, errnoRet: 38}" in entry["change"]
    assert fix.diff == entry["diff"] and fix.diff.count("\n") == 0
    assert fix.diff.startswith("+") and "clone3" in fix.diff
    written = json.loads(fix.path.read_text())
    assert written == fix.patched and written["syscalls"][1] == {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}
    profiles.validate_oci(written, "patched")
    assert fix.batches() == {("debian-12", "docker-runc"): ["pthread_create"],
                             ("debian-13", "docker-runc"): ["posix_spawn"]}


def test_no_patch_for_profiles_we_do_not_own(tmp_path, catalogue):
    rows = [row(profile="default"), row(profile="unconfined")]
    selected = {p: profiles.parse(p) for p in ("default", "unconfined")}
    assert fixes.plan(rows, selected, tmp_path, catalogue) == ([], {})


def test_thin_wrapper_gets_allow_only_where_a_current_default_allows(tmp_path, catalogue):
    thin = row(probe="close_range", api="close_range", syscalls=["close_range"],
               delivered={"close_range": "EPERM"}, profile="vintage:5.2:EPERM")
    selected = {"vintage:5.2:EPERM": profiles.parse("vintage:5.2:EPERM")}
    allow_all = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}
    planned, notes = fixes.plan([thin], selected, tmp_path, catalogue, None)
    assert planned == [] and "no fallback on ENOSYS" in notes["close_range:EPERM"]
    planned, notes = fixes.plan([thin], selected, tmp_path, catalogue, {"defaultAction": "SCMP_ACT_ERRNO"})
    assert planned == [] and notes["close_range:EPERM"].endswith("does not allow close_range either")
    (fix,), _ = fixes.plan([thin], selected, tmp_path, catalogue, allow_all)
    assert fix.rules["close_range:EPERM"]["rules"] == [{"names": ["close_range"], "action": "SCMP_ACT_ALLOW"}]


def test_one_patched_profile_per_profile_with_every_groups_rule(tmp_path, catalogue):
    pid = "vintage:5.2:EPERM"
    rows = [row(profile=pid), row(profile=pid, runtime="crun"),
            row(probe="faccessat", syscalls=["faccessat2"], delivered={"faccessat2": "EPERM"}, profile=pid)]
    (fix,), _ = fixes.plan(rows, {pid: profiles.parse(pid)}, tmp_path, catalogue)
    assert set(fix.rules) == {"clone3:EPERM", "faccessat2:EPERM"}
    assert profiles.asks_in(fix.patched, "clone3", "amd64") == "ENOSYS"
    assert profiles.asks_in(fix.patched, "faccessat2", "amd64") == "ENOSYS"
    assert fix.batches() == {("debian-12", "crun"): ["pthread_create"],
                             ("debian-12", "docker-runc"): ["faccessat", "pthread_create"]}
    assert fix.group_of("faccessat", "debian-12", "docker-runc") == "faccessat2:EPERM"


def test_allow_wins_over_enosys_for_a_syscall_two_groups_share(tmp_path, catalogue):
    pid = "vintage:5.2:EPERM"
    both = row(probe="posix_spawn.closefrom", syscalls=["clone3", "close_range"],
               delivered={"clone3": "EPERM", "close_range": "EPERM"}, profile=pid)
    thin = row(probe="close_range", api="close_range", syscalls=["close_range"], delivered={"close_range": "EPERM"},
               profile=pid)
    (fix,), _ = fixes.plan([both, thin], {pid: profiles.parse(pid)}, tmp_path, catalogue,
                      {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []})
    assert fix.patched["syscalls"][:2] == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                                           {"names": ["close_range"], "action": "SCMP_ACT_ALLOW"}]
    assert fix.rules["clone3:EPERM,close_range:EPERM"]["rules"] == fix.patched["syscalls"][:2]
    assert "remove" not in fix.rules["clone3:EPERM,close_range:EPERM"]["change"]


def test_views_say_why_a_group_has_no_patch(tmp_path):
    rows = [row(profile="vintage:5.4:EPERM"), row(profile="default", runtime="crun"), ok(profile="default")]
    planned = report.build(rows, {}, {}, True, fixes=[], unfixable={"clone3:EPERM": "because of a test"})
    text = render_md.render(planned)
    assert "- `vintage:5.4:EPERM`: no patch: because of a test" in text
    assert "- `default`: the runtime's own default profile (not ours to patch); works on docker-runc in this run" in text
    assert "fixes were not planned in this run" in render_md.render(report.build(rows, {}, {}, True))


def test_proof_counts_the_rerun_rows():
    record = {"profile": "deny:clone3:EPERM"}
    reruns = [ok(fix_of="deny:clone3:EPERM", fix_group="clone3:EPERM"),
              row(fix_of="deny:clone3:EPERM", fix_group="clone3:EPERM"),
              ok(fix_of="deny:clone3:EPERM", fix_group="other")]
    assert fixes.proof(record, "clone3:EPERM", reruns) == (1, 2)


# --- the report, schema 2 --------------------------------------------------------------------

def many_rows():
    rows = []
    for image, libc in (("debian-12", "glibc 2.36"), ("debian-13", "glibc 2.41")):
        for runtime in ("docker-runc", "crun"):
            for profile in ("unconfined", "deny:clone3:EPERM"):
                batch = {"container": f"{image}{runtime}{profile}", "exit": 0}
                for probe in ("pthread_create", "posix_spawn"):
                    make = row if profile != "unconfined" else ok
                    rows.append(make(probe=probe, image=image, libc=libc, runtime=runtime, profile=profile,
                                     container=batch["container"], batch=batch,
                                     received_profile="sha256:" + profile,  # a field this module never names
                                     observation={"elapsed_ms": len(rows)}))
                rows.append(raw("clone3", "EPERM" if profile != "unconfined" else "allowed", image=image, libc=libc,
                                runtime=runtime, profile=profile, container=batch["container"], batch=batch,
                                received_profile="sha256:" + profile))
    return rows


def canon(rows):
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def test_schema_2_round_trips_every_field_and_stores_shared_facts_once(tmp_path):
    rows = many_rows()
    rows[0]["only_here"] = [1, 2]  # a field only one row has stays only in that row
    data = report.build(rows, {}, {}, True)
    loaded = report.load(report.write(data, tmp_path))
    assert canon(loaded.cells) == canon(rows)
    assert set(data["probes"]["pthread_create"]) >= {"kind", "api", "syscalls"}
    assert {"libc", "container", "batch", "received_profile"} <= set(data["batches"][0])
    assert "observation" in data["columns"] and "kind" not in data["columns"]
    assert len(data["batches"]) == 8 and len(data["cells"]) == len(rows)


def test_schema_2_is_much_smaller_than_rows():
    rows = [dict(r, detail=r["detail"] * 20, source=r["source"] * 20) for r in many_rows() * 20]
    whole = len(json.dumps({"cells": rows}, indent=1))
    compact = len(json.dumps(report.build(rows, {}, {}, True), separators=(",", ":")))
    assert compact * 5 < whole


def test_a_report_and_its_views_are_written_all_or_none(tmp_path, monkeypatch):
    old = report.atomic_write_all(tmp_path, {"matrix.json": "old json", "matrix.md": "old md"})
    assert [p.read_text() for p in old] == ["old json", "old md"]
    real_write = type(tmp_path).write_text

    def full_disk(path, text, *a, **kw):
        if path.name == ".matrix.md.tmp":
            raise OSError(28, "No space left on device")
        return real_write(path, text, *a, **kw)

    monkeypatch.setattr(type(tmp_path), "write_text", full_disk)
    with pytest.raises(OSError):
        report.atomic_write_all(tmp_path, {"matrix.json": "new json", "matrix.md": "new md"})
    monkeypatch.undo()
    assert [p.read_text() for p in old] == ["old json", "old md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrix.json", "matrix.md"]


def test_fix_rows_are_kept_apart_from_the_matrix():
    rows = many_rows() + [ok(fix_of="deny:clone3:EPERM", fix_group="clone3:EPERM", profile="file:/x.json")]
    loaded = report.Report(report.build(rows, {}, {}, True))
    assert len(loaded.cells) == len(rows) - 1 and len(loaded.fix_cells) == 1
    assert loaded["summary"]["cells"] == len(rows) - 1


def test_both_views_render_from_schema_2_with_the_runs_cells(tmp_path):
    rows = many_rows()
    data = report.build(rows, {}, {}, True, fixes=[{
        "profile": "deny:clone3:EPERM", "patched_profile": "file:/r/fixes/x.json", "diff": "",
        "groups": {"clone3:EPERM": {"rule": {}, "change": "add {names:[clone3], action: SCMP_ACT_ERRNO, errnoRet: 38}",
                                    "diff": ""}}, "cells": 8, "batches": 4}])
    data_rows = rows + [ok(probe=r["probe"], image=r["image"], runtime=r["runtime"], profile="file:/r/fixes/x.json",
                           fix_of="deny:clone3:EPERM", fix_group="clone3:EPERM")
                        for r in rows if r["kind"] == "api" and r["profile"] == "deny:clone3:EPERM"]
    data = {**report.build(data_rows, {}, {}, True, fixes=data["fixes"])}
    path = report.write(data, tmp_path)
    assert render_md.main([str(path)]) == 0 and render_html.main([str(path)]) == 0
    md = (tmp_path / "matrix.md").read_text()
    first = md.split("## The full grid")[0]
    assert "## What breaks" in first and "### 1. clone3: 8 cells" in first and "- → EPERM: 8 cells" in first
    assert "proven on `deny:clone3:EPERM` (8/8)" in first
    assert first.index("## What breaks") < first.index("## Counts")
    assert f"- {len(rows)} cells in 8 batches" in md
    # a sample of cells, as the grid shows them
    assert "| `pthread_create` | EPERM (break) | ok |" in md
    grid = render_html.grid_data(report.load(path))
    assert len(grid["cells"]) == len(rows)
    broken = [c for c in grid["cells"] if c[6] == 0]
    assert len(broken) == 8 and {grid["labels"][c[4]] for c in broken} == {"EPERM (break)"}
    html = (tmp_path / "matrix.html").read_text()
    assert html.index("What breaks") < html.index("Counts") < html.index("The full grid")


# --- what changed -------------------------------------------------------------------------

def test_compare_lists_changed_new_and_vanished():
    old = many_rows()
    new = [dict(r) for r in old[1:]]  # the first cell vanished
    new[0] = dict(new[0], verdict="unexpected", outcome="error", errno="EPERM")
    new.append(ok(probe="stat"))
    changes = diff.compare(old, new)
    assert [c["cell"] for c in changes["changed"]] == [list(diff.key(new[0]))]
    assert set(changes["changed"][0]["fields"]) == {"outcome", "works", "verdict"}
    assert changes["new"] == [list(diff.key(new[-1]))]
    assert changes["vanished"] == [list(diff.key(old[0]))]
    assert diff.lines(diff.compare(old, old)) == ["no changes"]


def _diff(*args):
    return subprocess.run([sys.executable, "-m", "fallbackcheck.report.diff", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_diff_command_exit_statuses(tmp_path):
    rows = many_rows()
    a = report.write(report.build(rows, {}, {}, True), tmp_path / "a")
    changed = [dict(r) for r in rows]
    changed[3] = dict(changed[3], delivered={"clone3": "ENOSYS", "statx": "allowed"})
    b = report.write(report.build(changed, {}, {}, True), tmp_path / "b")
    same = _diff(a, a)
    assert (same.returncode, same.stdout) == (0, "no changes\n")
    differ = _diff(a, b)
    assert differ.returncode == 1
    assert differ.stdout.splitlines()[0] == "1 changed, 0 new, 0 vanished"
    assert "changed: " + diff.key_text(diff.key(changed[3])) in differ.stdout
    assert "delivered clone3 EPERM,statx allowed -> clone3 ENOSYS,statx allowed" in differ.stdout
    (tmp_path / "bad.json").write_text("{not json")
    for args in ((a,), (a, tmp_path / "bad.json"), (a, tmp_path / "missing.json")):
        bad = _diff(*args)
        assert bad.returncode == 4 and bad.stderr.startswith("ERROR: ") and bad.stderr.count("\n") == 1
        assert "Traceback" not in bad.stderr


# --- short summaries ------------------------------------------------------------------------

def test_terminal_and_ci_summaries_are_short(tmp_path):
    rows = []
    for i in range(40):  # 40 cause groups, thousands of cells
        for image in ("debian-12", "debian-13"):
            rows += [row(probe=f"p{i}", syscalls=[f"s{i}"], delivered={f"s{i}": "EPERM"}, image=image,
                         runtime=rt) for rt in ("a", "b", "c")]
    rows += [ok(probe=f"q{i}") for i in range(3000)]
    data = report.build(rows, {}, {}, True, changes={"baseline": "old/matrix.json", "changed": [
        {"cell": ["p1", "debian-12", "a", "deny:clone3:EPERM"], "fields": {"verdict": ["pass", "expected-break"]}}],
        "new": [], "vanished": []})
    lines = ci_summary.terminal_lines(data, ())
    assert len(lines) <= 6
    assert lines[0].startswith(f"{len(rows)} cells")
    assert lines[1] == "since old/matrix.json: 1 changed, 0 new, 0 vanished"
    text = ci_summary.markdown(data, "reports/matrix.md")
    assert len(text.splitlines()) <= ci_summary.MAX_LINES
    assert "What changed" in text and "verdict pass -> expected-break" in text and "What breaks" in text


def test_a_profiles_fix_does_not_depend_on_other_profiles_cells(tmp_path, catalogue):
    # The run proves each profile's fix as soon as that profile's batches are judged, and uses
    # that proof only if the end-of-run plan (from every profile's cells) makes the same fix.
    # Here the groups come in a different order with the other profile's cells (groups() puts
    # the largest first): the fix must not.
    mine, other = "vintage:5.2:EPERM", "vintage:5.4:EPERM"
    allow_all = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}

    def thin(name, profile, runtime="docker-runc"):
        return row(probe=name, api=name, syscalls=[name], delivered={name: "EPERM"}, profile=profile, runtime=runtime)

    alone = [thin("close_range", mine), thin("close_range", mine, "crun"), thin("pidfd_getfd", mine)]
    others = [thin("pidfd_getfd", other, runtime) for runtime in ("docker-runc", "crun", "runc", "podman-runc")]
    selected = {p: profiles.parse(p) for p in (mine, other)}
    assert [g.cause.id for g in causes.groups(alone)][0] != [g.cause.id for g in causes.groups(alone + others)][0]
    (early,), _ = fixes.plan(alone, {mine: selected[mine]}, tmp_path, catalogue, allow_all, write=False)
    final, _ = fixes.plan(alone + others, selected, tmp_path, catalogue, allow_all, write=False)
    assert early == next(f for f in final if f.profile == mine)


@pytest.mark.parametrize("early, planned, missing, said", [
    (True, 0, 0, "no fix to prove"),  # nothing to prove: not "while the cells ran"
    (False, 0, 0, "no fix to prove"),
    (True, 3, 0, "while the cells ran"),
    (True, 3, 1, "while the cells ran (2 of 3 fixes), the rest after the last cell"),
    (True, 3, 3, "after the last cell"),
    (False, 3, 3, "after the last cell"),
])
def test_the_report_says_when_fixes_were_proven(early, planned, missing, said):
    from fallbackcheck.execution import fixruns

    assert fixruns.when_proven(early, planned, missing) == said
