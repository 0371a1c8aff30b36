"""The catalogue: declarative probe entries and their expectations, loaded from probes/catalogue/*.toml.

The catalogue is data. This module only parses and validates it; judging lives in verdict.py.
"""

from __future__ import annotations

import errno as errno_mod
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..errors import UsageError
from .libc import KernelRange, LibcRange

CATALOGUE_DIR = paths.CATALOGUE

OUTCOMES = ("ok", "error", "abort", "cannot-start", "timeout", "absent")
RULE_VERDICTS = ("pass", "expected-break", "n/a")
ARCHES = ("amd64", "i386", "arm64", "armhf")
# The architectures an API entry runs on unless it says otherwise: arm64 and armhf are opt-in,
# entry by entry, once its expectations were checked at glibc's aarch64 or arm sources (issue 33).
DEFAULT_ARCHES = ("amd64", "i386")
# A raw entry's `nr` keys: the kernel's names, as in syscalls.csv (x86_64, i386) or ours (arm64, armhf).
_NR_KEY = {"amd64": "x86_64"}
LIBC_FAMILIES = ("glibc", "musl")
# What a rule may say about the delivered errno of the syscall it is about.
DELIVERED_WORDS = ("any", "allowed", "denied", "SIGSYS")

# The implicit last rule of every API entry, so that entries only spell out what differs
# from "an unfiltered call works". Stated here once, and in probes/catalogue/README.md.
ALLOWED_WORKS_SOURCE = "catalogue default: with every syscall it uses allowed, the API succeeds"


def is_errno_name(name: str) -> bool:
    return hasattr(errno_mod, name) and name.startswith("E")


@dataclass(frozen=True)
class Rule:
    libc: LibcRange
    delivered: str
    outcome: str
    verdict: str
    source: str
    errno: str | None = None  # an errno name, "=delivered", or "0" (outcome ok: errno left untouched)
    message: str | None = None  # a substring the detail must contain (abort / cannot-start)
    via: str | None = None  # the syscall whose delivered errno this rule reads
    arch: str | None = None  # only on this architecture (amd64 | i386 | arm64 | armhf)
    # False: the cell never reaches the API under test (e.g. the probe's helper thread
    # could not be created), so it says nothing about whether the API works.
    api_reached: bool = True
    # Only on a kernel in this range (uname -r of the kernel the batch ran on: a kernel host's
    # boot, else the machine's own kernel, which containers share). An unknown kernel matches
    # no such rule. For what glibc does by the kernel's answer to a call no profile filters.
    kernel: KernelRange | None = None

    def matches_delivered(self, delivered: str) -> bool:
        if self.delivered == "any":
            return True
        if self.delivered == "denied":
            return is_errno_name(delivered) and delivered != "ENOSYS"
        return self.delivered == delivered


@dataclass(frozen=True)
class ApiEntry:
    id: str
    binary: str
    args: tuple[str, ...]
    api: str
    syscalls: tuple[str, ...]
    summary: str
    arches: tuple[str, ...] = DEFAULT_ARCHES
    libcs: tuple[str, ...] = ("glibc",)
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    kind = "api"


@dataclass(frozen=True)
class RawEntry:
    syscall: str
    nr: dict
    kernel: str
    call: str
    answer: str
    why: str
    verified: str = ""
    # The kernel's own answer when the caller lacks CAP_SYS_ADMIN, for syscalls that check
    # it before their arguments (the mount API); containers normally lack it.
    answer_without_cap_sys_admin: str | None = None

    kind = "raw"

    def kernel_answer(self, cap_sys_admin: bool | None) -> str:
        if cap_sys_admin is False and self.answer_without_cap_sys_admin:
            return self.answer_without_cap_sys_admin
        return self.answer

    @property
    def id(self) -> str:
        return f"raw:{self.syscall}"

    @property
    def syscalls(self) -> tuple[str, ...]:
        return (self.syscall,)

    def exists_on(self, arch: str) -> bool:
        return _NR_KEY.get(arch, arch) in self.nr


@dataclass(frozen=True)
class Catalogue:
    api: dict[str, ApiEntry]
    raw: dict[str, RawEntry]
    # Rules about starting ANY dynamically linked probe (ld.so's own syscalls, e.g. statx
    # on i386), tried before an entry's own rules. Each names its syscall in `via`.
    loader: tuple[Rule, ...] = ()

    @property
    def loader_syscalls(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.via for r in self.loader))

    def get(self, probe_id: str):
        return self.api.get(probe_id) or self.raw.get(probe_id)

    @property
    def ids(self) -> list[str]:
        return list(self.api) + list(self.raw)

    def raw_for(self, syscall: str) -> RawEntry | None:
        return self.raw.get(f"raw:{syscall}")


def _fail(where: str, what: str) -> UsageError:
    return UsageError(f"catalogue {where}: {what}")


def _rule(where: str, data: dict, syscalls: tuple[str, ...]) -> Rule:
    known = {"libc", "delivered", "outcome", "verdict", "source", "errno", "message", "via", "arch", "api_reached",
             "kernel"}
    extra = set(data) - known
    if extra:
        raise _fail(where, f"unknown rule keys {sorted(extra)}")
    for key in ("libc", "delivered", "outcome", "verdict", "source"):
        if not data.get(key):
            raise _fail(where, f"rule lacks {key!r} (every expectation carries its provenance in 'source')")
    try:
        libc = LibcRange.parse(data["libc"])
    except ValueError as exc:
        raise _fail(where, str(exc)) from None
    delivered = data["delivered"]
    if delivered not in DELIVERED_WORDS and not is_errno_name(delivered):
        raise _fail(where, f"delivered {delivered!r} is neither an errno name nor one of {DELIVERED_WORDS}")
    if data["outcome"] not in OUTCOMES:
        raise _fail(where, f"outcome {data['outcome']!r} not in {OUTCOMES}")
    if data["verdict"] not in RULE_VERDICTS:
        raise _fail(where, f"verdict {data['verdict']!r} not in {RULE_VERDICTS}")
    err = data.get("errno")
    # "0" only after a success: errno as an errno-after probe found it, untouched by the call.
    if err is not None and err != "=delivered" and not is_errno_name(err) and not (
            err == "0" and data["outcome"] == "ok"):
        raise _fail(where, f"errno {err!r} is not an errno name (or '0' with outcome ok)")
    via = data.get("via")
    if via is not None and syscalls and via not in syscalls:
        raise _fail(where, f"via {via!r} is not one of the entry's syscalls {list(syscalls)}")
    arch = data.get("arch")
    if arch is not None and arch not in ARCHES:
        raise _fail(where, f"arch {arch!r} not in {ARCHES}")
    reached = data.get("api_reached", True)
    if not isinstance(reached, bool):
        raise _fail(where, "api_reached must be true or false")
    kernel = None
    if data.get("kernel") is not None:
        try:
            kernel = KernelRange.parse(str(data["kernel"]))
        except ValueError as exc:
            raise _fail(where, str(exc)) from None
    return Rule(libc, delivered, data["outcome"], data["verdict"], data["source"], err, data.get("message"),
                via, arch, reached, kernel)


def _api_entry(data: dict, index: int, path: Path) -> ApiEntry:
    where = f"{path.name} api #{index + 1} ({data.get('id', '?')})"
    for key in ("id", "api", "syscalls", "summary"):
        if not data.get(key):
            raise _fail(where, f"missing {key!r}")
    syscalls = tuple(data["syscalls"])
    arches = tuple(data.get("arches", DEFAULT_ARCHES))
    libcs = tuple(data.get("libcs", ("glibc",)))  # musl is opt-in: its probes must build with musl
    if set(arches) - set(ARCHES):
        raise _fail(where, f"arches must be among {ARCHES}")
    if set(libcs) - set(LIBC_FAMILIES):
        raise _fail(where, f"libcs must be among {LIBC_FAMILIES}")
    rules = [_rule(f"{where} rule #{i + 1}", r, syscalls) for i, r in enumerate(data.get("expect", []))]
    for family in libcs:
        rules.append(Rule(LibcRange.parse(family), "allowed", "ok", "pass", ALLOWED_WORKS_SOURCE))
    binary = data.get("binary", data["id"].split(".")[0])
    return ApiEntry(data["id"], binary, tuple(data.get("args", ())), data["api"], syscalls,
                    data["summary"], arches, libcs, tuple(rules))


def _raw_entry(data: dict, index: int, path: Path) -> RawEntry:
    where = f"{path.name} raw #{index + 1} ({data.get('syscall', '?')})"
    for key in ("syscall", "nr", "kernel", "call", "answer", "why"):
        if key not in data:
            raise _fail(where, f"missing {key!r}")
    for key in ("answer", "answer_without_cap_sys_admin"):
        if key in data and data[key] != "0" and not is_errno_name(data[key]):
            raise _fail(where, f"{key} {data[key]!r} must be an errno name or '0'")
    return RawEntry(data["syscall"], dict(data["nr"]), str(data["kernel"]), data["call"],
                    data["answer"], data["why"], data.get("verified", ""),
                    data.get("answer_without_cap_sys_admin"))


def load(directory: Path = CATALOGUE_DIR) -> Catalogue:
    api: dict[str, ApiEntry] = {}
    raw: dict[str, RawEntry] = {}
    loader: list[Rule] = []
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise UsageError(f"no catalogue files in {directory}")
    for path in files:
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"catalogue {path.name} is not valid TOML: {exc}") from None
        for i, item in enumerate(data.get("api", [])):
            entry = _api_entry(item, i, path)
            if entry.id in api:
                raise _fail(path.name, f"duplicate probe id {entry.id!r}")
            api[entry.id] = entry
        for i, item in enumerate(data.get("loader", [])):
            where = f"{path.name} loader #{i + 1}"
            if not item.get("via"):
                raise _fail(where, "a loader rule names the syscall it reads in 'via'")
            loader.append(_rule(where, item, ()))
        for i, item in enumerate(data.get("raw", [])):
            entry = _raw_entry(item, i, path)
            if entry.id in raw:
                raise _fail(path.name, f"duplicate probe id {entry.id!r}")
            raw[entry.id] = entry
    for rule in loader:
        if f"raw:{rule.via}" not in raw:
            raise _fail("loader", f"reads {rule.via!r} but the catalogue has no raw probe for it")
    for entry in api.values():
        missing = [s for s in entry.syscalls if f"raw:{s}" not in raw]
        if missing:
            raise _fail(entry.id, f"depends on {missing} but the catalogue has no raw probe for them")
    return Catalogue(api, raw, tuple(loader))
