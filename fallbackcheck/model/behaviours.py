"""Documented runtime behaviours that make the delivered errno differ from what a profile
literally asks. The conformance suite names them in the cell instead of failing it.

Each behaviour carries its provenance (the runtime's PR or issue; docs/runtimes.md explains them).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

from . import seccomp_json, syscalls
from ..memo import IdentityMemo

RUNC_STUB = ("runc's ENOSYS stub: {syscall} ({nr}) is above the largest syscall the profile names for "
             "{arch} ({max_name}, {max_nr}), so runc {version} answers ENOSYS before the filter "
             "(runc >= 1.0.0-rc93, PR 2750; libcontainer/seccomp/patchbpf)")
UNKNOWN_NAME = ("the runtime's libseccomp does not know the name {syscall}, so the rule naming it is dropped "
                "with only a log line (runc: libcontainer/seccomp/seccomp_linux.go; crun: src/libcrun/seccomp.c) "
                "and the call meets the profile's default action: {predicted}")
# runc added the stub in 1.0.0-rc93 (runc PR 2750, libcontainer/seccomp/patchbpf).
RUNC_STUB_SINCE = (1, 0, 0, -7)
_PERMISSIVE = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"}


def family_said(version_line: str | None) -> str:
    """What a runtime binary says it is, from the first line of its --version: runc, crun,
    or unknown (documented behaviours then apply to none of them)."""
    m = re.match(r"\s*(runc|crun) version ", version_line or "")
    return m.group(1) if m else "unknown"


def oci_family(runtime_id: str) -> str:
    """docker-runc, podman-runc and runc share runc's seccomp code; likewise crun (on any
    host: docker-runc@debian-13 is runc too)."""
    return runtime_id.split("@")[0].rsplit("-", 1)[-1]


def runtime_family(runtime) -> str:
    """The OCI runtime a runtime object drives, by what its binary says (`--version`) where it
    is a user's binary (oci:/path, or docker-<name>: whatever dockerd has registered under
    that name), else by its id (Debian's runc and crun)."""
    rid = getattr(runtime, "id", "") or ""
    if rid.startswith("oci:") or oci_family(rid) not in ("runc", "crun"):
        return family_said(runtime.cached_versions().get("oci_runtime_version"))
    return oci_family(rid)


# libseccomp's names for our arches (seccomp_arch_resolve_name, scmp_sys_resolver -a).
SCMP_ARCH = {"amd64": "x86_64", "i386": "x86", "arm64": "aarch64", "armhf": "arm"}


_libseccomp = syscalls.libseccomp  # where it is loaded: model/syscalls.py


@functools.lru_cache(maxsize=None)
def host_libseccomp_knows(name: str, arch: str) -> bool | None:
    """Whether this machine's libseccomp (the one its runc and crun link) resolves `name` on
    `arch` to a syscall number there (a negative answer is a pseudo number: not on that arch).
    Asked of the library itself (seccomp_syscall_resolve_name_arch), else of its
    scmp_sys_resolver (Debian package `seccomp`); None when neither is there, in which case
    the rule that needs the answer does not apply. Once per name and arch in a process: a
    run asks about every name its profiles use (1,600 of them on the main job, where one
    resolver process each cost 4 s of CPU)."""
    lib = _libseccomp()
    token = lib.seccomp_arch_resolve_name(SCMP_ARCH[arch].encode()) if lib is not None else 0
    if token:
        return lib.seccomp_syscall_resolve_name_arch(token, name.encode()) >= 0
    if shutil.which("scmp_sys_resolver") is None:
        return None
    out = subprocess.run(["scmp_sys_resolver", "-a", SCMP_ARCH[arch], name], capture_output=True,
                         text=True).stdout.strip()
    return out.lstrip("-").isdigit() and not out.startswith("-")


def _knows(runtime, name: str, arch: str) -> bool | None:
    """The libseccomp of `runtime` (its own method where it has one, e.g. an engine
    generation with another libseccomp), else this machine's."""
    ask = getattr(runtime, "libseccomp_knows", None)
    return ask(name, arch) if ask is not None else host_libseccomp_knows(name, arch)


def asks_default(plain: dict, syscall: str) -> bool:
    """Whether `syscall` falls through to the profile's default action (no rule names it)."""
    return not any(syscall in (rule.get("names") or []) for rule in plain.get("syscalls") or [])


def _largest_named(runtime, oci: dict, arch: str) -> tuple[str, int] | None:
    """The syscall with the largest number on `arch` that the profile names and `runtime`'s
    libseccomp knows (runc's stub answers ENOSYS above it). Remembered per profile object
    (the cells of a batch share one), and behind that by the names: every batch receives its
    own copy of a profile, and without_rules_for() makes one per cell; the answer costs 1 ms
    for a profile of 400 names, listing the names a tenth of that."""
    return _largest_of_profile(oci, runtime, arch)


def _largest_named_by_names(oci: dict, runtime, arch: str) -> tuple[str, int] | None:
    names = tuple(dict.fromkeys(name for rule in oci.get("syscalls") or [] for name in rule.get("names") or []))
    key = (id(runtime), names, arch)
    hit = _largest_by_names.get(key)
    if hit is not None and hit[0] is runtime:
        return hit[1]
    best = None
    for name in names:
        nr = syscalls.table().get(name)
        if nr is None or arch not in nr.nr or _knows(runtime, name, arch) is False:
            continue
        if best is None or nr.nr[arch] > best[1]:
            best = (name, nr.nr[arch])
    _largest_by_names[key] = (runtime, best)  # the runtime kept: its id is not reused
    return best


_largest_by_names: dict = {}
_largest_of_profile = IdentityMemo(_largest_named_by_names)


def runc_version(runtime) -> tuple[int, ...] | None:
    """runc's release from `runc --version` ("runc version 1.1.5+ds1" -> (1, 1, 5)); a
    release candidate 1.0.0-rcN -> (1, 0, 0, -100 + N) so that it sorts before 1.0.0."""
    text = (runtime.cached_versions() if runtime is not None else {}).get("oci_runtime_version") or ""
    m = re.search(r"runc version (\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?", text)
    if not m:
        return None
    major, minor, patch, rc = m.groups()
    version = (int(major), int(minor), int(patch))
    return version + ((int(rc) - 100) if rc else 0,)


def without_rules_for(plain: dict, syscall: str) -> dict:
    """The profile as a runtime builds it when its libseccomp cannot resolve `syscall`:
    every rule's name list without it (a rule left with no names is dropped)."""
    rules = []
    for rule in plain.get("syscalls") or []:
        names = [n for n in rule.get("names") or [] if n != syscall]
        if names:
            rules.append({**rule, "names": names})
    return {**plain, "syscalls": rules}


def _runc_stub(runtime, plain: dict, syscall: str, nr: int | None, arch: str) -> str | None:
    """runc's ENOSYS stub covers `syscall` here: runc >= 1.0.0-rc93, a non-permissive
    default action that is not ENOSYS already, and a number above the largest one named."""
    if runtime_family(runtime) != "runc" or plain.get("defaultAction") in _PERMISSIVE:
        return None
    version = runc_version(runtime)
    if version is None or version < RUNC_STUB_SINCE:
        return None
    largest = _largest_named(runtime, plain, arch)
    if largest is None or nr is None or nr <= largest[1]:
        return None
    return RUNC_STUB.format(syscall=syscall, nr=nr, arch=arch, max_name=largest[0], max_nr=largest[1],
                            version=".".join(str(v) for v in version[:3]))


def explain(runtime, engine_version: str | None, oci: dict | None, syscall: str, nr: int | None,
            arch: str, asked: str, delivered: str) -> str | None:
    """The documented behaviour that turns `asked` into `delivered` here, if there is one.
    Each rule predicts exactly what it leads to; a delivered errno it does not predict is not
    explained. `nr` is the syscall's number on `arch`; `engine_version` e.g. "docker 20.10.24"."""
    if oci is None:
        return None
    plain = seccomp_json.resolved(oci, syscalls.NATIVE.get(arch))
    own = getattr(runtime, "explain_delivered", None)  # a kind's own documented behaviour (systemd-run)
    reason = own(plain, syscall, arch, asked, delivered) if own is not None else None
    if reason:
        return reason
    if not asks_default(plain, syscall) and _knows(runtime, syscall, arch) is False:
        dropped = without_rules_for(plain, syscall)
        stub = _runc_stub(runtime, dropped, syscall, nr, arch)
        predicted = "ENOSYS" if stub else asks_of_plain(dropped, syscall, arch)
        if delivered in (predicted, f"allowed|{predicted}") or (predicted == "allowed" and delivered.startswith("allowed")):
            return UNKNOWN_NAME.format(syscall=syscall, predicted=predicted) + (f"; then {stub}" if stub else "")
        return None
    if delivered != "ENOSYS":
        return None
    return _runc_stub(runtime, plain, syscall, nr, arch)


def asks_of_plain(plain: dict, syscall: str, arch: str) -> str | None:
    from .profiles import asks_of

    return asks_of(plain, syscall, arch)
