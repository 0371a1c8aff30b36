"""arm64 without an arm64 machine: the syscall table's aarch64 column, and what deny:, vintage:
and file: profiles ask of an arm64 task (issue 33). Engine-free."""

import json

import pytest

from fallbackcheck.model import profiles, syscalls
from fallbackcheck.model.seccomp_policy import render_policy


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
    from fallbackcheck.model.catalogue import load
    from fallbackcheck.model.libc import Libc
    from fallbackcheck.batches.observation import Observation
    from fallbackcheck.judging.verdict import judge_api

    entry = load().api["pthread_create"]
    obs = Observation("pthread_create", observed[0], errno=observed[1], detail="d")
    assert judge_api(entry, obs, {"clone3": delivered}, Libc.parse(libc), arch).verdict == verdict


# The API entries that run on arm64 (issue 33, stages 1 and 2): each checked at glibc's aarch64
# sources. An entry added here without that check, or opted in by accident, fails this test.
ARM64_APIS = {"pthread_create", "pthread_create.errno_after", "faccessat", "faccessat.eaccess",
              "faccessat.errno_after", "lchmod", "closefrom", "close_range", "epoll_pwait2", "statx",
              "stat", "stat.errno_after", "fstat", "lstat", "fstatat", "posix_spawn", "access", "euidaccess",
              "realpath", "realpath.dotdot", "renameat2", "openat2"}


def test_the_api_entries_opted_in_to_arm64():
    from fallbackcheck.model.catalogue import load

    assert {i for i, e in load().api.items() if "arm64" in e.arches} == ARM64_APIS


def _judge(entry_id, libc, arch, delivered, observed):
    from fallbackcheck.model.catalogue import load
    from fallbackcheck.model.libc import Libc
    from fallbackcheck.batches.observation import Observation
    from fallbackcheck.judging.verdict import judge_api

    entry = load().api[entry_id]
    obs = Observation(entry_id, observed[0], errno=observed[1], detail="d")
    return judge_api(entry, obs, {entry.syscalls[0]: delivered}, Libc.parse(libc), arch)


@pytest.mark.parametrize("entry", ["stat", "fstat", "lstat", "fstatat"])
@pytest.mark.parametrize("libc", ["glibc 2.36", "glibc 2.41"])
def test_the_stat_family_never_calls_statx_on_arm64(entry, libc):
    """aarch64 is a 64-bit kABI with newfstatat: glibc's FSTATAT_USE_STATX is 0 there (unlike
    i386 from 2.33), so a filter denying statx breaks none of them."""
    judged = _judge(entry, libc, "arm64", "EPERM", ("ok", None))
    assert judged.verdict == "pass" and "aarch64" in judged.source
    assert _judge(entry, libc, "arm64", "EPERM", ("error", "EPERM")).verdict == "unexpected"
    assert _judge(entry, libc, "i386", "EPERM", ("error", "EPERM")).verdict == "expected-break"


@pytest.mark.parametrize("entry, delivered, observed, verdict", [
    ("statx", "ENOSYS", ("ok", None), "pass"),            # statx_generic: aarch64's minimum kernel 3.7 < 4.11
    ("statx", "EPERM", ("error", "EPERM"), "expected-break"),
    ("closefrom", "EPERM", ("ok", None), "pass"),          # /proc/self/fd fallback on any error
    ("close_range", "ENOSYS", ("error", "ENOSYS"), "pass"),
    ("close_range", "EPERM", ("error", "EPERM"), "expected-break"),
    ("epoll_pwait2", "EPERM", ("error", "EPERM"), "expected-break"),
])
def test_the_generic_wrappers_hold_on_arm64(entry, delivered, observed, verdict):
    judged = _judge(entry, "glibc 2.36", "arm64", delivered, observed)
    assert judged.verdict == verdict and "aarch64" in judged.source


@pytest.mark.parametrize("libc, delivered, observed, verdict", [
    # spawni.c goes through __clone_internal, which has no clone3 on aarch64 before 2.38
    ("glibc 2.36", "EPERM", ("ok", None), "pass"),
    ("glibc 2.36", "EPERM", ("error", "EPERM"), "unexpected"),
    ("glibc 2.41", "EPERM", ("error", "EPERM"), "expected-break"),
    ("glibc 2.41", "EINVAL", ("ok", None), "pass"),
])
def test_posix_spawn_on_arm64_follows_the_clone3_wrapper(libc, delivered, observed, verdict):
    assert _judge("posix_spawn", libc, "arm64", delivered, observed).verdict == verdict
    if libc == "glibc 2.36" and delivered == "EPERM" and observed[0] == "error":
        assert _judge("posix_spawn", libc, "amd64", delivered, observed).verdict == "expected-break"


def test_access_on_arm64_is_faccessat_not_access():
    judged = _judge("access", "glibc 2.41", "arm64", "EPERM", ("ok", None))
    assert judged.verdict == "pass" and "no __NR_access" in judged.source
    assert "faccessat" in judged.source and "access syscall where __NR_access exists" not in judged.source


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
