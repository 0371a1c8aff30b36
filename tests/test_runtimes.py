"""Integration: every runtime runs here, and the same profile file means the same errnos on
runc and crun driven directly, except where a documented behaviour says otherwise."""

import json

import pytest

from helpers import load_report, run_suites

pytestmark = pytest.mark.engine

ALL = ("docker-runc", "docker-crun", "podman-runc", "podman-crun", "runc", "crun", "local")


@pytest.mark.parametrize("runtime_id", ALL)
def test_runtime_is_available_and_reports_versions(runtime_id):
    from fallbackcheck.runtimes import get

    runtime = get(runtime_id)
    assert runtime.unavailable_reason() is None
    versions = runtime.versions()
    if runtime_id != "local":
        assert versions["oci_runtime_version"] and versions["libseccomp"]


@pytest.fixture(scope="module")
def same_file_report(tmp_path_factory):
    """Module scope: raw probes under one vintage profile file, on runc and crun directly."""
    from fallbackcheck.model import profiles

    out = tmp_path_factory.mktemp("oci")
    path = out / "vintage-5.2-eperm.json"
    path.write_text(profiles.parse("vintage:5.2:EPERM").render())
    proc = run_suites("--images", "debian-12", "--runtimes", "runc,crun", "--profiles", f"file:{path}",
                      "--probes", "raw:*,pthread_create", report_dir=out, timeout=900)
    return proc, load_report(out)


def test_same_profile_file_on_runc_and_crun(same_file_report):
    proc, report = same_file_report
    assert proc.returncode == 0, proc.stdout[-3000:]
    raw = {(c["runtime"], c["probe"]): c for c in report["cells"] if c["kind"] == "raw"}
    differing = [p for (rt, p) in raw if rt == "runc" and raw[("runc", p)]["delivered"] != raw[("crun", p)]["delivered"]]
    assert "raw:clone3" in differing  # 435 is above the largest syscall a 5.2 profile names
    for probe in differing:
        runc, crun = raw[("runc", probe)], raw[("crun", probe)]
        # crun delivers what the OCI spec says; runc's difference is its documented stub.
        assert next(iter(crun["delivered"].values())) == crun["expected"], crun
        assert "runc's ENOSYS stub" in (runc["behaviour"] or ""), runc
    agreeing = [p for (rt, p) in raw if rt == "runc" and p not in differing]
    assert "raw:setns" in agreeing  # an old syscall the profile allows: both let it through


def test_api_consequence_of_the_stub(same_file_report):
    _, report = same_file_report
    api = {c["runtime"]: c for c in report["cells"] if c["probe"] == "pthread_create"}
    assert (api["runc"]["outcome"], api["runc"]["verdict"]) == ("ok", "pass")
    assert (api["crun"]["outcome"], api["crun"]["errno"], api["crun"]["verdict"]) == ("error", "EPERM", "expected-break")


def test_podman_default_profile_is_read_and_honoured(tmp_path):
    proc = run_suites("--images", "debian-12", "--runtimes", "podman-crun", "--profiles", "default",
                      "--probes", "raw:clone3,raw:fchmodat2,raw:unshare", report_dir=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    report = load_report(tmp_path)
    assert report["environment"]["runtimes"]["podman-crun"]["default_profile"]
    asked = {c["probe"]: c["expected"] for c in report["cells"]}
    assert all(v not in (None, "unknown") for v in asked.values()), json.dumps(asked)

