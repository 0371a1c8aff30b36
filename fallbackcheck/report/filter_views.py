"""What a wrapper's filter itself says, read from the process it confined (wrap: as root:
runtimes/filter_reader.py), beside what its raw probes got: rendered from matrix.json only
(each batch's `filter_read` and `filter_disagrees`). A titled table (tables.Table), in
matrix.md and matrix.html alike."""

from __future__ import annotations

from .tables import Table


def tables(report) -> list[Table]:
    batches: dict[tuple, dict] = {}
    for c in report["cells"]:
        summary = c.get("batch") or {}
        if "filter_read" in summary or "filter_unread" in summary:
            batches.setdefault((c["runtime"], c["image"], c["profile"]), summary)
    if not batches:
        return []
    table = Table("Wrapper filters, read from the process they confine",
                  "Per wrapper command (`wrap:`, run as root): the seccomp filter it installed, copied out of the "
                  "confined runner (PTRACE_SECCOMP_GET_FILTER) and evaluated per syscall of the raw probes with "
                  "every argument 0 (`says`: the syscalls it does not allow, and its answer), and the syscalls "
                  "whose raw probe got another answer than the filter says (a filter that looks at arguments "
                  "answers the real call otherwise).",
                  ["wrapper", "image", "profile", "its filter says", "the raw probes got otherwise"])
    for (runtime, image, profile), summary in sorted(batches.items()):
        if "filter_read" not in summary:
            table.rows.append([f"`{runtime}`", image, f"`{profile}`", f"not read: {summary['filter_unread']}", ""])
            continue
        says = [f"{s} {a}" for s, a in summary["filter_read"].items() if a != "allowed"]
        differs = [f"{s}: filter {d['filter']}, got {d['delivered']}" for s, d in
                   (summary.get("filter_disagrees") or {}).items()]
        table.rows.append([f"`{runtime}`", image, f"`{profile}`", ", ".join(says) or "allows every one probed",
                           "; ".join(differs) or "none"])
    return [table]
