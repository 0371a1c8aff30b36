"""Conformance: does the runtime deliver the errno the profile asks for?

One test per (raw probe, image, runtime, profile) cell: the errno the raw syscall got in
the container is compared with what the profile literally asks (default errno, per-rule
errnoRet, architectures). A difference fails, unless it is a documented runtime behaviour
(fallbackcheck/model/behaviours.py, e.g. runc's ENOSYS stub), which the cell then names. With --baseline, a cell whose delivered errno or verdict
changed fails.
"""

import pytest


def test_delivered(raw_cell, fallbackcheck_run):
    row = fallbackcheck_run.row(raw_cell)  # its batch has run, or runs now
    changed = fallbackcheck_run.baseline_change(row)
    if changed:
        pytest.fail(changed, pytrace=False)
    verdict = row["verdict"]
    if verdict == "n/a":
        pytest.skip(f"n/a: {row['detail']}")
    assert verdict == "pass", f"{verdict}: {row['detail']}"
