"""The published matrix (docs/matrix/, fallbackcheck.report.publish): the committed data set loads,
is the rendering of its own data, names the environment of every column, answers the
README's questions, and says which catalogue probes it lacks."""

import json
import subprocess
import sys
import warnings

import pytest

from fallbackcheck.report import publish, render_table
from fallbackcheck.report.render_table import since_text
from fallbackcheck.model.catalogue import load as load_catalogue

from test_compat_table import chromium  # noqa: F401 (the fixture)

PUBLISHED = publish.OUT


@pytest.fixture(scope="module")
def data():
    return json.loads((PUBLISHED / "matrix-table.json").read_text())


def test_the_data_set_is_stamped_and_names_every_columns_environment(data):
    assert (data["format"], data["version"]) == ("fallbackcheck-compat", 1)
    stamp = data["published"]
    assert stamp["fallbackcheck"] and stamp["date"] and stamp["measured"]
    assert len(stamp["catalogue"]) == 16 and stamp["catalogue_probes"]
    assert data["generated_from"]["complete"] and not data["generated_from"]["conflicts"]
    ids = [c["id"] for c in data["columns"]]
    # this host's engines and runtimes, the engine generations, the kernel hosts
    assert {"docker-runc", "docker-crun", "podman-crun", "runc", "crun", "bwrap", "nspawn", "firejail",
            "kernels"} <= set(ids), ids
    kernels = next(c for c in data["columns"] if c["id"] == "kernels")
    assert "local@linux-6.12-arm64" in kernels["runtimes"], kernels["runtimes"]
    assert any(i.endswith("@debian-13") for i in ids) and any(i.endswith("@debian-sid") for i in ids), ids
    for column in data["columns"]:
        env = column["environment"]
        if column["id"] == "kernels":
            assert set(env) == set(column["runtimes"]) and all(env.values()), env
        else:
            assert env.get("kernel") and (env.get("oci_runtime_version") or env.get("engine")), (column["id"], env)
            if column["kind"].startswith(("docker-", "podman-", "containerd-", "runc", "crun")):
                assert env.get("libseccomp"), (column["id"], env)  # (firejail compiles its own filters)


def test_the_page_and_tables_are_the_rendering_of_the_data(data):
    assert (PUBLISHED / "matrix-table.html").read_text() == render_table.html_text(data)
    assert (PUBLISHED / "matrix-table.md").read_text() == render_table.markdown(data)
    assert (PUBLISHED / "matrix-table.csv").read_text() == render_table.csv_text(data)
    assert (PUBLISHED / "README.md").read_text() == publish.summary_markdown(data)


def test_the_readmes_answers_are_read_from_the_data_set(data):
    readme = publish.README.read_text()
    block = readme.split(publish.ANSWERS_BEGIN, 1)[1].split(publish.ANSWERS_END, 1)[0]
    assert block.strip() == publish.answers_markdown(data).strip()
    for probe, image, column, profile in publish.QUESTIONS:
        said = data_cell(data, probe, image, column)["profiles"][profile]
        assert f"`{probe}` in {image}" in block and f"`{profile}`: **{'✓ works' if said == 'works' else '✗ ' + said}**" in block


def data_cell(data, probe, image, column):
    api = next(a for g in data["groups"] for a in g["apis"] if a["probe"] == probe)
    return api["images"][image]["cells"][column]


def test_probes_added_or_removed_since_publication_are_named(data, tmp_path):
    current = set(load_catalogue().api)
    published = set(data["published"]["catalogue_probes"])
    assert publish.drift(data, current) == (sorted(current - published), sorted(published - current))
    if current != published:  # a catalogue change since: named here and by --check, until republished
        warnings.warn(f"docs/matrix/ predates the catalogue: {publish.check()}")
    # One probe fewer and one unknown in a copy of the data set: --check names both.
    copy = dict(data, published=dict(data["published"],
                                     catalogue_probes=sorted(published - {"lchmod"}) + ["gone_probe"]))
    (tmp_path / "matrix-table.json").write_text(json.dumps(copy))
    done = subprocess.run([sys.executable, "-m", "fallbackcheck.report.publish", "--check", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0
    assert "added to the catalogue since): " in done.stdout and "lchmod" in done.stdout.splitlines()[0]
    assert "no longer in the catalogue: gone_probe" in done.stdout




# What a reader comes for, as (find-box words, probe, image, column): the cell must be on the
# first screen (1280x800) once the page opens with #find=<words>.
READER_QUESTIONS = (
    ("lchmod", "lchmod", "debian-13", "docker-crun"),  # Docker 20.10 + crun's default
    ("pthread_create", "pthread_create", "debian-12", "docker-runc"),  # since which vintage (5.4-era and on)
)


@pytest.mark.parametrize("words, probe, image, column", READER_QUESTIONS, ids=[q[0] + "-" + q[2] for q in READER_QUESTIONS])
def test_a_reader_finds_the_answer_on_the_first_screen(data, chromium, words, probe, image, column):
    page = PUBLISHED / "matrix-table.html"
    for url in ("about:blank", page.resolve().as_uri() + f"#find={words}"):  # a new hash alone loads nothing
        chromium.call("Page.navigate", {"url": url}, session=True)
        chromium.wait_event("Page.loadEventFired")
    index = 2 + [c["id"] for c in data["columns"]].index(column)  # API and images come first
    found = chromium.evaluate(f"""(function () {{
        var rows = Array.from(document.querySelectorAll('tr.row')).filter(function (r) {{
            return r.style.display !== 'none'; }});
        var row = rows.filter(function (r) {{
            return r.dataset.api === '{probe}' && r.cells[1].textContent.split(', ').indexOf('{image}') >= 0; }})[0];
        if (!row) return null;
        var td = row.cells[{index}], box = td.getBoundingClientRect();
        return {{shown: rows.map(function (r) {{ return r.dataset.api; }}), text: td.textContent,
                 bottom: box.bottom, right: box.right, width: innerWidth, height: innerHeight}};
    }})()""")
    assert found is not None, f"no row of {probe} for {image} after #find={words}"
    assert probe in found["shown"] and all(words in api for api in found["shown"])  # only what was asked for
    assert found["bottom"] <= found["height"] and found["right"] <= found["width"], found  # one screen
    cell = data_cell(data, probe, image, column)
    head = render_table.headline(cell, column)[0]
    assert found["text"].startswith(head) and since_text(cell) in found["text"], found
    if probe == "pthread_create":
        assert cell["measured_from"]["vintage:EPERM"] == "5.4"  # the cell answers for a 5.4-era profile
    assert chromium.errors == []
