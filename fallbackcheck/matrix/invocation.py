"""Command lines that start a matrix run, read as plain values: whether one asks for the
matrix at all, whether its collected items will be exactly the selection, whether the user
asked for per-test lines, and the pytest arguments of the installed `fallbackcheck` command.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import paths

# Options after which pytest will not run every selected cell, or runs them in an order of its own.
DESELECTING = ("collectonly", "keyword", "markexpr", "deselect", "lf", "stepwise", "stepwise_skip")


def runs_matrix(args) -> bool:
    """Whether pytest's arguments name the matrix suites or something inside them."""
    for arg in args:
        path = Path(arg.split("::")[0]).resolve()
        if path == paths.SUITES or paths.SUITES in path.parents:
            return True
    return False


def items_are_the_selection(option, args, one_process: bool) -> bool:
    """Whether this process will run exactly the selection's cells, which is then known
    before pytest has collected them: one process runs every cell (no xdist workers), the
    command line names the suites directory only (no single file, no node id) and nothing
    deselects (-k, -m, --deselect, --lf, --sw). A conftest that deselects is found out when
    collection is done (pytest_collection_finish). `option`: pytest's config.option."""
    if not one_process or any(getattr(option, name, None) for name in DESELECTING):
        return False
    return bool(args) and all("::" not in arg and Path(arg).resolve() == paths.SUITES for arg in args)


def asked_for_details(args) -> bool:
    """Did the user ask for per-test lines (-r..., -v) on the command line itself? (pyproject's
    addopts has -ra, which would list every skipped and xfailed cell of a matrix run.)"""
    for arg in map(str, args):
        if arg.startswith(("-r", "-v", "--verbose")) or (arg.startswith("-") and not arg.startswith("--")
                                                           and "v" in arg[1:] and arg[1:].isalpha()):
            return True
    return False


def command_args(argv: list[str], with_xdist: bool) -> list[str]:
    """pytest's arguments for the installed command: the shipped suites with the settings the
    checkout's pyproject.toml gives, no ini file of anyone's (the user's project, a checkout),
    rootdir and the report directory the current directory's; then the user's arguments."""
    args = [str(paths.SUITES), "-c", os.devnull, "--rootdir", os.getcwd(), "-p", "fallbackcheck.pytest_plugin.plugin",
            "-p", "no:cacheprovider", "--strict-markers", "-o", "xfail_strict=true"]
    if with_xdist:
        args.append("--dist=loadgroup")
    if not any(a == "--report-dir" or a.startswith("--report-dir=") for a in argv):
        args += ["--report-dir", os.path.join(os.getcwd(), "reports")]
    return args + argv
