"""The compatibility matrix: one test per (probe, image, runtime, profile) cell.

Cells come from the catalogue and the --images/--runtimes/--profiles/--probes selection
(see fallbackcheck/plugin.py). Each batch runs once, in one container; every cell reads
its row from it. Verdicts: pass -> passed, expected-break -> xfailed, n/a -> skipped,
unexpected or error -> failed.
"""

import pytest


def test_cell(measured_cell):
    row = measured_cell
    verdict = row["verdict"]
    if verdict == "expected-break":
        pytest.xfail(f"expected break: {row['detail']} [{row['source']}]")
    if verdict == "n/a":
        pytest.skip(f"n/a: {row['detail']}")
    assert verdict == "pass", f"{verdict}: {row['detail']}" + (f" [source: {row['source']}]" if row.get("source") else "")
