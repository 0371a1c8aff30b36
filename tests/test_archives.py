"""An end-of-life suite still builds: from the configured archive while it carries the suite,
else from the old-releases archive, else one ERROR line naming the setting to change.

The archives here are loopback HTTP servers over temporary directories; one test builds a
real image from the host's Debian archive, standing in for the old-releases archive.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from fallbackcheck.artefacts import archives, images

from helpers import run_suites, skip_or_fail


@pytest.fixture
def serve(tmp_path):
    """serve(*suites) -> the URI of a loopback archive whose dists/ has those suites' InRelease."""
    servers = []

    def start(*suites: str) -> str:
        root = tmp_path / f"archive{len(servers)}"
        for suite in suites:
            (root / "debian" / "dists" / suite).mkdir(parents=True)
            (root / "debian" / "dists" / suite / "InRelease").write_text("signed text\n")
        root.mkdir(exist_ok=True)
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/debian"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def progress_lines(monkeypatch):
    lines: list[str] = []
    monkeypatch.setattr(archives, "progress", lines.append)
    archives.first_carrying.cache_clear()
    yield lines
    archives.first_carrying.cache_clear()


def test_the_configured_archive_is_used_while_it_carries_the_suite(serve, progress_lines, monkeypatch):
    main, old = serve("bullseye"), serve("bullseye")
    monkeypatch.setenv(archives.MIRROR_ENV, main)
    monkeypatch.setenv(archives.ARCHIVE_ENV, old)
    assert archives.archive_for("bullseye") == main
    assert archives.sources_line("bullseye") == f"deb {main} bullseye main"
    assert progress_lines == []


def test_a_suite_gone_from_the_archive_comes_from_the_old_releases_archive(serve, progress_lines, monkeypatch):
    main, old = serve("bookworm"), serve("bullseye")
    monkeypatch.setenv(archives.MIRROR_ENV, main)
    monkeypatch.setenv(archives.ARCHIVE_ENV, old)
    assert archives.archive_for("bullseye") == old
    assert archives.archive_for("bullseye") == old
    assert progress_lines == [f"Debian bullseye is not on {main} (HTTP 404 for dists/bullseye/InRelease): "
                              f"using the old-releases archive {old}"], "said once, naming both archives"
    line = archives.sources_line("bullseye")
    # Both keyrings: an old release's key may since have moved to the removed-keys keyring.
    assert line.startswith("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg")
    assert line.endswith(f"] {old} bullseye main")


def test_the_old_releases_archive_is_debians_unless_the_user_names_one(monkeypatch):
    monkeypatch.delenv(archives.ARCHIVE_ENV, raising=False)
    assert archives.old_releases_mirror() == "http://archive.debian.org/debian"
    monkeypatch.setenv(archives.ARCHIVE_ENV, "http://mirror.example/debian-archive/debian")
    assert archives.old_releases_mirror() == "http://mirror.example/debian-archive/debian"


def test_a_suite_on_neither_archive_is_one_error_naming_the_setting(serve, progress_lines, monkeypatch):
    main, old = serve("bookworm"), serve("bookworm")
    monkeypatch.setenv(archives.MIRROR_ENV, main)
    monkeypatch.setenv(archives.ARCHIVE_ENV, old)
    with pytest.raises(RuntimeError) as caught:
        archives.archive_for("bullseye")
    message = str(caught.value)
    assert "\n" not in message
    assert f"on neither {main} (HTTP 404" in message and f"nor {old} (HTTP 404" in message
    assert message.endswith("set FALLBACKCHECK_DEBIAN_ARCHIVE_MIRROR=<an archive that has dists/bullseye/InRelease>")


def test_an_unreachable_archive_is_not_taken_for_one_that_lacks_the_suite(serve, progress_lines, monkeypatch):
    """Connection refused says nothing about the suite: no fallback, and the fetch that follows
    reports the unreachable archive itself."""
    monkeypatch.setenv(archives.MIRROR_ENV, "http://127.0.0.1:9/debian")  # discard port: refused
    monkeypatch.setenv(archives.ARCHIVE_ENV, serve("bullseye"))
    assert archives.archive_for("bullseye") == "http://127.0.0.1:9/debian"
    assert progress_lines == []


def test_an_unreachable_old_releases_archive_says_why(serve, progress_lines, monkeypatch):
    main = serve("bookworm")
    monkeypatch.setenv(archives.MIRROR_ENV, main)
    monkeypatch.setenv(archives.ARCHIVE_ENV, "http://127.0.0.1:9/archive")
    with pytest.raises(archives.SuiteNotFound, match=rf"on neither {main} \(HTTP 404 for dists/bullseye/InRelease\) "
                                                     r"nor http://127.0.0.1:9/archive \(dists/bullseye/InRelease: "
                                                     r".*refused") as caught:
        archives.archive_for("bullseye")
    assert not caught.value.answered


def test_the_check_before_a_run_leaves_an_unreachable_archive_to_the_build(serve, progress_lines, monkeypatch,
                                                                            tmp_path):
    """A 404 from both archives stops the run; an archive that does not answer says nothing
    about the suite (and the run may not need to build at all): the build reports it, if any."""
    from fallbackcheck.errors import UsageError

    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(archives.MIRROR_ENV, serve("bookworm", "trixie"))
    monkeypatch.setenv(archives.ARCHIVE_ENV, "http://127.0.0.1:9/archive")
    images.check_archives(["debian-11"])
    monkeypatch.setenv(archives.MIRROR_ENV, serve("bookworm", "trixie"))
    monkeypatch.setenv(archives.ARCHIVE_ENV, serve())
    with pytest.raises(UsageError, match="Debian suite 'bullseye' is on neither"):
        images.check_archives(["debian-11"])


def test_a_run_whose_image_no_archive_carries_ends_in_one_error_line(serve, tmp_path):
    """debian-11 with an empty cache, and neither archive carrying bullseye: the run stops
    before anything starts, with one ERROR line, not one failure per cell."""
    main, old = serve("bookworm", "trixie"), serve("bookworm")
    env = {archives.MIRROR_ENV: main, archives.ARCHIVE_ENV: old, "FALLBACKCHECK_CACHE": str(tmp_path / "cache")}
    proc = run_suites("--images", "debian-11", "--runtimes", "crun", "--probes", "faccessat",
                      report_dir=tmp_path / "report", env=env, timeout=120)
    out = proc.stdout + proc.stderr
    errors = [line for line in out.splitlines() if line.startswith("ERROR:")]
    assert proc.returncode == 4, out
    assert errors == [f"ERROR: Debian suite 'bullseye' is on neither {main} (HTTP 404 for dists/bullseye/InRelease) "
                      f"nor {old} (HTTP 404 for dists/bullseye/InRelease): set FALLBACKCHECK_DEBIAN_ARCHIVE_MIRROR="
                      "<an archive that has dists/bullseye/InRelease>"], out
    assert "Traceback" not in out and "building image" not in out
    assert not (tmp_path / "report" / "matrix.json").exists()


def test_an_image_builds_from_the_fallback_archive(serve, tmp_path, progress_lines, monkeypatch):
    """A real build: the configured archive (loopback) lacks bookworm, the fallback (the host's
    own Debian archive, standing in for the old-releases one) has it; apt verifies its
    signature with the keyrings the fallback's sources line names."""
    if shutil.which("mmdebstrap") is None:
        skip_or_fail("mmdebstrap is not installed (apt-get install mmdebstrap)")
    real = archives.debian_mirror()
    ok, why = archives.carries(real, "bookworm")
    if not ok:
        skip_or_fail(f"the host's Debian archive {real} is unreachable: {why}")
    empty = serve()
    monkeypatch.setenv(archives.MIRROR_ENV, empty)
    monkeypatch.setenv(archives.ARCHIVE_ENV, real)
    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path / "cache"))
    recipe = images.Recipe("archive-fallback-test", "bookworm", "amd64", ("libc6",), variant="extract")
    tar = images.build_tar(recipe)
    assert tar.is_file() and tar.stat().st_size > 1_000_000
    assert Path(tar).parent == tmp_path / "cache" / "images"
    assert progress_lines == [f"Debian bookworm is not on {empty} (HTTP 404 for dists/bookworm/InRelease): "
                              f"using the old-releases archive {real}"]
