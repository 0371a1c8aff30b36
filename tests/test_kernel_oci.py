"""runc@<kernel host> and crun@<kernel host> without a boot: how the ids resolve, what the guest
script builds for an OCI runtime's host, and the bundles a batch hands runc or crun."""

import json
from pathlib import Path

import pytest

from fallbackcheck.batches.launch import BatchPlan
from fallbackcheck.errors import UsageError
from fallbackcheck.hosts import guest
from fallbackcheck.model.profiles import parse
from fallbackcheck.runtimes import registry
from fallbackcheck.runtimes.kernel import KernelRuntime
from fallbackcheck.runtimes.kernel_oci import KernelOciRuntime, _package_versions, _upstream
from fallbackcheck.runtimes.oci import OciRuntime


def test_runc_and_crun_at_an_arm64_kernel_host_run_inside_it():
    for binary in ("runc", "crun"):
        runtime = registry.get(f"{binary}@linux-6.12-arm64")
        assert isinstance(runtime, KernelOciRuntime)
        facts = runtime.kind_facts()
        assert (facts["kind"], facts["host"], facts["shared_column"]) == (binary, "linux-6.12-arm64", None)
        assert runtime.runs_arch("armhf") and runtime.runs_arch("arm64") and not runtime.runs_arch("amd64")
    assert type(registry.get("local@linux-6.12-arm64")) is KernelRuntime


def test_the_x86_kernel_hosts_have_their_own_oci_host_root():
    runtime = registry.get("crun@linux-6.1")
    assert isinstance(runtime, KernelOciRuntime) and runtime.kernel_arch == "amd64"
    assert runtime._oci_recipe().id == "oci-host-debian-12" and runtime._oci_recipe().arch == "amd64"
    assert runtime.runs_arch("i386") and not runtime.runs_arch("arm64")
    assert registry.get("runc@linux-6.12-arm64")._oci_recipe().id == "oci-host-debian-12-arm64"


def test_runc_at_a_generation_is_still_an_engine_generation_runtime():
    assert isinstance(registry.get("runc@debian-13"), OciRuntime)
    assert not isinstance(registry.get("runc@debian-13"), KernelOciRuntime)


def test_the_guest_builds_an_oci_host_whose_containers_root_is_a_tmpfs():
    script = guest.boot_script([["runc", "run", "--bundle", "/fbc-work/bundle-0", "fbc-0"]], chroot=True,
                               oci_host=True)
    assert "run 0 /bin/chroot /h runc run --bundle /fbc-work/bundle-0 fbc-0" in script  # (the argv as given)
    # runc pivots into /ctr: it must be a mount of its own, off the initramfs
    assert "mount -t tmpfs -o mode=755 ctr $H/ctr" in script and "graft /img $H/ctr" in script
    assert "mount -t cgroup2 cgroup2 $H/sys/fs/cgroup" in script  # runc and crun place each container
    assert "mount -t tmpfs -o mode=755 run $H/run" in script  # their state
    assert "/new" not in script
    plain = guest.boot_script([["/fbc/arm64/runner"]], chroot=True)
    assert "/bin/chroot /new /fbc/arm64/runner" in plain and "$H" not in plain


def _plan(profile: str, arch: str) -> BatchPlan:
    return BatchPlan(image_id=f"debian-13-{arch}", image_ref="/cache/rootfs/x", arch=arch, profile=parse(profile),
                     specs=(f"raw:clone3=/fbc/{arch}/raw clone3",), probe_dir=Path("/cache/probes"),
                     probe_timeout_s=10, session="s")


def test_each_batch_is_a_bundle_of_the_image_at_ctr_with_the_profile_as_written(tmp_path):
    runtime = registry.get("runc@linux-6.12-arm64")
    commands, received = runtime._commands([_plan("unconfined", "armhf"), _plan("vintage:5.2:EPERM", "armhf")],
                                           tmp_path)
    limit = f"{_plan('unconfined', 'armhf').overall_timeout_s:g}"  # each batch its own limit in the guest
    assert commands == [["timeout", "-k", "5", limit, "runc", "run", "--bundle", "/fbc-work/bundle-0", "fbc-0"],
                        ["timeout", "-k", "5", limit, "runc", "run", "--bundle", "/fbc-work/bundle-1", "fbc-1"]]
    first, second = (json.loads((tmp_path / f"bundle-{n}" / "config.json").read_text()) for n in (0, 1))
    assert first["root"] == {"path": "/ctr", "readonly": True}
    assert {m["destination"]: m["source"] for m in first["mounts"]}["/fbc"] == "/fbc"
    # the kernel's own runner (static arm64) runs the armhf probes
    assert first["process"]["args"][0] == "/fbc/arm64/runner"
    assert "seccomp" not in first["linux"] and received[0] == {}
    assert second["linux"]["seccomp"] == received[1]
    assert "SCMP_ARCH_ARM" in received[1]["architectures"] and received[1]["defaultErrnoRet"] == 1


def test_versions_are_read_from_the_oci_host_roots_dpkg_status(tmp_path):
    status = tmp_path / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: runc\nStatus: install ok installed\nVersion: 1.1.5+ds1-1+deb12u1\n\n"
                      "Package: crun\nStatus: deinstall ok config-files\nVersion: 1.8.1-1\n\n"
                      "Package: libseccomp2\nStatus: install ok installed\nVersion: 2.5.4-1+deb12u1\n")
    found = _package_versions(tmp_path, ("runc", "crun", "libseccomp2"))
    assert found == {"runc": "1.1.5+ds1-1+deb12u1", "crun": None, "libseccomp2": "2.5.4-1+deb12u1"}
    assert _upstream("1.1.5+ds1-1+deb12u1") == "1.1.5+ds1" and _upstream("2.5.4") == "2.5.4"


# A Docker-format profile with the shape of Docker's default: ARM's private calls only for
# "arches": ["arm", "arm64"], and an archMap entry per machine (moby profiles/seccomp).
DOCKER_SHAPED = {
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [{"names": ["read", "write", "clone"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["set_tls", "cacheflush", "breakpoint"], "action": "SCMP_ACT_ALLOW",
                  "includes": {"arches": ["arm", "arm64"]}},
                 {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}}],
}


def test_a_docker_format_profile_is_resolved_for_the_machine_the_runtime_runs_on(tmp_path):
    from fallbackcheck.batches.received import changes
    from fallbackcheck.model.profiles import asks_of, covers_arch
    from fallbackcheck.model.seccomp_json import resolve

    on_arm = resolve(DOCKER_SHAPED, kernel_arch="arm64")
    on_x86 = resolve(DOCKER_SHAPED, kernel_arch="amd64")
    assert on_arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert on_x86["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    names = lambda plain: {n for rule in plain["syscalls"] for n in rule["names"]}  # noqa: E731
    assert {"set_tls", "cacheflush"} <= names(on_arm) and "arch_prctl" not in names(on_arm)
    assert "set_tls" not in names(on_x86) and "arch_prctl" in names(on_x86)
    # What judging reads for an armhf cell is what Docker on an arm64 machine hands its runtime.
    assert asks_of(DOCKER_SHAPED, "set_tls", "armhf") == "allowed"
    assert covers_arch(DOCKER_SHAPED, "armhf") and covers_arch(DOCKER_SHAPED, "i386")
    assert not covers_arch(resolve(DOCKER_SHAPED, kernel_arch="amd64"), "armhf")  # x86's archMap entry only
    # The bundle handed to runc inside the arm64 kernel host carries the arm64 resolution ...
    from fallbackcheck.model.profiles import Profile

    plan = _plan("unconfined", "armhf")
    plan = BatchPlan(**{**plan.__dict__, "profile": Profile("file:docker-shaped", "file", DOCKER_SHAPED)})
    _, received = registry.get("runc@linux-6.12-arm64")._commands([plan], tmp_path)
    assert received[0] == on_arm
    # ... which is not a change from what was asked, on that machine.
    assert changes(DOCKER_SHAPED, received[0], kernel_arch="arm64") == []
    assert changes(DOCKER_SHAPED, received[0]) != []  # resolved for this x86 machine, it would differ


def test_the_kernel_hosts_view_reads_each_kernels_own_arch_from_its_baseline():
    from fallbackcheck.report.kernel_views import _kernel_hosts

    info = {"kernel_host": "linux-6.12-arm64", "kernel_release": "6.12.118+deb13-arm64", "kernel_package": "p"}
    report = {"cells": [], "environment": {
        "runtimes": {"runc@linux-6.12-arm64": {**info, "kernel_arch": "arm64"},
                     "local@linux-6.1": {"kernel_host": "linux-6.1", "kernel_release": "6.1.0-57-amd64",
                                         "kernel_package": "q"}},
        "kernel_baseline": {"linux-6.12-arm64": {"kernel": "6.12.118+deb13-arm64",
                                                 "lacks": {"arm64": ["listns"], "armhf": ["listns", "x"]}},
                            "linux-6.1": {"kernel": "6.1.0-57-amd64", "lacks": {"amd64": []}}}}}
    [table] = _kernel_hosts(report)
    lacks = {row[0]: row[-1] for row in table.rows}
    assert lacks == {"`runc@linux-6.12-arm64`": "listns", "`local@linux-6.1`": "nothing"}


def test_without_mmdebstrap_and_no_built_root_it_says_what_to_run(tmp_path, monkeypatch):
    import shutil as shutil_mod

    from fallbackcheck.runtimes import kernel_oci

    runtime = KernelOciRuntime("crun", "linux-6.12-arm64")
    monkeypatch.setattr(KernelRuntime, "unavailable_reason", lambda self: None)
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))  # nothing built here
    monkeypatch.setattr(kernel_oci.shutil, "which", lambda name: None if name == "mmdebstrap" else shutil_mod.which(name))
    reason = runtime.unavailable_reason()
    assert reason == ("mmdebstrap missing (it builds oci-host-debian-12-arm64, where crun runs): "
                      "run scripts/setup-host")
