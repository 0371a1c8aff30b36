"""matrix.html as a browser shows it: headless Chromium (Debian's `chromium`, installed by
scripts/setup-host) loads a report bigger than the page's first-image threshold, and the
test checks there are no console errors and that the filters show exactly what they say.
Load-to-interactive is printed (and recorded as a JUnit property), not asserted: speed is
scripts/benchmark-html's business."""

import os

import pytest

from fallbackcheck.tools import browser, synthetic
from fallbackcheck.judging import causes
from fallbackcheck import report
from fallbackcheck.report import render_html

from test_answers import many_rows

GRID = "document.getElementById('grid')"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if browser.find() is None:
        if os.environ.get("FALLBACKCHECK_REQUIRE_ENGINE") == "1":
            pytest.fail("no chromium: scripts/setup-host installs it", pytrace=False)
        pytest.skip("needs chromium (scripts/setup-host installs it)")
    out = tmp_path_factory.mktemp("html")
    base = many_rows()
    base += [dict(r, probe=f"{r['probe']}.{i}") for r in many_rows() for i in range(4)]
    rows = synthetic.default_job(base)  # 480 batches of 15 real-shaped rows
    loaded = report.load(report.write(report.build(rows, {}, {}, True), out))
    render_html.write(loaded, out)
    with browser.Browser() as chromium:
        chromium.load(out / "matrix.html")
        chromium.wait_for("+document.body.dataset.interactiveMs")
        yield chromium, loaded


def shown(chromium) -> int:
    return chromium.evaluate(f"+{GRID}.dataset.shown")


def choose(chromium, name: str, value: str) -> None:
    chromium.evaluate(f"var s = document.getElementById('f-{name}'); s.value = {value!r}; "
                      "s.dispatchEvent(new Event('change'))")


def test_loads_without_console_errors_and_opens_on_the_first_image(page, record_property):
    chromium, loaded = page
    ms = chromium.evaluate("+document.body.dataset.interactiveMs")
    record_property("load_to_interactive_ms", ms)
    print(f"load-to-interactive: {ms} ms for {len(loaded.cells)} cells")
    assert chromium.errors == []
    first = sorted({c["image"] for c in loaded.cells})[0]
    assert len(loaded.cells) > 5000  # big enough for the first-image default
    assert shown(chromium) == sum(1 for c in loaded.cells if c["image"] == first)
    assert chromium.evaluate("document.querySelector('h2').textContent") == "What breaks"


def test_only_what_breaks_shows_exactly_the_cells_that_do_not_work(page):
    chromium, loaded = page
    choose(chromium, "image", "")
    chromium.evaluate("document.getElementById('f-breaks').click()")
    broken = causes.breaking(loaded.cells)
    assert broken and shown(chromium) == len(broken)
    assert chromium.evaluate(f"{GRID}.querySelectorAll('td.broken').length") == len(broken)
    assert chromium.evaluate(f"{GRID}.querySelectorAll('td[data-tip]').length") == len(broken)
    labels = set(chromium.evaluate(f"Array.from({GRID}.querySelectorAll('td[data-tip]')).map(t => t.textContent)"))
    assert labels == {"EPERM (break)"}
    chromium.evaluate("document.getElementById('f-breaks').click()")
    assert shown(chromium) == len(loaded.cells)
    assert chromium.errors == []


def test_runtime_profile_and_verdict_filters(page):
    chromium, loaded = page
    grid = render_html.grid_data(loaded)
    choose(chromium, "image", "")
    choose(chromium, "runtime", str(grid["runtimes"].index("crun")))
    choose(chromium, "profile", str(grid["profiles"].index("default")))
    assert shown(chromium) == sum(1 for c in loaded.cells if c["runtime"] == "crun" and c["profile"] == "default")
    choose(chromium, "runtime", "")
    choose(chromium, "profile", "")
    choose(chromium, "verdict", str(grid["verdicts"].index("pass")))
    passing = sum(1 for c in loaded.cells if c["verdict"] == "pass")
    assert shown(chromium) == passing
    assert chromium.evaluate(f"{GRID}.querySelectorAll('td.pass').length") == passing
    assert chromium.errors == []
