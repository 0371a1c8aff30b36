"""The views about kernel hosts, rendered from matrix.json only: which kernels ran (package,
uname -r, what each lacks), their boots, and the vintage check (vintagecheck.py). Titled
tables (tables.Table), in matrix.md and matrix.html alike."""

from __future__ import annotations

from collections import defaultdict

from .tables import Table
from .views import cell_label
from ..judging.vintagecheck import cell_id, compare, kernel_series, table_vs_kernel


def tables(report: dict) -> list[Table]:
    return _kernel_hosts(report) + _vintage_check(report)


def _kernel_hosts(report: dict) -> list[Table]:
    env = report["environment"]
    hosts = kernel_series(report)
    if not hosts:
        return []
    baselines = env.get("kernel_baseline") or {}
    table = Table("Kernel hosts",
                  "Debian kernels booted in QEMU (TCG); each batch ran in a chroot of the image on that kernel. "
                  "`lacks`: raw probes the kernel answered ENOSYS with no filter (its baseline); in those rows a "
                  "delivered `kernel-ENOSYS` is the kernel's answer, not a filter's.",
                  ["runtime", "package", "uname -r (guest)", "boots", "batch s (guest, median)",
                   "lacks (its own arch)"])
    boots: dict[str, set[str]] = defaultdict(set)
    batch_s: dict[str, dict[tuple, float]] = defaultdict(dict)
    for c in report["cells"]:
        boot = (c.get("batch") or {}).get("boot")
        if boot and c["runtime"] in hosts:
            boots[c["runtime"]].add(boot["boot"])
            if boot.get("batch_guest_s") is not None:
                batch_s[c["runtime"]][(c["image"], c["profile"])] = boot["batch_guest_s"]
    for rid in sorted(hosts):
        info = env["runtimes"][rid]
        base = baselines.get(info.get("kernel_host"), {})
        own = info.get("kernel_arch") or "amd64"  # an arm64 kernel's baseline is its arm64 column's
        lacks = (", ".join(base["lacks"][own]) or "nothing") if own in (base.get("lacks") or {}) else "?"
        times = sorted(batch_s[rid].values())
        median = times[len(times) // 2] if times else "?"
        table.rows.append([f"`{rid}`", str(info.get("kernel_package")), base.get("kernel") or "?",
                           str(len(boots[rid])), str(median), lacks])
    return [table]


def _syscall_table(report: dict) -> list[Table]:
    mismatches = table_vs_kernel(report)
    if not mismatches:
        return []
    table = Table("The syscall table against the real kernels",
                  "Raw-probed syscalls where `vintage:K` (the syscall table's first kernel) and the real kernel K's "
                  "baseline disagree: the vintage profile allows a syscall the real kernel answers ENOSYS, or denies "
                  "one it has.", ["runtime", "syscall", "table: first kernel", "real kernel answers", "vintage:K"],
                  level=3)
    for m in mismatches:
        table.rows.append([f"`{m.runtime}`", m.syscall, str(m.table_says), str(m.kernel_answers),
                           "allows" if m.vintage_allows else "denies"])
    return [table]


def _vintage_check(report: dict) -> list[Table]:
    found = compare(report)
    if not found:
        return _syscall_table(report)
    summary = Table("Vintage check: real kernel K against `vintage:K:ENOSYS`",
                    "Per image and API probe: the outcome under `unconfined` on the real kernel K (kernel host) and "
                    "under `vintage:K:ENOSYS` on this machine's kernel. A difference means the vintage profile does "
                    "not play K faithfully; docs/findings.md explains each.",
                    ["image", "kernel", "real (runtime)", "played on", "API probes compared", "differ"])
    groups: dict[tuple, list] = defaultdict(list)
    for comp in found:
        groups[(comp.image, comp.kernel, comp.real["runtime"], comp.played["runtime"])].append(comp)
    for (image, kernel, real_rt, played_rt), comps in sorted(groups.items()):
        differ = [c.probe for c in comps if not c.agrees]
        summary.rows.append([image, kernel, f"`{real_rt}`", f"`{played_rt}`", str(len(comps)),
                             ", ".join(f"`{p}`" for p in differ) or "none"])
    out = [summary]
    differences = [c for c in found if not c.agrees]
    if differences:
        out.append(Table("Cells that differ", "",
                         ["cell on the real kernel", "real", "played", "cell under the vintage profile"],
                         [[f"`{cell_id(c.real)}`", cell_label(c.real), cell_label(c.played), f"`{cell_id(c.played)}`"]
                          for c in differences], level=3))
    return out + _syscall_table(report)
