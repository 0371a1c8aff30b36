"""What a cell claims holds on the machine that measured it: the kernel baseline, `works`,
bounded n/a, and a report that survives a full disk. These use the `local` runtime (the
host libc under a libseccomp filter), so they need no container engine."""

import platform
import subprocess

import pytest

from helpers import cells_by, load_report, run_suites


@pytest.fixture(scope="module", autouse=True)
def local_available():
    from fallbackcheck.runtimes import get

    reason = get("local").unavailable_reason()
    assert reason is None, f"the local runtime cannot run here ({reason}): run scripts/setup-host"


LOCAL = ("--runtimes", "local", "--images", "host")


def test_kernel_that_lacks_a_syscall_is_told_apart_from_the_filter(tmp_path):
    """A filter that plays Linux 6.1 under the whole run (baseline included): fchmodat2 (6.6)
    is then missing from the "kernel", so its ENOSYS is the kernel's, not the filter's."""
    proc = run_suites(*LOCAL, "--probes", "lchmod,raw:fchmodat2,raw:clone3",
                      "--profiles", "unconfined,deny:fchmodat2:EPERM,deny:fchmodat2:ENOSYS", report_dir=tmp_path,
                      env={"FALLBACKCHECK_KERNEL_PLAY": "vintage:6.1:ENOSYS"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    baseline = report["environment"]["kernel_baseline"]["host"]
    assert "fchmodat2" in baseline["lacks"]["amd64"] and "clone3" not in baseline["lacks"]["amd64"]
    for profile in ("unconfined", "deny:fchmodat2:ENOSYS"):
        [raw] = cells_by(report, probe="raw:fchmodat2", profile=profile)
        assert raw["delivered"] == {"fchmodat2": "kernel-ENOSYS"}
        assert (raw["verdict"], raw["na_reason"]) == ("n/a", "kernel-lacks"), raw
        assert "kernel lacks fchmodat2" in raw["detail"].replace("this kernel lacks", "kernel lacks")
    [eperm] = cells_by(report, probe="raw:fchmodat2", profile="deny:fchmodat2:EPERM")
    assert (eperm["delivered"], eperm["verdict"]) == ({"fchmodat2": "EPERM"}, "pass")  # the filter is still seen
    [api] = cells_by(report, probe="lchmod", profile="unconfined")
    assert api["delivered"]["fchmodat2"] == "kernel-ENOSYS" and api["verdict"] == "pass" and api["works"] is True


def test_without_the_play_filter_the_same_cells_are_judged(tmp_path):
    """The control: on this host's own kernel fchmodat2 exists, so the cells are judged."""
    proc = run_suites(*LOCAL, "--probes", "raw:fchmodat2", "--profiles", "unconfined,deny:fchmodat2:ENOSYS",
                      report_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    assert "fchmodat2" not in report["environment"]["kernel_baseline"]["host"]["lacks"]["amd64"]
    assert {c["profile"]: (c["delivered"]["fchmodat2"], c["verdict"]) for c in report["cells"]} == {
        "unconfined": ("allowed", "pass"), "deny:fchmodat2:ENOSYS": ("ENOSYS", "pass")}
    # the kernel that ran each batch, which catalogue rules with a `kernel` range are matched against
    assert {c["batch"].get("kernel") for c in report["cells"]} == {platform.release()}


def test_errno_after_pthread_create_is_judged_on_the_kernel_that_ran_it(tmp_path):
    """The host libc (glibc 2.36) predates the MADV_GUARD_INSTALL guard pages (2.42), so errno
    stays 0 on any kernel; the cell is judged with this machine's kernel in hand."""
    proc = run_suites(*LOCAL, "--probes", "pthread_create.errno_after", "--profiles", "unconfined,deny:clone3:ENOSYS",
                      report_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    cells = load_report(tmp_path)["cells"]
    api = [c for c in cells if c["kind"] == "api"]
    assert {(c["profile"], c["errno"], c["verdict"]) for c in api} == {
        ("unconfined", "0", "pass"), ("deny:clone3:ENOSYS", "0", "pass")}
    assert all(c["batch"]["kernel"] == platform.release() for c in api)


def test_every_api_cell_says_whether_it_works_and_n_a_is_bounded(tmp_path):
    """A fixed selection on the host libc (glibc 2.36, Debian 12): exactly the cells the
    catalogue predicts are n/a, each with its reason; `works` on every API cell."""
    proc = run_suites(*LOCAL, "--probes", "pthread_create,lchmod,mseal,openat2,closefrom,raw:clone3,raw:mseal",
                      "--profiles", "unconfined,deny:clone3:EPERM,deny:clone3:ENOSYS", report_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    api = [c for c in report["cells"] if c["kind"] == "api"]
    assert api and all("works" in c for c in api)
    assert all(c["works"] is None for c in report["cells"] if c["kind"] == "raw")
    # glibc 2.36 has neither mseal (2.43) nor openat2 (2.43): absent in all three profiles, and
    # nothing else is n/a.
    na = sorted((c["probe"], c["profile"], c["na_reason"]) for c in report["cells"] if c["verdict"] == "n/a")
    assert na == sorted((p, prof, "catalogue") for p in ("mseal", "openat2")
                        for prof in ("unconfined", "deny:clone3:EPERM", "deny:clone3:ENOSYS")), na
    assert all(c["works"] is None for c in api if c["probe"] in ("mseal", "openat2"))
    [broken] = cells_by(report, probe="pthread_create", profile="deny:clone3:EPERM")
    assert (broken["verdict"], broken["works"], broken["fails_like_old_kernel"]) == ("expected-break", False, False)
    [ok] = cells_by(report, probe="pthread_create", profile="deny:clone3:ENOSYS")
    assert (ok["verdict"], ok["works"]) == ("pass", True)


def test_full_disk_is_one_line_and_keeps_the_previous_report(tmp_path):
    """A report directory on a 64 KiB tmpfs: a small first report fits, a large second
    one does not. The run says so in one line and the first report stays whole."""
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        first = run_suites(*LOCAL, "--probes", "raw:clone3", "--profiles", "unconfined", report_dir=mount)
        assert first.returncode == 0, first.stdout[-2000:]
        before = (mount / "matrix.json").read_text()
        second = run_suites(*LOCAL, "--probes", "raw:*", "--profiles", "unconfined,deny:clone3:EPERM",
                            report_dir=mount)
        out = second.stdout + second.stderr
        errors = [line for line in out.splitlines() if line.startswith("ERROR: could not write the report")]
        assert second.returncode != 0 and len(errors) == 1 and "Traceback" not in out, out[-3000:]
        assert "No space left on device" in errors[0]
        assert (mount / "matrix.json").read_text() == before
        assert not [p.name for p in mount.iterdir() if p.name.startswith(".")]
    finally:
        subprocess.run(["umount", str(mount)], check=False)
