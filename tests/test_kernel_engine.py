"""Kernel hosts for real: Debian's 6.1 kernel booted in QEMU, one image, a few probes.

Kept small for CI: one kernel (fetched and prepared once into the cache), one image, two
profiles in one boot, and the failure paths (no archive, no boot in time, SIGTERM/Ctrl-C)
that must leave no QEMU behind.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from fallbackcheck.hosts import guest
from helpers import ROOT, cells_by, load_report, run_suites

pytestmark = pytest.mark.engine

KERNEL = "local@linux-6.1"


def _session(tag: str) -> str:
    return f"fbckt-{tag}-{uuid.uuid4().hex[:6]}"


def test_profiles_of_an_image_share_one_boot_and_cells_show_the_kernels_answers(tmp_path):
    session = _session("ok")
    proc = run_suites("--runtimes", KERNEL, "--images", "debian-12", "--profiles", "unconfined,deny:clone3:EPERM",
                      "--probes", "raw:fchmodat2,raw:clone3,pthread_create", report_dir=tmp_path,
                      env={"FALLBACKCHECK_SESSION": session}, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    boots = {c["batch"]["boot"]["boot"] for c in report["cells"]}
    assert len(boots) == 1, boots  # two batches (profiles), one boot
    release = report["environment"]["runtimes"][KERNEL]["kernel_release"]
    assert release.startswith("6.1.0-")
    baseline = report["environment"]["kernel_baseline"]["linux-6.1"]
    assert baseline["kernel"] == release  # uname -r measured in the guest
    assert "fchmodat2" in baseline["lacks"]["amd64"] and "clone3" not in baseline["lacks"]["amd64"]
    got = {(c["probe"], c["profile"]): c for c in report["cells"]}
    assert got[("raw:fchmodat2", "unconfined")]["delivered"] == {"fchmodat2": "kernel-ENOSYS"}
    assert got[("raw:clone3", "unconfined")]["delivered"] == {"clone3": "allowed"}
    assert got[("raw:clone3", "deny:clone3:EPERM")]["delivered"] == {"clone3": "EPERM"}
    assert got[("pthread_create", "deny:clone3:EPERM")]["verdict"] == "expected-break"
    assert got[("pthread_create", "unconfined")]["works"] is True
    assert guest.leftovers(session) == []


def test_a_kernel_that_cannot_be_fetched_is_said_before_the_cells_and_errors_them(tmp_path):
    session = _session("fetch")
    # Nothing listens on port 9 here: the archive cannot be reached, at once.
    proc = run_suites("--runtimes", KERNEL, "--images", "debian-12", "--profiles", "unconfined",
                      "--probes", "raw:clone3", report_dir=tmp_path, timeout=900,
                      env={"FALLBACKCHECK_SESSION": session, "FALLBACKCHECK_DEBIAN_MIRROR": "http://127.0.0.1:9/debian",
                           "FALLBACKCHECK_DEBIAN_SECURITY_MIRROR": "http://127.0.0.1:9/debian-security"})
    assert proc.returncode == 1, proc.stdout[-3000:]
    header = [ln for ln in proc.stdout.splitlines() if ln.startswith("fallbackcheck: kernel baseline of linux-6.1")]
    assert header and "cannot fetch http://127.0.0.1:9/debian" in header[0], proc.stdout[-3000:]
    cells = cells_by(load_report(tmp_path), runtime=KERNEL)
    assert cells and all(c["verdict"] == "error" and "cannot fetch" in c["detail"] for c in cells)
    assert guest.leftovers(session) == []


def test_a_kernel_that_does_not_boot_in_time_errors_its_cells_and_is_killed(tmp_path):
    session = _session("slow")
    proc = run_suites("--runtimes", KERNEL, "--images", "debian-12", "--profiles", "unconfined",
                      "--probes", "raw:clone3", report_dir=tmp_path, timeout=900,
                      env={"FALLBACKCHECK_SESSION": session, "FALLBACKCHECK_BOOT_TIMEOUT": "0.5"})
    assert proc.returncode == 1, proc.stdout[-3000:]
    cells = cells_by(load_report(tmp_path), runtime=KERNEL)
    assert cells and all(c["verdict"] == "error" and "did not boot within 0.5 s" in c["detail"] for c in cells)
    assert guest.leftovers(session) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_during_a_boot_leaves_no_qemu(tmp_path, sig):
    session = _session(sig.name.lower())
    argv = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly", "--runtimes", KERNEL,
            "--images", "debian-12", "--profiles", "unconfined", "--probes", "raw:clone3",
            "--report-dir", str(tmp_path)]
    env = {**os.environ, "FALLBACKCHECK_SESSION": session}
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while not guest.leftovers(session) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert guest.leftovers(session), "no boot started"
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # as a terminal's Ctrl-C: the whole process group
        else:
            proc.send_signal(sig)  # as `timeout` or a CI runner: the harness only
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 2, out[-2000:]  # pytest's "interrupted"
        assert guest.leftovers(session) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        guest.kill(guest.leftovers(session))
