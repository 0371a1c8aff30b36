"""fallbackcheck.report.publish: a merged run becomes the published data set, stamped, with the
README's answers read from it; an incomplete run is refused in one line."""

import json
import subprocess
import sys

from fallbackcheck.report import publish
from fallbackcheck import report

from test_compat_table import _rows


def _site(tmp_path, complete=True, name="site"):
    site = tmp_path / name
    site.mkdir()
    report.write(report.build(_rows(), {"generation_order": ["debian-13"], "kernel": "6.1.0"}, {}, complete), site)
    return site


def test_publishing_writes_the_data_set_and_the_readmes_answers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{publish.ANSWERS_BEGIN}\nstale\n{publish.ANSWERS_END}\nrest\n")
    out = publish.publish(_site(tmp_path), tmp_path / "matrix", readme)
    written = json.loads((out / "matrix-table.json").read_text())
    assert written["published"]["catalogue"] == publish.catalogue_hash()
    assert {f.name for f in out.iterdir()} == {"matrix-table.json", "matrix-table.md", "matrix-table.csv",
                                               "matrix-table.html", "README.md"}
    text = readme.read_text()
    assert "stale" not in text and text.startswith("intro\n") and text.endswith("rest\n")
    assert "`lchmod` in debian-13 (glibc 2.41) under docker-crun, profile `default`: **✗ breaks EPERM**" in text
    first = (out / "matrix-table.csv").read_text()
    publish.publish(_site(tmp_path, name="again"), out, readme)
    assert (out / "matrix-table.csv").read_text() == first  # the same cells give the same data set


def test_an_incomplete_run_is_refused_in_one_line(tmp_path):
    site = _site(tmp_path, complete=False)
    done = subprocess.run([sys.executable, "-m", "fallbackcheck.report.publish", str(site), str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert len(done.stderr.strip().splitlines()) == 1 and "incomplete" in done.stderr, done.stderr
