"""The pytest range pyproject.toml declares, proven at its lower end.

CI installs the newest pytest (scripts/setup-host), so the rest of the tests prove the upper
end. These run the checkout in a virtual environment holding the LOWEST releases the
declared range admits (pytest and pytest-xdist, from their `>=` bounds), as a user who pins
them would: the engine-free tests there, and one small matrix there and here, whose cells
must be the same.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fallbackcheck import cache
from helpers import ROOT, load_report, run_suites

# What the lowest environment needs beside pytest and xdist: the package's other
# dependencies, at whatever release pip picks (their ranges are not what is tested here).
OTHER_DEPENDENCIES = ("docker", "pytest-testinfra")
SMALL_MATRIX = ("--images", "debian-12", "--runtimes", "docker-runc", "--profiles",
                "deny:clone3:EPERM,deny:clone3:ENOSYS", "--probes", "pthread_create")


def declared_lower_bounds() -> dict[str, str]:
    """pytest and pytest-xdist -> the `X.Y` of their `>=` bound in pyproject.toml."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    bounds = {}
    for dep in deps:
        m = re.fullmatch(r"(pytest|pytest-xdist)\s*>=\s*(\d+\.\d+)(?:\.\d+)?\s*(?:,.*)?", dep)
        if m:
            bounds[m[1]] = m[2]
    return bounds


def test_the_declared_range_starts_at_a_release_we_test():
    bounds = declared_lower_bounds()
    assert set(bounds) == {"pytest", "pytest-xdist"}, f"pyproject.toml's dependencies changed shape: {bounds}"
    assert tuple(map(int, bounds["pytest"].split("."))) >= (8, 0)


@pytest.fixture(scope="module")
def lowest_python() -> str:
    """Module scope: the python of a virtual environment with the lowest pytest and
    pytest-xdist the range admits (`==X.Y.*`), made once and kept in the cache by that pin."""
    pins = [f"{name}=={version}.*" for name, version in sorted(declared_lower_bounds().items())]
    venv = cache.cache_dir() / "venvs" / cache.digest(*pins, *OTHER_DEPENDENCIES)[:16]
    python = venv / "bin" / "python"
    with cache.locked(f"venv-{venv.name}"):
        if not (venv / ".complete").exists():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
            pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                  *pins, *OTHER_DEPENDENCIES], capture_output=True, text=True)
            assert pip.returncode == 0, f"could not install {pins}: {pip.stderr[-2000:]}"
            (venv / ".complete").write_text(" ".join(pins))
    version = subprocess.run([str(python), "-m", "pytest", "--version"], capture_output=True, text=True)
    assert version.stdout.strip().startswith(f"pytest {declared_lower_bounds()['pytest']}."), version
    return str(python)


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "FALLBACKCHECK_SESSION"))}
    return env


def test_engine_free_tests_pass_on_the_lowest_pytest(lowest_python):
    # This file is left out there: it would make its own environment again inside itself.
    proc = subprocess.run([lowest_python, "-m", "pytest", "tests", "-m", "not engine", "-q", "-n", "2",
                           "-p", "no:randomly", "--ignore", str(Path(__file__).relative_to(ROOT))],
                          cwd=ROOT, capture_output=True, text=True, env=_env(), timeout=1200)
    tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    assert re.search(r"\d+ passed", proc.stdout), tail
    assert not re.search(r"\d+ (failed|errors?)\b", proc.stdout), tail


@pytest.mark.engine
def test_a_small_matrix_gives_the_same_cells_on_the_lowest_and_the_newest_pytest(lowest_python, tmp_path):
    cells = {}
    for name, python in (("lowest", lowest_python), ("newest", sys.executable)):
        proc = run_suites(*SMALL_MATRIX, report_dir=tmp_path / name, python=python, env=_env(), timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        rows = load_report(tmp_path / name).cells
        cells[name] = {(r["probe"], r["image"], r["runtime"], r["profile"]):
                       (r["outcome"], r.get("errno"), r["verdict"], r.get("delivered")) for r in rows}
    assert len(cells["newest"]) >= 2, cells
    assert cells["lowest"] == cells["newest"]
