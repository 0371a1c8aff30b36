"""libc identities ("glibc 2.36", "musl 1.2.3") and the catalogue's version-range predicates:
on the libc (LibcRange) and on the kernel the cell ran on (KernelRange)."""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass

_VERSION = re.compile(r"^\d+(\.\d+)*$")


@functools.lru_cache(maxsize=256)  # a few libc versions, asked for every rule of every cell
def _version_key(text: str) -> tuple[int, ...]:
    return parse_version(text)


def parse_version(text: str) -> tuple[int, ...]:
    """'2.36' -> (2, 36). Raises ValueError on anything else."""
    if not _VERSION.match(text):
        raise ValueError(f"not a version number: {text!r}")
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True)
class Libc:
    family: str  # "glibc" or "musl"
    version: str

    @classmethod
    @functools.lru_cache(maxsize=256)  # every API cell of a batch parses its image's libc; frozen: shareable
    def parse(cls, text: str) -> "Libc":
        family, _, version = text.strip().partition(" ")
        if family not in ("glibc", "musl") or not version:
            raise ValueError(f"not a libc identity: {text!r} (expected 'glibc 2.36' or 'musl 1.2.3')")
        parse_version(version)
        return cls(family, version)

    @property
    def key(self) -> tuple[int, ...]:
        return _version_key(self.version)

    def __str__(self) -> str:
        return f"{self.family} {self.version}"


_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "<": operator.lt, ">": operator.gt}
_CLAUSE = re.compile(r"^(>=|<=|==|<|>)\s*(\d+(?:\.\d+)*)$")


def _clauses(rest: str, text: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """'>=2.34,<2.38' -> (('>=', (2, 34)), ('<', (2, 38)))."""
    clauses = []
    for part in filter(None, (p.strip() for p in rest.split(","))):
        m = _CLAUSE.match(part)
        if not m:
            raise ValueError(f"bad version clause {part!r} in {text!r}")
        clauses.append((m.group(1), parse_version(m.group(2))))
    return tuple(clauses)


@dataclass(frozen=True)
class LibcRange:
    """A catalogue predicate such as 'glibc >=2.34,<2.38' or 'musl' (any version)."""

    family: str
    clauses: tuple[tuple[str, tuple[int, ...]], ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> "LibcRange":
        family, _, rest = text.strip().partition(" ")
        if family not in ("glibc", "musl"):
            raise ValueError(f"libc range must start with glibc or musl: {text!r}")
        return cls(family, _clauses(rest, text), text.strip())

    def contains(self, libc: Libc) -> bool:
        if libc.family != self.family:
            return False
        have = libc.key
        return all(_OPS[op](have, want) for op, want in self.clauses)


_RELEASE = re.compile(r"^(\d+)\.(\d+)")


def kernel_version(release: str | None) -> tuple[int, int] | None:
    """uname -r's leading version: '6.12.57+deb13-amd64' -> (6, 12); None if it has none."""
    m = _RELEASE.match(release or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass(frozen=True)
class KernelRange:
    """A catalogue predicate on the kernel the cell ran on, such as '<6.13' or '>=5.3,<6.13':
    for what glibc does differently by what the running kernel answers to a call no seccomp
    profile here filters (e.g. madvise(MADV_GUARD_INSTALL), Linux 6.13)."""

    clauses: tuple[tuple[str, tuple[int, ...]], ...]
    text: str

    @classmethod
    def parse(cls, text: str) -> "KernelRange":
        clauses = _clauses(text, text)
        if not clauses:
            raise ValueError(f"kernel range needs at least one clause such as '<6.13': {text!r}")
        if any(len(want) != 2 for _, want in clauses):
            raise ValueError(f"kernel range clauses name a major.minor version such as 6.13: {text!r}")
        return cls(clauses, text.strip())

    def contains(self, release: str | None) -> bool:
        """False when the release is unknown: a rule about the kernel never guesses it."""
        have = kernel_version(release)
        return have is not None and all(_OPS[op](have, want) for op, want in self.clauses)
