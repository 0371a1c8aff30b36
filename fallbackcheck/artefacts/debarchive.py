"""Fetching one binary package from Debian's archive, verified like apt does it.

InRelease is checked with gpgv against the host's debian-archive-keyring, the Packages
index against the SHA256 InRelease lists for it, and the .deb against the SHA256 the index
lists for it. Used for the kernel hosts (kernels.py) and the arm64 pieces a cross build needs
(crossbuild.py): foreign-architecture packages are only unpacked (dpkg-deb -x), never
installed, so the host's dpkg is left alone. Images come from mmdebstrap instead.
"""

from __future__ import annotations

import functools
import hashlib
import lzma
import os
import re
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import archives
from .archives import ARCHIVE_ENV, MIRROR_ENV, debian_mirror

SECURITY_ENV = "FALLBACKCHECK_DEBIAN_SECURITY_MIRROR"
TIMEOUT_S = 60


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    suite: str
    url: str
    sha256: str
    size: int


def security_mirror() -> str:
    """The archive of the `<suite>-security` suites: $FALLBACKCHECK_DEBIAN_SECURITY_MIRROR, else
    the Debian archive's sibling `debian-security` (deb.debian.org serves both)."""
    if os.environ.get(SECURITY_ENV):
        return os.environ[SECURITY_ENV]
    return debian_mirror().rstrip("/") + "-security"


def archive_of(suite: str) -> str:
    """The configured archive if it still has `suite`, else the old-releases archive."""
    if suite.endswith("-security"):
        return archives.first_carrying(suite, security_mirror(), archives.old_releases_mirror().rstrip("/") + "-security")
    return archives.archive_for(suite)


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return response.read()
    except OSError as exc:
        raise RuntimeError(f"cannot fetch {url}: {exc} (the archive comes from the host's apt sources "
                           f"or ${MIRROR_ENV} / ${SECURITY_ENV} / ${ARCHIVE_ENV})") from None


def _verified_release(archive: str, suite: str) -> str:
    """The suite's InRelease text, after gpgv accepted its signature."""
    data = _get(f"{archive}/dists/{suite}/InRelease")
    with tempfile.NamedTemporaryFile(suffix=".InRelease") as fh:
        fh.write(data)
        fh.flush()
        # An old release's key may have moved to the removed-keys keyring: either one will do.
        keyrings = [k for k in archives.KEYRINGS if k.exists()]
        proc = subprocess.run(["gpgv", *[f"--keyring={k}" for k in keyrings], fh.name], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{archive} {suite}: InRelease signature not accepted by gpgv with {', '.join(map(str, keyrings))}: "
                           f"{proc.stderr.strip()[-300:]}")
    return data.decode("utf-8", "replace")


@functools.lru_cache(maxsize=None)
def packages_index(suite: str, arch: str = "amd64") -> tuple[dict[str, str], ...]:
    """Every stanza of main/binary-<arch>/Packages of `suite`, checked against InRelease."""
    archive = archive_of(suite)
    release = _verified_release(archive, suite)
    path = f"main/binary-{arch}/Packages.xz"
    listed = re.search(rf"^ ([0-9a-f]{{64}})\s+\d+\s+{re.escape(path)}$", release, re.M)
    if listed is None:
        raise RuntimeError(f"{archive} {suite}: InRelease does not list {path}")
    data = _get(f"{archive}/dists/{suite}/{path}")
    if hashlib.sha256(data).hexdigest() != listed.group(1):
        raise RuntimeError(f"{archive} {suite}: {path} does not match the SHA256 in InRelease")
    stanzas = []
    for block in lzma.decompress(data).decode("utf-8", "replace").split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", block, re.M))
        if "Package" in fields:
            stanzas.append(fields)
    return tuple(stanzas)


def _newer(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "gt", b]).returncode == 0


def newest(suites: tuple[str, ...], pattern: str, arch: str = "amd64") -> Package | None:
    """The package whose name fully matches `pattern` with the highest version across
    `suites` (a package name that sorts higher wins first: the kernel ABI is in the name),
    from the index of Debian architecture `arch` (arm64 for the arm64 kernel hosts)."""
    best: Package | None = None
    for suite in suites:
        for st in packages_index(suite, arch):
            if not re.fullmatch(pattern, st["Package"]):
                continue
            cand = Package(st["Package"], st["Version"], suite, f"{archive_of(suite)}/{st['Filename']}",
                           st["SHA256"], int(st["Size"]))
            if best is None or _newer(cand.version, best.version):
                best = cand
    return best


def newest_cached(suites: tuple[str, ...], pattern: str, arch: str, offline: bool = False) -> Package | None:
    """newest(), asked of the archive once and then read from the cache (as a kernel host's
    package is): a warm run asks the network nothing. Keyed by the question and the mirrors.
    `offline`: only what the cache already holds (None if nothing; prune.py asks so)."""
    import json

    from ..cache import cache_dir, digest, locked

    key = digest(*suites, pattern, arch, debian_mirror(), security_mirror())[:16]
    path = cache_dir() / "debs" / f"resolved-{arch}-{key}.json"
    if path.exists():
        return Package(**json.loads(path.read_text()))
    if offline:
        return None
    with locked(f"deb-{path.stem}"):
        if path.exists():
            return Package(**json.loads(path.read_text()))
        package = newest(suites, pattern, arch)
        if package is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(package.__dict__, indent=1) + "\n")
    return package


def download(package: Package, dest: Path) -> Path:
    """The .deb at `dest`, checked against the index's SHA256."""
    data = _get(package.url)
    if hashlib.sha256(data).hexdigest() != package.sha256:
        raise RuntimeError(f"{package.url}: SHA256 differs from the Packages index")
    dest.write_bytes(data)
    return dest
