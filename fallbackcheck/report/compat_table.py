"""The published compatibility table, computed from matrix.json only: one row per API and
image (grouped by the syscalls the API depends on), one column per environment (a runtime
on this host, on an engine generation or engine host, or the kernel hosts together), each
cell saying whether the API works there and since when.

This is the data a distribution or a runtime publishes, and what others consume: the dict
table() returns is written as matrix-table.json, format `fallbackcheck-compat` version
FORMAT_VERSION, documented field by field in docs/compat-table-format.md. Renderers
(render_table) draw it; they compute nothing.

"Works since" is read along the axes a matrix has, oldest first, as the oldest point from
which on the API works at every point measured (survival.oldest_surviving):
- `vintage:<errno>`: the vintage profiles that ran on that runtime (kernel of the frozen
  allow-list), per default errno;
- `kernel`: the kernel hosts (local@linux-<version>), unconfined;
- `generation`: the engine generations of one runtime kind (this host first), under `default`.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..model.libc import parse_version
from ..judging.survival import oldest_surviving, survives
from . import profile_facts, runtime_facts

FORMAT = "fallbackcheck-compat"
FORMAT_VERSION = 1
KERNELS = "kernels"  # the column of every kernel host
# Where a runtime's column goes: the run wrote each kind's column_order (engines first, then
# bare runtimes) into environment.runtime_kinds; a runtime without one goes last.
LAST = 1000


def _kind_host(report, runtime_id: str) -> tuple[str, str]:
    facts = runtime_facts(report, runtime_id)
    return facts["kind"], facts["host"]


def column_of(report, runtime_id: str) -> str:
    """The column a runtime's cells go to: its own, or the one its kind shares (KERNELS)."""
    return runtime_facts(report, runtime_id).get("shared_column") or runtime_id


def status(cell: dict) -> dict:
    """What the API did in one cell, for a reader: works / breaks (errno) / n/a."""
    works = cell.get("works")
    if works is True:
        return {"status": "works"}
    if works is False:
        out = {"status": "breaks", "errno": cell.get("errno") or cell.get("outcome")}
        if cell.get("fails_like_old_kernel"):
            out["like_old_kernel"] = True  # a thin wrapper answering ENOSYS, as on a kernel without the syscall
        return out
    reason = cell.get("na_reason") or (cell.get("outcome") if cell.get("outcome") == "absent" else None)
    if cell.get("verdict") == "error":
        return {"status": "not measured"}
    return {"status": "n/a", **({"reason": reason} if reason else {})}


def _columns(report, runtimes: list[str]) -> list[dict]:
    env = report["environment"]
    order = [""] + list(env.get("generation_order") or []) + sorted(env.get("engine_hosts") or {})
    infos = env.get("runtimes") or {}
    kinds = env.get("runtime_kinds") or {}

    def rank(rid: str):
        kind, host = _kind_host(report, rid)
        host_rank = order.index(host) if host in order else len(order)
        return (host_rank, host, (kinds.get(rid) or {}).get("column_order", LAST), kind)

    out = []
    for rid in sorted({column_of(report, r) for r in runtimes if column_of(report, r) != KERNELS}, key=rank):
        kind, host = _kind_host(report, rid)
        info = infos.get(rid) or {}
        engine = ", ".join(str(v) for v in (info.get("engine"), (info.get("oci_runtime_version") or "")
                                            .replace(" version", "")) if v)
        out.append({"id": rid, "kind": kind, "host": host or "this host", "versions": engine,
                    "environment": {**_scalars(info), "kernel": env.get("kernel")}})
    kernels = sorted({r for r in runtimes if column_of(report, r) == KERNELS},
                     key=lambda r: _kernel_rank(_kind_host(report, r)[1]))
    if kernels:
        out.append({"id": KERNELS, "kind": "kernel hosts", "host": "QEMU", "runtimes": kernels,
                    "versions": ", ".join(_kind_host(report, r)[1].removeprefix("linux-") for r in kernels),
                    "environment": {r: _scalars(infos.get(r) or {}) for r in kernels}})
    return out


def _scalars(info: dict) -> dict:
    """What the run reported of a runtime's environment (engine, OCI runtime, libseccomp
    versions ...), its plain values only."""
    return {k: v for k, v in info.items() if isinstance(v, (str, int, float)) and v != ""}


def _kernel_rank(host: str) -> tuple:
    """Kernel hosts by their Linux series, then the rest of the name (linux-6.12 before
    linux-6.12-arm64); a package named as a host (linux-image-...) after them, by name."""
    m = re.match(r"linux-(\d+(?:\.\d+)*)(.*)$", host)
    return (0, parse_version(m.group(1)), m.group(2)) if m else (1, (), host)


def _since_vintage(report, cells: list[dict]) -> tuple[dict[str, str], dict[str, str]]:
    """(since, measured_from): per vintage:<errno>, the oldest vintage from which on the API
    works ("none" when the newest breaks), and the oldest vintage that ran."""
    by_err: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for c in cells:
        facts = profile_facts(report, c["profile"])
        if facts["family"] == "vintage":
            by_err[facts["errno"]][facts["kernel"]].append(c)
    since, measured = {}, {}
    for err, by_kernel in sorted(by_err.items(), key=lambda kv: (kv[0] != "EPERM", kv[0])):
        kernels = sorted(by_kernel, key=parse_version)
        verdicts = {k: survives(by_kernel[k]) for k in kernels}
        since[f"vintage:{err}"] = oldest_surviving(kernels, verdicts) or "none"
        measured[f"vintage:{err}"] = kernels[0]
    return since, measured


def table(report) -> dict:
    api = [c for c in report.cells if c.get("kind") == "api"]
    columns = _columns(report, sorted({c["runtime"] for c in api}))
    by_place: dict[tuple, list[dict]] = defaultdict(list)  # (probe, image, column) -> cells
    for c in api:
        by_place[(c["probe"], c["image"], column_of(report, c["runtime"]))].append(c)
    env = report["environment"]
    gen_order = [""] + list(env.get("generation_order") or []) + sorted(env.get("engine_hosts") or {})
    groups: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for c in api:
        groups[tuple(c.get("syscalls") or ())].setdefault(c["probe"], {"probe": c["probe"], "api": c.get("api"),
                                                                       "images": {}})
    for (probe, image, column), cells in sorted(by_place.items()):
        syscalls = tuple(cells[0].get("syscalls") or ())
        entry = groups[syscalls][probe]["images"].setdefault(
            image, {"libc": cells[0].get("libc"), "arch": cells[0].get("arch"), "cells": {}})
        entry["cells"][column] = _cell(report, cells, column)
    # Generations: per (probe, image, runtime kind), the oldest whose default works.
    by_kind: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for c in api:
        if c["profile"] == "default" and column_of(report, c["runtime"]) != KERNELS:
            kind, host = _kind_host(report, c["runtime"])
            by_kind[(c["probe"], c["image"], kind)][host].append(c)
    for (probe, image, kind), by_host in by_kind.items():
        if len(by_host) < 2:
            continue
        hosts = sorted(by_host, key=lambda h: gen_order.index(h) if h in gen_order else len(gen_order))
        oldest = oldest_surviving(hosts, {h: survives(by_host[h]) for h in hosts})
        syscalls = tuple(by_host[hosts[0]][0].get("syscalls") or ())
        cells = groups[syscalls][probe]["images"][image]["cells"]
        for host in hosts:
            column = cells.get(kind + (f"@{host}" if host else ""))
            if column is not None:
                column.setdefault("since", {})["generation"] = (oldest or "none") if oldest != "" else "this host"
    return {"format": FORMAT, "version": FORMAT_VERSION, "generated_from": {
                "generated": report.get("generated"), "complete": report.get("complete", True),
                "kernel": env.get("kernel"), "machine": env.get("machine"),
                "sources": [s["label"] for s in (report.get("merge") or {}).get("sources", [])],
                "conflicts": len((report.get("merge") or {}).get("conflicts", [])),
                "missing_shards": (report.get("merge") or {}).get("missing_shards", [])},
            "columns": columns,
            "groups": [{"syscalls": list(s), "apis": [groups[s][p] for p in sorted(groups[s])]}
                       for s in sorted(groups, key=lambda s: (not s, s))]}


def _cell(report, cells: list[dict], column: str) -> dict:
    """One table cell: the status under the profiles users run, and since when it works."""
    if column == KERNELS:
        by_kernel = {_kind_host(report, c["runtime"])[1].removeprefix("linux-"): c for c in cells
                     if c["profile"] == "unconfined"}
        # An image's kernel hosts are of one architecture (an arm64 image runs on arm64 ones only).
        kernels = sorted(by_kernel, key=lambda k: _kernel_rank(f"linux-{k}"))
        out: dict = {"profiles": {}}
        if kernels and any(c.get("works") for c in by_kernel.values()):
            out["unconfined"] = {**status(by_kernel[kernels[-1]]), "at": kernels[-1]}
            since = oldest_surviving(kernels, {k: survives([by_kernel[k]]) for k in kernels})
            out["since"], out["measured_from"] = {"kernel": since or "none"}, {"kernel": kernels[0]}
        for c in cells:
            out["profiles"][f"{c['profile']}@{_kind_host(report, c['runtime'])[1]}"] = status(c)["status"]
        return out
    by_profile = {c["profile"]: c for c in cells}
    out = {name: status(by_profile[name]) for name in ("default", "unconfined") if name in by_profile}
    # An API that does not work even with no filter works "since" no vintage (not the profile's
    # doing), and one never called (absent, another libc) has no "since" at all.
    if by_profile.get("unconfined", {}).get("works") is not False and any(c.get("works") for c in cells):
        since, measured = _since_vintage(report, cells)
        if since:
            out["since"], out["measured_from"] = since, measured
    out["profiles"] = {p: status(c)["status"] + (f" {status(c)['errno']}" if status(c).get("errno") else "")
                       for p, c in sorted(by_profile.items())}
    return out
