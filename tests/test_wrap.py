"""--runtimes wrap:<command>: any sandbox command, measured black box against the unwrapped run."""

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import ROOT, cells_by, load_report, require_local_runtime, run_suites, skip_or_fail


@pytest.mark.parametrize("asked, said", [
    ("wrap:", "ERROR: runtime wrap: needs a command"),
    ("wrap:firejail 'unbalanced", "ERROR: runtime wrap:firejail 'unbalanced: cannot split the command"),
])
def test_a_bad_wrapper_command_is_one_line(asked, said):
    proc = subprocess.run(["python3", "-m", "pytest", "suites", "-q", "-p", "no:randomly", "--runtimes", asked,
                           "--images", "host", "--probes", "raw:clone3"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and said in out and "Traceback" not in out, out[-2000:]


def test_the_wrapper_takes_default_and_unconfined_only_and_keeps_its_at_signs():
    from fallbackcheck.model import profiles
    from fallbackcheck.runtimes import get

    wrap = get("wrap:agent-sandbox --profile me@example")
    assert wrap.id == "wrap:agent-sandbox --profile me@example" and wrap.host_libc
    assert wrap.prefix == ["agent-sandbox", "--profile", "me@example"]
    assert wrap.unsupported_profile(profiles.parse("default")) is None
    assert "takes no profile of ours" in wrap.unsupported_profile(profiles.parse("deny:clone3:EPERM"))
    assert profiles.parse("default").asks("clone3", "amd64", wrap) is None
    assert "command not found" in wrap.unavailable_reason()


def test_the_sandbox_section_lists_what_breaks_and_what_the_filter_answered():
    from fallbackcheck.report.sandbox_views import tables

    def cell(probe, kind, profile, delivered, works=None, errno=None):
        return {"probe": probe, "kind": kind, "runtime": "nspawn", "image": "debian-12", "profile": profile,
                "delivered": delivered, "works": works, "errno": errno, "syscalls": list(delivered),
                "verdict": "pass", "outcome": "ok" if works else "error"}

    report = {"environment": {"runtimes": {"nspawn": {"sandbox": "systemd-nspawn"}, "runc": {}}}, "cells": [
        cell("raw:mlock", "raw", "unconfined", {"mlock": "allowed"}),
        cell("raw:mseal", "raw", "unconfined", {"mseal": "allowed"}),
        cell("mlock2", "api", "unconfined", {"mlock": "allowed"}, works=True),
        cell("raw:mlock", "raw", "default", {"mlock": "EPERM"}),
        cell("raw:mseal", "raw", "default", {"mseal": "ENOSYS"}),
        cell("mlock2", "api", "default", {"mlock": "EPERM"}, works=False, errno="EPERM"),
        {**cell("raw:mlock", "raw", "default", {"mlock": "EPERM"}), "runtime": "runc"},
    ]}
    (table,) = tables(report)
    assert table.rows == [["`nspawn`", "debian-12", "`default`", "mlock2 (EPERM)", "mlock EPERM, mseal ENOSYS", "mlock"]]


def _host_filter_wrapper(tmp_path: Path) -> str:
    """A wrapper command that applies deny:clone3:EPERM: the local runtime's own filter program."""
    from fallbackcheck.artefacts import probebuild
    from fallbackcheck.model import profiles
    from fallbackcheck.model.seccomp_policy import render_policy

    policy = tmp_path / "policy"
    policy.write_text(render_policy(profiles.parse("deny:clone3:EPERM")))
    return f"{probebuild.build_on_host() / 'amd64' / 'fbc-seccomp-exec'} {policy}"


def test_the_wrapper_delivers_per_syscall_what_the_named_kind_delivers_for_the_same_filter(tmp_path):
    require_local_runtime()
    wrap = "wrap:" + _host_filter_wrapper(tmp_path)
    proc = run_suites("--runtimes", f"local,{wrap}", "--images", "host", "--probes", "raw:*,pthread_create",
                      "--profiles", "unconfined,default,deny:clone3:EPERM", "--no-fixes", report_dir=tmp_path / "r",
                      env={"FALLBACKCHECK_SESSION": "test-wrap-" + uuid.uuid4().hex[:8]}, timeout=600)
    report = load_report(tmp_path / "r")
    named = {c["probe"]: c["delivered"] for c in cells_by(report, runtime="local", profile="deny:clone3:EPERM", kind="raw")}
    wrapped = {c["probe"]: c["delivered"] for c in cells_by(report, runtime=wrap, profile="default", kind="raw")}
    assert named and wrapped == named, proc.stdout[-2000:]
    assert wrapped["raw:clone3"] == {"clone3": "EPERM"}
    assert all(c["na_reason"] == "profile-unreadable" for c in cells_by(report, runtime=wrap, profile="default", kind="raw")
               if c["verdict"] == "n/a" and c.get("na_reason") != "kernel-lacks")
    assert cells_by(report, runtime=wrap, profile="default", probe="pthread_create")[0]["works"] is False
    assert "| host | `default` | pthread_create (EPERM) | clone3 EPERM | clone3 |" in (tmp_path / "r" / "matrix.md").read_text()
    # As root, the filter itself is read from the confined runner too: it says what was delivered.
    summary = cells_by(report, runtime=wrap, profile="default", probe="raw:clone3")[0]["batch"]
    assert summary["filter_read"]["clone3"] == "EPERM" and summary["filter_read"]["faccessat2"] == "allowed"
    probed = {s for delivered in wrapped.values() for s in delivered}
    assert set(summary["filter_read"]) <= probed and len(summary["filter_read"]) >= len(probed) - 3
    assert "filter_disagrees" not in summary
    assert "| clone3 EPERM | none |" in (tmp_path / "r" / "matrix.md").read_text()


@pytest.mark.engine
@pytest.mark.xdist_group("sandboxes")
def test_a_firejail_command_line_delivers_what_the_firejail_kind_measures(tmp_path):
    if shutil.which("firejail") is None:
        skip_or_fail("firejail is not installed (scripts/setup-host installs it)")
    require_local_runtime()
    had_state = Path("/run/firejail").exists()
    wrap = "wrap:firejail --quiet --noprofile --seccomp"
    try:
        run_suites("--runtimes", f"firejail,{wrap}", "--images", "host,debian-12", "--probes", "raw:*",
                   "--profiles", "unconfined,default,own:seccomp", "--no-fixes", report_dir=tmp_path,
                   env={"FALLBACKCHECK_SESSION": "test-wrapfj-" + uuid.uuid4().hex[:8]}, timeout=600)
    finally:
        if not had_state:  # firejail run on the host keeps its state and bind mounts in /run/firejail
            _remove_firejail_state()
    report = load_report(tmp_path)
    named = {c["probe"]: c["delivered"] for c in cells_by(report, runtime="firejail", profile="own:seccomp")}
    wrapped = {c["probe"]: c["delivered"] for c in cells_by(report, runtime=wrap, profile="default")}
    assert named and wrapped == named
    assert wrapped["raw:fsopen"] == {"fsopen": "EPERM"}
    # firejail's filter read from the process: per syscall, what the raw probes got
    summary = cells_by(report, runtime=wrap, profile="default", probe="raw:fsopen")[0]["batch"]
    assert summary["filter_read"]["fsopen"] == "EPERM" and "filter_disagrees" not in summary


def _remove_firejail_state():
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if line.split()[4].startswith("/run/firejail")]
    for mount in sorted(mounts, reverse=True):
        subprocess.run(["umount", mount], check=False)
    shutil.rmtree("/run/firejail", ignore_errors=True)
