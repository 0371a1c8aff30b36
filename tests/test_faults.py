"""The fault drill: images without a shell, an engine restarted mid-run, leftovers of dead
runs, two runs at once. Every one runs for real on a Docker engine (marked `engine`).

The engine restart happens on a private dockerd of this test (its own socket, data and
exec root), so the host's engine, which other tests use at the same time, is untouched.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from helpers import ROOT, cells_by, load_report, run_suites

pytestmark = pytest.mark.engine


def _client(base_url=None):
    import docker

    return docker.DockerClient(base_url=base_url, timeout=60) if base_url else docker.from_env(timeout=60)


def _session_containers(client, session):
    return client.api.containers(all=True, filters={"label": f"fallbackcheck.session={session}"})


def test_images_without_shell_or_libc(tmp_path):
    """A distroless image (libc6 only) is measured in full; a static-only image gets raw cells
    and API cells n/a "no libc"; every container the run made carries its session label."""
    session = "test-noshell-" + uuid.uuid4().hex[:8]
    client = _client()
    since = int(time.time()) - 1
    proc = run_suites("--images", "debian-13-distroless,static-only", "--runtimes", "docker-runc,crun",
                      "--probes", "pthread_create,lchmod,raw:clone3", "--profiles", "unconfined,deny:clone3:EPERM",
                      report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": session})
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    distroless = cells_by(report, image="debian-13-distroless", kind="api")
    assert distroless and {c["libc"] for c in distroless} == {"glibc 2.41"}
    [broken] = cells_by(report, image="debian-13-distroless", probe="pthread_create", profile="deny:clone3:EPERM",
                        runtime="crun")
    assert (broken["verdict"], broken["works"]) == ("expected-break", False)
    static_api = cells_by(report, image="static-only", kind="api")
    assert static_api and all(c["verdict"] == "n/a" and c["na_reason"] == "no-libc" and c["works"] is None
                              for c in static_api)
    static_raw = cells_by(report, image="static-only", kind="raw")
    assert {(c["profile"], c["delivered"]["clone3"], c["verdict"]) for c in static_raw} == {
        ("unconfined", "allowed", "pass"), ("deny:clone3:EPERM", "EPERM", "pass")}
    created = client.api.events(since=since, until=int(time.time()) + 1, decode=True,
                                filters={"type": "container", "event": "create"})
    labels = [e["Actor"]["Attributes"] for e in created
              if e["Actor"]["Attributes"].get("fallbackcheck") in ("batch", "tool")]
    ours = [a for a in labels if a.get("fallbackcheck.session") == session]
    assert ours, "the run created no container on the Docker engine"
    assert all(a.get("fallbackcheck.owner") for a in ours)
    assert _session_containers(client, session) == []


@pytest.fixture
def private_dockerd():
    """A dockerd of this test alone (restartable without touching the host's engine)."""
    if shutil.which("dockerd") is None:
        pytest.fail("dockerd is not installed: scripts/setup-host installs docker.io")
    name = "fbc-drill-" + uuid.uuid4().hex[:6]
    run_dir, data = Path("/run") / name, Path("/var/lib") / name
    run_dir.mkdir(parents=True)
    url = f"unix://{run_dir}/docker.sock"
    argv = ["dockerd", "--host", url, "--data-root", str(data), "--exec-root", str(run_dir / "x"),
            "--pidfile", str(run_dir / "docker.pid"), "--bridge=none", "--iptables=false", "--ip6tables=false",
            "--shutdown-timeout", "1"]
    log = open(run_dir.with_suffix(".log"), "a")
    procs = []

    def start():
        procs.append(subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True))
        deadline = time.monotonic() + 60
        while True:
            try:
                _client(url).ping()
                return
            except Exception:
                assert time.monotonic() < deadline, run_dir.with_suffix(".log").read_text()[-2000:]
                time.sleep(0.2)

    def stop():
        proc = procs[-1]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)

    start()
    yield url, start, stop
    if procs[-1].poll() is None:
        stop()
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(run_dir, ignore_errors=True)


PROFILES = ",".join(["unconfined"] + [f"deny:{s}:{e}" for s in ("clone3", "faccessat2", "fchmodat2", "close_range",
                                                                  "openat2") for e in ("EPERM", "ENOSYS")])


def test_engine_restarted_mid_run(tmp_path, private_dockerd):
    url, start, stop = private_dockerd
    session = "test-restart-" + uuid.uuid4().hex[:8]
    env = {**os.environ, "DOCKER_HOST": url, "FALLBACKCHECK_SESSION": session}
    # Load the image first, so that the restart meets batches and not the import.
    assert run_suites("--images", "debian-12", "--runtimes", "docker-runc", "--profiles", "unconfined",
                      "--probes", "raw:clone3", report_dir=tmp_path / "warm", env=env).returncode == 0
    argv = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly", "--images", "debian-12",
            "--runtimes", "docker-runc", "--profiles", PROFILES, "--report-dir", str(tmp_path),
            "--probes", "pthread_create,faccessat,raw:*"]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    client = _client(url)
    deadline = time.monotonic() + 300
    while not _session_containers(client, session):
        assert proc.poll() is None and time.monotonic() < deadline, "no batch container ever appeared"
        time.sleep(0.05)
    stop()
    time.sleep(2)  # batches started meanwhile find no engine at all
    start()
    out, _ = proc.communicate(timeout=600)
    report = load_report(tmp_path)
    errors = [c for c in report["cells"] if c["verdict"] == "error"]
    assert proc.returncode == 1 and report["complete"] is True, out[-3000:]
    assert errors, "the restart broke no batch: the drill did not happen"
    assert all("the Docker engine went away during the batch" in c["detail"] for c in errors), \
        {c["detail"] for c in errors}
    measured = [c for c in report["cells"] if c["verdict"] in ("pass", "expected-break")]
    assert measured, "no batch ran after the engine came back"
    assert _session_containers(_client(url), session) == []


def test_leftovers_of_dead_runs_are_swept_and_live_runs_untouched(tmp_path):
    client = _client()
    from fallbackcheck.engines.docker import engine

    ref, _ = engine().reference("debian-12")
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    tag = uuid.uuid4().hex[:8]
    leftover = client.containers.create(ref, ["/x"], labels={
        "fallbackcheck": "batch", "fallbackcheck.session": f"dead-{tag}", "fallbackcheck.owner": f"{host}/{dead.pid}"})
    live = client.containers.create(ref, ["/x"], labels={
        "fallbackcheck": "batch", "fallbackcheck.session": f"live-{tag}", "fallbackcheck.owner": f"{host}/{os.getpid()}"})
    try:
        proc = run_suites("--images", "debian-12", "--runtimes", "docker-runc", "--profiles", "unconfined",
                          "--probes", "raw:clone3", report_dir=tmp_path)
        assert proc.returncode == 0, proc.stdout[-2000:]
        ids = {c["Id"] for c in client.api.containers(all=True, filters={"label": "fallbackcheck"})}
        # Gone: swept by this run, or by another run that started meanwhile (under -n 2 the
        # sibling's runs sweep too); either way by a run, not by this test. The live one stays.
        assert leftover.id not in ids and live.id in ids
        assert "swept_leftovers" in load_report(tmp_path)["environment"]
    finally:
        for container in (leftover, live):
            try:
                container.remove(force=True)
            except Exception:
                pass


def test_two_runs_at_once_leave_each_other_alone(tmp_path):
    sessions = ["test-twin-a-" + uuid.uuid4().hex[:6], "test-twin-b-" + uuid.uuid4().hex[:6]]
    procs = []
    client = _client()
    for i, session in enumerate(sessions):
        if procs:  # the second run starts (and sweeps for dead runs) while the first has batches in flight
            deadline = time.monotonic() + 300
            while not _session_containers(client, sessions[0]):
                assert procs[0].poll() is None and time.monotonic() < deadline, "the first run started no batch"
                time.sleep(0.05)
        argv = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly", "--images", "debian-12",
                "--runtimes", "docker-runc,crun", "--profiles", PROFILES, "--probes", "pthread_create,raw:clone3",
                "--report-dir", str(tmp_path / str(i))]
        procs.append(subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      env={**os.environ, "FALLBACKCHECK_SESSION": session}))
    outs = [p.communicate(timeout=600)[0] for p in procs]
    for i, (proc, out) in enumerate(zip(procs, outs)):
        assert proc.returncode == 0, out[-3000:]
        report = load_report(tmp_path / str(i))
        assert report["summary"]["verdicts"].get("error", 0) == 0
        assert report["summary"]["verdicts"].get("unexpected", 0) == 0  # a killed batch reads as "broken"
        assert report["summary"]["containers"] == report["summary"]["batches"]
    assert all(_session_containers(client, s) == [] for s in sessions)


def test_an_interruption_without_line_numbers_is_still_shown():
    """Python 3.11 may interrupt an instruction without a line number (tb_lineno None), which
    pytest's terminal cannot show (it then exits 1 with its own traceback): such entries are
    left out of the interruption's traceback, the others kept."""
    from types import SimpleNamespace

    from fallbackcheck.pytest_plugin.plugin import pytest_keyboard_interrupt

    class Entry:  # what pytest's traceback entry does with a raw line number of None
        def __init__(self, line):
            self.line = line

        @property
        def lineno(self):
            return self.line - 1

    class Traceback(list):
        def filter(self, keep):
            return Traceback(e for e in self if keep(e))

    excinfo = SimpleNamespace(traceback=Traceback([Entry(10), Entry(None), Entry(12)]), value=KeyboardInterrupt())
    hook = pytest_keyboard_interrupt(excinfo)  # a hook wrapper: its part before the other hooks
    next(hook)
    assert [e.line for e in excinfo.traceback] == [10, 12]
    with pytest.raises(StopIteration):
        hook.send(None)
