"""Facts read from an image itself (its libc), with testinfra, cached by image content.

The libc version is never taken from a table: a rebuilt 'debian-13' may carry a newer
point release, and a user's own image can hold anything. Each runtime supplies a way to
get a testinfra host onto the image (docker://, podman://, chroot://); the answer is cached
by the image's content key, so each image is inspected once, whichever runtime asks first.
"""

from __future__ import annotations

import contextlib
import json
import re

from .cache import cache_dir, locked

# `getconf GNU_LIBC_VERSION` answers "glibc 2.36"; musl's loader prints "Version 1.2.3".
_MUSL_VERSION = re.compile(r"Version\s+(\d+(?:\.\d+)+)")


def _glibc(host) -> str | None:
    result = host.run("getconf GNU_LIBC_VERSION")
    return result.stdout.strip() if result.rc == 0 and result.stdout.startswith("glibc ") else None


def _musl(host) -> str | None:
    result = host.run("for l in /lib/ld-musl-*.so.1; do \"$l\" 2>&1; done")
    m = _MUSL_VERSION.search(result.stdout + result.stderr)
    return f"musl {m.group(1)}" if m else None


def read_libc(host, family: str = "auto") -> str:
    """The libc of a testinfra host, as 'glibc 2.36' or 'musl 1.2.3'. `family` says which
    one the probes use where an image has both (Debian with its musl package); "auto"
    prefers glibc."""
    readers = {"glibc": (_glibc,), "musl": (_musl,), "auto": (_glibc, _musl)}[family]
    for reader in readers:
        found = reader(host)
        if found:
            return found
    raise RuntimeError(f"cannot find the {family if family != 'auto' else ''} libc in this image".replace("  ", " "))


def libc_of(content_key: str, open_host, family: str = "auto") -> str:
    """The libc of the image whose content is `content_key`; `open_host()` is a context
    manager yielding a testinfra host on that image (used only on a cache miss)."""
    cached = cache_dir() / "imageinfo" / f"{content_key}-{family}.json"
    if cached.exists():
        return json.loads(cached.read_text())["libc"]
    with locked(f"imageinfo-{content_key}"):
        if not cached.exists():
            with open_host() as host:
                libc = read_libc(host, family)
            cached.parent.mkdir(exist_ok=True)
            cached.write_text(json.dumps({"libc": libc}))
    return json.loads(cached.read_text())["libc"]


@contextlib.contextmanager
def chroot_host(rootfs):
    """A testinfra host on an unpacked root file system (runc/crun bundles)."""
    import testinfra

    yield testinfra.get_host(f"chroot://{rootfs}")
