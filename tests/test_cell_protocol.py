"""The cell protocol (fallbackcheck/pytest_plugin/cellprotocol.py) reports every cell as pytest's own
protocol does: the same outcomes, terminal lines, failure texts and JUnit XML; and a cell
that someone marked (a strict xfail from a conftest) runs under pytest's protocol, with
pytest's meaning. Runs on the local runtime: no container engine needed."""

import os
import re
import xml.etree.ElementTree as ET

import pytest

from helpers import load_report, require_local_runtime, run_suites

SELECTION = ("--runtimes", "local", "--images", "host", "--profiles", "unconfined,deny:clone3:EPERM",
             "--probes", "pthread_create,posix_spawn,faccessat,lchmod,raw:clone3,raw:faccessat2,raw:fchmodat2")
CHANGED = ("faccessat", "unconfined")  # the cell a doctored baseline says was different


@pytest.fixture(scope="module", autouse=True)
def local_available():
    require_local_runtime()


# Counts the items pytest's own protocol set up (its setup hook): none of the cells under the
# cell protocol, every cell under pytest's. Without it, a cell protocol that never ran would
# compare pytest with itself and pass.
SETUP_COUNTER = '''
SETUPS = []

def pytest_runtest_setup(item):
    SETUPS.append(item.nodeid)

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"PYTEST SETUPS {len(SETUPS)}")
    # the passed setup/teardown reports the terminal was given (it files them under "")
    terminalreporter.write_line(f"PASSED PHASES {len(terminalreporter.stats.get('', []))}")
'''

# A plugin that reads every report (as JUnit or xdist do): with it, the cell protocol logs
# a passed setup and teardown for every cell, as pytest does.
REPORT_READER = '''
import collections

SEEN = collections.Counter()

def pytest_runtest_logreport(report):
    SEEN[report.when] += 1

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line("REPORTS " + " ".join(f"{w}={SEEN[w]}" for w in ("setup", "call", "teardown")))
'''


def _setups(stdout: str) -> int:
    return int(re.search(r"^PYTEST SETUPS (\d+)$", stdout, re.M).group(1))


def _passed_phases(stdout: str) -> int:
    return int(re.search(r"^PASSED PHASES (\d+)$", stdout, re.M).group(1))


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same selection under each protocol, against a baseline in which one cell differs
    (so that one cell fails): protocol -> (process, its JUnit XML path)."""
    from fallbackcheck import report

    base = tmp_path_factory.mktemp("base")
    proc = run_suites(*SELECTION, "--no-fixes", report_dir=base, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    rows = load_report(base).all_cells
    [changed] = [r for r in rows if (r["probe"], r["profile"]) == CHANGED]
    changed.update(outcome="error", errno="EPERM", verdict="unexpected", works=False)
    baseline = report.write(report.build(rows, {}, load_report(base)["selection"], True), base / "doctored")
    (base / "setupcounter.py").write_text(SETUP_COUNTER)
    path = os.pathsep.join(filter(None, [str(base), os.environ.get("PYTHONPATH")]))
    out = {}
    # with JUnit (it reads every report), and without: where nothing reads a passed setup or
    # teardown, the cell protocol does not make them, and the terminal must not show it
    for protocol, force, junit in (("cells", "0", True), ("pytest", "1", True),
                                   ("cells-quiet", "0", False), ("pytest-quiet", "1", False)):
        where = tmp_path_factory.mktemp(protocol)
        proc = run_suites(*SELECTION, "--no-fixes", "-vv", "-rA", "--baseline", str(baseline), "-p", "setupcounter",
                          *(["--junitxml", str(where / "junit.xml")] if junit else []), report_dir=where,
                          env={"FALLBACKCHECK_PYTEST_PROTOCOL": force, "COLUMNS": "120", "PYTHONPATH": path},
                          timeout=300)
        out[protocol] = (proc, where / "junit.xml")
    return out


def _verbose_lines(stdout: str) -> list[str]:
    """`-v` result lines without the progress column."""
    return sorted(re.sub(r"\s+\[\s*\d+%\]$", "", line) for line in stdout.splitlines()
                  if line.startswith("suites/") and "::" in line)


def _summary(stdout: str, where) -> list[str]:
    """The failure sections and the short test summary (-rA), without timings and with the
    run's own directory as <out>."""
    text = stdout[stdout.index("= FAILURES ="):].replace(str(where), "<out>")
    return [re.sub(r" in [\d.]+s", "", re.sub(r"-{3,}", "---", line)) for line in text.splitlines()
            if not line.startswith(("PYTEST SETUPS", "PASSED PHASES"))]  # the counters differ by design


def _junit(path) -> list[tuple]:
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        props = tuple((p.get("name"), p.get("value")) for p in case.iter("property") if p.get("name") != "container")
        results = tuple((child.tag, child.get("type"), child.get("message")) for child in case
                        if child.tag in ("failure", "skipped", "error"))
        cases.append((case.get("classname"), case.get("name"), props, results))
    return sorted(cases)


def test_cells_report_as_under_pytests_protocol(both):
    (cells, cells_xml), (plain, plain_xml) = both["cells"], both["pytest"]
    assert cells.returncode == plain.returncode == 1, cells.stdout[-3000:] + plain.stdout[-3000:]
    # each run used the protocol it was asked for
    assert _setups(cells.stdout) == 0
    assert _setups(plain.stdout) == len(_verbose_lines(plain.stdout)) > 0
    assert _verbose_lines(cells.stdout) == _verbose_lines(plain.stdout)
    assert _summary(cells.stdout, cells_xml.parent) == _summary(plain.stdout, plain_xml.parent)
    assert _junit(cells_xml) == _junit(plain_xml)
    # what was compared covers every kind of outcome a cell has
    statuses = {m.group(1) for line in _verbose_lines(cells.stdout)
                for m in [re.search(r" (PASSED|FAILED|XFAIL|XPASS|SKIPPED|ERROR)\b", line)] if m}
    assert {"PASSED", "XFAIL", "FAILED"} <= statuses, statuses
    failed = [line for line in cells.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "test_api[faccessat-host-local-unconfined]" in failed[0], failed
    assert "changed since the baseline: outcome error -> ok" in cells.stdout
    # the report says when the run reached each phase, in the order it reached them
    phases = load_report(cells_xml.parent)["environment"]["timing"]["phases_s"]
    order = ["collected", "first_cell", "last_cell", "rows_ready", "report_build"]
    assert [name for name in phases if name in order] == order, phases
    # JUnit carries each cell's facts under the cell protocol too
    props = dict(next(case[2] for case in _junit(cells_xml) if "pthread_create-host-local-unconfined" in case[1]))
    assert props["verdict"] == "pass" and props["works"] == "true", props


def test_passed_phases_are_left_out_only_where_nothing_reads_them(both, tmp_path):
    (quiet, quiet_where), (plain, plain_where) = both["cells-quiet"], both["pytest-quiet"]
    assert quiet.returncode == plain.returncode == 1, quiet.stdout[-3000:] + plain.stdout[-3000:]
    cells = len(_verbose_lines(plain.stdout))
    assert _setups(quiet.stdout) == 0 and _setups(plain.stdout) == cells > 0
    assert _passed_phases(quiet.stdout) == 0 and _passed_phases(plain.stdout) == 2 * cells
    assert _passed_phases(both["cells"][0].stdout) == 2 * cells  # JUnit reads them: made
    assert _verbose_lines(quiet.stdout) == _verbose_lines(plain.stdout)
    assert _summary(quiet.stdout, quiet_where.parent) == _summary(plain.stdout, plain_where.parent)
    # a plugin that reads reports gets every phase of every cell, as under pytest's protocol
    (tmp_path / "reportreader.py").write_text(REPORT_READER)
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    proc = run_suites(*SELECTION, "--no-fixes", "-q", "-p", "reportreader", report_dir=tmp_path / "out",
                      env={"PYTHONPATH": path}, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"REPORTS setup={cells} call={cells} teardown={cells}" in proc.stdout, proc.stdout[-2000:]


MARKING_PLUGIN = '''
import pytest

def pytest_collection_modifyitems(items):
    for item in items:
        if item.name == "test_api[pthread_create-host-local-unconfined]":
            item.add_marker(pytest.mark.xfail(reason="marked by a conftest", strict=True))
        if item.name == "test_api[posix_spawn-host-local-unconfined]":
            item.add_marker(pytest.mark.skip(reason="skipped by a conftest"))
'''


def test_a_marked_cell_keeps_pytests_meaning(tmp_path):
    """A passing cell marked xfail(strict=True) fails as XPASS(strict), a cell marked skip is
    skipped without running, the other cells run as ever."""
    (tmp_path / "marking.py").write_text(MARKING_PLUGIN)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    proc = run_suites(*SELECTION, "--no-fixes", "-p", "marking", "-rA", report_dir=tmp_path / "out", env=env,
                      timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:]
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    # (the reason follows on the same line where the terminal is wide enough)
    assert len(failed) == 1 and failed[0].split(" - ")[0] == \
        "FAILED suites/test_matrix.py::test_api[pthread_create-host-local-unconfined]", failed
    assert "[XPASS(strict)] marked by a conftest" in proc.stdout
    assert re.search(r"SKIPPED \[1\] [^\n]*skipped by a conftest", proc.stdout), proc.stdout[-2000:]
    cells = {(c["probe"], c["profile"]) for c in load_report(tmp_path / "out").cells}
    assert ("posix_spawn", "unconfined") not in cells  # skipped before it ran: no row
    assert ("posix_spawn", "deny:clone3:EPERM") in cells


# A cell whose verdict is not "pass" fails on the suite's assert; a conftest's
# pytest_assertrepr_compare explains such a comparison: the explanation must be there for
# each failing cell under the cell protocol, as under pytest's.
EXPLAINING_PLUGIN = '''
FAILING = ("faccessat", "posix_spawn")

def pytest_collection_finish(session):
    from fallbackcheck.pytest_plugin.plugin import run_of

    run = run_of(session.config)
    measured = run.row

    def row(cell):
        found = measured(cell)
        return {**found, "verdict": "unexpected"} if cell.probe in FAILING else found

    run.row = row

def pytest_assertrepr_compare(op, left, right):
    if right == "pass":
        return [f"EXPLAINED {left!r} {op} {right!r}"]
'''


def test_a_failed_assert_in_a_cell_explains_itself_as_under_pytest(tmp_path):
    (tmp_path / "explaining.py").write_text(EXPLAINING_PLUGIN)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    out = {}
    for protocol, force in (("cells", "0"), ("pytest", "1")):
        where = tmp_path / protocol
        proc = run_suites(*SELECTION, "--no-fixes", "-rA", "-p", "explaining", report_dir=where,
                          env={**env, "FALLBACKCHECK_PYTEST_PROTOCOL": force, "COLUMNS": "120"}, timeout=300)
        assert proc.returncode == 1, proc.stdout[-3000:]
        out[protocol] = [re.sub(r" at 0x[0-9a-f]+>", ">", line) for line in _summary(proc.stdout, where)]
    failing = [line for line in out["cells"] if line.startswith("FAILED")]
    assert len(failing) == 4, failing  # two probes, two profiles
    assert sum("EXPLAINED 'unexpected' == 'pass'" in line for line in out["cells"]) >= 4, out["cells"]
    assert out["cells"] == out["pytest"]


# An autouse fixture from a plugin: every cell must get it, so every cell takes pytest's
# protocol (the cell protocol sets no fixture up).
AUTOUSE_PLUGIN = '''
import pytest

USED = []

@pytest.fixture(autouse=True)
def counted(request):
    USED.append(request.node.nodeid)
    yield

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"AUTOUSE RAN {len(USED)} OF {len(terminalreporter.stats.get('passed', []))}")
'''


def test_a_cell_with_another_fixture_gets_it(tmp_path):
    (tmp_path / "autouse.py").write_text(AUTOUSE_PLUGIN)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    proc = run_suites(*SELECTION, "--no-fixes", "-p", "autouse", report_dir=tmp_path / "out",
                      env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    ran = re.search(r"^AUTOUSE RAN (\d+) OF (\d+)$", proc.stdout, re.M)
    assert ran and int(ran.group(1)) >= int(ran.group(2)) > 0, proc.stdout[-2000:]


LOCATION_PLUGIN = '''
import pytest


@pytest.hookimpl(trylast=True)  # after the plugin's own, which gives each cell its place
def pytest_collection_finish(session):
    differ = [(item.location, pytest.Function.reportinfo(item)) for item in session.items
              if item.reportinfo() != pytest.Function.reportinfo(item)]
    print("LOCATIONS", len(session.items), "differ", len(differ), differ[:2])
'''


def test_cell_locations_are_pytests(tmp_path):
    (tmp_path / "locations.py").write_text(LOCATION_PLUGIN)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    proc = run_suites(*SELECTION, "--co", "-p", "locations", env=env, timeout=300)
    line = next((line for line in proc.stdout.splitlines() if line.startswith("LOCATIONS")), proc.stdout[-2000:])
    assert re.fullmatch(r"LOCATIONS (\d+) differ 0 \[\]", line) and int(line.split()[1]) > 0, line


# A plugin that warns while a cell is reported: the warning must reach the summary under the
# cell loop (one capture of warnings around the loop). With OWN_PROTOCOL it also wraps each
# test's protocol, which the cell loop does not know: pytest's loop then runs, its wrapper sees
# every cell, and the warning is named after its cell.
WARNING_PLUGIN = '''
import warnings

import pytest

SEEN = []

def pytest_runtest_makereport(item, call):
    if call.when == "call" and item.name.startswith("test_api[pthread_create-"):
        warnings.warn(UserWarning("a cell warned " + item.name))
'''
OWN_PROTOCOL = '''
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    SEEN.append(item.nodeid)
    return (yield)

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"OWN PROTOCOL SAW {len(SEEN)}")
'''


@pytest.mark.parametrize("own_protocol", [False, True], ids=["cell loop", "a plugin's own protocol"])
def test_the_cell_loop_keeps_warnings_and_gives_way_to_unknown_protocol_plugins(tmp_path, own_protocol):
    (tmp_path / "warner.py").write_text(WARNING_PLUGIN + (OWN_PROTOCOL if own_protocol else ""))
    (tmp_path / "setupcounter.py").write_text(SETUP_COUNTER)
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    proc = run_suites(*SELECTION, "--no-fixes", "-p", "warner", "-p", "setupcounter", report_dir=tmp_path / "out",
                      env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    cells = len(load_report(tmp_path / "out").cells)
    summary = proc.stdout[proc.stdout.index("warnings summary"):]
    assert "a cell warned test_api[pthread_create-host-local-" in summary, proc.stdout[-3000:]
    assert _setups(proc.stdout) == 0  # either loop runs the cells under the cell protocol
    named = re.search(r"^suites/test_matrix.py::test_api\[pthread_create-", summary, re.M)
    if own_protocol:  # pytest's loop: the plugin's wrapper saw every cell
        assert f"OWN PROTOCOL SAW {cells}" in proc.stdout
        assert named, summary
    else:  # one capture around the cell loop cannot say which cell warned
        assert not named, summary
