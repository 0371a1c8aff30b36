"""`fallbackcheck`: the main job as one installed command.

Runs the shipped suites (fallbackcheck/paths.py) with pytest and the fallbackcheck plugin,
from any directory; every argument is passed on to pytest (--images, --profiles, -n 2, -v,
-k ...). The report goes to ./reports unless --report-dir says otherwise.
`fallbackcheck merge|diff|render_md|render_html|render_table ...` runs that report tool instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import pytest

from . import paths


def _has_option(argv: list[str], name: str) -> bool:
    return any(a == name or a.startswith(name + "=") for a in argv)


def pytest_args(argv: list[str]) -> list[str]:
    # No ini file of anyone's (the user's project, a checkout): the settings the checkout's
    # pyproject.toml gives are given here, and rootdir is the current directory.
    args = [str(paths.SUITES), "-c", os.devnull, "--rootdir", os.getcwd(), "-p", "fallbackcheck.plugin",
            "-p", "no:cacheprovider", "--strict-markers", "-o", "xfail_strict=true"]
    # Found, not imported: importing it before pytest does would stop pytest rewriting it.
    if importlib.util.find_spec("xdist") is not None:
        args.append("--dist=loadgroup")
    if not _has_option(argv, "--report-dir"):
        args += ["--report-dir", os.path.join(os.getcwd(), "reports")]
    return args + argv


# `fallbackcheck <tool> ...`: the report tools, by name (each also runs as python3 -m fallbackcheck.<tool>).
TOOLS = ("merge", "diff", "render_md", "render_html", "render_table")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        module = importlib.import_module(f"fallbackcheck.{argv[0]}")
        return int(module.main(argv[1:]))
    return int(pytest.main(pytest_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
