"""The vintage check: does `vintage:<K>:ENOSYS` play Linux K faithfully?

Compares, per image and API probe, what the API did under `unconfined` on a real kernel K
(a kernel host, local@linux-K) with what it did under `vintage:K:ENOSYS` on a runtime of
this machine's kernel. Where they differ, the vintage profile is not that kernel: a syscall
listed in the wrong release, a flag or argument the old kernel rejects that a filter cannot
see, or a kernel configuration (Debian's) that leaves a syscall out. Computed from report
rows only (views render it; docs/findings.md explains each difference).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import profiles
from ..model.syscalls import existed_in, table


@dataclass(frozen=True)
class Comparison:
    image: str
    probe: str
    kernel: str  # K, e.g. "6.1"
    real: dict  # the unconfined cell on the kernel host
    played: dict  # the vintage:K:ENOSYS cell on a runtime of this machine

    @property
    def agrees(self) -> bool:
        return _what(self.real) == _what(self.played)


def _what(cell: dict) -> tuple:
    return cell["outcome"], cell.get("errno"), cell.get("works")


def series(release: str | None) -> str | None:
    """'6.1.0-56-amd64' -> '6.1' (the kernel series a vintage profile names)."""
    m = re.match(r"(\d+\.\d+)", release or "")
    return m.group(1) if m else None


def kernel_series(report: dict) -> dict[str, str]:
    """Kernel-host runtime id -> the series of the kernel it booted (from the environment)."""
    out = {}
    for rid, info in (report["environment"].get("runtimes") or {}).items():
        found = series(info.get("kernel_release")) if isinstance(info, dict) else None
        if info and info.get("kernel_host") and found:
            out[rid] = found
    return out


def compare(report: dict) -> list[Comparison]:
    hosts = kernel_series(report)
    cells = [c for c in report["cells"] if c["kind"] == "api"]
    played: dict[tuple, list[dict]] = {}
    for c in cells:
        facts = profiles.facts(c["profile"])
        if c["runtime"] not in hosts and facts["family"] == "vintage" and facts["errno"] == "ENOSYS":
            played.setdefault((c["image"], c["probe"], c["profile"]), []).append(c)
    out = []
    for c in cells:
        kernel = hosts.get(c["runtime"])
        if kernel is None or c["profile"] != "unconfined" or c["verdict"] == "error":
            continue
        for twin in played.get((c["image"], c["probe"], f"vintage:{kernel}:ENOSYS"), []):
            if twin["verdict"] != "error":
                out.append(Comparison(c["image"], c["probe"], kernel, c, twin))
    return sorted(out, key=lambda x: (x.image, x.kernel, x.played["runtime"], x.probe))


@dataclass(frozen=True)
class TableMismatch:
    runtime: str
    kernel: str  # the series, e.g. "6.1"
    syscall: str
    table_says: str  # the first kernel in the syscall table
    kernel_answers: str  # the baseline's class on the real kernel
    arch: str = "amd64"  # the kernel's architecture (the table's column for it)

    @property
    def vintage_allows(self) -> bool:
        return existed_in(self.syscall, self.arch, self.kernel)


def table_vs_kernel(report: dict) -> list[TableMismatch]:
    """Per kernel host: the raw-probed syscalls where the syscall table (what vintage:K
    allows) and the real kernel's baseline disagree about whether K has them."""
    out = []
    baselines = report["environment"].get("kernel_baseline") or {}
    for rid, kernel in sorted(kernel_series(report).items()):
        info = report["environment"]["runtimes"][rid]
        native = info.get("kernel_arch", "amd64")  # an arm64 kernel host is checked against the aarch64 column
        measured = (baselines.get(info.get("kernel_host")) or {}).get("arches", {})
        # The kernel's own arch, and armhf on an arm64 kernel (its compat layer; the arm column).
        # i386 on an x86_64 kernel is not checked here (as before armhf came).
        for arch in [native] + [a for a in measured if a != native and a == "armhf"]:
            for name, cls in sorted(measured.get(arch, {}).items()):
                if cls == "unknown" or cls.startswith("allowed|ENOSYS") or name not in table():
                    continue  # not measured, or the kernel's answer cannot tell "has it" from "lacks it"
                lacks = cls == "ENOSYS"
                if lacks == existed_in(name, arch, kernel):
                    out.append(TableMismatch(rid, kernel, name, table()[name].kernel.get(arch, "?"), cls, arch))
    return out


def cell_id(cell: dict) -> str:
    return f"{cell['probe']}-{cell['image']}-{cell['runtime']}-{cell['profile']}"
