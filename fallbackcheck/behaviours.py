"""Documented runtime behaviours that make the delivered errno differ from what a profile
literally asks. The conformance suite names them in the cell instead of failing it.

Each behaviour carries its provenance (runtimes.md, with the runtime's PR/issue).
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from . import seccomp_json, syscalls

RUNC_STUB = ("runc's ENOSYS stub: {syscall} ({nr}) is above the largest syscall the profile names for "
             "{arch} ({max_name}, {max_nr}), so runc answers ENOSYS before the filter "
             "(runc >= 1.0.0-rc93, PR 2750; libcontainer/seccomp/patchbpf)")
DOCKER_DROPS_DEFAULT_ERRNO = (
    "Docker {version} drops defaultErrnoRet: its profile type learned the field only in 23.0 (moby #42604), "
    "so the runtime gets the OCI default EPERM for unlisted syscalls (seen in the config.json dockerd hands "
    "to containerd; docs/findings.md)")
UNKNOWN_NAME = ("the runtime's libseccomp does not know the name {syscall}, so the rule naming it is dropped "
                "with only a log line (runc and crun both do this; runtimes.md §0) and the call is not filtered")
_PERMISSIVE = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"}


def oci_family(runtime_id: str) -> str:
    """docker-runc, podman-runc and runc share runc's seccomp code; likewise crun."""
    return runtime_id.rsplit("-", 1)[-1]


@functools.lru_cache(maxsize=None)
def libseccomp_knows(name: str, arch: str) -> bool:
    """Whether the host's libseccomp (the one runc links) resolves `name` on `arch`;
    runc drops the names it cannot resolve, and they then do not raise the stub's limit."""
    if shutil.which("scmp_sys_resolver") is None:
        return syscalls.is_known(name)
    scmp = {"amd64": "x86_64", "i386": "x86"}[arch]
    out = subprocess.run(["scmp_sys_resolver", "-a", scmp, name], capture_output=True, text=True).stdout.strip()
    return out.lstrip("-").isdigit() and not out.startswith("-")


def asks_default(plain: dict, syscall: str) -> bool:
    """Whether `syscall` falls through to the profile's default action (no rule names it)."""
    return not any(syscall in (rule.get("names") or []) for rule in plain.get("syscalls") or [])


def _largest_named(oci: dict, arch: str) -> tuple[str, int] | None:
    best = None
    for rule in oci.get("syscalls") or []:
        for name in rule.get("names") or []:
            nr = syscalls.table().get(name)
            if nr is None or arch not in nr.nr or not libseccomp_knows(name, arch):
                continue
            if best is None or nr.nr[arch] > best[1]:
                best = (name, nr.nr[arch])
    return best


def _docker_major(engine_version: str | None) -> int | None:
    try:
        return int((engine_version or "").split()[-1].split(".")[0])
    except (ValueError, IndexError):
        return None


def explain(runtime_id: str, engine_version: str | None, oci: dict | None, syscall: str, nr: int | None,
            arch: str, asked: str, delivered: str) -> str | None:
    """The documented behaviour that turns `asked` into `delivered` here, if there is one.
    `nr` is the syscall's number on `arch` (from the raw probe's catalogue entry);
    `engine_version` is e.g. "docker 20.10.24+dfsg1"."""
    if oci is None:
        return None
    plain = seccomp_json.resolve(oci)
    if (delivered == "allowed" and not asks_default(plain, syscall) and not libseccomp_knows(syscall, arch)):
        return UNKNOWN_NAME.format(syscall=syscall)
    if (runtime_id.startswith("docker-") and delivered == "EPERM" and plain.get("defaultErrnoRet") is not None
            and asked != "EPERM" and _docker_major(engine_version) is not None and _docker_major(engine_version) < 23
            and asks_default(plain, syscall)):
        return DOCKER_DROPS_DEFAULT_ERRNO.format(version=engine_version.split()[-1])
    if oci_family(runtime_id) != "runc" or delivered != "ENOSYS":
        return None
    if plain.get("defaultAction") in _PERMISSIVE:
        return None  # runc adds no stub in front of a permissive default
    largest = _largest_named(plain, arch)
    if largest is None or nr is None or nr <= largest[1]:
        return None
    return RUNC_STUB.format(syscall=syscall, nr=nr, arch=arch, max_name=largest[0], max_nr=largest[1])
