"""The arm64 column for real: Debian's arm64 kernel booted in qemu-system-aarch64 (TCG), the
debian-13-arm64 image, clone3 denied two ways. Kept small for CI: three profiles in one boot
(the baseline boot is cached per kernel package and probe build), and a profile that names
no arm architecture.

What glibc 2.41 on aarch64 does (sysdeps/unix/sysv/linux/clone-internal.c with aarch64's
clone3 wrapper, glibc-2.38+): clone3 EPERM is returned by pthread_create, ENOSYS falls back
to clone. Measured here, judged by the catalogue; the cells' verdicts are asserted as well as
the raw facts, so a catalogue bent to go green would still fail here.
"""

import json
import signal
import subprocess
import uuid

import pytest

from fallbackcheck.hosts import guest
from helpers import cells_by, load_report, run_suites, stop_run

pytestmark = pytest.mark.engine

KERNEL = "local@linux-6.12-arm64"


def test_clone3_denied_on_the_arm64_kernel(tmp_path):
    session = f"fbcarm-{uuid.uuid4().hex[:6]}"
    # A profile naming x86 architectures only: libseccomp adds the kernel's native arch to every
    # filter (seccomp_init), so on the arm64 kernel its rules filter arm64 tasks all the same.
    x86_only = tmp_path / "x86-only.json"
    x86_only.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                                    "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}))
    proc = run_suites("--runtimes", KERNEL, "--images", "debian-13-arm64",
                      "--profiles", f"unconfined,deny:clone3:EPERM,deny:clone3:ENOSYS,file:{x86_only}",
                      "--probes", "pthread_create,raw:clone3", report_dir=tmp_path / "report",
                      env={"FALLBACKCHECK_SESSION": session}, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path / "report")
    cells = cells_by(report, runtime=KERNEL)
    assert len(cells) == 8 and {c["arch"] for c in cells} == {"arm64"}
    assert len({c["batch"]["boot"]["boot"] for c in cells}) == 1  # four batches, one boot
    info = report["environment"]["runtimes"][KERNEL]
    assert info["kernel_arch"] == "arm64" and info["kernel_release"].endswith("-arm64")
    baseline = report["environment"]["kernel_baseline"]["linux-6.12-arm64"]
    assert baseline["kernel"] == info["kernel_release"]  # uname -r in the arm64 guest
    assert set(baseline["arches"]) == {"arm64"} and "clone3" not in baseline["lacks"]["arm64"]
    got = {(c["probe"], c["profile"]): c for c in cells}
    assert got[("raw:clone3", "unconfined")]["delivered"] == {"clone3": "allowed"}
    assert got[("raw:clone3", "deny:clone3:EPERM")]["delivered"] == {"clone3": "EPERM"}
    assert got[("raw:clone3", "deny:clone3:ENOSYS")]["delivered"] == {"clone3": "ENOSYS"}
    assert all(c["libc"].startswith("glibc 2.4") for c in cells if c["kind"] == "api")
    eperm, enosys = got[("pthread_create", "deny:clone3:EPERM")], got[("pthread_create", "deny:clone3:ENOSYS")]
    assert (eperm["outcome"], eperm["errno"], eperm["works"], eperm["verdict"]) == ("error", "EPERM", False,
                                                                                   "expected-break")
    assert (enosys["outcome"], enosys["works"], enosys["verdict"]) == ("ok", True, "pass")
    assert got[("pthread_create", "unconfined")]["works"] is True
    assert got[("raw:clone3", f"file:{x86_only}")]["delivered"] == {"clone3": "EPERM"}
    assert got[("raw:clone3", f"file:{x86_only}")]["verdict"] == "pass"
    assert guest.leftovers(session) == []


@pytest.mark.parametrize("runtime", [KERNEL, "runc@linux-6.12-arm64"])
def test_sigterm_during_an_arm64_boot_leaves_no_qemu(tmp_path, runtime):
    """The kill paths are the x86 kernel hosts' (guest.py); this proves them on the aarch64
    QEMU binary, as `timeout` or a CI runner would stop a run; with runc inside the boot too,
    whose containers and state live in the guest only."""
    session = f"fbcarmterm-{uuid.uuid4().hex[:6]}"
    try:
        rc, out = stop_run("--runtimes", runtime, "--images", "debian-13-arm64", "--profiles", "unconfined",
                           "--probes", "raw:clone3", session=session, report_dir=tmp_path,
                           wait_for=lambda: bool(guest.leftovers(session)), signum=signal.SIGTERM, timeout=2400)
        assert rc == 2, out[-2000:]  # pytest's "interrupted": the signal came during a boot
        assert "fallbackcheck: stopped by SIGTERM" in out, out[-2000:]
        assert guest.leftovers(session) == []
        listed = subprocess.run(["runc", "list", "-q"], capture_output=True, text=True).stdout.split()
        assert not [name for name in listed if session in name]  # nothing of it on this machine's runc
    finally:
        guest.kill(guest.leftovers(session))


def test_debian_12_on_debian_12s_arm64_kernel(tmp_path):
    """Stage 2 in one boot: glibc 2.36 on arm64 has no clone3 wrapper (aarch64 got it in 2.38),
    so pthread_create survives a filter that denies clone3 (x86_64's 2.36 does not); and stat
    never calls statx on a 64-bit kABI. raw:clone3 shows the filter was really there."""
    kernel, session = "local@linux-6.1-arm64", f"fbcarm12-{uuid.uuid4().hex[:6]}"
    proc = run_suites("--runtimes", kernel, "--images", "debian-12-arm64",
                      "--profiles", "unconfined,deny:clone3:EPERM,deny:statx:EPERM",
                      "--probes", "pthread_create,stat,raw:clone3,raw:statx", report_dir=tmp_path / "report",
                      env={"FALLBACKCHECK_SESSION": session}, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path / "report")
    cells = cells_by(report, runtime=kernel)
    assert len(cells) == 12 and {c["arch"] for c in cells} == {"arm64"}
    assert len({c["batch"]["boot"]["boot"] for c in cells}) == 1
    info = report["environment"]["runtimes"][kernel]
    assert info["kernel_arch"] == "arm64" and info["kernel_release"].startswith("6.1.0-")
    assert {c["libc"] for c in cells if c["kind"] == "api"} == {"glibc 2.36"}
    got = {(c["probe"], c["profile"]): c for c in cells}
    assert got[("raw:clone3", "deny:clone3:EPERM")]["delivered"] == {"clone3": "EPERM"}
    assert got[("raw:statx", "deny:statx:EPERM")]["delivered"] == {"statx": "EPERM"}
    for probe, profile in (("pthread_create", "deny:clone3:EPERM"), ("stat", "deny:statx:EPERM")):
        cell = got[(probe, profile)]
        assert (cell["outcome"], cell["works"], cell["verdict"]) == ("ok", True, "pass"), cell
    assert all(c["verdict"] == "pass" for c in cells), [(c["probe"], c["profile"], c["verdict"]) for c in cells]
    assert guest.leftovers(session) == []
