"""Views of one run's grid, computed from matrix.json only, as titled tables (tables.Table):
what each runtime delivered that the profile did not ask for, and the oldest vintage
profile from which on every API works."""

from __future__ import annotations

from collections import defaultdict

from ..model.libc import parse_version
from ..judging.survival import oldest_surviving, survives
from .tables import Table
from . import profile_facts


def delivered_differently(cells: list[dict]) -> list[Table]:
    """Per runtime: what it delivered that the profile did not literally ask for."""
    groups: dict[str, dict[tuple, list[str]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        if c["kind"] != "raw" or not c.get("expected") or c["verdict"] == "n/a":
            continue
        delivered = next(iter(c["delivered"].values()), "?")
        if delivered == c["expected"] or delivered.startswith("allowed|"):
            continue
        why = (c.get("behaviour") or "").split(":")[0] or "UNEXPECTED (no documented behaviour)"
        key = (c["profile"], c["expected"], delivered, why)
        name = next(iter(c["delivered"]))
        if name not in groups[c["runtime"]][key]:
            groups[c["runtime"]][key].append(name)
    out = []
    for runtime in sorted(groups):
        table = Table(f"{runtime}: delivered what the profile did not ask for", "",
                      ["profile", "asked", "delivered", "syscalls", "why"])
        table.rows = [[f"`{profile}`", asked, delivered, ", ".join(sorted(names)), why]
                      for (profile, asked, delivered, why), names in sorted(groups[runtime].items())]
        out.append(table)
    return out


def oldest_vintage(report) -> list[Table]:
    """Per image, runtime and errno: the oldest vintage profile from which on every API
    works (survival.survives), from the vintage profiles that ran."""
    cells = report["cells"]
    groups: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    unfiltered: dict[tuple, set] = defaultdict(set)
    for c in cells:
        if c["kind"] == "api" and c["profile"] == "unconfined" and c.get("works"):
            unfiltered[(c["image"], c["runtime"])].add(c["probe"])
    for c in cells:
        facts = profile_facts(report, c["profile"])
        if c["kind"] != "api" or facts["family"] != "vintage":
            continue
        groups[(c["image"], c["runtime"], facts["errno"])][facts["kernel"]].append(c)
    if not groups:
        return []
    errs = sorted({k[2] for k in groups})
    table = Table("Oldest vintage profile from which on every API works",
                  "Per image, runtime and default errno: the oldest vintage that ran under which every API probe "
                  "that was called works (`works`), and every newer one too. An API that does not work even with no "
                  "filter (unconfined, same image and runtime) is not the profile's doing and does not count; nor does "
                  "one that fails exactly as on a kernel without its syscall (ENOSYS, no fallback documented), whose "
                  "cells are counted in parentheses. `none` means no vintage that ran (in brackets) survives.",
                  ["image", "runtime", *errs])
    for image, runtime in sorted({(k[0], k[1]) for k in groups}):
        row = [image, runtime]
        for err in errs:
            by_kernel = groups.get((image, runtime, err), {})
            kernels = sorted(by_kernel, key=parse_version)
            baseline = unfiltered.get((image, runtime))  # None: no unconfined cells ran
            verdicts = {k: survives(by_kernel[k], baseline) for k in kernels}
            oldest = oldest_surviving(kernels, verdicts)
            if oldest is None:
                row.append(f"none [{', '.join(kernels)}]" if kernels else "")
            else:
                excused = verdicts[oldest][1]
                row.append(oldest + (f" ({excused})" if excused else ""))
        table.rows.append(row)
    return [table]
