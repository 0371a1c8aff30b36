"""armhf (32-bit ARM EABI tasks on the arm64 kernel hosts) without a boot: the syscall table's
arm column, what generated profiles render and ask for an armhf task, and the armhf build's
share (issue 33). Engine-free."""

import json

import pytest

from fallbackcheck.model import profiles, syscalls
from fallbackcheck.model.seccomp_policy import render_policy


@pytest.mark.parametrize("name, nr, kernel", [
    ("open", 5, "3.0"),            # arch/arm/tools/syscall.tbl keeps the legacy calls, as i386 does
    ("access", 33, "3.0"),
    ("clone", 120, "3.0"),
    ("socket", 281, "3.0"),        # arm EABI always had direct socket calls (i386: 4.3)
    ("semget", 299, "3.0"),        # and direct SysV IPC (i386: 5.1)
    ("fstatat64", 327, "3.0"),
    ("faccessat", 334, "3.0"),
    ("statx", 397, "4.11"),
    ("rseq", 398, "4.18"),
    ("clock_gettime64", 403, "5.1"),  # the time64 calls: i386's numbers, the unified table
    ("futex_time64", 422, "5.1"),
    ("clone3", 435, "5.3"),
    ("faccessat2", 439, "5.8"),
    ("fchmodat2", 452, "6.6"),
    ("set_tls", 0x0f0005, "3.0"),  # ARM-private (__ARM_NR_BASE + 5): glibc's TLS set-up
])
def test_arm_column(name, nr, kernel):
    sc = syscalls.table()[name]
    assert (sc.nr["armhf"], sc.kernel["armhf"]) == (nr, kernel)


@pytest.mark.parametrize("name", ["newfstatat", "memfd_secret", "arch_prctl", "socketcall", "ipc"])
def test_what_arm_eabi_lacks(name):
    assert "armhf" not in syscalls.table()[name].nr


def test_arm_numbers_are_unique():
    numbers = [sc.nr["armhf"] for sc in syscalls.table().values() if "armhf" in sc.nr]
    assert len(numbers) == len(set(numbers)) and len(numbers) == 430


def test_the_raw_probes_numbers_for_armhf_are_the_tables():
    from fallbackcheck.model.catalogue import load

    raw = [e for e in load().raw.values() if e.exists_on("armhf") and e.syscall != "unassigned"]
    assert len(raw) > 80
    assert all(e.nr["armhf"] == syscalls.table()[e.syscall].nr["armhf"] for e in raw)


@pytest.mark.parametrize("pid", ["deny:clone3:EPERM", "vintage:5.2:EPERM"])
def test_generated_profiles_name_scmp_arch_arm(pid):
    p = profiles.parse(pid)
    assert "SCMP_ARCH_ARM" in p.oci["architectures"] and profiles.covers_arch(p.oci, "armhf")
    assert "arch arm\n" in render_policy(p)


@pytest.mark.parametrize("pid, syscall, want", [
    ("deny:clock_gettime64:EPERM", "clock_gettime64", "EPERM"),
    ("deny:clone3:ENOSYS", "clone3", "ENOSYS"),
    ("vintage:5.2:EPERM", "clone3", "EPERM"),          # arm: 5.3
    ("vintage:5.2:EPERM", "clock_gettime64", "allowed"),
    ("vintage:5.2:EPERM", "statx", "allowed"),
    ("vintage:5.2:EPERM", "set_tls", "allowed"),       # or no armhf program would start
    ("vintage:5.2:EPERM", "cacheflush", "allowed"),
    ("vintage:5.2:EPERM", "faccessat2", "EPERM"),
])
def test_armhf_asks(pid, syscall, want):
    assert profiles.parse(pid).asks(syscall, "armhf") == want


def test_a_profile_lacking_scmp_arch_arm_kills_armhf_tasks(tmp_path):
    """As i386 without SCMP_ARCH_X86: the filter helper is the arm64 kernel's own (libseccomp
    adds only that native arch), so a 32-bit arm task meets the bad-architecture action."""
    path = tmp_path / "arm64-only.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64"],
                                "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    p = profiles.parse(f"file:{path}")
    assert p.asks("clone3", "arm64") == "EPERM"
    assert p.asks("clone3", "armhf") == p.asks("read", "armhf") == "SIGSYS"
    assert "arch arm\n" not in render_policy(p)


def test_the_share_holds_the_kernels_runner_beside_the_armhf_probes(tmp_path, monkeypatch):
    """An armhf batch runs /fbc/arm64/runner with /fbc/armhf/<probe>: share() links the two
    per-arch builds into one directory, once, and says which pairs exist."""
    from fallbackcheck.artefacts import crossbuild

    builds = {}
    for arch in ("arm64", "armhf"):
        root = tmp_path / "probes" / f"cross-key{arch}"
        (root / arch).mkdir(parents=True)
        (root / arch / "runner").write_text(arch)
        builds[arch] = root
    monkeypatch.setattr(crossbuild, "build", lambda arch: builds[arch])
    monkeypatch.setattr(crossbuild, "cache_dir", lambda: tmp_path)
    share = crossbuild.share("arm64", "armhf")
    assert share.name == "cross-keyarm64-keyarmhf" and (share / ".complete").exists()
    assert (share / "arm64" / "runner").read_text() == "arm64" and (share / "armhf" / "runner").read_text() == "armhf"
    assert (share / "armhf" / "runner").stat().st_ino == (builds["armhf"] / "armhf" / "runner").stat().st_ino
    assert crossbuild.share("arm64", "armhf") == share  # made once
    assert crossbuild.share("arm64", "arm64") == builds["arm64"]
    with pytest.raises(ValueError):
        crossbuild.share("arm64", "i386")


# The API entries that run on armhf (issue 33): each checked at glibc's arm sources (glibc-2.41,
# the image's release). Opting one in without that check fails this test.
ARMHF_APIS = {"pthread_create", "pthread_create.errno_after", "faccessat", "faccessat.eaccess",
              "faccessat.errno_after", "lchmod", "stat", "stat.errno_after", "fstat", "lstat", "fstatat",
              "clock_gettime", "clock_gettime.cputime", "clock", "clock_getres", "timer_gettime", "timer_settime",
              "timerfd_gettime", "sched_rr_get_interval", "recvmmsg", "adjtimex", "ntp_gettime", "clock_nanosleep",
              "nanosleep", "ppoll", "timerfd_settime", "timerfd_settime.y2038", "ppoll.y2038", "ppoll.y2038.stale",
              "ppoll.y2038.after_faccessat", "pselect.y2038", "pselect.y2038.stale", "utimensat", "utimensat.y2038",
              "pthread_cond_timedwait.y2038", "pthread_mutex_timedlock.y2038", "sem_timedwait.y2038",
              "sigtimedwait.y2038", "sigtimedwait.y2038.stale", "semtimedop.y2038", "mq_timedsend.y2038",
              "mq_timedreceive.y2038", "posix_spawn", "closefrom", "statx"}


def test_the_api_entries_opted_in_to_armhf():
    from fallbackcheck.model.catalogue import load

    assert {i for i, e in load().api.items() if "armhf" in e.arches} == ARMHF_APIS


def _judge(entry_id, libc, arch, delivered, observed, detail="d"):
    from fallbackcheck.model.catalogue import load
    from fallbackcheck.model.libc import Libc
    from fallbackcheck.batches.observation import Observation
    from fallbackcheck.judging.verdict import judge_api

    catalogue = load()
    entry = catalogue.api[entry_id]
    obs = Observation(entry_id, observed[0], errno=observed[1], detail=detail)
    return judge_api(entry, obs, delivered, Libc.parse(libc), arch, catalogue.loader)


@pytest.mark.parametrize("libc, delivered, observed, verdict", [
    # arm got its clone3 wrapper in glibc-2.39 (aarch64 in 2.38, x86 in 2.34)
    ("glibc 2.38", "EPERM", ("ok", None), "pass"),
    ("glibc 2.38", "EPERM", ("error", "EPERM"), "unexpected"),
    ("glibc 2.41", "EPERM", ("error", "EPERM"), "expected-break"),
    ("glibc 2.41", "ENOSYS", ("ok", None), "pass"),
])
def test_pthread_create_on_armhf_follows_the_arm_clone3_wrapper(libc, delivered, observed, verdict):
    judged = _judge("pthread_create", libc, "armhf", {"clone3": delivered, "statx": "allowed"}, observed)
    assert judged.verdict == verdict
    if verdict == "pass" and libc == "glibc 2.38":
        assert "b56f7fe79e" in judged.source


@pytest.mark.parametrize("entry", ["stat", "fstat", "lstat", "fstatat"])
def test_the_stat_family_goes_statx_first_on_armhf_as_on_i386(entry):
    """32-bit ARM has no newfstatat: FSTATAT_USE_STATX, so statx's ENOSYS falls back (fstatat64)."""
    judged = _judge(entry, "glibc 2.41", "armhf", {"statx": "ENOSYS"}, ("ok", None))
    assert judged.verdict == "pass" and "armhf as i386" in judged.source
    assert _judge(entry, "glibc 2.41", "armhf", {"statx": "ENOSYS"}, ("error", "ENOSYS")).verdict == "unexpected"


def test_a_denied_statx_stops_armhf_programs_in_the_loader():
    detail = ("stat: observed cannot-start (/fbc/armhf/stat: error while loading shared libraries: libc.so.6: "
              "cannot stat shared object: Operation not permitted)")
    judged = _judge("clock_gettime", "glibc 2.41", "armhf", {"clock_gettime64": "allowed", "statx": "EPERM"},
                    ("cannot-start", None), detail)
    assert judged.verdict == "expected-break" and "armhf as i386" in judged.source
    # on arm64 (newfstatat) the loader never calls statx: the same observation is unexpected there
    assert _judge("stat", "glibc 2.41", "arm64", {"statx": "EPERM"}, ("cannot-start", None), detail).verdict == "unexpected"


def test_an_armhf_task_under_a_profile_without_scmp_arch_arm_is_killed_plainly():
    judged = _judge("clock_gettime", "glibc 2.41", "armhf", {"clock_gettime64": "SIGSYS", "statx": "SIGSYS"},
                    ("abort", None), "killed by SIGSYS")
    assert judged.verdict == "expected-break" and "SCMP_ARCH_ARM" in judged.source


def test_the_vintage_check_reads_the_armhf_baseline_against_the_arm_column():
    """On an arm64 kernel host the armhf baseline is checked too (the arm column), i386 on an
    x86_64 one is not; the table's arm dates and Debian's 6.1 arm64 kernel agree here."""
    from fallbackcheck.judging import vintagecheck

    def report(armhf: dict) -> dict:
        return {"environment": {
            "runtimes": {"local@linux-6.1-arm64": {"kernel_host": "linux-6.1-arm64", "kernel_arch": "arm64",
                                                   "kernel_release": "6.1.0-57-arm64"}},
            "kernel_baseline": {"linux-6.1-arm64": {"arches": {"arm64": {"clone3": "allowed"}, "armhf": armhf}}}},
            "cells": []}

    agreed = {"clone3": "allowed", "clock_gettime64": "allowed", "fchmodat2": "ENOSYS", "cachestat": "ENOSYS"}
    assert vintagecheck.table_vs_kernel(report(agreed)) == []
    # a kernel answering ENOSYS for a syscall the arm column dates before 6.1 is reported, as armhf
    found = vintagecheck.table_vs_kernel(report({**agreed, "statx": "ENOSYS"}))
    assert [(m.syscall, m.arch, m.table_says) for m in found] == [("statx", "armhf", "4.11")]
