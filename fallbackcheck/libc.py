"""libc identities ("glibc 2.36", "musl 1.2.3") and version-range predicates from the catalogue."""

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
        clauses = []
        for part in filter(None, (p.strip() for p in rest.split(","))):
            m = _CLAUSE.match(part)
            if not m:
                raise ValueError(f"bad version clause {part!r} in {text!r}")
            clauses.append((m.group(1), parse_version(m.group(2))))
        return cls(family, tuple(clauses), text.strip())

    def contains(self, libc: Libc) -> bool:
        if libc.family != self.family:
            return False
        have = libc.key
        return all(_OPS[op](have, want) for op, want in self.clauses)
