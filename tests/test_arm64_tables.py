"""arm64 without an arm64 machine: the syscall table's aarch64 column, and what deny:, vintage:
and file: profiles ask of an arm64 task (issue 33). Engine-free."""

import json

import pytest

from fallbackcheck import profiles, syscalls
from fallbackcheck.seccomp_policy import render_policy


@pytest.mark.parametrize("name, nr, kernel", [
    ("openat", 56, "3.7"),        # the generic table (include/uapi/asm-generic/unistd.h)
    ("clone", 220, "3.7"),
    ("faccessat", 48, "3.7"),
    ("newfstatat", 79, "3.7"),
    ("renameat2", 276, "3.15"),
    ("statx", 291, "4.11"),
    ("rseq", 293, "4.19"),        # one release after x86_64 (4.18)
    ("kexec_file_load", 294, "5.0"),
    ("clone3", 435, "5.5"),       # arm64 wired clone3 two releases after x86_64 (5.3)
    ("faccessat2", 439, "5.8"),
    ("fchmodat2", 452, "6.6"),
    ("map_shadow_stack", 453, "6.7"),
])
def test_aarch64_column(name, nr, kernel):
    sc = syscalls.table()[name]
    assert (sc.nr["arm64"], sc.kernel["arm64"]) == (nr, kernel)


@pytest.mark.parametrize("name", ["open", "stat", "access", "fork", "chmod", "lchown", "pipe", "dup2"])
def test_legacy_syscalls_have_no_aarch64_number(name):
    assert "arm64" not in syscalls.table()[name].nr


def test_aarch64_numbers_are_unique():
    numbers = [sc.nr["arm64"] for sc in syscalls.table().values() if "arm64" in sc.nr]
    assert len(numbers) == len(set(numbers)) and len(numbers) > 300


def test_clone3_was_not_on_arm64_in_5_4():
    assert syscalls.existed_in("clone3", "amd64", "5.4") and not syscalls.existed_in("clone3", "arm64", "5.4")
    assert syscalls.existed_in("clone3", "arm64", "5.5")


@pytest.mark.parametrize("pid, syscall, want", [
    ("deny:clone3:EPERM", "clone3", "EPERM"),
    ("deny:clone3:ENOSYS", "clone3", "ENOSYS"),
    ("deny:clone3:EPERM", "clone", "allowed"),
    ("vintage:5.2:EPERM", "clone3", "EPERM"),
    ("vintage:5.2:EPERM", "openat", "allowed"),
    ("vintage:5.2:EPERM", "faccessat2", "EPERM"),
])
def test_arm64_asks(pid, syscall, want):
    assert profiles.parse(pid).asks(syscall, "arm64") == want


def test_generated_profiles_render_the_arm_architectures_for_the_filter_helper():
    policy = render_policy(profiles.parse("deny:clone3:EPERM"))
    assert "arch aarch64\n" in policy and "arch arm\n" in policy


def test_a_profile_lacking_arm_kills_32_bit_arm_tasks_but_not_arm64_ones(tmp_path):
    """An x86-only profile: the arm64 kernel's native arch is filtered all the same (libseccomp
    always adds it), a 32-bit arm task is killed (the bad-architecture action)."""
    path = tmp_path / "x86.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                                "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    p = profiles.parse(f"file:{path}")
    assert p.asks("clone3", "arm64") == "EPERM"
    assert p.asks("clone3", "armhf") == "SIGSYS"
    assert not profiles.covers_arch(p.oci, "armhf") and profiles.covers_arch(p.oci, "arm64")


def test_a_profile_naming_only_arm_still_filters_x86_64_natively():
    p = profiles.Profile("x", "file", {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64"]})
    assert p.asks("read", "amd64") == "allowed" and p.asks("read", "i386") == "SIGSYS"


@pytest.mark.parametrize("libc, arch, delivered, observed, verdict", [
    # aarch64 got its clone3 wrapper in glibc-2.38: before, pthread_create never calls clone3
    ("glibc 2.36", "arm64", "EPERM", ("ok", None), "pass"),
    ("glibc 2.36", "arm64", "EPERM", ("error", "EPERM"), "unexpected"),
    ("glibc 2.41", "arm64", "EPERM", ("error", "EPERM"), "expected-break"),
    ("glibc 2.41", "arm64", "ENOSYS", ("ok", None), "pass"),
    ("glibc 2.36", "amd64", "EPERM", ("error", "EPERM"), "expected-break"),  # x86_64 since 2.34
])
def test_pthread_create_on_arm64_follows_glibcs_aarch64_sources(libc, arch, delivered, observed, verdict):
    from fallbackcheck.catalogue import load
    from fallbackcheck.libc import Libc
    from fallbackcheck.observation import Observation
    from fallbackcheck.verdict import judge_api

    entry = load().api["pthread_create"]
    obs = Observation("pthread_create", observed[0], errno=observed[1], detail="d")
    assert judge_api(entry, obs, {"clone3": delivered}, Libc.parse(libc), arch).verdict == verdict


@pytest.mark.parametrize("compiler", ["gcc", "aarch64-linux-gnu-gcc"])
def test_the_raw_probe_table_compiles_for_each_architecture(compiler):
    """Each row of probes/raw.c needs its number for every architecture (a probe added for
    x86 alone fails only in the arm64 build, at the start of an arm64 run): checked here,
    with no engine and no boot."""
    import shutil
    import subprocess

    from helpers import ROOT, skip_or_fail

    if shutil.which(compiler) is None:
        skip_or_fail(f"{compiler} is not installed (scripts/setup-host)")
    done = subprocess.run([compiler, "-fsyntax-only", "-Wall", "-I", str(ROOT / "probes" / "include"),
                           str(ROOT / "probes" / "raw.c")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
