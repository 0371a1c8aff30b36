"""runc and crun for real inside Debian's 6.12 arm64 kernel in qemu-system-aarch64 (issue 33,
stage 3): Debian 12's runc 1.1.5 and crun 1.8.1 from the OCI host root, an arm64 and an armhf
image, unfiltered, under vintage:5.2:EPERM and under Docker 20.10.24's default profile
(docker-default:bookworm, fetched from Debian's archive). Kept small for CI: four boots (one per
runtime and image), 48 cells.

What it pins down, raw facts first so that a catalogue bent to go green still fails here:
runc's ENOSYS stub answers clone3 and fchmodat2 with ENOSYS for arm64 tasks (above fspick,
433, the largest arm64 number the profile names), and does not for armhf tasks: for
SCMP_ARCH_ARM the largest number named is ARM's private set_tls (0xf0005), so every new
syscall meets the profile's EPERM (runc libcontainer/seccomp/patchbpf/enosys_linux.go,
findLastSyscalls, unchanged from v1.1.5 to main). crun has no stub: EPERM for both. Docker's
own default allows set_tls for "arches": ["arm", "arm64"], so with Docker 20.10's profile lchmod
(fchmodat2, unlisted there) works in arm64 containers and breaks with EPERM in armhf ones: the
report of https://github.com/docker/docker-ce-packaging/issues/1007, reproduced.
"""

import json
import uuid

import pytest

from fallbackcheck.hosts import guest
from helpers import cells_by, load_report, run_suites

pytestmark = pytest.mark.engine

RUNC, CRUN = "runc@linux-6.12-arm64", "crun@linux-6.12-arm64"
VINTAGE = "vintage:5.2:EPERM"
DOCKER_20_10 = "docker-default:bookworm"


def test_runc_stub_covers_arm64_tasks_and_not_armhf_ones_inside_the_arm64_kernel(tmp_path):
    session = f"fbcocia-{uuid.uuid4().hex[:6]}"
    proc = run_suites("--runtimes", f"{RUNC},{CRUN}", "--images", "debian-13-arm64,debian-13-armhf",
                      "--profiles", f"unconfined,{VINTAGE},{DOCKER_20_10}", "--probes", "pthread_create,lchmod,raw:clone3,raw:fchmodat2",
                      report_dir=tmp_path / "report", env={"FALLBACKCHECK_SESSION": session}, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path / "report")
    cells = report["cells"]
    assert len(cells) == 48
    for runtime in (RUNC, CRUN):
        for image, arch in (("debian-13-arm64", "arm64"), ("debian-13-armhf", "armhf")):
            mine = cells_by(report, runtime=runtime, image=image)
            assert {c["arch"] for c in mine} == {arch}
            assert len({c["batch"]["boot"]["boot"] for c in mine}) == 1  # every profile, one boot
        info = report["environment"]["runtimes"][runtime]
        assert info["kernel_arch"] == "arm64" and info["kernel_release"].endswith("-arm64")
        assert info["oci_runtime_version"].startswith(f"{runtime.split('@')[0]} version 1.")
        kind = report["environment"]["runtime_kinds"][runtime]
        assert (kind["kind"], kind["host"]) == (runtime.split("@")[0], "linux-6.12-arm64")

    def cell(runtime, image, probe, profile=VINTAGE):
        found = cells_by(report, runtime=runtime, image=image, probe=probe, profile=profile)
        assert len(found) == 1, (runtime, image, probe, profile)
        return found[0]

    # Unfiltered, the containers call what the kernel has.
    for runtime in (RUNC, CRUN):
        for image in ("debian-13-arm64", "debian-13-armhf"):
            assert cell(runtime, image, "pthread_create", "unconfined")["works"] is True
            assert cell(runtime, image, "raw:fchmodat2", "unconfined")["delivered"] == {"fchmodat2": "allowed"}
    # runc on arm64 tasks: the stub, named in the cell; the fallbacks work.
    for raw, name in (("raw:clone3", "clone3"), ("raw:fchmodat2", "fchmodat2")):
        stubbed = cell(RUNC, "debian-13-arm64", raw)
        assert stubbed["delivered"] == {name: "ENOSYS"}
        assert "runc's ENOSYS stub" in stubbed["behaviour"] and "fspick, 433" in stubbed["behaviour"]
        # runc on armhf tasks and crun on both: the profile's EPERM.
        assert cell(RUNC, "debian-13-armhf", raw)["delivered"] == {name: "EPERM"}
        for image in ("debian-13-arm64", "debian-13-armhf"):
            assert cell(CRUN, image, raw)["delivered"] == {name: "EPERM"}
    for probe in ("pthread_create", "lchmod"):
        assert cell(RUNC, "debian-13-arm64", probe)["works"] is True
        for runtime, image in ((RUNC, "debian-13-armhf"), (CRUN, "debian-13-arm64"), (CRUN, "debian-13-armhf")):
            broken = cell(runtime, image, probe)
            assert (broken["works"], broken["errno"], broken["verdict"]) == (False, "EPERM", "expected-break"), broken
    # Docker 20.10's own default: fchmodat2 is unlisted; runc's stub covers it for arm64 tasks only.
    stubbed = cell(RUNC, "debian-13-arm64", "raw:fchmodat2", DOCKER_20_10)
    assert stubbed["delivered"] == {"fchmodat2": "ENOSYS"} and "runc's ENOSYS stub" in stubbed["behaviour"]
    assert cell(RUNC, "debian-13-arm64", "lchmod", DOCKER_20_10)["works"] is True
    for runtime, image in ((RUNC, "debian-13-armhf"), (CRUN, "debian-13-arm64"), (CRUN, "debian-13-armhf")):
        assert cell(runtime, image, "raw:fchmodat2", DOCKER_20_10)["delivered"] == {"fchmodat2": "EPERM"}
        broken = cell(runtime, image, "lchmod", DOCKER_20_10)
        assert (broken["works"], broken["errno"], broken["verdict"]) == (False, "EPERM", "expected-break"), broken
        # clone3 has Docker's own ENOSYS rule (moby #42681): pthread_create works everywhere
        assert cell(runtime, image, "pthread_create", DOCKER_20_10)["works"] is True
    facts = report["selection"]["profile_facts"][DOCKER_20_10]
    assert facts["family"] == "docker-default" and facts["source"].startswith("golang-github-docker-docker-dev 20.10.24")
    # What runc and crun were handed is recorded, and it is what was asked.
    vintage = cell(RUNC, "debian-13-armhf", "raw:clone3")
    assert vintage["batch"]["received_profile"].startswith("sha256:")
    assert not vintage["batch"].get("profile_changes")
    assert all(c["verdict"] not in ("unexpected", "error") for c in cells), \
        [(c["runtime"], c["image"], c["probe"], c["profile"], c.get("detail")) for c in cells if c["verdict"] != "pass"]
    assert guest.leftovers(session) == []


def test_a_runtime_that_hangs_in_the_guest_costs_only_its_own_batch(tmp_path):
    """runc 1.1.5 never returns when its container's init meets a filter that denies all but
    read (measured: `runc run` still running 200 s later). Each batch has its own limit inside
    the guest (timeout(1)), so the boot's next batch is measured and the hung one says why."""
    session = f"fbcociht-{uuid.uuid4().hex[:6]}"
    deny_all = tmp_path / "deny-all.json"
    deny_all.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64"],
                                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}))
    proc = run_suites("--runtimes", RUNC, "--images", "debian-13-arm64", "--probe-timeout", "1",
                      "--profiles", f"unconfined,file:{deny_all},deny:clone3:EPERM", "--probes", "raw:clone3",
                      report_dir=tmp_path / "report", env={"FALLBACKCHECK_SESSION": session}, timeout=1200)
    report = load_report(tmp_path / "report")
    got = {c["profile"]: c for c in report["cells"]}
    assert len({c["batch"]["boot"]["boot"] for c in got.values()}) == 1  # one boot
    hung = got[f"file:{deny_all}"]
    assert hung["verdict"] == "error" and "did not finish within 62 s in the guest" in hung["detail"], hung["detail"]
    assert got["deny:clone3:EPERM"]["delivered"] == {"clone3": "EPERM"}  # measured after it, same boot
    assert got["unconfined"]["delivered"] == {"clone3": "allowed"}
    assert proc.returncode == 1  # the errored cell fails the run, as it should
    assert guest.leftovers(session) == []


def test_runc_and_crun_inside_debian_12s_x86_kernel(tmp_path):
    """The x86 kernel hosts have an OCI host root too (Debian 12's amd64 runc and crun). Linux 6.1
    has no fchmodat2 (6.6): unfiltered, lchmod falls back on the kernel's ENOSYS; under
    vintage:5.2:EPERM runc's stub answers ENOSYS before the kernel is asked, and crun's filter
    answers EPERM, so lchmod breaks even on a kernel that lacks the syscall."""
    session = f"fbcocix-{uuid.uuid4().hex[:6]}"
    runc, crun = "runc@linux-6.1", "crun@linux-6.1"
    proc = run_suites("--runtimes", f"{runc},{crun}", "--images", "debian-13", "--profiles", f"unconfined,{VINTAGE}",
                      "--probes", "lchmod,raw:fchmodat2", report_dir=tmp_path / "report",
                      env={"FALLBACKCHECK_SESSION": session}, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path / "report")
    got = {(c["runtime"], c["probe"], c["profile"]): c for c in report["cells"]}
    assert len(got) == 8 and {c["arch"] for c in got.values()} == {"amd64"}
    assert report["environment"]["runtimes"][runc]["kernel_release"].startswith("6.1.")
    for runtime in (runc, crun):
        assert got[(runtime, "raw:fchmodat2", "unconfined")]["na_reason"].startswith("kernel-lacks")
        assert got[(runtime, "lchmod", "unconfined")]["works"] is True
    # ENOSYS where the kernel lacks the call is the kernel's answer as far as a cell can tell
    assert got[(runc, "raw:fchmodat2", VINTAGE)]["delivered"] == {"fchmodat2": "kernel-ENOSYS"}
    assert got[(runc, "lchmod", VINTAGE)]["works"] is True
    assert got[(crun, "raw:fchmodat2", VINTAGE)]["delivered"] == {"fchmodat2": "EPERM"}
    broken = got[(crun, "lchmod", VINTAGE)]
    assert (broken["works"], broken["errno"], broken["verdict"]) == (False, "EPERM", "expected-break"), broken
    assert guest.leftovers(session) == []
