"""Integration (needs the Docker engine): a small run answers what breaks, proves the fix by
a rerun, says what changed since a baseline (failing exactly the changed cell), carries its
facts into JUnit XML and a CI summary, and runs as the installed `fallbackcheck` command."""

import os
import shutil
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fallbackcheck.report import ci_summary
from fallbackcheck import report

from helpers import ROOT, cells_by, load_report, run_suites

pytestmark = pytest.mark.engine

SELECTION = ("--images", "debian-12", "--runtimes", "docker-runc", "--profiles", "deny:clone3:EPERM,unconfined",
             "--probes", "pthread_create,posix_spawn,faccessat")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("answers")
    step = out / "step-summary.md"
    step.write_text("earlier step\n")
    proc = run_suites(*SELECTION, "--junitxml", str(out / "junit.xml"), "--summary", str(out / "summary.md"),
                      report_dir=out / "reports", timeout=900,
                      env={"GITHUB_STEP_SUMMARY": str(step), "FALLBACKCHECK_SESSION": "test-ans-" + uuid.uuid4().hex[:8]})
    return proc, load_report(out / "reports"), out


def test_fix_is_written_and_proven_by_a_rerun(run):
    proc, rep, out = run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    [fix] = rep["fixes"]
    assert fix["profile"] == "deny:clone3:EPERM" and list(fix["groups"]) == ["clone3:EPERM"]
    assert fix["groups"]["clone3:EPERM"]["rules"] == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
                                                       "errnoRet": 38}]
    patched = (out / "reports" / "fixes").glob("*.json")
    assert [p.resolve() for p in patched] == [Path(fix["patched_profile"][5:])]
    broken = [c for c in rep.cells if c["profile"] == "deny:clone3:EPERM" and c["verdict"] == "expected-break"]
    assert {c["probe"] for c in broken} == {"pthread_create", "posix_spawn"}
    reruns = rep.fix_cells
    assert sorted(c["probe"] for c in reruns) == ["posix_spawn", "pthread_create"]
    assert all(c["delivered"]["clone3"] == "ENOSYS" and c["outcome"] == "ok" for c in reruns), reruns
    assert len({c["container"] for c in reruns}) == 1  # one batch for the patched profile
    assert rep["summary"]["cells"] == len(rep.cells)  # reruns are not counted as the matrix's cells
    md = (out / "reports" / "matrix.md").read_text()
    assert "add {names:[clone3], action: SCMP_ACT_ERRNO, errnoRet: 38}" in md
    assert "proven on `deny:clone3:EPERM` (2/2)" in md


def test_terminal_summary_is_short(run):
    proc, _, _ = run
    tail = proc.stdout.split("= fallbackcheck =")[1]
    assert "breaks: clone3 (→ EPERM 2): 2 cells" in tail and "fix proven on 1 profile(s)" in tail
    assert len(tail.strip().splitlines()) <= 8, tail
    assert "XFAIL" not in proc.stdout and "SKIPPED" not in proc.stdout  # no per-cell lines without -r/-v


def test_junit_cells_carry_their_facts(run):
    _, rep, out = run
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    props = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")} for case in cases}
    cell = props["test_api[pthread_create-debian-12-docker-runc-deny:clone3:EPERM]"]
    [row] = cells_by(rep, probe="pthread_create", profile="deny:clone3:EPERM")
    assert cell["outcome"] == "error" and cell["works"] == "false" and cell["verdict"] == "expected-break"
    assert cell["delivered"].startswith("clone3 EPERM") and cell["container"] == row["container"]
    assert "clone-internal.c" in cell["source"]


def test_ci_summary_written_and_appended(run):
    _, _, out = run
    text = (out / "summary.md").read_text()
    assert len(text.splitlines()) <= ci_summary.MAX_LINES
    assert "**clone3** (→ EPERM 2)" in text and "proven on `deny:clone3:EPERM` (2/2)" in text
    assert (out / "step-summary.md").read_text() == "earlier step\n" + text


def test_baseline_fails_exactly_the_changed_cell(run, tmp_path):
    _, rep, out = run
    rows = rep.all_cells
    [changed] = [r for r in rows if (r["probe"], r["profile"]) == ("faccessat", "unconfined")]
    changed.update(outcome="error", errno="EPERM", verdict="unexpected", works=False)
    baseline = report.write(report.build(rows, {}, rep["selection"], True), tmp_path / "base")
    proc = run_suites(*SELECTION, "--baseline", str(baseline), "--no-fixes", report_dir=tmp_path / "now",
                      timeout=900)
    assert proc.returncode == 1, proc.stdout[-3000:]
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "test_api[faccessat-debian-12-docker-runc-unconfined]" in failed[0], failed
    now = load_report(tmp_path / "now")
    assert [c["cell"] for c in now["changes"]["changed"]] == [["faccessat", "debian-12", "docker-runc", "unconfined"]]
    assert "## What changed since" in (tmp_path / "now" / "matrix.md").read_text()
    same = subprocess.run([sys.executable, "-m", "fallbackcheck.report.diff", str(out / "reports" / "matrix.json"),
                           str(tmp_path / "now" / "matrix.json")], cwd=ROOT, capture_output=True, text=True)
    assert (same.returncode, same.stdout) == (0, "no changes\n")
    differ = subprocess.run([sys.executable, "-m", "fallbackcheck.report.diff", str(baseline),
                             str(tmp_path / "now" / "matrix.json")], cwd=ROOT, capture_output=True, text=True)
    assert differ.returncode == 1
    assert "changed: faccessat debian-12 docker-runc unconfined: outcome error -> ok" in differ.stdout


def test_installed_command_runs_from_any_directory(tmp_path):
    """pip install of a copy of the repository into a fresh venv (its run-time dependencies
    from this Python's site-packages; pip fetches the build backend), then `fallbackcheck`
    from an unrelated directory."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "src"
    for name in files:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(src)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    where = tmp_path / "elsewhere"
    where.mkdir()
    proc = subprocess.run([str(venv / "bin" / "fallbackcheck"), "--images", "debian-12", "--runtimes", "docker-runc",
                           "--profiles", "deny:clone3:EPERM", "--probes", "pthread_create", "-p", "no:randomly"],
                          cwd=where, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "FALLBACKCHECK_SESSION": "test-inst-" + uuid.uuid4().hex[:8]})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    shipped = subprocess.run([str(venv / "bin" / "python"), "-c", "import fallbackcheck.paths as p; "
                              "print(p.IN_CHECKOUT, p.SUITES)"], cwd=where, capture_output=True, text=True)
    assert shipped.stdout.startswith("False ") and str(venv) in shipped.stdout
    rep = load_report(where / "reports")
    [cell] = cells_by(rep, probe="pthread_create")
    assert (cell["outcome"], cell["verdict"]) == ("error", "expected-break")
    assert (where / "reports" / "matrix.html").exists() and list((where / "reports" / "fixes").glob("*.json"))
