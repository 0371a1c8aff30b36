"""The local runtime: the host libc under a libseccomp filter, no container engine."""

import os

import pytest

from helpers import cells_by, load_report, require_local_runtime, run_suites

ENGINES = {"docker", "dockerd", "podman", "runc", "crun"}


@pytest.fixture
def no_engine(tmp_path):
    """An environment in which no container engine or runtime can be found: a PATH of
    links to every host tool except the engines, and a Docker socket that does not exist."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/usr/sbin"):
        for tool in os.listdir(directory):
            if tool not in ENGINES and not (bindir / tool).exists():
                (bindir / tool).symlink_to(os.path.join(directory, tool))
    return {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "PATH": str(bindir)}


@pytest.fixture(scope="module", autouse=True)
def local_available():
    require_local_runtime()


def test_without_engine_the_local_runtime_runs_and_says_so(tmp_path, no_engine):
    proc = run_suites("--probes", "pthread_create,faccessat", "--profiles", "deny:clone3:EPERM,deny:faccessat2:ENOSYS",
                      env=no_engine, report_dir=tmp_path, timeout=300)
    assert "no container engine is available: running the local runtime" in proc.stdout, proc.stdout
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    assert {c["runtime"] for c in report["cells"]} == {"local"}
    assert {c["image"] for c in report["cells"]} == {"host"}
    libc = os.confstr("CS_GNU_LIBC_VERSION")
    assert all(c["libc"] == libc for c in report["cells"])


def test_local_filter_delivers_the_profile_errno(tmp_path):
    proc = run_suites("--runtimes", "local", "--probes", "raw:clone3,raw:faccessat2",
                      "--profiles", "deny:clone3:EPERM,deny:clone3:ENOSYS", report_dir=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    got = {(c["probe"], c["profile"]): c["delivered"] for c in report["cells"]}
    assert got[("raw:clone3", "deny:clone3:EPERM")] == {"clone3": "EPERM"}
    assert got[("raw:clone3", "deny:clone3:ENOSYS")] == {"clone3": "ENOSYS"}
    assert got[("raw:faccessat2", "deny:clone3:EPERM")] == {"faccessat2": "allowed"}
    assert all(c["verdict"] == "pass" for c in cells_by(report))
