"""Engines' own default profiles as JSON, taken from the Debian packages that ship their source.

`docker-default:<suite>` is Docker's default seccomp profile (moby `profiles/seccomp/default.json`)
as Debian <suite> ships it in golang-github-docker-docker-dev, the source of that suite's
docker.io. dockerd compiles the same file in, so on this machine `runc` under
`docker-default:bookworm` is handed what `docker-runc` under `default` is; and on an arm64
kernel host it is what Docker on an arm64 machine hands its runtime (its arm rules and its
archMap entry resolved for arm64: model/seccomp_json.py), which no engine here can show.

The package is found in the suite's verified Packages index and checked against its SHA256
(debarchive.py), unpacked in a scratch directory, and only the profile is kept in the cache,
named by the package version; which version a suite's name meant is asked of the archive once
(debarchive.newest_cached), so a warm run asks the network nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

from . import archives, debarchive
from ..cache import cache_dir, locked
from ..errors import UsageError

DOCKER_SOURCE = "golang-github-docker-docker-dev"
DOCKER_DEFAULT = "usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json"


def docker_default(profile_id: str, suite: str) -> tuple[dict, Path, str]:
    """Docker's default profile as Debian `suite` ships it, the cached file, and where it came
    from (package, version, suite: the profile's provenance in the report)."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", suite):
        raise UsageError(f"profile {profile_id!r}: give a Debian suite, e.g. docker-default:bookworm")
    try:
        package = debarchive.newest_cached((suite,), re.escape(DOCKER_SOURCE), "amd64")
    except (archives.SuiteNotFound, RuntimeError) as exc:  # no such suite; the archive unreachable
        raise UsageError(f"profile {profile_id!r}: {exc}") from None
    if package is None:
        raise UsageError(f"profile {profile_id!r}: Debian {suite} has no {DOCKER_SOURCE} (Docker's source): "
                         "try bullseye, bookworm, trixie or sid")
    where = f"{DOCKER_SOURCE} {package.version} ({package.suite}): {DOCKER_DEFAULT.split('docker/docker/')[1]}"
    out = cache_dir() / "profiles" / f"docker-default-{package.version}.json"
    if not out.exists():
        with locked(f"profile-{out.stem}"):
            if not out.exists():
                _extract(package, out)
    return json.loads(out.read_text()), out, where


def _extract(package: debarchive.Package, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fbc-profile-") as tmp:
        deb = debarchive.download(package, Path(tmp) / "source.deb")
        proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(tmp) / "root")], capture_output=True, text=True)
        found = Path(tmp) / "root" / DOCKER_DEFAULT
        if proc.returncode != 0 or not found.exists():
            raise RuntimeError(f"{package.name} {package.version} has no {DOCKER_DEFAULT}: "
                               f"{proc.stderr.strip()[-300:]}")
        partial = out.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(found.read_bytes())
        os.replace(partial, out)


# Profile families whose JSON is fetched rather than generated: family -> fetch(profile_id, body)
# -> (JSON, cached file, provenance). The selection hands these to profiles.parse (the model fetches nothing).
FETCHED = {"docker-default": docker_default}
