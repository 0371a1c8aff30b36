"""docker-<name> and podman-<name>: any OCI runtime registered in dockerd or in Podman's
containers.conf is measured by that name, and what it delivers is judged by what it did, not by
what it is called. The tests register a wrapper around crun that drops every seccomp errno on
its way (as gVisor's runsc did: google/gvisor#14688) under a name of their own, and remove it
again (Podman's through CONTAINERS_CONF, so the host's configuration is never touched)."""

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from helpers import cells_by, load_report, run_suites, skip_or_fail

pytestmark = pytest.mark.engine

DAEMON_JSON = Path("/etc/docker/daemon.json")
DOCKERD_PID = Path("/var/run/docker.pid")

WRAPPER = """\
#!/usr/bin/python3
# Test double: an OCI runtime that drops defaultErrnoRet and every rule's errnoRet before crun
# sees the bundle. It rewrites a copy (dockerd's own config.json stays as dockerd wrote it, so
# the report's received profile is what the engine handed over).
import json, os, shutil, sys

REAL, COPIES = {crun!r}, {copies!r}
args = sys.argv[1:]
if "--version" in args:
    print("errno-dropping-runtime 0.1 (wraps crun)")
    sys.exit(0)
if "create" in args and "--bundle" in args:
    at = args.index("--bundle") + 1
    bundle, container = args[at], args[-1]
    with open(os.path.join(bundle, "config.json")) as fh:
        config = json.load(fh)
    seccomp = config.get("linux", {{}}).get("seccomp") or {{}}
    seccomp.pop("defaultErrnoRet", None)
    for rule in seccomp.get("syscalls", []):
        rule.pop("errnoRet", None)
    root = config.setdefault("root", {{}})
    root["path"] = os.path.join(bundle, root.get("path", "rootfs"))
    copy = os.path.join(COPIES, container)
    os.makedirs(copy, exist_ok=True)
    with open(os.path.join(copy, "config.json"), "w") as fh:
        json.dump(config, fh)
    args[at] = copy
elif "delete" in args:
    shutil.rmtree(os.path.join(COPIES, args[-1]), ignore_errors=True)
os.execv(REAL, [REAL, *args])
"""


def _dockerd_runtimes() -> set:
    done = subprocess.run(["docker", "info", "--format", "{{json .Runtimes}}"], capture_output=True, text=True)
    return set(json.loads(done.stdout or "{}"))


def _host_dockerd() -> int | None:
    """This host's dockerd, by its pid file (`pidof dockerd` also finds the dockerd of every
    engine generation, each in its own container)."""
    try:
        return int(DOCKERD_PID.read_text().strip())
    except (OSError, ValueError):
        return None


def _reload_dockerd(wanted, timeout: float = 90) -> None:
    """dockerd rereads daemon.json's runtimes on SIGHUP; wait until `wanted(runtimes)` holds."""
    os.kill(_host_dockerd(), signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while not wanted(_dockerd_runtimes()):
        assert time.monotonic() < deadline, "dockerd did not reload its runtimes"
        time.sleep(0.3)


@pytest.fixture
def wrapper(tmp_path) -> Path:
    crun = shutil.which("crun")
    if crun is None:
        skip_or_fail("needs crun (scripts/setup-host)")
    path = tmp_path / "errno-dropping-runtime"
    copies = tmp_path / "bundles"
    copies.mkdir()
    path.write_text(WRAPPER.format(crun=crun, copies=str(copies)))
    path.chmod(0o755)
    return path


@pytest.fixture
def registered(wrapper):
    """A wrapper runtime registered in this host's dockerd for the test, then unregistered
    (daemon.json as it was, dockerd reloaded)."""
    if _host_dockerd() is None or not _dockerd_runtimes():
        skip_or_fail("needs this host's dockerd running (scripts/setup-host)")
    name = "fbc-test-dropper-" + uuid.uuid4().hex[:6]
    before = DAEMON_JSON.read_text() if DAEMON_JSON.exists() else None
    config = json.loads(before or "{}")
    config.setdefault("runtimes", {})[name] = {"path": str(wrapper)}
    DAEMON_JSON.write_text(json.dumps(config))
    try:
        _reload_dockerd(lambda runtimes: name in runtimes)
        yield name, wrapper
    finally:
        if before is None:
            DAEMON_JSON.unlink()
        else:
            DAEMON_JSON.write_text(before)
        _reload_dockerd(lambda runtimes: name not in runtimes)


def test_a_runtime_registered_in_dockerd_is_measured_by_its_name(tmp_path, registered):
    name, wrapper = registered
    _measured_as_what_it_delivers(tmp_path, f"docker-{name}", f"Docker + {name}", wrapper)


def test_a_runtime_registered_in_podman_is_measured_by_its_name(tmp_path, wrapper):
    if shutil.which("podman") is None:
        skip_or_fail("needs podman (scripts/setup-host)")
    name = "fbc-test-dropper-" + uuid.uuid4().hex[:6]
    host_conf = Path("/etc/containers/containers.conf")
    text = host_conf.read_text() if host_conf.exists() else ""
    line = f'{name} = ["{wrapper}"]\n'
    # CONTAINERS_CONF: Podman then reads this file only, the host's settings copied in.
    text = text.replace("[engine.runtimes]\n", "[engine.runtimes]\n" + line) if "[engine.runtimes]" in text \
        else text + "\n[engine.runtimes]\n" + line
    conf = tmp_path / "containers.conf"
    conf.write_text(text)
    _measured_as_what_it_delivers(tmp_path, f"podman-{name}", f"Podman + {name}", wrapper,
                                  env={"CONTAINERS_CONF": str(conf)})


def _measured_as_what_it_delivers(tmp_path, rid, family, wrapper, env=None):
    proc = run_suites("--runtimes", rid, "--images", "debian-13", "--profiles", "deny:clone3:ENOSYS,deny:clone3:EPERM",
                      "--probes", "pthread_create,raw:clone3", "--no-fixes", report_dir=tmp_path / "report",
                      env={"FALLBACKCHECK_SESSION": "test-registered-" + uuid.uuid4().hex[:8], **(env or {})})
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]  # the dropped errno fails cells
    report = load_report(tmp_path / "report")
    [raw] = cells_by(report, runtime=rid, probe="raw:clone3", profile="deny:clone3:ENOSYS")
    assert raw["delivered"] == {"clone3": "EPERM"} and raw["verdict"] == "unexpected", raw
    assert "delivered EPERM" in raw["detail"] and "ENOSYS" in raw["detail"], raw["detail"]
    [eperm] = cells_by(report, runtime=rid, probe="raw:clone3", profile="deny:clone3:EPERM")
    assert eperm["verdict"] == "pass"  # EPERM was asked: dropping the errno changes nothing
    [api] = cells_by(report, runtime=rid, probe="pthread_create", profile="deny:clone3:ENOSYS")
    assert (api["verdict"], api["errno"]) == ("expected-break", "EPERM"), api  # judged by what was delivered
    env = report["environment"]["runtimes"][rid]
    assert env["oci_runtime_path"] == str(wrapper) and env["oci_runtime_version"].startswith("errno-dropping-runtime")
    assert report["environment"]["runtime_kinds"][rid]["family"] == family
    assert not any((tmp_path / "bundles").iterdir())  # the wrapper's copies went with their containers


@pytest.mark.parametrize("rid, says", [("docker-no-such-runtime", "dockerd has no runtime named 'no-such-runtime'"),
                                       ("podman-no-such-runtime", "podman has no runtime named 'no-such-runtime'")])
def test_an_unregistered_name_is_one_line(tmp_path, rid, says):
    proc = run_suites("--runtimes", rid, "--images", "debian-13", report_dir=tmp_path, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    [line] = [ln for ln in out.splitlines() if ln.startswith("ERROR:")]
    assert says in line and "Traceback" not in out, line
