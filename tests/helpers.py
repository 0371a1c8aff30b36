"""Running `pytest suites` as a user would, in a subprocess, for the harness's own tests."""

from __future__ import annotations

import os
import subprocess
import tempfile
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_suites(*args: str, report_dir: Path | None = None, env: dict | None = None,
               timeout: float = 900, python: str = sys.executable) -> subprocess.CompletedProcess:
    """`python -m pytest suites -q ARGS` from the checkout (`python`: another interpreter, a
    virtual environment's, runs the checkout's package with that environment's pytest)."""
    argv = [python, "-m", "pytest", "suites", "-q", "-p", "no:randomly", *args]
    if report_dir is not None:
        argv += ["--report-dir", str(report_dir)]
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PYTEST_XDIST_WORKER", None)
    full_env.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=full_env, timeout=timeout)


def load_report(report_dir: Path):
    """The run's matrix.json through the documented reader (report["cells"] are full rows)."""
    from fallbackcheck import report

    return report.load(report_dir / "matrix.json")


def cells_by(report: dict, **match) -> list[dict]:
    return [c for c in report["cells"] if all(c.get(k) == v for k, v in match.items())]


def skip_or_fail(reason: str) -> None:
    """Skip for `reason`, or fail where CI demands everything runs (FALLBACKCHECK_REQUIRE_ENGINE=1)."""
    import pytest

    if os.environ.get("FALLBACKCHECK_REQUIRE_ENGINE") == "1":
        pytest.fail(f"FALLBACKCHECK_REQUIRE_ENGINE=1 but {reason}")
    pytest.skip(reason)


def require_local_runtime() -> None:
    """Skip (or, with FALLBACKCHECK_REQUIRE_ENGINE=1, fail) where the local runtime cannot run."""
    from fallbackcheck.runtimes import get

    reason = get("local").unavailable_reason()
    if reason:
        skip_or_fail(f"the local runtime cannot run: {reason}")


def stop_run(*args: str, session: str, report_dir: Path, signal_at: str | None = None,
             wait_for=None, delay: float = 0.0, signum=None, timeout: float = 600):
    """A `pytest suites` run that is stopped: by itself at a named checkpoint
    (`signal_at` = "<checkpoint>:<SIGNAL>", FALLBACKCHECK_SIGNAL_AT), or from outside with
    `signum` once `wait_for()` is true and `delay` seconds more have passed. Returns
    (returncode, everything it printed)."""
    import time

    argv = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly", *args, "--report-dir", str(report_dir)]
    env = {**os.environ, "FALLBACKCHECK_SESSION": session}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    if signal_at:
        env["FALLBACKCHECK_SIGNAL_AT"] = signal_at
    # Output to a file, not a pipe nobody reads while we wait to signal (a cold cache's image
    # builds print more than a pipe holds, and the run would block before the moment came).
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        if signum is not None:
            deadline = time.monotonic() + timeout
            while wait_for is not None and not wait_for() and proc.poll() is None:
                assert time.monotonic() < deadline, "the moment to signal never came"
                time.sleep(0.05)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signum)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        out = log.read()
        log.close()
    return proc.returncode, out


def assert_stopped_cleanly(returncode: int, out: str, session: str, signame: str) -> None:
    """What a user sees after a stop: exit status 2, one line saying so, no traceback, and
    nothing of the run left on the engines (Docker containers and volumes, Podman), by label."""
    from fallbackcheck.hosts.cleanup import leftovers

    tail = out[-3000:]
    assert returncode == 2, (returncode, tail)
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, tail
    stops = [line for line in out.splitlines() if line.startswith("fallbackcheck: stopped by ")]
    assert len(stops) == 1 and stops[0].startswith(f"fallbackcheck: stopped by {signame} during "), tail
    assert leftovers(session) == [], tail
    assert stops[0].endswith("no container of the run is left"), stops[0]


def host_traces(session: str) -> dict:
    """What a sandbox run could leave on this machine, for a before/after comparison: the
    host's cgroup tree where sandboxes touch it (the /sys/fs/cgroup tmpfs itself, and the
    root of the name=systemd and cgroup2 hierarchies, where systemd-nspawn creates its
    `payload` and `supervisor`), mounts of the run's cache or of a sandbox's state, and the
    processes of `session`'s batches (found by the name their command line carries)."""
    from fallbackcheck.cache import cache_dir
    from fallbackcheck.runtimes.sandbox import _named_processes

    cgroups = {str(p) for p in Path("/sys/fs/cgroup").iterdir()}
    for root in ("systemd", "unified"):
        if Path(f"/sys/fs/cgroup/{root}").is_dir():
            cgroups |= {str(p) for p in Path(f"/sys/fs/cgroup/{root}").iterdir() if p.is_dir()}
    # a batch cgroup of another run (nspawn.py) that happens to be running now is not ours
    cgroups = {c for c in cgroups if not Path(c).name.startswith("fbc-") or Path(c).name.startswith(f"fbc-{session}-")}
    # mounts of the cache or a sandbox's state, and those named after this session's batches
    # (another run's container, a generation of a test running beside this one, is not ours)
    marks = (str(cache_dir()), "/run/systemd/nspawn", "/run/firejail", f"fbc-{session}")
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if any(m in line.split()[4] or m in line.split()[3] for m in marks)]
    processes = [name for _, name in _named_processes() if name.startswith(f"fbc-{session}-")]
    state = Path("/run/systemd/nspawn")  # systemd-nspawn's lock and propagation directories
    return {"cgroups": sorted(cgroups), "mounts": sorted(mounts), "processes": processes,
            "nspawn_state": sorted(str(p) for p in state.rglob("*")) if state.exists() else None}


def runtime_kinds(*runtime_ids: str) -> dict:
    """environment.runtime_kinds as a run writes it for these runtimes (their kinds' facts)."""
    from fallbackcheck.runtimes import get

    return {rid: get(rid).kind_facts() for rid in runtime_ids}
