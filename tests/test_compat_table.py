"""The published table (matrix-table.*): per API and image, per environment, works / breaks
(errno) / n/a and since when it works; as data (versioned JSON, CSV) and as a page a reader
can take in (checked in headless Chromium)."""

import csv
import io
import json
import os

import pytest

from fallbackcheck.tools import browser
from fallbackcheck import report
from fallbackcheck.report import compat_table, render_table

from helpers import runtime_kinds
from test_answers import ok, row


def _lchmod(runtime, profile, works, errno="EPERM", image="debian-13"):
    make = ok if works else row
    extra = {"works": True} if works else {"errno": errno, "works": False}
    return make(probe="lchmod", api="lchmod", syscalls=["fchmodat2"], image=image, libc="glibc 2.41",
                runtime=runtime, profile=profile, delivered={"fchmodat2": "allowed" if works else errno}, **extra)


def _rows():
    rows = []
    for runtime in ("docker-crun", "crun", "docker-crun@debian-13"):
        rows.append(_lchmod(runtime, "unconfined", True))
        rows.append(_lchmod(runtime, "default", runtime != "docker-crun"))
        for kernel in ("5.4", "6.1", "6.6", "6.12"):
            rows.append(_lchmod(runtime, f"vintage:{kernel}:EPERM", kernel in ("6.6", "6.12")))
            rows.append(_lchmod(runtime, f"vintage:{kernel}:ENOSYS", runtime == "crun" or kernel in ("6.6", "6.12")))
    for kernel, works in (("5.10", False), ("6.1", False), ("6.12", True)):
        rows.append(_lchmod(f"local@linux-{kernel}", "unconfined", works, errno="ENOSYS"))
    rows.append(ok(probe="pthread_create", image="debian-13", runtime="crun", profile="default", works=True))
    return rows


def _table():
    data = report.build(_rows(), {"generation_order": ["debian-13"],
                                  "runtime_kinds": runtime_kinds("docker-crun", "crun", "docker-crun@debian-13")}, {}, True)
    return compat_table.table(report.Report(data))


def test_works_since_is_read_along_vintages_kernels_and_generations():
    data = _table()
    assert data["format"] == "fallbackcheck-compat" and data["version"] == compat_table.FORMAT_VERSION
    assert [c["id"] for c in data["columns"]] == ["docker-crun", "crun", "docker-crun@debian-13", "kernels"]
    group = next(g for g in data["groups"] if g["syscalls"] == ["fchmodat2"])
    cells = group["apis"][0]["images"]["debian-13"]["cells"]
    assert cells["docker-crun"]["default"] == {"status": "breaks", "errno": "EPERM"}
    assert cells["docker-crun"]["since"] == {"vintage:EPERM": "6.6", "vintage:ENOSYS": "6.6",
                                             "generation": "debian-13"}
    assert cells["crun"]["since"] == {"vintage:EPERM": "6.6", "vintage:ENOSYS": "5.4"}
    assert cells["kernels"]["since"] == {"kernel": "6.12"} and cells["kernels"]["unconfined"]["at"] == "6.12"
    assert render_table.since_text(cells["crun"]) == "≥6.6 EPERM · all ENOSYS"


def test_csv_and_markdown_carry_the_same_facts():
    data = _table()
    rows = list(csv.DictReader(io.StringIO(render_table.csv_text(data))))
    crun = next(r for r in rows if r["probe"] == "lchmod" and r["column"] == "crun")
    assert crun["default"] == "works" and crun["since_vintage_EPERM"] == "6.6" and crun["since_vintage_ENOSYS"] == "5.4"
    md = render_table.markdown(data)
    assert "| fchmodat2 | `lchmod` | debian-13 | ✗ EPERM · ≥6.6 EPERM · ≥6.6 ENOSYS · default since debian-13 |" in md


@pytest.fixture(scope="module")
def chromium():
    if browser.find() is None:
        if os.environ.get("FALLBACKCHECK_REQUIRE_ENGINE") == "1":
            pytest.fail("no chromium: scripts/setup-host installs it", pytrace=False)
        pytest.skip("needs chromium (scripts/setup-host installs it)")
    with browser.Browser(width=1280, height=800) as page:
        yield page


def test_a_reader_finds_two_apis_on_one_screen(tmp_path, chromium):
    rows = _rows()
    for i in range(60):  # many other APIs, so that finding matters
        rows.append(ok(probe=f"other_{i}", syscalls=[f"sys{i}"], image="debian-13", runtime="crun", profile="default",
                       works=True))
    data = report.build(rows, {}, {}, True)
    path = tmp_path / "matrix-table.html"
    path.write_text(render_table.texts(report.Report(data))["matrix-table.html"])
    chromium.load(path)
    chromium.evaluate("var f = document.getElementById('find'); f.value = 'lchmod pthread_create';"
                      "f.dispatchEvent(new Event('input'))")
    shown = chromium.evaluate("Array.from(document.querySelectorAll('tr.row')).filter(function (r) {"
                              " return r.style.display !== 'none'; }).map(function (r) {"
                              " return [r.dataset.api, r.getBoundingClientRect().bottom]; })")
    assert sorted({api for api, _ in shown}) == ["lchmod", "pthread_create"]
    assert max(bottom for _, bottom in shown) < 800  # on the first screen
    text = chromium.evaluate("document.querySelector('tr.row[data-api=lchmod]').textContent")
    assert "✗ EPERM" in text and "≥6.6 EPERM" in text
    assert chromium.errors == []
