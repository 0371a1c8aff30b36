"""What a command line asks of a matrix run (fallbackcheck.matrix.invocation), read without pytest."""

import os
from types import SimpleNamespace

import pytest

from fallbackcheck import paths
from fallbackcheck.matrix.invocation import asked_for_details, command_args, items_are_the_selection, runs_matrix

SUITES = str(paths.SUITES)


@pytest.mark.parametrize("args, expected", [
    ([SUITES], True),
    ([f"{SUITES}/test_matrix.py::test_cell"], True),
    (["tests"], False),
    ([], False),
])
def test_a_matrix_run_is_one_that_names_the_suites(args, expected):
    assert runs_matrix(args) is expected


def _option(**asked):
    return SimpleNamespace(**{"collectonly": False, "keyword": "", "markexpr": "", **asked})


@pytest.mark.parametrize("option, args, one_process, expected", [
    (_option(), [SUITES], True, True),
    (_option(), [SUITES], False, False),  # xdist workers share the cells out
    (_option(keyword="clone3"), [SUITES], True, False),
    (_option(deselect=["x"]), [SUITES], True, False),
    (_option(lf=True), [SUITES], True, False),
    (_option(), [f"{SUITES}/test_matrix.py"], True, False),
    (_option(), [f"{SUITES}::test_cell"], True, False),
])
def test_the_items_are_the_selection_only_when_nothing_deselects(option, args, one_process, expected):
    assert items_are_the_selection(option, args, one_process) is expected


@pytest.mark.parametrize("args, expected", [
    (["-v"], True), (["-ra"], True), (["-qv"], True), (["--verbose"], True),
    (["-n", "2"], False), (["--images", "debian-12"], False), (["-q"], False),
])
def test_per_test_lines_are_asked_for_by_r_or_v_only(args, expected):
    assert asked_for_details(args) is expected


def test_the_installed_command_reports_to_the_current_directory_unless_told(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = command_args(["--images", "debian-12"], with_xdist=True)
    assert args[0] == SUITES and "--dist=loadgroup" in args and args[-2:] == ["--images", "debian-12"]
    assert args[args.index("--report-dir") + 1] == os.path.join(str(tmp_path), "reports")
    mine = command_args(["--report-dir=/elsewhere"], with_xdist=False)
    assert mine.count("--report-dir") == 0 and "--dist=loadgroup" not in mine and mine[-1] == "--report-dir=/elsewhere"
