"""Profile ids -> seccomp profiles in the OCI/Docker JSON format, and what a profile asks for.

Grammar (docs/design.md): unconfined | default | deny:<sys>[,<sys>...]:<ERRNO> |
vintage:<kernel>:<ERRNO> | file:<path> | docker-default:<suite> (Docker's default profile as Debian
<suite> ships its source, fetched: artefacts/engine_profiles.py) | own:<name> (a filter a sandbox
builds itself, by the name it gives it: firejail's `own:seccomp`, docs/sandboxes.md).
"""

from __future__ import annotations

import errno as errno_mod
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import flatpak_filter, seccomp_json, syscalls
from ..errors import UsageError
from .libc import parse_version
from ..memo import IdentityMemo

# Every generated profile names these, so that i386, x32 and 32-bit arm processes are filtered
# rather than killed for using an architecture the profile forgot (as Docker's default profile
# names the sub-architectures of the daemon's own: x86 and x32 on x86_64, arm on aarch64).
ARCHITECTURES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]

KNOWN_ACTIONS = {
    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
}
KNOWN_ARCHES = {
    "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
}
# The default action of a filter in force that is a sandbox's own list with our rules on top
# (systemd-nspawn's): what it answers for a syscall our rules do not name is not known, so
# asks() says None for those (the raw cell is then n/a, with what was delivered).
UNKNOWN_DEFAULT = "FALLBACKCHECK_SANDBOX_OWN"
_KILL = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"}


def errno_number(name: str, where: str) -> int:
    value = getattr(errno_mod, name, None) if name.startswith("E") else None
    if not isinstance(value, int):
        raise UsageError(f"{where}: {name!r} is not an errno name (use e.g. EPERM, ENOSYS, EACCES)")
    return value


def errno_name(number: int) -> str:
    return errno_mod.errorcode.get(number, f"E{number}")


@dataclass(frozen=True)
class Profile:
    id: str
    kind: str  # unconfined | default | deny | vintage | file | own | flatpak
    oci: dict | None  # the seccomp JSON; None for unconfined and for an unknown runtime default
    path: Path | None = None  # the JSON file it was read from (file:, and fetched ones, e.g. docker-default:)
    source: str = ""  # where a fetched profile came from (package, version, suite): its provenance

    def render(self) -> str:
        if self.oci is None:
            raise ValueError(f"profile {self.id} has no JSON rendering")
        return json.dumps(self.oci, indent=1, sort_keys=True)

    def in_force(self, runtime=None) -> dict | None:
        """The seccomp JSON in force: {} for none, None where it cannot be known (the
        `default` of a runtime that does not expose it, or of no runtime)."""
        if hasattr(runtime, "seccomp_in_force"):  # a Runtime: it may put our rules on a filter of its own
            return runtime.seccomp_in_force(self)
        if self.kind == "unconfined":
            return {}
        if self.kind == "default":
            return runtime.default_seccomp() if runtime is not None else None
        return self.oci

    def asks(self, syscall: str, arch: str, runtime=None) -> str | None:
        """What the profile literally asks for `syscall` on `arch`: 'allowed', an errno name,
        'SIGSYS', or None when that cannot be said (unknown default, argument conditions)."""
        return asks_in(self.in_force(runtime), syscall, arch)


def covers_arch(oci: dict, arch: str) -> bool:
    """Whether the profile filters `arch` rather than killing it (the kernel's native
    architecture is always filtered: syscalls.NATIVE)."""
    archs = seccomp_json.resolved(oci, syscalls.NATIVE.get(arch)).get("architectures") or []
    return not archs or syscalls.SECCOMP_ARCH[arch] in archs or syscalls.NATIVE[arch] == arch


def asks_of(oci: dict, syscall: str, arch: str) -> str | None:
    """What a seccomp JSON (Docker or OCI form) asks for `syscall` on `arch`."""
    return _asks(seccomp_json.resolved(oci, syscalls.NATIVE.get(arch)), syscall, arch)


def asks_in(oci: dict | None, syscall: str, arch: str) -> str | None:
    """asks_of for a JSON in force (Profile.in_force): {} asks nothing, None is unknown."""
    if oci is None:
        return None
    return "allowed" if oci == {} else asks_of(oci, syscall, arch)


def _action_result(action: str, errno_ret, default_errno) -> str | None:
    if action in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG"):
        return "allowed"
    if action == "SCMP_ACT_ERRNO":
        ret = errno_ret if errno_ret is not None else default_errno
        return errno_name(int(ret)) if ret is not None else "EPERM"
    if action in _KILL:
        return "SIGSYS"
    if action == "SCMP_ACT_TRACE":
        return "ENOSYS"  # no tracer attached: the kernel fails the call with ENOSYS
    return None


def _asks(oci: dict, syscall: str, arch: str) -> str | None:
    archs = oci.get("architectures") or []
    if archs and syscalls.SECCOMP_ARCH[arch] not in archs and syscalls.NATIVE[arch] != arch:
        # libseccomp's bad-architecture action is to kill; the kernel's native arch is always added.
        return "SIGSYS"
    rule = _first_rules(oci).get(syscall)
    if rule is None:
        return _action_result(oci.get("defaultAction", ""), None, oci.get("defaultErrnoRet"))
    if rule.get("args"):
        return None
    return _action_result(rule.get("action", ""), rule.get("errnoRet"), None)


def _first_rule_of_each_name(oci: dict) -> dict[str, dict]:
    """Syscall name -> the first rule naming it (the one _asks answers from). Judging asks
    a profile about one syscall per cell, a hundred thousand times a run, and the runtimes'
    defaults have 300-odd rules to scan."""
    first: dict[str, dict] = {}
    for rule in oci.get("syscalls") or []:
        for name in rule.get("names") or ([rule["name"]] if rule.get("name") else []):
            first.setdefault(name, rule)
    return first


_first_rules = IdentityMemo(_first_rule_of_each_name)


def _deny(profile_id: str, body: str) -> Profile:
    names, sep, err = body.rpartition(":")
    if not sep or not names or not err:
        raise UsageError(f"profile {profile_id!r}: expected deny:<syscall>[,<syscall>...]:<ERRNO>, e.g. deny:clone3:EPERM")
    number = errno_number(err, f"profile {profile_id!r}")
    wanted = [n.strip() for n in names.split(",")]
    unknown = [n for n in wanted if not n or not syscalls.is_known(n)]
    if unknown:
        raise UsageError(f"profile {profile_id!r}: unknown syscall name(s) {unknown}; runtimes drop unknown names silently, so fix the spelling")
    oci = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ARCHITECTURES,
        "syscalls": [{"names": wanted, "action": "SCMP_ACT_ERRNO", "errnoRet": number}],
    }
    return Profile(profile_id, "deny", oci)


def _vintage(profile_id: str, body: str) -> Profile:
    kernel, sep, err = body.partition(":")
    try:
        parse_version(kernel)
    except ValueError:
        kernel = ""
    if not sep or not kernel or not err:
        raise UsageError(f"profile {profile_id!r}: expected vintage:<kernel>:<ERRNO>, e.g. vintage:5.2:EPERM")
    number = errno_number(err, f"profile {profile_id!r}")
    if parse_version(kernel) < parse_version(syscalls.KERNEL_FLOOR):
        raise UsageError(f"profile {profile_id!r}: the syscall table dates syscalls only from Linux "
                         f"{syscalls.KERNEL_FLOOR} on (data/syscalls.PROVENANCE.md); use {syscalls.KERNEL_FLOOR} or later")
    # One allow rule naming every syscall that existed on x86_64, i386, aarch64 or arm in that kernel
    # (arm's own set_tls and cacheflush included: 32-bit ARM glibc calls set_tls to set up TLS).
    # The OCI format has no per-architecture rules (Docker's "includes.arches" tests the
    # daemon's own arch, not the filter's), and libseccomp skips a name on an arch that
    # lacks it, so the union is what a runtime of that era would effectively have shipped.
    names = sorted({n for arch in ("amd64", "i386", "arm64", "armhf") for n in syscalls.names_in(arch, kernel)})
    rules = [{"names": names, "action": "SCMP_ACT_ALLOW"}] if names else []
    oci = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": number,
        "architectures": ARCHITECTURES,
        "syscalls": rules,
    }
    return Profile(profile_id, "vintage", oci)


def _file(profile_id: str, path_text: str) -> Profile:
    path = Path(path_text).expanduser()
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UsageError(f"profile {profile_id!r}: cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"profile {profile_id!r}: {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    validate_oci(data, f"profile {profile_id!r}")
    return Profile(profile_id, "file", data, path=path)


def _flatpak(profile_id: str, variant: str) -> Profile:
    if variant not in flatpak_filter.VARIANTS:
        raise UsageError(f"profile {profile_id!r}: Flatpak's filter is flatpak:run (`flatpak run`) or "
                         "flatpak:devel (`flatpak run --devel`)")
    return Profile(profile_id, "flatpak", flatpak_filter.seccomp_json(variant))


def validate_oci(data, where: str) -> None:
    """Reject what a runtime would reject, and what it would silently drop (unknown names)."""
    if not isinstance(data, dict):
        raise UsageError(f"{where}: the top level must be a JSON object")
    action = data.get("defaultAction")
    if action not in KNOWN_ACTIONS:
        raise UsageError(f"{where}: defaultAction {action!r} is not a seccomp action (e.g. SCMP_ACT_ERRNO)")
    for arch in data.get("architectures") or []:
        if arch not in KNOWN_ARCHES:
            raise UsageError(f"{where}: unknown architecture {arch!r}")
    for key in ("defaultErrnoRet",):
        if key in data and not isinstance(data[key], int):
            raise UsageError(f"{where}: {key} must be an errno number, got {data[key]!r}")
    for i, rule in enumerate(data.get("syscalls") or []):
        if not isinstance(rule, dict):
            raise UsageError(f"{where}: syscalls[{i}] must be an object")
        if rule.get("action") not in KNOWN_ACTIONS:
            raise UsageError(f"{where}: syscalls[{i}] action {rule.get('action')!r} is not a seccomp action")
        if "errnoRet" in rule and not isinstance(rule["errnoRet"], int):
            raise UsageError(f"{where}: syscalls[{i}] errnoRet must be an errno number, got {rule['errnoRet']!r}")
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        unknown = [n for n in names if not syscalls.is_known(n) and not syscalls.libseccomp_has_name(n)]
        if unknown:
            raise UsageError(f"{where}: syscalls[{i}] names unknown syscall(s) {unknown}; runtimes drop unknown names silently, so fix or remove them")


def facts(profile_id: str) -> dict:
    """A profile id's parts as fields, the one reading of the grammar outside parse(): the run
    writes them into matrix.json (selection.profile_facts) and views read the fields instead of
    splitting ids. family: unconfined | default | deny | vintage | file | own | flatpak; a vintage
    has its kernel and errno, a deny its syscalls and errno, a file its path, an own filter its
    name, Flatpak's filter its variant (run, devel).
    An id that is not in the grammar has the family "unknown"."""
    if profile_id in ("unconfined", "default"):
        return {"family": profile_id}
    family, sep, body = profile_id.partition(":")
    if sep and family == "vintage" and body.count(":") == 1:
        kernel, _, err = body.partition(":")
        return {"family": family, "kernel": kernel, "errno": err}
    if sep and family == "deny" and ":" in body:
        names, _, err = body.rpartition(":")
        return {"family": family, "syscalls": [n.strip() for n in names.split(",")], "errno": err}
    if sep and family == "file":
        return {"family": family, "path": body}
    if sep and family == "own":
        return {"family": family, "name": body}
    if sep and family == "flatpak":
        return {"family": family, "variant": body}
    if sep and family == "docker-default":
        return {"family": family, "suite": body}
    return {"family": "unknown"}


def parse(profile_id: str, fetched: dict | None = None) -> Profile:
    """The profile an id names. `fetched`: family -> fetch(profile_id, body) -> (JSON, path,
    provenance) for the families whose JSON is fetched rather than generated
    (artefacts/engine_profiles.FETCHED, handed in by the selection: the model fetches nothing)."""
    text = profile_id.strip()
    if text == "unconfined":
        return Profile(text, "unconfined", None)
    if text == "default":
        return Profile(text, "default", None)
    kind, sep, body = text.partition(":")
    if sep and kind == "deny":
        return _deny(text, body)
    if sep and kind == "vintage":
        return _vintage(text, body)
    if sep and kind == "file":
        return _file(text, body)
    if sep and kind == "flatpak":
        return _flatpak(text, body)
    if sep and kind in (fetched or {}):
        data, path, source = fetched[kind](text, body)
        validate_oci(data, f"profile {text!r} ({source})")
        return Profile(text, "file", data, path=path, source=source)  # a JSON file like file:'s, fetched
    if sep and kind == "own" and re.fullmatch(r"[a-z0-9][a-z0-9.-]*", body):
        return Profile(text, "own", None)  # the sandbox knows it by name (Runtime.unsupported_profile)
    raise UsageError(f"unknown profile {profile_id!r}: use unconfined, default, deny:<syscalls>:<ERRNO>, "
                     "vintage:<kernel>:<ERRNO>, file:<path>, docker-default:<Debian suite> (Docker's default "
                     "profile as that suite ships it), own:<name> (a sandbox's own filter) "
                     "or flatpak:run|flatpak:devel (Flatpak's filter)")
