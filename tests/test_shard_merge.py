"""--shard K/N splits by batch (kernel hosts: by image), stably and by cost; merge makes one
report of many, keeping environments apart, showing conflicts first and naming missing
shards. All without an engine: the cells are rows."""

import json
import random
import subprocess
import sys

import pytest

from fallbackcheck.model import catalogue
from fallbackcheck import report
from fallbackcheck.execution import shard
from fallbackcheck.report import diff, merge
from fallbackcheck.judging.cells import Cell
from fallbackcheck.errors import UsageError
from fallbackcheck.execution.selection import Selection

from helpers import ROOT
from test_answers import many_rows


def _cells():
    out = []
    for image in ("debian-12", "debian-13", "debian-13-i386"):
        for runtime in ("docker-runc", "podman-crun", "runc", "local@linux-6.1"):
            for profile in ("unconfined", "vintage:5.4:EPERM", "vintage:5.4:ENOSYS", "deny:clone3:EPERM"):
                for probe in ("pthread_create", "lchmod", "raw:clone3"):
                    out.append(Cell(probe, image, runtime, profile))
    return out


# Each kind's start_s (runtimes/base.py and its kinds), as the selection hands them to shards.
START_S = {"docker-runc": 0.5, "podman-crun": 1.0, "runc": 0.3, "local@linux-6.1": 25.0}


def test_a_units_start_costs_what_its_runtime_kind_says():
    from fallbackcheck.execution.selection import start_cost
    assert {rid: start_cost(rid) for rid in START_S} == START_S


def test_shards_partition_the_batches_and_never_split_one():
    cells = _cells()
    parts = [shard.pick(cells, shard.Shard(k, 3), START_S.get) for k in (1, 2, 3)]
    assert sorted(map(repr, sum(parts, []))) == sorted(map(repr, cells))  # every cell once
    owners = {}
    for k, part in enumerate(parts, 1):
        for c in part:
            unit = shard.unit_of(c.image, c.runtime, c.profile)
            assert owners.setdefault(unit, k) == k  # a batch (a kernel host's image) in one shard only
    # a kernel host's image stays whole: every profile of it in one shard
    kernel_units = {(c.image, c.runtime) for c in cells if c.runtime.startswith("local@")}
    for image, runtime in kernel_units:
        assert len({k for k, part in enumerate(parts, 1) for c in part
                    if (c.image, c.runtime) == (image, runtime)}) == 1


def test_shards_are_stable_whatever_the_order_and_balanced_by_cost():
    cells = _cells()
    shuffled = list(cells)
    random.Random(7).shuffle(shuffled)
    assert shard.plan(cells, 3, START_S.get) == shard.plan(shuffled, 3, START_S.get)
    plan = shard.plan(cells, 3, START_S.get)
    kernel_shards = {k for u, k in plan.items() if u[1].startswith("local@")}
    assert len(kernel_shards) == 3  # the three kernel boots (one per image) do not all land in one shard
    costs = [0.0] * 3
    counts = {}
    for c in cells:
        counts[shard.unit_of(c.image, c.runtime, c.profile)] = counts.get(shard.unit_of(c.image, c.runtime, c.profile), 0) + 1
    for unit, k in plan.items():
        starts = 4 if len(unit) == 2 else 1
        costs[k - 1] += START_S[unit[1]] * (1 if len(unit) == 2 else starts) + shard.CELL_S * counts[unit]
    assert max(costs) - min(costs) <= max(START_S.values())  # greedy: within one unit of each other


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", ""])
def test_a_bad_shard_is_one_clear_line(text):
    with pytest.raises(UsageError, match="give K/N"):
        shard.parse(text)


def test_a_shard_of_an_empty_part_is_refused_before_anything_runs():
    from fallbackcheck.execution.selection import resolve
    with pytest.raises(UsageError, match="this shard has no batches"):
        resolve(catalogue.load(), "host", "local", "unconfined", "pthread_create", "2/2")


def _report(rows, selection=None, **env):
    data = report.build(rows, {"runtimes": {"docker-runc": {"engine": "docker 20.10.24"},
                                            "crun": {"oci_runtime_version": "crun version 1.8.1"}}, **env},
                        selection or {}, True)
    return data


def _write(tmp_path, name, data):
    d = tmp_path / name
    report.write(data, d)
    return d


def _shard_sel(k, n):
    return {"images": ["debian-12"], "shard": {"index": k, "of": n, "of_selection": "abc"}}


def _split(rows, n):
    cells = [Cell(r["probe"], r["image"], r["runtime"], r["profile"]) for r in rows]
    owner = shard.plan(cells, n, lambda runtime: 0.3)
    return [[r for r in rows if owner[shard.unit_of(r["image"], r["runtime"], r["profile"])] == k]
            for k in range(1, n + 1)]


def test_sharded_then_merged_equals_the_whole(tmp_path):
    rows = many_rows()
    whole = _write(tmp_path, "whole", _report(rows))
    paths = [str(_write(tmp_path, f"shard-{k}", _report(part, _shard_sel(k, 3))))
             for k, part in enumerate(_split(rows, 3), 1)]
    assert merge.main([str(tmp_path / "merged"), *paths]) == 0
    merged = report.load(tmp_path / "merged" / "matrix.json")
    assert diff.compare(report.load(whole / "matrix.json").cells, merged.cells) == {"changed": [], "new": [], "vanished": []}
    assert merged["merge"]["conflicts"] == [] and merged["merge"]["missing_shards"] == []
    assert merged["complete"] is True
    for name in ("matrix.md", "matrix.html", "matrix-table.html", "matrix-table.json", "matrix-table.csv"):
        assert (tmp_path / "merged" / name).exists()


def test_a_missing_shard_is_named_and_the_merge_fails(tmp_path, capsys):
    parts = _split(many_rows(), 3)
    paths = [str(_write(tmp_path, f"shard-{k}", _report(parts[k - 1], _shard_sel(k, 3)))) for k in (1, 3)]
    assert merge.main([str(tmp_path / "merged"), *paths]) == 1
    assert "MISSING: shard 2/3 of selection abc" in capsys.readouterr().out
    merged = report.load(tmp_path / "merged" / "matrix.json")
    assert merged["complete"] is False
    assert "Shards missing from this merge" in (tmp_path / "merged" / "matrix.md").read_text()


def test_a_cell_measured_twice_differently_is_a_conflict_shown_first(tmp_path, capsys):
    rows = many_rows()
    changed = [dict(r) for r in rows]
    changed[0] = dict(changed[0], outcome="error", errno="EPERM", verdict="unexpected", works=False)
    a = _write(tmp_path, "a", _report(rows))
    b = _write(tmp_path, "b", _report(changed))
    assert merge.main([str(tmp_path / "merged"), str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("CONFLICT: ") and "a vs b" in out
    md = (tmp_path / "merged" / "matrix.md").read_text()
    assert md.index("CONFLICTS: 1 cells measured differently") < md.index("## What breaks")
    merged = report.load(tmp_path / "merged" / "matrix.json")
    kept = [c for c in merged.cells if diff.key(c) == diff.key(rows[0])]
    assert len(kept) == 1 and kept[0]["merge_conflict"][0]["source"] == "b"  # never silently overwritten
    html = (tmp_path / "merged" / "matrix.html").read_text()
    assert html.index("<h2>CONFLICTS") < html.index('<h2 id="what-breaks">')


def test_other_environments_are_kept_apart(tmp_path):
    rows = many_rows()
    a = _write(tmp_path, "x86-runner", _report(rows))
    other = _report(rows)
    other["environment"]["kernel"] = "6.1.0-arm"
    b = _write(tmp_path, "other-runner", other)
    assert merge.main([str(tmp_path / "merged"), str(a), f"second={b}"]) == 0
    merged = report.load(tmp_path / "merged" / "matrix.json")
    runtimes = {c["runtime"] for c in merged.cells}
    assert runtimes == {"docker-runc~x86-runner", "docker-runc~second", "crun~x86-runner", "crun~second"}
    assert len(merged.cells) == 2 * len(rows)
    assert {s["label"] for s in merged["merge"]["sources"]} == {"x86-runner", "second"}


def test_bad_input_is_one_error_line(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    for args in ([str(tmp_path / "out"), str(tmp_path / "bad.json")], [str(tmp_path / "out"), str(tmp_path / "none")],
                 [str(tmp_path / "out")]):
        done = subprocess.run([sys.executable, "-m", "fallbackcheck.report.merge", *args], cwd=ROOT,
                              capture_output=True, text=True)
        assert done.returncode == 4, done
        assert done.stderr.startswith("ERROR: ") and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr


def test_the_installed_command_merges_too(tmp_path):
    a = _write(tmp_path, "a", _report(many_rows()))
    done = subprocess.run([sys.executable, "-c", "import sys; from fallbackcheck.tools.cli import main; sys.exit(main())",
                           "merge", str(tmp_path / "m"), str(a)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "m" / "matrix-table.json").read_text())["format"] == "fallbackcheck-compat"


def test_the_example_workflow_is_what_run_workflow_locally_runs():
    import runpy
    script = runpy.run_path(str(ROOT / "scripts" / "run-workflow-locally"))
    text = (ROOT / "docs" / "examples" / "fallbackcheck-matrix.yml").read_text()
    names = [p["name"] for p in script["parts"](text)]
    assert names == ["shard-1", "shard-2", "shard-3", "gen-debian-13", "gen-debian-sid", "kernels", "sandboxes", "firejail",
                     "systemd-run", "flatpak", "arm64", "arm64-oci"]
    measure = script["runs"](text, "measure")
    assert any("--report-dir reports/${{ matrix.part.name }} ${{ matrix.part.args }}" in r for r in measure)
    assert script["runs"](text, "publish") == ["python3 -m fallbackcheck.report.merge site parts/report-*"]
