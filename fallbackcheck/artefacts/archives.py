"""Which Debian archive carries a suite: the configured one, or the archive of old releases.

A Debian release that reaches its end of life leaves the main archive (deb.debian.org and
its mirrors) some months later and lives on in Debian's archive service for old releases.
Our recipes keep naming their suites (bullseye stays "debian-11"), so a cold build asks
the configured archive first and, only when that archive no longer has
`dists/<suite>/InRelease`, falls back to the old-releases archive, saying so on the
terminal. Asked only when something is built (a cache miss), once per process and suite.

Keys: an old release is still signed by its own archive key, which debian-archive-keyring
moves to debian-archive-removed-keys.gpg some years later; the fallback's sources line
names both keyrings, so apt verifies the signature either way. Its Release files are past
their Valid-Until date, which our recipes already tell apt to accept.
"""

from __future__ import annotations

import functools
import os
import urllib.error
import urllib.request
from pathlib import Path

from ..cache import progress
from ..errors import SetupError

MIRROR_ENV = "FALLBACKCHECK_DEBIAN_MIRROR"
ARCHIVE_ENV = "FALLBACKCHECK_DEBIAN_ARCHIVE_MIRROR"
# Debian's archive service for releases no longer on the main archive (archive.debian.org,
# https://www.debian.org/distrib/archive); `-security` beside it carries their security suites.
OLD_RELEASES = "http://archive.debian.org/debian"
KEYRINGS = (Path("/usr/share/keyrings/debian-archive-keyring.gpg"),
            Path("/usr/share/keyrings/debian-archive-removed-keys.gpg"))
PROBE_TIMEOUT_S = 20


def debian_mirror() -> str:
    """The Debian archive to build from: $FALLBACKCHECK_DEBIAN_MIRROR, else the first
    non-security Debian archive in the host's own apt sources.

    Only the suite itself is used, never -security or -updates: on these machines the
    security archive's i386 indices are inconsistent (measured: 404s and "File has
    unexpected size"), and the glibc version is read from each image anyway.
    """
    if os.environ.get(MIRROR_ENV):
        return os.environ[MIRROR_ENV]
    candidates = []
    for path in sorted(Path("/etc/apt").glob("sources.list.d/*.sources")):
        for line in path.read_text().splitlines():
            if line.startswith("URIs:"):
                candidates += line.split()[1:]
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt").glob("sources.list.d/*.list"))]:
        if path.exists():
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb":
                    candidates.append(next(p for p in parts[1:] if not p.startswith("[")))
    for uri in candidates:
        if uri.rstrip("/").endswith("/debian"):
            return uri
    raise RuntimeError(f"no Debian archive found in the host's apt sources: set {MIRROR_ENV}=<archive URI>")


def old_releases_mirror() -> str:
    return os.environ.get(ARCHIVE_ENV) or OLD_RELEASES


def archive_for(suite: str) -> str:
    """The archive to fetch `suite` (not a -security suite) from."""
    return first_carrying(suite, debian_mirror(), old_releases_mirror())


def sources_line(suite: str, components: str = "main") -> str:
    """The one-line apt source for an mmdebstrap build of `suite`."""
    archive = archive_for(suite)
    if archive == debian_mirror():
        return f"deb {archive} {suite} {components}"
    keys = ",".join(str(k) for k in KEYRINGS if k.exists())
    return f"deb [signed-by={keys}] {archive} {suite} {components}" if keys else f"deb {archive} {suite} {components}"


class SuiteNotFound(SetupError):
    """The configured archive lacks the suite, and so does the old-releases archive
    (`answered`: it said so), or that one cannot be reached (not `answered`)."""

    def __init__(self, answered: bool, message: str):
        super().__init__(message)
        self.answered = answered


@functools.lru_cache(maxsize=None)
def first_carrying(suite: str, main: str, old: str) -> str:
    """`main` if it has the suite, else `old` (said on the terminal), else one clear error."""
    found, why_not = carries(main, suite)
    # Only an archive that answers, and answers that it lacks the suite, is left for the old
    # releases: one that cannot be reached says nothing about the suite, and the fetch that
    # follows reports it as it always did.
    if found or not why_not.startswith("HTTP"):
        return main
    found_old, why_not_old = carries(old, suite)
    if found_old:
        progress(f"Debian {suite} is not on {main} ({why_not}): using the old-releases archive {old}")
        return old
    raise SuiteNotFound(why_not_old.startswith("HTTP"),
                        f"Debian suite {suite!r} is on neither {main} ({why_not}) nor {old} ({why_not_old}): "
                       f"set {ARCHIVE_ENV}=<an archive that has dists/{suite}/InRelease>")


def carries(archive: str, suite: str) -> tuple[bool, str]:
    """Whether `archive` has the suite's InRelease; if not, why not (HTTP status or error)."""
    url = f"{archive.rstrip('/')}/dists/{suite}/InRelease"
    if url.startswith("copy://"):  # mmdebstrap's copy:// is a file:// that copies
        url = "file://" + url[len("copy://"):]
    request = urllib.request.Request(url, method="HEAD") if url.startswith("http") else url
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S):
            return True, ""
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code} for dists/{suite}/InRelease"
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"dists/{suite}/InRelease: {reason}"
