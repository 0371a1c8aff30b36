"""Running `pytest suites` as a user would, in a subprocess, for the harness's own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_suites(*args: str, report_dir: Path | None = None, env: dict | None = None,
               timeout: float = 900) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:randomly", *args]
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


def require_local_runtime() -> None:
    """Skip (or, with FALLBACKCHECK_REQUIRE_ENGINE=1, fail) where the local runtime cannot run."""
    import pytest

    from fallbackcheck.runtimes import get

    reason = get("local").unavailable_reason()
    if reason:
        if os.environ.get("FALLBACKCHECK_REQUIRE_ENGINE") == "1":
            pytest.fail(f"FALLBACKCHECK_REQUIRE_ENGINE=1 but the local runtime cannot run: {reason}")
        pytest.skip(reason)
