"""Integration: real images, real probes, real containers (needs the Docker engine).

Skipped without an engine, unless FALLBACKCHECK_REQUIRE_ENGINE=1 (set by .ci/run), in
which case a missing engine fails them.
"""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from helpers import ROOT, assert_stopped_cleanly, cells_by, load_report, run_suites

pytestmark = pytest.mark.engine

FOUR = "clone3,faccessat2,fchmodat2,close_range"
PROFILES = ",".join(["unconfined"] + [f"deny:{s}:{e}" for s in FOUR.split(",") for e in ("EPERM", "ENOSYS")])


def _containers(session: str, kind: str | None = None):
    """This test's containers: other engine tests may run beside it (-n 2), so look only
    at the session label the test chose."""
    from fallbackcheck.engines.docker import engine

    found = engine().client.api.containers(all=True, filters={"label": f"fallbackcheck.session={session}"})
    return [c["Id"][:12] for c in found if kind is None or (c.get("Labels") or {}).get("fallbackcheck") == kind]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Module scope: the issue-2 matrix on four Debian releases, run once under xdist."""
    out = tmp_path_factory.mktemp("matrix")
    proc = run_suites("--images", "debian-11,debian-12,debian-13,debian-sid", "--runtimes", "docker-runc",
                      "--profiles", PROFILES, "-n", "2", "--no-fixes", report_dir=out, timeout=1800,
                      env={"FALLBACKCHECK_SESSION": "test-matrix-" + uuid.uuid4().hex[:8]})
    return proc, load_report(out), out


def test_matrix_is_green_and_fully_judged(matrix):
    proc, report, _ = matrix
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    bad = [c for c in report["cells"] if c["verdict"] in ("unexpected", "error")]
    assert bad == []
    assert report["complete"] is True


def test_the_kernel_baseline_is_measured_for_engine_runtimes(matrix):
    """The baseline of the machine the containers run on: measured (it once failed on every
    engine runtime of this machine, unnoticed, because their probe directory is a str), and
    a syscall it lacks is what every unconfined raw cell of it delivers as kernel-ENOSYS."""
    _, report, _ = matrix
    baseline = report["environment"]["kernel_baseline"]["host"]
    assert baseline["error"] in (None, ""), baseline["error"]
    assert baseline["kernel"] and set(baseline["arches"]) == {"amd64"}
    assert len(baseline["arches"]["amd64"]) > 60  # every raw probe answered
    kernel_enosys = {s for c in report["cells"] if c["kind"] == "raw" and c["profile"] == "unconfined"
                     for s, d in c["delivered"].items() if d == "kernel-ENOSYS"}
    assert kernel_enosys <= set(baseline["lacks"]["amd64"]), (kernel_enosys, baseline["lacks"])


@pytest.mark.parametrize("runtime, says", [("runc", "runc version"), ("crun", "crun version")])
def test_a_container_the_runtime_cannot_start_is_the_runtimes_answer(tmp_path, runtime, says):
    """deny:execve:EPERM: the runtime's own execve of the runner is denied, so the container never
    starts. Its cells say so with the runtime and its version (unexpected: the runtime's answer
    to the profile), not "the batch could not be measured"; unconfined still passes."""
    proc = run_suites("--runtimes", runtime, "--images", "debian-13", "--profiles", "unconfined,deny:execve:EPERM",
                      "--probes", "pthread_create,raw:clone3", "--no-fixes", report_dir=tmp_path,
                      env={"FALLBACKCHECK_SESSION": "test-nostart-" + uuid.uuid4().hex[:8]})
    assert proc.returncode == 1, proc.stdout[-3000:]
    report = load_report(tmp_path)
    refused = cells_by(report, profile="deny:execve:EPERM")
    assert len(refused) == 2 and all(c["verdict"] == "unexpected" for c in refused), refused
    for cell in refused:
        assert cell["detail"].startswith(f"the container did not start under this profile: {runtime} ({says} "), cell
        assert "operation not permitted" in cell["detail"].lower() and cell["batch"]["start_refused"] is True
    assert all(c["verdict"] == "pass" for c in cells_by(report, profile="unconfined"))


def test_one_container_per_batch(matrix):
    _, report, _ = matrix
    assert report["summary"]["batches"] == 4 * 9
    assert report["summary"]["containers"] == report["summary"]["batches"]


@pytest.mark.parametrize("image, profile, outcome, errno, verdict", [
    ("debian-12", "deny:clone3:EPERM", "error", "EPERM", "expected-break"),
    ("debian-12", "deny:clone3:ENOSYS", "ok", None, "pass"),
    ("debian-12", "unconfined", "ok", None, "pass"),
    ("debian-11", "deny:clone3:EPERM", "ok", None, "pass"),  # glibc 2.31 never tries clone3
])
def test_pthread_create_cells(matrix, image, profile, outcome, errno, verdict):
    _, report, _ = matrix
    [cell] = cells_by(report, probe="pthread_create", image=image, profile=profile)
    assert (cell["outcome"], cell["errno"], cell["verdict"]) == (outcome, errno, verdict), cell
    assert cell["delivered"]["clone3"] == {"deny:clone3:EPERM": "EPERM", "deny:clone3:ENOSYS": "ENOSYS"}.get(
        profile, "allowed")


def test_libc_is_read_from_each_image(matrix):
    _, report, _ = matrix
    libcs = {c["image"]: c["libc"] for c in report["cells"]}
    assert libcs["debian-11"] == "glibc 2.31" and libcs["debian-12"] == "glibc 2.36"
    assert all(libc.startswith("glibc ") for libc in libcs.values())


def test_markdown_view_rendered(matrix):
    _, _, out = matrix
    text = (out / "matrix.md").read_text()
    assert "## debian-12 (glibc 2.36, amd64)" in text and "EPERM (break)" in text


def test_no_container_left_behind(matrix):
    _, report, _ = matrix
    assert _containers(report["environment"]["session"]) == []


def test_hung_probe_ends_as_timeout():
    from fallbackcheck.model import profiles
    from fallbackcheck.batches.observation import classify
    from fallbackcheck.execution.batch import parse_output
    from fallbackcheck.runtimes import BatchPlan, get

    runtime = get("docker-runc")
    ref, arch = runtime.prepare_image("debian-12")
    session = "test-timeout-" + uuid.uuid4().hex[:8]
    plan = BatchPlan("debian-12", ref, arch, profiles.parse("unconfined"), ("hang=/bin/sleep 30",),
                     runtime.probe_dir(arch), 1.0, session)
    output = runtime.run_batch(plan)
    records, done = parse_output(output.stdout)
    assert done  # the runner went on after the hung probe
    assert classify(records["hang"], 1.0).outcome == "timeout"
    # the runner's own account: the 30 s sleep was cut at its 1 s limit (no timer in the test)
    assert records["hang"]["elapsed_ms"] < 30_000
    assert _containers(session) == []


def test_stuck_runner_is_stopped_at_the_batch_limit(monkeypatch):
    """A runner that stops making progress (here: a probe whose own limit is longer than the
    batch's) is killed at the batch's overall limit; the batch says it timed out."""
    from fallbackcheck.model import profiles
    from fallbackcheck.execution.batch import parse_output
    from fallbackcheck.runtimes import BatchPlan, get

    runtime = get("docker-runc")
    ref, arch = runtime.prepare_image("debian-12")
    session = "test-stuck-" + uuid.uuid4().hex[:8]
    monkeypatch.setattr(BatchPlan, "overall_timeout_s", property(lambda plan: 3.0))
    plan = BatchPlan("debian-12", ref, arch, profiles.parse("unconfined"), ("hang=/bin/sleep 60",),
                     runtime.probe_dir(arch), 50.0, session)
    output = runtime.run_batch(plan)
    records, done = parse_output(output.stdout)
    assert output.timed_out and output.exit_code is None
    assert not done and "hang" not in records  # killed inside the probe, before its line
    assert output.received == {}  # unconfined: read while the runner held, before the limit
    assert _containers(session) == []


@pytest.mark.parametrize("sig, group", [
    (signal.SIGINT, True),  # a terminal's Ctrl-C: the whole process group
    (signal.SIGTERM, False),  # `kill`, a CI system's cancel: the pytest process only
    (signal.SIGTERM, True),  # `timeout`: the process group
    (signal.SIGHUP, False),  # the terminal went away
], ids=["sigint-group", "sigterm", "sigterm-group", "sighup"])
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_interrupted_run_leaves_no_container(tmp_path, workers, sig, group):
    argv = [sys.executable, "-m", "pytest", "suites", "-q", "--images", "debian-12", "--runtimes", "docker-runc",
            "--profiles", PROFILES, "--report-dir", str(tmp_path), "-p", "no:randomly", *workers]
    session = "test-interrupt-" + uuid.uuid4().hex[:8]
    # Its output goes to a file, not a pipe: on a cold cache the image builds print more than a
    # pipe holds before the first batch starts, and a run blocked on writing never starts one.
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "FALLBACKCHECK_SESSION": session})
    deadline = time.monotonic() + 300
    while not _containers(session, "batch"):
        assert proc.poll() is None and time.monotonic() < deadline, "no batch container ever appeared"
        time.sleep(0.05)
    if group:
        os.killpg(proc.pid, sig)
    else:
        os.kill(proc.pid, sig)
    proc.wait(timeout=120)
    log.seek(0)
    out = log.read()
    log.close()
    assert_stopped_cleanly(proc.returncode, out, session, sig.name)
    assert _containers(session) == [], out
    report = load_report(tmp_path)
    assert report["complete"] is False and report["stopped"]["signal"] == sig.name, report.get("stopped")


@pytest.fixture(scope="module")
def i386(tmp_path_factory):
    """Module scope: i386 under a statx denial and under a profile that forgets x86."""
    out = tmp_path_factory.mktemp("i386")
    nox86 = out / "no-x86.json"
    nox86.write_text('{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"]}')
    proc = run_suites("--images", "debian-12-i386", "--runtimes", "docker-runc", "--probes",
                      "pthread_create,stat,raw:statx", "--profiles", f"deny:statx:EPERM,deny:statx:ENOSYS,file:{nox86}",
                      report_dir=out, timeout=1800)
    return proc, load_report(out), nox86


def test_i386_loader_cannot_start_under_statx_eperm(i386):
    proc, report, _ = i386
    assert proc.returncode == 0, proc.stdout[-3000:]
    for probe in ("pthread_create", "stat"):
        [cell] = cells_by(report, probe=probe, profile="deny:statx:EPERM")
        assert (cell["outcome"], cell["verdict"]) == ("cannot-start", "expected-break"), cell
        assert "cannot stat shared object: Operation not permitted" in cell["detail"]
        [cell] = cells_by(report, probe=probe, profile="deny:statx:ENOSYS")
        assert (cell["outcome"], cell["verdict"]) == ("ok", "pass"), cell


def test_profile_without_x86_is_said_plainly(i386):
    _, report, nox86 = i386
    [raw] = cells_by(report, probe="raw:statx", profile=f"file:{nox86}")
    assert raw["delivered"] == {"statx": "SIGSYS"} and "do not include SCMP_ARCH_X86" in raw["detail"]
    [api] = cells_by(report, probe="pthread_create", profile=f"file:{nox86}")
    assert (api["outcome"], api["verdict"]) == ("abort", "expected-break") and "SCMP_ARCH_X86" in api["source"]
