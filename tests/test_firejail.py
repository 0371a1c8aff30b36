"""--runtimes firejail: firejail chrooted to an overlay of the image's root, in a mount namespace of its own."""

import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from helpers import assert_stopped_cleanly, cells_by, host_traces, load_report, run_suites, skip_or_fail, stop_run


def test_each_profile_family_becomes_firejails_options():
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes.firejail import profile_options

    assert profile_options(profiles.parse("unconfined")) == ["--noprofile"]
    assert profile_options(profiles.parse("default")) == ["--profile=default"]
    assert profile_options(profiles.parse("own:seccomp")) == ["--noprofile", "--seccomp"]
    assert profile_options(profiles.parse("deny:clone3,faccessat2:ENOSYS")) == \
        ["--noprofile", "--seccomp.drop=clone3:ENOSYS,faccessat2:ENOSYS"]
    assert profile_options(profiles.parse("deny:clone3:EPERM")) == ["--noprofile", "--seccomp.drop=clone3"]


def test_own_filters_belong_to_their_sandbox_only():
    from fallbackcheck.model import profiles
    from fallbackcheck.errors import UsageError
    from fallbackcheck.runtimes import get

    own = profiles.parse("own:seccomp")
    assert get("firejail").unsupported_profile(own) is None
    assert "no filter of its own named 'nope'" in get("firejail").unsupported_profile(profiles.parse("own:nope"))
    for rid in ("bwrap", "nspawn", "runc", "docker-crun"):
        assert get(rid).unsupported_profile(own) == f"{rid} has no filter of its own named 'seccomp'"
    assert "allow list" in get("firejail").unsupported_profile(profiles.parse("vintage:5.4:EPERM"))
    with pytest.raises(UsageError):
        profiles.parse("own:Not a name")


def test_a_batch_over_firejails_argument_limit_is_several_runs_and_done_only_if_all_are():
    from fallbackcheck.batches.launch import BatchOutput
    from fallbackcheck.runtimes.firejail import chunks, joined

    parts = chunks(list(range(250)), 110)
    assert [len(p) for p in parts] == [110, 110, 30] and sum(parts, []) == list(range(250))
    done = '{"runner":"fallbackcheck"}\n{"id":"a"}\n{"runner_done":true}\n'
    both = joined([BatchOutput(done, "", 0), BatchOutput(done.replace('"a"', '"b"'), "", 0)], 2)
    assert both.stdout.count("runner_done") == 1 and '"b"' in both.stdout
    assert "runner_done" not in joined([BatchOutput(done, "", 0)], 2).stdout  # the second run never ran
    assert "runner_done" not in joined([BatchOutput(done, "", 0), BatchOutput('{"id":"b"}\n', "x", 1)], 2).stdout


def _require_firejail():
    if shutil.which("firejail") is None or shutil.which("unshare") is None:
        skip_or_fail("firejail is not installed (scripts/setup-host installs it)")


def _changed_under(root: Path, since: float) -> list[str]:
    return [str(p) for p in root.rglob("*") if not p.is_symlink() and p.lstat().st_mtime > since][:5]


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")  # one at a time: they compare the host before and after
def test_firejail_profiles_and_what_its_default_does_to_glibc(tmp_path):
    _require_firejail()
    from fallbackcheck.artefacts import images

    session = "test-firejail-" + uuid.uuid4().hex[:8]
    root = images.rootfs(images.lookup("debian-12"))
    before, started = host_traces(session), time.time()
    run_suites("--runtimes", "firejail", "--images", "debian-12", "--probes", "*", "--no-fixes",
               "--profiles", "unconfined,default,own:seccomp,deny:clone3:EPERM,deny:clone3:ENOSYS",
               report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": session}, timeout=900)
    report = load_report(tmp_path)
    got = {(c["probe"], c["profile"]): c for c in report["cells"]}
    # every probe: more than one firejail command line holds (128 arguments, ~10 of them its own)
    assert len(got) > 5 * 120
    assert not cells_by(report, verdict="error") and not cells_by(report, verdict="unexpected")
    clone3 = {p: got[("raw:clone3", p)]["delivered"]["clone3"] for p in
              ("unconfined", "default", "own:seccomp", "deny:clone3:EPERM", "deny:clone3:ENOSYS")}
    # restrict-namespaces (firejail's default.profile): clone3 answers ENOSYS, src/fseccomp/namespaces.c
    assert clone3 == {"unconfined": "allowed", "default": "ENOSYS", "own:seccomp": "allowed",
                      "deny:clone3:EPERM": "EPERM", "deny:clone3:ENOSYS": "ENOSYS"}
    assert got[("raw:setns", "default")]["delivered"]["setns"] == "EPERM"
    assert got[("raw:fsopen", "own:seccomp")]["delivered"]["fsopen"] == "EPERM"  # @default has @mount
    for profile in ("default", "deny:clone3:ENOSYS"):  # glibc falls back to clone
        assert got[("pthread_create", profile)]["works"] is True
    eperm = got[("pthread_create", "deny:clone3:EPERM")]
    assert (eperm["works"], eperm["errno"], eperm["verdict"]) == (False, "EPERM", "expected-break")
    assert got[("pidfd_getfd", "default")]["works"] is False  # @debug has pidfd_getfd
    assert report["environment"]["runtimes"]["firejail"]["oci_runtime_version"].startswith("firejail 0.")
    assert host_traces(session) == before
    assert _changed_under(root, started) == []  # the cached root stayed as it was (an overlay took the writes)


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")
def test_a_run_stopped_during_a_firejail_batch_leaves_nothing(tmp_path):
    _require_firejail()
    session = "test-firejail-stop-" + uuid.uuid4().hex[:8]
    before = host_traces(session)
    rc, out = stop_run("--runtimes", "firejail", "--images", "debian-12", "--probes", "raw:*",
                       "--profiles", "unconfined,default,own:seccomp,deny:clone3:EPERM,deny:clone3:ENOSYS",
                       session=session, report_dir=tmp_path, signum=signal.SIGINT,
                       wait_for=lambda: bool(host_traces(session)["processes"]))
    if rc == 0:
        pytest.fail(f"the run ended before the signal; choose a longer selection\n{out[-2000:]}")
    assert_stopped_cleanly(rc, out, session, "SIGINT")
    assert host_traces(session) == before
    leftover = subprocess.run(["pgrep", "-f", f"FALLBACKCHECK_BATCH=fbc-{session}-"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
