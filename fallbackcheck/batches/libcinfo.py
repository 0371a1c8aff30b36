"""Which libc an image has, measured by running it, never assumed and never read with a shell.

Once per image content (cached on disk), the runtime that needs it runs ONE unconfined
container with the static runner and two tiny specs: our `libc_version` binary, linked
against glibc (it prints confstr(_CS_GNU_LIBC_VERSION)), and musl's dynamic loader, which
prints "Version X" when run with no arguments. Neither needs a shell, `sleep` or `getconf`
in the image, so distroless-style images (libc and nothing else) are identified, and a
static-only image is "none": it has no libc the API probes could use.
"""

from __future__ import annotations

import json
import re

from ..cache import cache_dir, locked

NONE = "none"  # the image has no libc: API cells are n/a ("no libc in this image")
_MUSL_VERSION = re.compile(r"Version\s+(\d+(?:\.\d+)+)")
_MUSL_LOADER = {"amd64": "/lib/ld-musl-x86_64.so.1", "i386": "/lib/ld-musl-i386.so.1"}


def specs(arch: str, family: str) -> tuple[str, ...]:
    """Runner specs that identify the libc: glibc's and/or musl's, by `family`
    (glibc | musl | auto, where auto tries both and prefers glibc)."""
    out = []
    if family in ("glibc", "auto"):
        out.append(f"libc:glibc=/fbc/{arch}/libc_version")
    if family in ("musl", "auto"):
        out.append(f"libc:musl={_MUSL_LOADER[arch]}")
    return tuple(out)


def parse(records: dict[str, dict]) -> str:
    """The runner's records of `specs` -> 'glibc 2.36' | 'musl 1.2.3' | NONE.

    Raises RuntimeError when a libc is there but could not be read (anything but "the
    loader or library is missing")."""
    glibc = records.get("libc:glibc")
    if glibc is not None and glibc.get("exit") == 0:
        for line in (glibc.get("stdout") or "").splitlines():
            try:
                found = json.loads(line).get("libc")
            except (ValueError, AttributeError):
                continue
            if isinstance(found, str) and found.startswith("glibc "):
                return found
    musl = records.get("libc:musl")
    if musl is not None:
        m = _MUSL_VERSION.search((musl.get("stdout") or "") + (musl.get("stderr") or ""))
        if m:
            return f"musl {m.group(1)}"
    for record in (glibc, musl):
        if record is not None and not _missing(record):
            raise RuntimeError(f"cannot read the libc of this image: {record.get('id')} exited "
                               f"{record.get('exit')} ({(record.get('stderr') or '').strip()[-300:]})")
    return NONE


def _missing(record: dict) -> bool:
    """execve failed with ENOENT: the program or its ELF interpreter is not in the image."""
    return record.get("exec_errno") == "ENOENT" or "No such file" in (record.get("stderr") or "")


def cached(content_key: str | None, family: str, measure) -> str:
    """The libc of the image whose content is `content_key` (engine image id, tar digest),
    from the cache, or from `measure()` once (None: not cacheable, measure every time)."""
    if content_key is None:
        return measure()
    path = cache_dir() / "libc" / f"{content_key}-{family}.json"
    if path.exists():
        return json.loads(path.read_text())["libc"]
    with locked(f"libc-{content_key}"):
        if not path.exists():
            libc = measure()
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"libc": libc}))
            tmp.replace(path)
    return json.loads(path.read_text())["libc"]
