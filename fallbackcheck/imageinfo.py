"""Facts read from an image itself (its libc), with testinfra, cached by the image's id.

The libc version is never taken from a table: a rebuilt 'debian-13' may carry a newer
point release, and a user's own image can hold anything.
"""

from __future__ import annotations

import json
import re
import uuid

from .cache import cache_dir, locked
from .runtimes.base import LABEL, SESSION_LABEL

# `getconf GNU_LIBC_VERSION` answers "glibc 2.36"; musl's loader prints "Version 1.2.3".
_MUSL_VERSION = re.compile(r"Version\s+(\d+(?:\.\d+)+)")


def read_libc(host) -> str:
    """The libc of a testinfra host, as 'glibc 2.36' or 'musl 1.2.3'."""
    result = host.run("getconf GNU_LIBC_VERSION")
    if result.rc == 0 and result.stdout.startswith("glibc "):
        return result.stdout.strip()
    result = host.run("for l in /lib/ld-musl-*.so.1; do \"$l\" 2>&1; done")
    m = _MUSL_VERSION.search(result.stdout + result.stderr)
    if m:
        return f"musl {m.group(1)}"
    raise RuntimeError(f"cannot tell which libc this image has (getconf said {result.stdout.strip()!r})")


def libc_of_container_image(engine, ref: str) -> str:
    image_id = engine.client.images.get(ref).id.replace("sha256:", "")[:32]
    cached = cache_dir() / "imageinfo" / f"{image_id}.json"
    if cached.exists():
        return json.loads(cached.read_text())["libc"]
    with locked(f"imageinfo-{image_id}"):
        if cached.exists():
            return json.loads(cached.read_text())["libc"]
        import testinfra

        container = engine.client.containers.run(
            ref, ["sleep", "120"], detach=True, network_disabled=True,
            labels={LABEL: "inspect", SESSION_LABEL: "inspect-" + uuid.uuid4().hex[:8]})
        try:
            libc = read_libc(testinfra.get_host(f"docker://{container.id}"))
        finally:
            container.remove(force=True)
        cached.parent.mkdir(exist_ok=True)
        cached.write_text(json.dumps({"libc": libc, "ref": ref}))
    return libc
