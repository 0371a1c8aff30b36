"""--runtimes flatpak: real `flatpak run` of a runtime made from the image's root; Flatpak's
filter as profiles flatpak:run and flatpak:devel, proved identical to the real program."""

import errno
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from helpers import assert_stopped_cleanly, cells_by, host_traces, load_report, run_suites, skip_or_fail, stop_run

SHIM = """#!/bin/sh
# Flatpak runs bubblewrap in an environment of its own making: where to write is written here.
OUT=@OUT@
# Flatpak hands bubblewrap its argv on `--args FD` (NUL-separated); the filter is on the FD
# after `--seccomp` there. Both are files: reading them through /proc leaves bwrap's offsets be.
prev=
for arg in "$@"; do
    [ "$prev" = --args ] && tr '\\0' '\\n' < /proc/$$/fd/$arg > "$OUT.args"
    prev=$arg
done
fd=$(grep -A1 -x -e --seccomp "$OUT.args" | tail -n 1)
cat /proc/$$/fd/$fd > "$OUT.bpf"
exec bwrap "$@"
"""


def _plan(profile_id: str):
    from fallbackcheck.batches.launch import BatchPlan
    from fallbackcheck.model import profiles

    return BatchPlan("debian-12", "/cache/flatpak/inst", "amd64", profiles.parse(profile_id),
                     ("raw:clone3=/fbc/amd64/raw clone3",), Path("/cache/probes/x"), 5.0, "t")


def test_flatpaks_filter_is_a_profile_family_with_what_its_source_says():
    from fallbackcheck.errors import UsageError
    from fallbackcheck.model import profiles

    run, devel = profiles.parse("flatpak:run"), profiles.parse("flatpak:devel")
    assert (run.kind, devel.kind) == ("flatpak", "flatpak")
    asked = {s: run.asks(s, "amd64") for s in ("clone3", "fsopen", "syslog", "unshare", "umount2", "ptrace",
                                                "getpid", "set_mempolicy_home_node", "clone", "ioctl", "socket")}
    assert asked == {"clone3": "ENOSYS", "fsopen": "ENOSYS", "syslog": "EPERM", "unshare": "EPERM",
                     "umount2": "EPERM", "ptrace": "EPERM", "getpid": "allowed", "set_mempolicy_home_node": "allowed",
                     "clone": None, "ioctl": None, "socket": None}  # None: argument conditions
    assert devel.asks("ptrace", "amd64") == "allowed" and devel.asks("clone3", "amd64") == "ENOSYS"
    assert run.asks("getpid", "i386") == "SIGSYS"  # no --allow=multiarch: only x86_64 is filtered
    with pytest.raises(UsageError, match="flatpak:run"):
        profiles.parse("flatpak:nope")


def test_the_socket_rules_block_every_family_but_flatpaks_five():
    from fallbackcheck.model.flatpak_filter import rules

    socket = [r for r in rules("run") if r.syscall == "socket"]
    blocked = {r.arg[2] for r in socket if r.arg[1] == "SCMP_CMP_EQ"}
    assert blocked == set(range(3, 10)) | set(range(11, 16))  # AF_UNSPEC, LOCAL, INET, INET6, NETLINK stay
    assert [r.arg[1:3] for r in socket if r.arg[1] != "SCMP_CMP_EQ"] == [("SCMP_CMP_GE", 17)]
    assert all(r.exact and r.errno == errno.EAFNOSUPPORT for r in socket)


def test_the_flatpak_kind_takes_its_own_filter_only_and_says_why():
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes import get

    flatpak = get("flatpak")
    for pid in ("default", "flatpak:run", "flatpak:devel"):
        assert flatpak.unsupported_profile(profiles.parse(pid)) is None, pid
    assert "setup_seccomp()" in flatpak.unsupported_profile(profiles.parse("unconfined"))
    for pid in ("deny:clone3:EPERM", "vintage:5.4:EPERM"):
        assert "takes no filter of ours" in flatpak.unsupported_profile(profiles.parse(pid))
    assert profiles.parse("default").in_force(flatpak) == profiles.parse("flatpak:run").oci
    assert get("bwrap").unsupported_profile(profiles.parse("flatpak:devel")) is None


def test_a_batch_is_one_flatpak_run_with_the_probe_build_at_its_own_path():
    from fallbackcheck.runtimes.flatpak import flatpak_argv

    argv = flatpak_argv(_plan("default"), "fbc-t-o1-deadbeef")
    assert argv[:4] == ["sh", "-c", '"$@"; exit $?', "FALLBACKCHECK_BATCH=fbc-t-o1-deadbeef"]
    run = argv[4:]
    assert run[:3] == ["flatpak", "run", "--die-with-parent"] and "--devel" not in run
    assert "--filesystem=/cache/probes/x:ro" in run and "--command=/cache/probes/x/amd64/runner" in run
    assert run[-4:] == ["org.fallbackcheck.Image//fbc", "-t", "5", "raw:clone3=/cache/probes/x/amd64/raw clone3"]
    assert "--devel" in flatpak_argv(_plan("flatpak:devel"), "fbc-t-o1-deadbeef")


def test_flatpak_runs_on_this_machine_and_amd64_images_only():
    from fallbackcheck.errors import UsageError
    from fallbackcheck.runtimes import get
    from fallbackcheck.runtimes.registry import get as registry_get

    with pytest.raises(UsageError, match="flatpak runs on this machine only"):
        registry_get("flatpak@debian-13")
    with pytest.raises(UsageError, match="x86_64 only"):
        get("flatpak").prepare_image("debian-12-i386")


def test_the_rebuilt_program_holds_flatpaks_answers():
    from fallbackcheck.runtimes.flatpak_seccomp import program

    try:
        run, devel = program("run"), program("devel")
    except RuntimeError as exc:
        skip_or_fail(str(exc))
    assert len(run) % 8 == 0 and len(devel) < len(run)  # devel: three rules fewer
    for number in (errno.ENOSYS, errno.EPERM, errno.EAFNOSUPPORT):
        assert (0x00050000 | number).to_bytes(4, "little") in run  # SECCOMP_RET_ERRNO | errno


def test_the_sandbox_section_shows_flatpak_against_the_kernels_answers():
    from fallbackcheck.report.sandbox_views import tables

    def cell(probe, kind, profile, delivered, works=None, runtime="flatpak"):
        return {"probe": probe, "kind": kind, "runtime": runtime, "image": "debian-12", "profile": profile,
                "delivered": delivered, "works": works, "errno": None if works else "EPERM",
                "syscalls": list(delivered), "verdict": "pass", "outcome": "ok" if works else "error"}

    report = {"environment": {"runtimes": {"flatpak": {"sandbox": "flatpak"}, "bwrap": {"sandbox": "bwrap"}}}, "cells": [
        cell("raw:clone3", "raw", "default", {"clone3": "ENOSYS"}),
        cell("raw:setns", "raw", "default", {"setns": "EPERM"}),
        cell("raw:listns", "raw", "default", {"listns": "kernel-ENOSYS"}),
        cell("raw:faccessat2", "raw", "default", {"faccessat2": "allowed"}),
        cell("pthread_create", "api", "default", {"clone3": "ENOSYS"}, works=True),
        cell("raw:clone3", "raw", "unconfined", {"clone3": "allowed"}, runtime="bwrap"),
        cell("raw:clone3", "raw", "flatpak:run", {"clone3": "ENOSYS"}, runtime="bwrap"),
    ]}
    (table,) = tables(report)
    assert table.rows == [
        ["`bwrap`", "debian-12", "`flatpak:run`", "none", "clone3 ENOSYS", "none"],
        ["`flatpak`", "debian-12", "`default` (against the kernel's answers: no unfiltered run)", "none",
         "clone3 ENOSYS, setns EPERM", "none"]]


def _require_flatpak():
    if shutil.which("flatpak") is None or shutil.which("bwrap") is None:
        skip_or_fail("flatpak is not installed (scripts/setup-host installs it)")


def _flatpak_state() -> dict:
    """What flatpak would leave outside our scratch directories: root's user installation and
    configuration, the system installation, and scratch directories of ours in /tmp."""
    home = Path.home()
    watched = [home / ".local/share/flatpak", home / ".var", home / ".cache/flatpak", home / ".config/flatpak",
               Path("/var/lib/flatpak")]
    return {"trees": {str(p): sorted(str(f) for f in p.rglob("*")) if p.exists() else None for p in watched},
            "scratch": sorted(str(p) for p in Path("/tmp").glob("fbc-flatpak-*"))}


def _marked_anywhere(session: str) -> list[int]:
    """Every process of this machine whose environment names one of `session`'s batches."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"FALLBACKCHECK_BATCH=fbc-{session}-".encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")
def test_the_reproduced_program_is_the_one_real_flatpak_hands_bubblewrap(tmp_path):
    _require_flatpak()
    from fallbackcheck.artefacts import images
    from fallbackcheck.runtimes.flatpak import BRANCH, REF_NAME, installation, scratch_env
    from fallbackcheck.runtimes.flatpak_seccomp import program

    inst = installation(images.lookup("debian-12"))
    for variant, options in (("run", []), ("devel", ["--devel"])):
        out = tmp_path / variant
        shim = tmp_path / f"bwrap-shim-{variant}"
        shim.write_text(SHIM.replace("@OUT@", str(out)))
        shim.chmod(0o755)
        scratch = tmp_path / f"scratch-{variant}"
        scratch.mkdir()
        env = {**scratch_env(scratch, inst), "FLATPAK_BWRAP": str(shim)}
        proc = subprocess.run(["flatpak", "run", *options, "--command=true", f"{REF_NAME}//{BRANCH}"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        args = Path(f"{out}.args").read_text().splitlines()
        assert "--seccomp" in args and args.count("--seccomp") == 1  # one filter, no other stacked by flatpak
        real = Path(f"{out}.bpf").read_bytes()
        assert len(real) > 0 and real == program(variant), variant


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")  # one at a time: they compare the host before and after
def test_flatpak_delivers_its_filter_and_bwrap_delivers_the_same_with_the_reproduction(tmp_path):
    _require_flatpak()
    from fallbackcheck.artefacts import images
    from fallbackcheck.runtimes.flatpak import installation

    session = "test-flatpak-" + uuid.uuid4().hex[:8]
    before, state = host_traces(session), _flatpak_state()
    proc = run_suites("--runtimes", "flatpak,bwrap", "--images", "debian-12", "--probes", "pthread_create,lchmod,raw:*",
                      "--profiles", "unconfined,default,deny:clone3:EPERM,flatpak:run", "--no-fixes",
                      report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": session}, timeout=900)
    out = proc.stdout + proc.stderr
    report = load_report(tmp_path)
    assert not cells_by(report, verdict="error") and not cells_by(report, verdict="unexpected"), out[-3000:]
    assert all(c["detail"] for c in cells_by(report, verdict="n/a"))  # n/a only with its reason
    for pid in ("unconfined", "deny:clone3:EPERM"):
        assert f"profile {pid} is not applicable on flatpak" in out
    assert {c["profile"] for c in cells_by(report, runtime="flatpak")} == {"default", "flatpak:run"}
    delivered = {}
    for c in cells_by(report, kind="raw"):
        delivered.setdefault((c["runtime"], c["profile"]), {}).update(c["delivered"])
    real = delivered[("flatpak", "default")]
    assert len(real) > 60  # every raw probe of x86_64
    # what the source says, measured through real flatpak
    assert {s: real[s] for s in ("clone3", "fsopen", "mount_setattr", "setns", "unshare", "faccessat2")} == \
        {"clone3": "ENOSYS", "fsopen": "ENOSYS", "mount_setattr": "ENOSYS", "setns": "EPERM", "unshare": "EPERM",
         "faccessat2": "allowed"}
    assert delivered[("bwrap", "flatpak:run")] == real  # the reproduction delivers what flatpak does, per syscall
    assert delivered[("flatpak", "flatpak:run")] == real
    thread = cells_by(report, runtime="flatpak", profile="default", probe="pthread_create")[0]
    assert thread["works"] is True  # clone3 ENOSYS: glibc falls back to clone
    assert report["environment"]["runtimes"]["flatpak"]["oci_runtime_version"].startswith("Flatpak 1.")
    assert host_traces(session) == before
    assert _flatpak_state() == state
    # the runtime is cached by image content: asked again, it is there at once
    recipe = images.lookup("debian-12")
    marker = installation(recipe) / ".complete"
    stamp, started = marker.stat().st_mtime, time.monotonic()
    assert installation(recipe) / ".complete" == marker and marker.stat().st_mtime == stamp
    assert time.monotonic() - started < 5


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")
def test_a_run_stopped_during_a_flatpak_batch_leaves_nothing(tmp_path):
    _require_flatpak()
    session = "test-flatpak-stop-" + uuid.uuid4().hex[:8]
    before, state = host_traces(session), _flatpak_state()
    rc, out = stop_run("--runtimes", "flatpak", "--images", "debian-12", "--probes", "raw:*",
                       "--profiles", "default,flatpak:run,flatpak:devel",
                       session=session, report_dir=tmp_path, signum=signal.SIGTERM,
                       wait_for=lambda: bool(host_traces(session)["processes"]))
    if rc == 0:
        pytest.fail(f"the run ended before the signal; choose a longer selection\n{out[-2000:]}")
    assert_stopped_cleanly(rc, out, session, "SIGTERM")
    assert host_traces(session) == before
    leftover = subprocess.run(["pgrep", "-f", f"FALLBACKCHECK_BATCH=fbc-{session}-"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
    assert _marked_anywhere(session) == []  # the sandboxed runner and probes carry the mark in their environment
    assert _flatpak_state() == state
