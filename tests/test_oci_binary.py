"""--runtimes oci:/path: any binary with runc's command line, measured as itself.

Debian's runc and crun given by path answer cell for cell as the runc/crun kinds do; a
wrapper that drops errnoRet/defaultErrnoRet from the profile it is handed (what gVisor's
runsc did, google/gvisor#14688) is caught by the conformance cells, and documented runc
behaviours are not granted to it by its id.
"""

from __future__ import annotations

import hashlib
import shutil
import textwrap
import uuid

import pytest

from helpers import cells_by, load_report, run_suites, skip_or_fail

pytestmark = pytest.mark.engine

PROBES = "pthread_create,raw:clone3,raw:faccessat2,raw:fchmodat2"
FIELDS = ("verdict", "delivered", "outcome", "errno", "behaviour")


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        skip_or_fail(f"{binary} is not installed")
    return path


@pytest.mark.parametrize("kind", ["runc", "crun"])
def test_debians_runtime_by_path_answers_as_its_kind(tmp_path, kind):
    path = _require(kind)
    proc = run_suites("--runtimes", f"{kind},oci:{path}", "--images", "debian-13",
                      "--profiles", "unconfined,default,vintage:5.4:EPERM,deny:clone3:ENOSYS", "--probes", PROBES,
                      "--no-fixes", report_dir=tmp_path, env={"FALLBACKCHECK_SESSION": "test-oci-" + uuid.uuid4().hex[:8]})
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    by_path = cells_by(report, runtime=f"oci:{path}")
    assert len(by_path) == len(cells_by(report, runtime=kind)) > 10
    for cell in by_path:
        [twin] = cells_by(report, runtime=kind, probe=cell["probe"], profile=cell["profile"])
        assert {f: cell.get(f) for f in FIELDS} == {f: twin.get(f) for f in FIELDS}, (cell, twin)
    env = report["environment"]["runtimes"][f"oci:{path}"]
    with open(path, "rb") as fh:
        assert env["oci_runtime_sha256"] == hashlib.sha256(fh.read()).hexdigest()
    assert env["oci_runtime_says"] == kind and env["oci_runtime_version"].startswith(f"{kind} version")


def test_a_runtime_that_drops_the_errno_is_caught(tmp_path):
    """The wrapper hands runc a profile without errnoRet/defaultErrnoRet: every denial becomes
    EPERM. Its raw cells that ask ENOSYS are unexpected and say what was delivered."""
    runc = _require("runc")
    wrapper = tmp_path / "errno-dropping-runtime"
    wrapper.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env python3
        # Test double: a runc-compatible runtime that ignores errnoRet (as runsc did).
        import json, os, sys
        args = sys.argv[1:]
        if args[:1] == ["--version"]:
            print("errno-dropping-runtime 0.1 (wraps {runc})")
            sys.exit(0)
        if "--bundle" in args:
            config_path = os.path.join(args[args.index("--bundle") + 1], "config.json")
            with open(config_path) as fh:
                config = json.load(fh)
            seccomp = config.get("linux", {{}}).get("seccomp")
            if seccomp:
                seccomp.pop("defaultErrnoRet", None)
                for rule in seccomp.get("syscalls", []):
                    rule.pop("errnoRet", None)
                with open(config_path, "w") as fh:
                    json.dump(config, fh)
        os.execv({runc!r}, [{runc!r}, *args])
        """))
    wrapper.chmod(0o755)
    rid = f"oci:{wrapper}"
    proc = run_suites("--runtimes", rid, "--images", "debian-13", "--profiles", "deny:clone3:ENOSYS,deny:clone3:EPERM",
                      "--probes", "pthread_create,raw:clone3", "--no-fixes", report_dir=tmp_path / "report",
                      env={"FALLBACKCHECK_SESSION": "test-ocidrop-" + uuid.uuid4().hex[:8]})
    assert proc.returncode == 1, proc.stdout[-3000:]
    report = load_report(tmp_path / "report")
    [raw] = cells_by(report, probe="raw:clone3", profile="deny:clone3:ENOSYS")
    assert raw["delivered"] == {"clone3": "EPERM"} and raw["verdict"] == "unexpected", raw
    assert "delivered EPERM" in raw["detail"] and "ENOSYS" in raw["detail"], raw["detail"]
    [eperm] = cells_by(report, probe="raw:clone3", profile="deny:clone3:EPERM")
    assert eperm["verdict"] == "pass"  # EPERM was asked: dropping the errno changes nothing
    [api] = cells_by(report, probe="pthread_create", profile="deny:clone3:ENOSYS")
    # Judged by what was delivered (EPERM): glibc does not fall back, as the catalogue says.
    assert (api["verdict"], api["errno"]) == ("expected-break", "EPERM"), api
    env = report["environment"]["runtimes"][rid]
    assert env["oci_runtime_says"] == "unknown" and env["oci_runtime_version"].startswith("errno-dropping-runtime")


@pytest.mark.parametrize("rid, line", [
    ("oci:bin/runc", "ERROR: runtime oci:bin/runc: give the runtime binary's absolute path (oci:/usr/local/bin/runc)"),
    ("oci:/no/such/runtime", "ERROR: runtime oci:/no/such/runtime: no executable file there"),
])
def test_a_bad_runtime_path_is_one_line(tmp_path, rid, line):
    proc = run_suites("--runtimes", rid, "--images", "debian-13", report_dir=tmp_path, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 4, out
    assert [ln for ln in out.splitlines() if ln.startswith("ERROR:")] == [line]
    assert "Traceback" not in out
