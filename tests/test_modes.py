"""The same selection gives the same matrix whatever the pytest mode (needs an engine).

One process (-n 0) judges each batch in its batch thread and plans and proves each
profile's fix as soon as that profile's batches are judged (fixruns.EarlyFixes); under two xdist workers the
workers judge and the controller plans the fixes at the end. Both must agree on every cell,
every verdict, every fix and every rerun. Speed is not judged here (scripts/benchmark).
"""

import uuid

import pytest

from helpers import load_report, run_suites

pytestmark = pytest.mark.engine

SELECTION = ("--images", "debian-12,debian-11", "--runtimes", "docker-runc,crun",
             "--profiles", "unconfined,deny:faccessat2,fchmodat2:EPERM,vintage:5.4:EPERM")
CELL_FACTS = ("verdict", "outcome", "errno", "works", "delivered", "expected", "behaviour", "na_reason",
              "fails_like_old_kernel")


def _fix_name(profile_id: str) -> str:
    return profile_id.rsplit("/", 1)[-1]  # the report directory differs between the runs


def _facts(report) -> dict:
    cells = {(c["probe"], c["image"], c["runtime"], c["profile"]): tuple(repr(c.get(k)) for k in CELL_FACTS)
             for c in report.cells}
    reruns = {(c["probe"], c["image"], c["runtime"], _fix_name(c["profile"]), c["fix_of"], c["fix_group"]):
              tuple(repr(c.get(k)) for k in CELL_FACTS) for c in report.fix_cells}
    fixes = sorted((f["profile"], tuple(f["groups"]), f["cells"], f["batches"]) for f in report.data["fixes"])
    return {"cells": cells, "reruns": reruns, "fixes": fixes, "unfixable": report.data.get("unfixable")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = {}
    for mode in ("0", "2"):
        directory = tmp_path_factory.mktemp(f"mode-{mode}")
        proc = run_suites(*SELECTION, "-n", mode, report_dir=directory, timeout=1200,
                          env={"FALLBACKCHECK_SESSION": f"test-modes-{mode}-" + uuid.uuid4().hex[:8]})
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        out[mode] = load_report(directory)
    return out


def test_serial_and_xdist_give_the_same_cells(runs):
    serial, xdist = _facts(runs["0"]), _facts(runs["2"])
    assert len(serial["cells"]) > 500
    assert serial["cells"] == xdist["cells"]


def test_fixes_planned_early_match_those_planned_at_the_end(runs):
    serial, xdist = _facts(runs["0"]), _facts(runs["2"])
    assert runs["0"].data["environment"]["timing"]["fixes_proven"] == "while the cells ran"
    assert runs["2"].data["environment"]["timing"]["fixes_proven"] == "after the last cell"
    # the selection has breaks a profile can fix (faccessat2 -> EPERM on debian-12's glibc 2.36)
    assert serial["fixes"] and serial["reruns"]
    assert serial["fixes"] == xdist["fixes"]
    assert serial["reruns"] == xdist["reruns"]
    assert serial["unfixable"] == xdist["unfixable"]
    # every patched profile the report names was written, in both runs
    for report in runs.values():
        for fix in report.data["fixes"]:
            path = fix["patched_profile"].removeprefix("file:")
            assert open(path).read().strip().startswith("{"), path
