"""The compatibility matrix: does each libc API survive each profile, runtime and image?

One test per (API probe, image, runtime, profile) cell, judged against the catalogue
(probes/catalogue/*.toml) given the errno the filter delivered to the syscalls the API
depends on (measured by the raw probes of the same container).
pass -> passed; expected-break -> xfailed; n/a -> skipped; unexpected or error -> failed.
With --baseline, a cell whose outcome, works, delivered errno or verdict changed fails first.
"""

import pytest


def test_api(api_cell, fallbackcheck_run):
    row = fallbackcheck_run.row(api_cell)  # its batch has run, or runs now
    changed = fallbackcheck_run.baseline_change(row)
    if changed:
        pytest.fail(changed, pytrace=False)
    verdict = row["verdict"]
    if verdict == "expected-break":
        # pytest.xfail() with pytrace=False: the reason says it all, and formatting a traceback
        # that pytest then throws away cost several ms per expected break.
        raise pytest.xfail.Exception(f"expected break: {row['detail']} [{row['source']}]", pytrace=False)
    if verdict == "n/a":
        pytest.skip(f"n/a: {row['detail']}")
    assert verdict == "pass", f"{verdict}: {row['detail']}" + (f" [source: {row['source']}]" if row.get("source") else "")
