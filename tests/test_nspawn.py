"""--runtimes nspawn: systemd-nspawn on the image's root; `default` is its own filter."""

import json
import os
import shutil
import signal
import subprocess
import uuid

import pytest

from helpers import assert_stopped_cleanly, cells_by, host_traces, load_report, run_suites, skip_or_fail, stop_run


def test_deny_profiles_go_on_system_call_filter_in_systemds_syntax():
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes.nspawn import filter_options

    assert filter_options(profiles.parse("deny:clone3:EPERM")) == ["--system-call-filter=~clone3"]
    assert filter_options(profiles.parse("deny:clone3,fchmodat2:ENOSYS")) == \
        ["--system-call-filter=~clone3:ENOSYS fchmodat2:ENOSYS"]
    assert filter_options(profiles.parse("default")) == filter_options(profiles.parse("unconfined")) == []


def test_what_is_asked_is_known_for_the_denied_names_only(tmp_path):
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes import get

    nspawn = get("nspawn")
    deny = profiles.parse("deny:clone3:ENOSYS")
    assert deny.asks("clone3", "amd64", nspawn) == "ENOSYS"
    assert deny.asks("mlock", "amd64", nspawn) is None  # nspawn's own list answers, unread
    assert profiles.parse("default").asks("clone3", "amd64", nspawn) is None
    assert profiles.parse("unconfined").asks("clone3", "amd64", nspawn) == "allowed"
    assert nspawn.unsupported_profile(deny) is None
    assert "its own allow list" in nspawn.unsupported_profile(profiles.parse("vintage:5.4:EPERM"))
    shaped = tmp_path / "deny.json"
    shaped.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                  "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    assert nspawn.unsupported_profile(profiles.parse(f"file:{shaped}")) is None


def _require_nspawn():
    if shutil.which("systemd-nspawn") is None:
        skip_or_fail("systemd-nspawn is not installed (scripts/setup-host installs systemd-container)")
    from fallbackcheck.runtimes.nspawn import hierarchies

    if os.geteuid() != 0 or not hierarchies():
        skip_or_fail("systemd-nspawn runs here as root on a machine with a name=systemd or cgroup2 hierarchy")


def test_cleanup_removes_a_left_batch_cgroup_of_its_session_with_its_processes():
    _require_nspawn()
    from fallbackcheck.runtimes import get
    from fallbackcheck.runtimes.nspawn import hierarchies

    session = f"sbxtest{uuid.uuid4().hex[:6]}"
    groups = [h / f"fbc-{session}-o1-deadbeef" for h in hierarchies()]
    for group in groups:
        (group / "payload").mkdir(parents=True)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        (groups[0] / "payload" / "cgroup.procs").write_text(str(sleeper.pid))
        assert get("nspawn").cleanup(session) >= 1
        assert sleeper.wait(timeout=10) == -signal.SIGKILL
        assert not any(g.exists() for g in groups)
    finally:
        sleeper.kill()
        sleeper.wait()
        for group in groups:
            for d in ((group / "payload"), group):
                if d.exists():
                    d.rmdir()


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")  # one at a time: they compare the host before and after
def test_nspawn_default_and_what_its_filter_option_honours(tmp_path):
    _require_nspawn()
    session = "test-nspawn-" + uuid.uuid4().hex[:8]
    before = host_traces(session)
    run_suites("--runtimes", "nspawn", "--images", "debian-12", "--probes", "pthread_create,mlock2,raw:clone3,raw:mlock",
               "--profiles", "unconfined,default,deny:clone3:EPERM,deny:clone3:ENOSYS", "--no-fixes",
               report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": session}, timeout=600)
    report = load_report(tmp_path)
    got = {(c["probe"], c["profile"]): c for c in report["cells"]}
    assert len(got) == 16 and not cells_by(report, verdict="error")
    clone3 = {p: got[("raw:clone3", p)] for p in ("unconfined", "default", "deny:clone3:EPERM", "deny:clone3:ENOSYS")}
    assert {p: c["delivered"]["clone3"] for p, c in clone3.items()} == {
        "unconfined": "allowed", "default": "allowed", "deny:clone3:EPERM": "EPERM", "deny:clone3:ENOSYS": "allowed"}
    assert clone3["unconfined"]["verdict"] == clone3["deny:clone3:EPERM"]["verdict"] == "pass"
    assert clone3["default"]["na_reason"] == "profile-unreadable"  # nspawn's own list: measured, not read
    # systemd-nspawn 252 takes no errno: `~clone3:ENOSYS` names no syscall and is dropped, clone3 stays allowed
    assert clone3["deny:clone3:ENOSYS"]["verdict"] == "unexpected"
    assert "delivered allowed but the profile asks ENOSYS" in clone3["deny:clone3:ENOSYS"]["detail"]
    assert {(c["probe"], c["profile"]) for c in cells_by(report, verdict="unexpected")} == {("raw:clone3", "deny:clone3:ENOSYS")}
    eperm = got[("pthread_create", "deny:clone3:EPERM")]
    assert (eperm["works"], eperm["errno"], eperm["verdict"]) == (False, "EPERM", "expected-break")
    # nspawn's default denies mlock (no CAP_IPC_LOCK: no @memlock), which glibc's mlock2(flags 0) calls
    mlock2 = got[("mlock2", "default")]
    assert mlock2["delivered"]["mlock"] == "EPERM" and (mlock2["works"], mlock2["errno"]) == (False, "EPERM")
    assert mlock2["verdict"] == "expected-break", mlock2["detail"]
    assert got[("mlock2", "unconfined")]["works"] is True
    assert report["environment"]["runtimes"]["nspawn"]["oci_runtime_version"].startswith("systemd ")
    assert host_traces(session) == before


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")  # one at a time: they compare the host before and after
def test_a_run_stopped_during_an_nspawn_batch_leaves_nothing(tmp_path):
    _require_nspawn()
    session = "test-nspawn-stop-" + uuid.uuid4().hex[:8]
    before = host_traces(session)
    profiles = ",".join(f"deny:clone3:{e}" for e in ("EPERM", "ENOSYS", "EACCES", "EINVAL", "EBUSY", "EIO"))
    rc, out = stop_run("--runtimes", "nspawn", "--images", "debian-12", "--probes", "raw:*",
                       "--profiles", f"unconfined,default,{profiles}", session=session, report_dir=tmp_path,
                       signum=signal.SIGINT, wait_for=lambda: bool(host_traces(session)["processes"]))
    if rc == 0:
        pytest.fail(f"the run ended before the signal; choose a longer selection\n{out[-2000:]}")
    assert_stopped_cleanly(rc, out, session, "SIGINT")
    assert host_traces(session) == before


def test_a_fix_is_proven_only_where_its_rule_was_delivered():
    """nspawn drops `~clone3:ENOSYS`: pthread_create then works because clone3 is allowed,
    which proves nothing about the ENOSYS fix."""
    from fallbackcheck.judging.fixes import proof

    fix = {"profile": "deny:clone3:EPERM", "groups": {"clone3:EPERM": {"rules": [
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}}}
    row = {"fix_group": "clone3:EPERM", "fix_of": "deny:clone3:EPERM", "kind": "api", "verdict": "pass",
           "works": True, "delivered": {"clone3": "ENOSYS", "statx": "allowed"}}
    assert proof(fix, "clone3:EPERM", [row]) == (1, 1)
    assert proof(fix, "clone3:EPERM", [{**row, "delivered": {"clone3": "allowed", "statx": "allowed"}}]) == (0, 1)
