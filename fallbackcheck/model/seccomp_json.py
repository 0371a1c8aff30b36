"""Docker/containers-common seccomp JSON -> the plain OCI form a runtime receives.

Docker and Podman accept extensions (archMap, includes/excludes by capability, arch and
kernel, defaultErrno names) and resolve them before they write the OCI config. We do the
same resolution to (a) hand runc/crun a plain OCI profile and (b) say what a profile asks.
"""

from __future__ import annotations

import copy
import platform

from .libc import parse_version
from ..memo import IdentityMemo

# What Docker grants a container by default (moby oci/caps/defaults.go); the rules of the
# default profiles that depend on capabilities are resolved against this set.
DEFAULT_CAPS = frozenset({
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
})
# Docker's includes.arches uses Go's names for the daemon's own architecture.
NATIVE_GOARCH = {"x86_64": "amd64", "i686": "386", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
# archMap: the engine keeps the entry of its own architecture, with its sub-architectures.
SCMP_OF_GOARCH = {"amd64": "SCMP_ARCH_X86_64", "arm64": "SCMP_ARCH_AARCH64"}


def _kernel_at_least(minimum: str) -> bool:
    release = platform.release().split("-")[0]
    try:
        have = parse_version(".".join(release.split(".")[:2]))
        return have >= parse_version(".".join(minimum.split(".")[:2]))
    except ValueError:
        return True


def _applies(rule: dict, caps: frozenset[str], native: str) -> bool:
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if inc.get("arches") and native not in inc["arches"]:
        return False
    if exc.get("arches") and native in exc["arches"]:
        return False
    if inc.get("caps") and not all(c in caps for c in inc["caps"]):
        return False
    if exc.get("caps") and any(c in caps for c in exc["caps"]):
        return False
    if inc.get("minKernel") and not _kernel_at_least(inc["minKernel"]):
        return False
    return True


def resolve(profile: dict, caps: frozenset[str] = DEFAULT_CAPS, kernel_arch: str | None = None) -> dict:
    """The plain OCI seccomp object (linux.seccomp) for a Docker-format or OCI profile, as an
    engine on a `kernel_arch` machine (syscalls.NATIVE's values; None: this one) resolves it:
    the rules its includes/excludes.arches keep, and its own archMap entry. Docker's default
    profile allows ARM's private calls (set_tls, cacheflush, ...) only under
    "arches": ["arm", "arm64"]."""
    native = kernel_arch or NATIVE_GOARCH  # the kernels here, amd64 and arm64, are named alike by Debian and Go
    out = {k: copy.deepcopy(v) for k, v in profile.items()
           if k in ("defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata")}
    archs = list(profile.get("architectures") or [])
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") and entry["architecture"] == SCMP_OF_GOARCH.get(native):
            archs += [entry["architecture"], *(entry.get("subArchitectures") or [])]
    if archs:
        out["architectures"] = list(dict.fromkeys(archs))
    rules = []
    for rule in profile.get("syscalls") or []:
        if not _applies(rule, caps, native):
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        plain = {"names": names, "action": rule["action"]}
        for key in ("errnoRet", "args"):
            if rule.get(key) is not None:
                plain[key] = copy.deepcopy(rule[key])
        rules.append(plain)
    out["syscalls"] = rules
    return out


# resolve() for readers only: judging asks the same batch profile once per cell (memo.py).
_resolved = IdentityMemo(resolve)


def resolved(profile: dict, kernel_arch: str | None = None) -> dict:
    """resolve() remembered per profile object (and kernel_arch: the machine a cell's arch runs
    on, syscalls.NATIVE's values; None: this one)."""
    return _resolved(profile, DEFAULT_CAPS, kernel_arch)
