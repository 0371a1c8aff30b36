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


def explain(runtime_id: str, oci: dict | None, syscall: str, nr: int | None, arch: str, asked: str,
            delivered: str) -> str | None:
    """The documented behaviour that turns `asked` into `delivered` here, if there is one.
    `nr` is the syscall's number on `arch` (from the raw probe's catalogue entry)."""
    if oci is None or oci_family(runtime_id) != "runc" or delivered != "ENOSYS":
        return None
    plain = seccomp_json.resolve(oci)
    if plain.get("defaultAction") in _PERMISSIVE:
        return None  # runc adds no stub in front of a permissive default
    largest = _largest_named(plain, arch)
    if largest is None or nr is None or nr <= largest[1]:
        return None
    return RUNC_STUB.format(syscall=syscall, nr=nr, arch=arch, max_name=largest[0], max_nr=largest[1])
