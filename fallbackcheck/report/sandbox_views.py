"""The sandbox section, rendered from matrix.json only: per sandbox (bwrap, nspawn, firejail,
flatpak, wrap:<command>) and image, under the sandbox's own filter (`default`, `own:<name>`,
`flatpak:<variant>`), which APIs break and which syscalls its filter answered otherwise than
the unfiltered run of the same sandbox and image (black box: the raw probes, compared). A
sandbox that has no unfiltered run (flatpak: its filter is always on) is compared with the
kernel's own answers instead (delivered `allowed` or `kernel-ENOSYS`). A titled table
(tables.Table), in matrix.md and matrix.html alike."""

from __future__ import annotations

from collections import defaultdict

from .tables import Table
from . import profile_facts


def _is_sandbox(info: dict) -> bool:
    return "sandbox" in info or "wrapper" in info  # what the sandbox runtimes' versions() say


def _own_filter(report, profile: str) -> bool:
    return profile_facts(report, profile)["family"] in ("default", "own", "flatpak")


def _kernels_own(got: str) -> bool:
    """A delivered class that says the kernel answered: no filter stood in between."""
    return got.startswith("allowed") or got in ("kernel-ENOSYS", "unknown")


def tables(report: dict) -> list[Table]:
    runtimes = {rid for rid, info in (report["environment"].get("runtimes") or {}).items() if _is_sandbox(info or {})}
    cells = [c for c in report["cells"] if c["runtime"] in runtimes]
    unfiltered: dict[tuple, dict[str, str]] = defaultdict(dict)  # (runtime, image) -> syscall -> delivered
    worked: dict[tuple, set[str]] = defaultdict(set)  # (runtime, image) -> APIs that worked unconfined
    for c in cells:
        if c["profile"] == "unconfined":
            if c["kind"] == "raw":
                unfiltered[(c["runtime"], c["image"])].update(c["delivered"])
            elif c.get("works"):
                worked[(c["runtime"], c["image"])].add(c["probe"])
    rows: dict[tuple, dict] = {}
    for c in sorted((c for c in cells if _own_filter(report, c["profile"])), key=lambda c: (c["runtime"], c["image"], c["profile"])):
        key = (c["runtime"], c["image"], c["profile"])
        row = rows.setdefault(key, {"breaks": [], "differs": [], "glibc_needs": set(), "started": True})
        if c["verdict"] == "unexpected" and (c.get("batch") or {}).get("start_refused"):
            row["started"] = False
        if c["kind"] == "api":
            base = worked.get((c["runtime"], c["image"]))
            if c.get("works") is False and (not base or c["probe"] in base):  # not what fails unfiltered too
                row["breaks"].append(f"{c['probe']} ({c.get('errno') or c.get('outcome')})")
            row["glibc_needs"] |= set(c["syscalls"])
            continue
        baseline = unfiltered.get((c["runtime"], c["image"]))
        row["against_kernel"] = baseline is None
        for syscall, got in c["delivered"].items():
            if baseline is None:  # no unfiltered run of this sandbox: against the kernel's own answers
                if not _kernels_own(got):
                    row["differs"].append((syscall, got))
                continue
            before = baseline.get(syscall)
            if before is not None and got != before and got != "unknown":
                row["differs"].append((syscall, got))
    if not rows:
        return []
    table = Table("Sandboxes: their own filters",
                  "Per sandbox and image, under the sandbox's own filter (`default`, `own:<name>`, `flatpak:<variant>`): the APIs that "
                  "do not work there (but do unfiltered, where that ran), and every syscall its filter answered otherwise than the same sandbox "
                  "unfiltered (`unconfined`), learned from the raw probes; a sandbox that has no unfiltered run (flatpak) "
                  "against the kernel's own answers, marked so. `not ENOSYS`: of those, the ones an API "
                  "of this run calls and the filter answered with another errno than ENOSYS, the answer that "
                  "defeats glibc's ENOSYS-only fallbacks (docs/sandboxes.md).",
                  ["sandbox", "image", "filter", "APIs that break", "answered otherwise than unfiltered", "not ENOSYS"])
    for (runtime, image, profile), row in rows.items():
        if not row["started"]:
            table.rows.append([f"`{runtime}`", image, f"`{profile}`", "did not start (see its cells)", "", ""])
            continue
        differs = sorted(set(row["differs"]))
        not_enosys = [s for s, got in differs if s in row["glibc_needs"] and got not in ("ENOSYS", "kernel-ENOSYS")
                      and not got.startswith("allowed")]
        shown = f"`{profile}`" + (" (against the kernel's answers: no unfiltered run)" if row.get("against_kernel") else "")
        table.rows.append([f"`{runtime}`", image, shown, ", ".join(row["breaks"]) or "none",
                           ", ".join(f"{s} {got}" for s, got in differs) or "none",
                           ", ".join(not_enosys) or "none"])
    return [table]
