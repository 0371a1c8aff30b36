"""--runtimes systemd-run: each batch a transient systemd service (SystemCallFilter=) in a
container whose PID 1 is systemd; the host's cgroup tree must stay as it was."""

import json
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import assert_stopped_cleanly, cells_by, host_traces, load_report, run_suites, skip_or_fail, stop_run

SELECTION = ("--runtimes", "systemd-run", "--images", "debian-12",
             "--profiles", "unconfined,default,deny:clone3:EPERM,deny:clone3:ENOSYS",
             "--probes", "pthread_create,lchmod,raw:*")


def test_each_profile_family_becomes_unit_properties():
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes.systemdrun import filter_properties

    assert filter_properties(profiles.parse("unconfined")) == []
    assert filter_properties(profiles.parse("default")) == ["SystemCallFilter=@system-service",
                                                             "SystemCallErrorNumber=EPERM"]
    assert filter_properties(profiles.parse("deny:clone3:EPERM")) == ["SystemCallFilter=~clone3:EPERM"]
    assert filter_properties(profiles.parse("deny:clone3,fchmodat2:ENOSYS")) == \
        ["SystemCallFilter=~clone3:ENOSYS fchmodat2:ENOSYS"]
    allow, deny, number = filter_properties(profiles.parse("vintage:5.2:ENOSYS"))
    assert number == "SystemCallErrorNumber=ENOSYS"
    names = allow.removeprefix("SystemCallFilter=").split()
    assert "openat" in names and "clone3" not in names and "faccessat2" not in names
    # systemd adds @default (futex_waitv, Linux 5.16, among them) to an allow list: taken out again
    taken_out = deny.removeprefix("SystemCallFilter=~").split()
    assert {"clone3", "faccessat2", "futex_waitv"} <= set(taken_out) and not set(taken_out) & set(names)


def test_what_systemd_cannot_be_handed_is_left_out_with_the_reason(tmp_path):
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes.systemdrun import SystemdRunRuntime

    runtime = SystemdRunRuntime()
    for supported in ("unconfined", "default", "deny:clone3:ENOSYS", "vintage:3.10:EPERM"):
        assert runtime.unsupported_profile(profiles.parse(supported)) is None, supported
    one_arch = tmp_path / "one-arch.json"
    one_arch.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                                    "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}))
    assert "leaves out architectures" in runtime.unsupported_profile(profiles.parse(f"file:{one_arch}"))
    conditional = tmp_path / "args.json"
    conditional.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}))
    assert "argument conditions" in runtime.unsupported_profile(profiles.parse(f"file:{conditional}"))
    assert "has no filter of its own" in runtime.unsupported_profile(profiles.parse("own:seccomp"))
    # what it asks is the profile's own for deny and allow lists; systemd's groups are measured
    assert profiles.parse("deny:clone3:ENOSYS").asks("clone3", "amd64", runtime) == "ENOSYS"
    assert profiles.parse("default").asks("clone3", "amd64", runtime) is None


def test_its_ids_name_systemd_hosts_not_engine_generations():
    from fallbackcheck.errors import UsageError
    from fallbackcheck.runtimes import get
    from fallbackcheck.runtimes.registry import expand

    assert get("systemd-run").id == "systemd-run"
    assert expand("systemd-run@*")[0] == "systemd-run"
    with pytest.raises(UsageError, match="no systemd host of that name"):
        get("systemd-run@nowhere")


def _require_systemd_run():
    from fallbackcheck.engines.docker import engine

    reason = engine().unavailable_reason()
    if reason:
        skip_or_fail(f"the systemd host is a container on the Docker engine: {reason}")


def cgroup_view(session: str) -> dict:
    """The host's cgroup tree two levels deep (other runs' nspawn batch cgroups left out), its
    mounts, and the cgroups Docker left for containers that no longer exist."""
    tree = subprocess.run(["find", "/sys/fs/cgroup", "-maxdepth", "2"], capture_output=True, text=True).stdout.split()
    tree = [p for p in tree if not Path(p).name.startswith("fbc-") or Path(p).name.startswith(f"fbc-{session}-")]
    mounts = subprocess.run(["findmnt", "-R", "-n", "-o", "TARGET,FSTYPE,OPTIONS", "/sys/fs/cgroup"],
                            capture_output=True, text=True).stdout
    containers = set(subprocess.run(["docker", "ps", "-aq", "--no-trunc"], capture_output=True, text=True).stdout.split())
    orphans = sorted(str(d) for d in Path("/sys/fs/cgroup").glob("*/docker/*")
                     if d.is_dir() and len(d.name) == 64 and d.name not in containers)
    return {"tree": sorted(tree), "mounts": mounts, "orphans": orphans}


def _left_containers(session: str) -> list[str]:
    return subprocess.run(["docker", "ps", "-aq", "--filter", f"label=fallbackcheck.session={session}"],
                          capture_output=True, text=True).stdout.split()


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")  # one at a time: they compare the host before and after
def test_systemd_run_measures_its_profiles_and_leaves_the_host_as_it_was(tmp_path):
    _require_systemd_run()
    session = "test-sysrun-" + uuid.uuid4().hex[:8]
    before, cgroups = host_traces(session), cgroup_view(session)
    proc = run_suites(*SELECTION, report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": session}, timeout=900)
    report = load_report(tmp_path)
    assert report["complete"] and not cells_by(report, verdict="error"), proc.stdout[-2000:]
    assert not cells_by(report, verdict="unexpected"), [(c["probe"], c["profile"], c["detail"])
                                                        for c in cells_by(report, verdict="unexpected")]
    got = {(c["probe"], c["profile"]): c for c in report["cells"]}
    clone3 = {p: got[("raw:clone3", p)]["delivered"]["clone3"]
              for p in ("unconfined", "default", "deny:clone3:EPERM", "deny:clone3:ENOSYS")}
    # the errno per name is honoured; @system-service holds clone3 (@process)
    assert clone3 == {"unconfined": "allowed", "default": "allowed", "deny:clone3:EPERM": "EPERM",
                      "deny:clone3:ENOSYS": "ENOSYS"}
    eperm = got[("pthread_create", "deny:clone3:EPERM")]
    assert (eperm["works"], eperm["errno"], eperm["verdict"]) == (False, "EPERM", "expected-break")
    assert got[("pthread_create", "deny:clone3:ENOSYS")]["works"] is True  # glibc fell back to clone
    # systemd 252's default: EPERM for a syscall outside @system-service (pidfd_getfd is @debug) and for
    # one its libseccomp cannot name (mseal, Linux 6.10): the allow list's default action
    default = {probe.removeprefix("raw:"): c["delivered"] for (probe, profile), c in got.items()
               if profile == "default" and probe.startswith("raw:")}
    assert default["pidfd_getfd"]["pidfd_getfd"] == default["mseal"]["mseal"] == "EPERM"
    assert got[("raw:mseal", "default")]["na_reason"] == "profile-unreadable"
    assert got[("raw:mseal", "unconfined")]["delivered"]["mseal"] == "allowed"
    assert report["environment"]["runtimes"]["systemd-run"]["oci_runtime_version"].startswith("systemd 252 ")
    assert _left_containers(session) == []
    assert host_traces(session) == before
    assert cgroup_view(session) == cgroups


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")
def test_a_run_stopped_during_a_systemd_run_batch_leaves_nothing(tmp_path):
    _require_systemd_run()
    session = "test-sysrun-stop-" + uuid.uuid4().hex[:8]
    before, cgroups = host_traces(session), cgroup_view(session)
    profiles = ",".join(f"deny:clone3:{e}" for e in ("EPERM", "ENOSYS", "EACCES", "EINVAL", "EBUSY", "EIO"))
    rc, out = stop_run("--runtimes", "systemd-run", "--images", "debian-12", "--probes", "raw:*",
                       "--profiles", f"unconfined,default,{profiles}", session=session, report_dir=tmp_path,
                       signum=signal.SIGTERM, wait_for=lambda: bool(host_traces(session)["processes"]))
    if rc == 0:
        pytest.fail(f"the run ended before the signal; choose a longer selection\n{out[-2000:]}")
    assert_stopped_cleanly(rc, out, session, "SIGTERM")
    assert _left_containers(session) == []
    assert host_traces(session) == before
    assert cgroup_view(session) == cgroups


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")
def test_newer_systemd_answers_enosys_where_252_answers_eperm(tmp_path):
    """systemd-run@debian-13 (systemd 257): for an allow list, a syscall its libseccomp or @known
    set lacks is answered ENOSYS (systemd PR 30291, in 255), where systemd 252 answers the list's
    errno; the conformance cell names that behaviour instead of failing."""
    _require_systemd_run()
    session = "test-sysrun-new-" + uuid.uuid4().hex[:8]
    before, cgroups = host_traces(session), cgroup_view(session)
    proc = run_suites("--runtimes", "systemd-run,systemd-run@debian-13", "--images", "debian-13",
                      "--profiles", "default,vintage:5.4:EPERM", "--no-fixes",
                      "--probes", "raw:file_getattr,raw:pidfd_getfd,raw:clone3,raw:cachestat",
                      report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": session}, timeout=900)
    report = load_report(tmp_path)
    assert not cells_by(report, verdict="error") and not cells_by(report, verdict="unexpected"), proc.stdout[-2000:]
    got = {(c["runtime"], c["probe"], c["profile"]): c for c in report["cells"]}
    old, new = "systemd-run", "systemd-run@debian-13"
    assert report["environment"]["runtimes"][new]["oci_runtime_version"].startswith("systemd 257 ")
    # its `@debian-13` names a systemd host, not the engine generation of that name
    assert report["environment"]["engine_hosts"] == {}
    assert report["environment"]["runtime_kinds"][new]["host"] == "debian-13"
    # file_getattr (Linux 6.17) is beyond both: 252 answers the list's EPERM, 257 ENOSYS
    assert got[(old, "raw:file_getattr", "default")]["delivered"]["file_getattr"] == "EPERM"
    assert got[(new, "raw:file_getattr", "default")]["delivered"]["file_getattr"] == "ENOSYS"
    vintage = got[(new, "raw:file_getattr", "vintage:5.4:EPERM")]
    assert vintage["delivered"]["file_getattr"] == "ENOSYS" and vintage["verdict"] == "pass"
    assert "PR 30291" in vintage["behaviour"], vintage
    assert got[(old, "raw:file_getattr", "vintage:5.4:EPERM")]["delivered"]["file_getattr"] == "EPERM"
    # a syscall 257 knows but @system-service leaves out is still EPERM; clone3 is allowed by both
    for runtime in (old, new):
        assert got[(runtime, "raw:pidfd_getfd", "default")]["delivered"]["pidfd_getfd"] == "EPERM"
        assert got[(runtime, "raw:clone3", "default")]["delivered"]["clone3"] == "allowed"
    assert _left_containers(session) == []
    assert host_traces(session) == before
    assert cgroup_view(session) == cgroups
