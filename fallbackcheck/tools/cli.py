"""`fallbackcheck`: the main job as one installed command.

Runs the shipped suites (fallbackcheck/paths.py) with pytest and the fallbackcheck plugin,
from any directory; every argument is passed on to pytest (--images, --profiles, -n 2, -v,
-k ...). The report goes to ./reports unless --report-dir says otherwise.
`fallbackcheck merge|diff|render_md|render_html|render_table ...` runs that report tool instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

from ..matrix.invocation import command_args

# `fallbackcheck <tool> ...`: the report tools, by name (each also runs as python3 -m fallbackcheck.report.<tool>).
TOOLS = ("merge", "diff", "render_md", "render_html", "render_table")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        module = importlib.import_module(f"fallbackcheck.report.{argv[0]}")
        return int(module.main(argv[1:]))
    # xdist found, not imported: importing it before pytest does would stop pytest rewriting it.
    return int(pytest.main(command_args(argv, with_xdist=importlib.util.find_spec("xdist") is not None)))


if __name__ == "__main__":
    sys.exit(main())
