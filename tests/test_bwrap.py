"""--runtimes bwrap: bubblewrap on the image's root, the profile as a compiled --seccomp program."""

import json
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from helpers import assert_stopped_cleanly, cells_by, host_traces, load_report, run_suites, skip_or_fail, stop_run


def _plan(profile_id: str, image_ref: str = "/root-of-image"):
    from fallbackcheck.model import profiles
    from fallbackcheck.batches.launch import BatchPlan

    return BatchPlan("debian-12", image_ref, "amd64", profiles.parse(profile_id), ("raw:clone3=/fbc/amd64/raw clone3",),
                     Path("/probes"), 5.0, "t")


def test_the_command_line_runs_the_runner_on_the_image_root_with_the_program_on_its_descriptor():
    from fallbackcheck.runtimes.bwrap import bwrap_argv

    argv = bwrap_argv(_plan("deny:clone3:EPERM"), 7, "fbc-t-o1-deadbeef")
    assert argv[:2] == ["bwrap", "--die-with-parent"]
    joined = " ".join(argv)
    assert "--ro-bind /root-of-image / --ro-bind /probes /fbc" in joined
    assert "--seccomp 7" in joined and "--cap-drop ALL" in joined and "--cap-add CAP_SYS_ADMIN" not in joined
    assert argv[argv.index("--") + 1:] == ["/fbc/amd64/runner", "-t", "5", "raw:clone3=/fbc/amd64/raw clone3"]
    assert "--seccomp" not in bwrap_argv(_plan("unconfined"), None, "fbc-t-o1-deadbeef")


def test_default_is_no_filter_and_every_generated_family_is_taken(tmp_path):
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes import get

    bwrap = get("bwrap")
    assert profiles.parse("default").in_force(bwrap) == {}
    for pid in ("unconfined", "default", "deny:clone3,faccessat2:ENOSYS", "vintage:5.4:EPERM"):
        assert bwrap.unsupported_profile(profiles.parse(pid)) is None, pid
    with_args = tmp_path / "args.json"
    with_args.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}))
    reason = bwrap.unsupported_profile(profiles.parse(f"file:{with_args}"))
    assert "argument conditions" in reason


def test_a_profile_bubblewrap_cannot_take_is_left_out_with_its_reason_once(tmp_path):
    from fallbackcheck.model import catalogue
    from fallbackcheck.execution import selection

    with_args = tmp_path / "args.json"
    with_args.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}))
    pid = f"file:{with_args}"
    chosen = selection.resolve(catalogue.load(), "debian-12", "bwrap", f"unconfined,{pid}", "raw:clone3")
    assert {c.profile for c in chosen.all_cells(catalogue.load())} == {"unconfined"}
    notes = [n for n in chosen.notes if pid in n]
    assert len(notes) == 1 and "not applicable on bwrap" in notes[0] and "argument conditions" in notes[0]


def test_bwrap_runs_on_this_machine_only():
    proc = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly", "--runtimes",
                           "bwrap@debian-13", "--images", "debian-13", "--probes", "raw:clone3"],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "ERROR: runtime bwrap@debian-13: bwrap runs on this machine only (use bwrap)" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_the_compiled_program_is_what_libseccomp_exports(tmp_path):
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes.bwrap import compile_filter

    if shutil.which("cc") is None:
        skip_or_fail("no C compiler on this machine")
    small = compile_filter(profiles.parse("deny:clone3:EPERM"), tmp_path).read_bytes()
    big = compile_filter(profiles.parse("vintage:5.4:ENOSYS"), tmp_path).read_bytes()
    # struct sock_filter is 8 bytes; an allow list of ~400 names is far longer than one rule
    assert len(small) % 8 == 0 and 0 < len(small) < len(big)
    # SECCOMP_RET_ERRNO | EPERM (0x00050001) is in the deny program as a RET's constant
    assert (0x00050001).to_bytes(4, "little") in small


def test_cleanup_kills_a_left_batch_of_its_session_and_only_that():
    from fallbackcheck.runtimes import get
    from fallbackcheck.runtimes.sandbox import MARK

    mine, other = f"sbxtest{uuid.uuid4().hex[:6]}", f"sbxother{uuid.uuid4().hex[:6]}"
    procs = [subprocess.Popen(["sh", "-c", "sleep 60", f"{MARK}=fbc-{s}-o1-deadbeef"], start_new_session=True)
             for s in (mine, other)]
    try:
        deadline = time.monotonic() + 20  # a loaded machine takes a while to exec them
        while host_traces(mine)["processes"] != [f"fbc-{mine}-o1-deadbeef"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert host_traces(mine)["processes"] == [f"fbc-{mine}-o1-deadbeef"]
        assert get("bwrap").cleanup(mine) == 1
        assert procs[0].wait(timeout=10) == -signal.SIGKILL
        assert procs[1].poll() is None
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _require_bwrap():
    if shutil.which("bwrap") is None:
        skip_or_fail("bubblewrap is not installed (scripts/setup-host installs it)")


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")  # one at a time: they compare the host before and after
def test_bwrap_delivers_each_profile_and_glibc_answers_as_the_catalogue_says(tmp_path):
    _require_bwrap()
    session = "test-bwrap-" + uuid.uuid4().hex[:8]
    before = host_traces(session)
    proc = run_suites("--runtimes", "bwrap", "--images", "debian-12", "--probes", "pthread_create,raw:clone3",
                      "--profiles", "unconfined,default,deny:clone3:EPERM,deny:clone3:ENOSYS", "--no-fixes",
                      report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": session}, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    got = {(c["probe"], c["profile"]): c for c in report["cells"]}
    assert len(got) == 8 and all(c["runtime"] == "bwrap" for c in got.values())
    for profile, answer in (("unconfined", "allowed"), ("default", "allowed"), ("deny:clone3:EPERM", "EPERM"),
                            ("deny:clone3:ENOSYS", "ENOSYS")):
        assert got[("raw:clone3", profile)]["delivered"] == {"clone3": answer}, profile
        assert got[("raw:clone3", profile)]["verdict"] == "pass", got[("raw:clone3", profile)]["detail"]
    eperm, enosys = got[("pthread_create", "deny:clone3:EPERM")], got[("pthread_create", "deny:clone3:ENOSYS")]
    assert (eperm["works"], eperm["errno"], eperm["verdict"]) == (False, "EPERM", "expected-break"), eperm["detail"]
    assert (enosys["works"], enosys["verdict"]) == (True, "pass"), enosys["detail"]  # glibc falls back to clone
    assert not cells_by(report, verdict="unexpected") and not cells_by(report, verdict="error")
    assert report["environment"]["runtimes"]["bwrap"]["oci_runtime_version"].startswith("bubblewrap ")
    assert host_traces(session) == before


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")  # one at a time: they compare the host before and after
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_run_stopped_during_a_bwrap_batch_leaves_nothing(tmp_path, signame):
    _require_bwrap()
    session = "test-bwrap-stop-" + uuid.uuid4().hex[:8]
    before = host_traces(session)
    profiles = ",".join(f"deny:clone3:{e}" for e in ("EPERM", "ENOSYS", "EACCES", "EINVAL", "EBUSY", "EIO"))
    rc, out = stop_run("--runtimes", "bwrap", "--images", "debian-12", "--probes", "raw:*",
                       "--profiles", f"unconfined,{profiles},vintage:5.4:EPERM,vintage:5.10:EPERM",
                       session=session, report_dir=tmp_path, signum=getattr(signal, signame),
                       wait_for=lambda: bool(host_traces(session)["processes"]))
    if rc == 0:
        pytest.fail(f"the run ended before the signal; choose a longer selection\n{out[-2000:]}")
    assert_stopped_cleanly(rc, out, session, signame)
    assert host_traces(session) == before
