"""Bad input gets one clear line and no traceback (no engine needed for these)."""

import pytest

from helpers import run_suites

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.mark.parametrize("args, message", [
    (["--images", "debian-99"], "unknown image 'debian-99'"),
    (["--probes", "pthread_creat"], "unknown probe 'pthread_creat'"),
    (["--profiles", "permissive"], "unknown profile 'permissive'"),
    (["--profiles", "deny:clone3"], "expected deny:<syscall>"),
    (["--profiles", "deny:clonee3:EPERM"], "unknown syscall name"),
    (["--profiles", "deny:clone3:EPREM"], "not an errno name"),
    (["--runtimes", "dockr-runc"], "unknown runtime 'dockr-runc'"),
    (["--runtimes", "docker-runc"], "cannot reach the Docker engine"),
    (["--probe-timeout", "-1"], "must be a number of seconds greater than 0"),
    (["--probe-timeout", "0"], "must be a number of seconds greater than 0"),
    (["--probe-timeout", "soon"], "is not a number of seconds"),
    (["--report-dir", "/etc/hostname/reports"], "cannot write the report to /etc/hostname/reports"),
    (["--runtimes", "docker-crun@debian-31"], "unknown engine host 'debian-31'"),
    (["--runtimes", "local@debian-13"], "unknown kernel host 'debian-13'"),
    (["--engine-hosts", "box=http://box", "--runtimes", "crun@box"], "is not an ssh://user@host"),
    # an unreachable machine (nothing listens on port 1): said before any cell runs
    (["--engine-hosts", "box=ssh://root@127.0.0.1:1", "--runtimes", "crun@box"], "cannot reach engine host box"),
    (["--runtimes", "docker-crun@debian-13"], "an engine generation is a container on this host's Docker engine"),
])
def test_bad_input_is_one_line(args, message):
    proc = run_suites(*args, env=NO_ENGINE, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out  # pytest's usage-error exit status
    assert message in out, out
    assert "Traceback" not in out, out
    errors = [line for line in out.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, out


def test_malformed_profile_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"defaultAction": "SCMP_ACT_ERRNO",')
    proc = run_suites("--profiles", f"file:{path}", env=NO_ENGINE, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4 and "is not valid JSON" in out and "Traceback" not in out, out


def test_unknown_syscall_name_in_profile_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "clone4"], '
                    '"action": "SCMP_ACT_ALLOW"}]}')
    proc = run_suites("--profiles", f"file:{path}", env=NO_ENGINE, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4 and "unknown syscall(s) ['clone4']" in out and "drop unknown names silently" in out, out
    assert "Traceback" not in out
