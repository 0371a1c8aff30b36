"""The syscall table: names, numbers and the first kernel of every syscall, per architecture.

Data: data/syscalls.csv (provenance in data/syscalls.PROVENANCE.md).
"""

from __future__ import annotations

import csv
import ctypes
from dataclasses import dataclass
from functools import lru_cache

from ..paths import PACKAGE
from .libc import parse_version

DATA = PACKAGE / "data" / "syscalls.csv"
# The oldest kernel the table can tell apart: everything older is dated "3.0".
KERNEL_FLOOR = "3.0"

# Our architecture words, and the seccomp/CSV words they correspond to.
SECCOMP_ARCH = {"amd64": "SCMP_ARCH_X86_64", "i386": "SCMP_ARCH_X86", "x32": "SCMP_ARCH_X32",
                "arm64": "SCMP_ARCH_AARCH64", "armhf": "SCMP_ARCH_ARM"}
CSV_ARCH = {"amd64": "x86_64", "i386": "x86", "x32": "x32", "arm64": "aarch64", "armhf": "arm"}
# The kernel an image of each architecture runs on here: an x86_64 kernel for amd64 and i386
# images, an arm64 one (local@linux-*-arm64) for arm64 and armhf images. A filter installed
# with libseccomp always covers that kernel's native architecture, whatever the profile lists.
NATIVE = {"amd64": "amd64", "i386": "amd64", "x32": "amd64", "arm64": "arm64", "armhf": "arm64"}


@dataclass(frozen=True)
class Syscall:
    name: str
    nr: dict  # arch word -> number
    kernel: dict  # arch word -> "5.3"


@lru_cache(maxsize=1)
def table() -> dict[str, Syscall]:
    rows: dict[str, Syscall] = {}
    with DATA.open(newline="") as fh:
        for row in csv.DictReader(fh):
            nr, kernel = {}, {}
            for arch, col in CSV_ARCH.items():
                if row.get(col):
                    nr[arch] = int(row[col])
                    kernel[arch] = row.get(f"{col}_kernel") or ""
            rows[row["name"]] = Syscall(row["name"], nr, kernel)
    return rows


def numbers(arch: str) -> dict[str, int]:
    """Every syscall of `arch` by name, with its number."""
    return {name: s.nr[arch] for name, s in table().items() if arch in s.nr}


def is_known(name: str) -> bool:
    return name in table()


@lru_cache(maxsize=None)
def libseccomp():
    """This machine's libseccomp (Debian libseccomp2: the library its runc and crun link), or
    None where it cannot be loaded."""
    try:
        lib = ctypes.CDLL("libseccomp.so.2")
        lib.seccomp_arch_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_arch_resolve_name.restype = ctypes.c_uint32
        lib.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
        lib.seccomp_syscall_resolve_name_arch.restype = ctypes.c_int
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
        return lib
    except (OSError, AttributeError):
        return None


SCMP_ERROR = -1  # __NR_SCMP_ERROR: seccomp_syscall_resolve_name's answer for a name it does not know


@lru_cache(maxsize=None)
def libseccomp_has_name(name: str) -> bool:
    """Whether libseccomp knows `name` on some architecture (Docker's default profile names
    s390's and other architectures' calls, which our table does not carry: libseccomp resolves
    them to a pseudo number elsewhere, and runtimes keep those rules rather than drop them)."""
    lib = libseccomp()
    return lib is not None and lib.seccomp_syscall_resolve_name(name.encode()) != SCMP_ERROR


def existed_in(name: str, arch: str, kernel: str) -> bool:
    """Did syscall `name` exist on `arch` in Linux `kernel` (e.g. "5.2")?"""
    sc = table().get(name)
    if sc is None or arch not in sc.kernel or not sc.kernel[arch]:
        return False
    return parse_version(sc.kernel[arch]) <= parse_version(kernel)


def names_in(arch: str, kernel: str) -> list[str]:
    return sorted(n for n in table() if existed_in(n, arch, kernel))
