"""What breaks, as a reader takes it in: one group per culprit syscall with sub-rows per
delivered errno and mechanism, one fix line naming every profile it was proven on, and the
cells that fail exactly like an old kernel listed apart with no fix offered."""

from pathlib import Path

from fallbackcheck.judging import causes
from fallbackcheck import report
from fallbackcheck.report import render_md, views

from test_answers import ok, raw, row


def _rows():
    rows = []
    for profile in ("vintage:5.2:EPERM", "vintage:5.2:ENOSYS"):
        batch = {"container": f"c-{profile}", "exit": 0}
        if profile.endswith("ENOSYS"):  # Docker 20.10 drops defaultErrnoRet: the runtime answers EPERM
            batch["profile_changes"] = ["defaultErrnoRet: asked ENOSYS, received none (EPERM)"]
        rows.append(row(profile=profile, batch=batch, container=batch["container"]))
        rows.append(raw("clone3", "EPERM", profile=profile, expected="EPERM", batch=batch))
    # runc's stub: the profile asks EPERM, the runtime answers ENOSYS (a documented behaviour)
    rows.append(row(runtime="runc", probe="pthread_create", delivered={"clone3": "ENOSYS"}, errno="ENOSYS",
                    profile="vintage:5.2:EPERM", outcome="error"))
    rows.append(raw("clone3", "ENOSYS", runtime="runc", profile="vintage:5.2:EPERM", expected="EPERM",
                    behaviour="runc's ENOSYS stub: above the profile's largest number"))
    # a thin wrapper failing exactly as on a kernel without the syscall
    rows.append(row(probe="mseal", syscalls=["mseal"], delivered={"mseal": "ENOSYS"}, errno="ENOSYS",
                    verdict="pass", fails_like_old_kernel=True, profile="vintage:5.2:ENOSYS", runtime="crun"))
    rows.append(ok(profile="unconfined"))
    return rows


def _fix(profile, gid):
    return {"profile": profile, "patched_profile": f"file:/r/fixes/{profile}.json", "diff": "",
            "groups": {gid: {"rules": [], "change": "add {names:[clone3], action: SCMP_ACT_ERRNO, errnoRet: 38}",
                             "diff": ""}}, "cells": 1, "batches": 1}


def test_one_group_per_culprit_with_a_sub_row_per_mechanism():
    found = causes.by_culprit(causes.groups(_rows()))
    assert [c.id for c in found] == ["clone3"]
    mechanisms = sorted(g.cause.mechanism for g in found[0].groups)
    assert mechanisms == ["→ ENOSYS where the profile asks EPERM: runc's ENOSYS stub",
                          "→ EPERM",
                          "→ EPERM where the profile asks ENOSYS: the engine dropped defaultErrnoRet"]
    assert len(found[0].cells) == 3


def test_cells_failing_like_an_old_kernel_are_apart_and_get_no_fix():
    rows = _rows()
    assert all(not c.get("fails_like_old_kernel") for g in causes.groups(rows) for c in g.cells)
    apart = causes.by_culprit(causes.like_old_kernel(rows))
    assert [c.id for c in apart] == ["mseal"]
    from fallbackcheck.model import catalogue, profiles as profiles_mod
    from fallbackcheck.judging import fixes
    profs = {p: profiles_mod.parse(p) for p in ("vintage:5.2:EPERM", "vintage:5.2:ENOSYS")}
    newer = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
             "syscalls": [{"names": ["mseal", "clone3"], "action": "SCMP_ACT_ALLOW"}]}

    def planned_for(rows):
        planned, _ = fixes.plan(rows, profs, Path("/nonexistent"), catalogue.load(), newer, write=False)
        return {gid for f in planned for gid in f.rules}

    assert not any("mseal" in gid for gid in planned_for(rows))
    # the control: the same cell, were it a fallback the filter defeated, would get the allow fix
    control = [dict(r, fails_like_old_kernel=False) if r["probe"] == "mseal" else r for r in rows]
    assert any("mseal" in gid for gid in planned_for(control))


def test_one_fix_line_names_every_profile_it_was_proven_on():
    rows = _rows()
    groups = {g.cause.id: g for g in causes.groups(rows)}
    fixes = [_fix("vintage:5.2:EPERM", "clone3:EPERM"), _fix("vintage:5.2:ENOSYS", groups and next(
        gid for gid in groups if gid.startswith("runtime:") and "EPERM" in gid))]
    fix_rows = [ok(profile=f["patched_profile"], fix_of=f["profile"], fix_group=next(iter(f["groups"])))
                for f in fixes]
    data = report.build(rows + fix_rows, {}, {}, True, fixes=fixes)
    answers = views.what_breaks(report.Report(data))
    assert len(answers) == 1
    lines = views.fix_lines(answers[0])
    assert len(lines) == 1 and [p for p, _, _ in lines[0].proofs] == ["vintage:5.2:EPERM", "vintage:5.2:ENOSYS"]
    text = render_md.render(report.Report(data))
    first = text.split("## Counts")[0]
    assert first.count("- fix: ") == 1
    assert "proven on `vintage:5.2:EPERM` (1/1), `vintage:5.2:ENOSYS` (1/1)" in first
    assert "### Fails exactly as on a kernel without the syscall" in first and "| mseal | 1 |" in first
