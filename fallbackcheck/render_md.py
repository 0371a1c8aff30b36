"""reports/matrix.md, rendered from matrix.json only (python -m fallbackcheck.render_md [matrix.json])."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from .views import by_image, cell_label, grid, image_heading, view_main, write_view

LEGEND = """\
How to read a cell: what the API did, then the verdict.
`ok` works · `EPERM` (any errno name) the call failed with that errno · `abort` killed by a signal ·
`cannot-start` the loader or runtime could not start the probe · `timeout` · `absent` the libc lacks the API.
Verdict marks: no mark = pass · `(break)` expected-break: the filter's errno defeats an ENOSYS-only
fallback, as documented · `UNEXPECTED` the catalogue did not predict this · `ERROR` not measured ·
`n/a` not applicable. Raw rows show the errno the filter delivered (`allowed` = reached the kernel)."""


def _cell_text(cell: dict) -> str:
    label = cell_label(cell)
    return f"**{label}**" if cell["verdict"] in ("unexpected", "error") else label


def _table(cells: list[dict]) -> list[str]:
    columns, rows = grid(cells)
    head = ["probe"] + [f"{rt}<br>{pf}" for rt, pf in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for probe, row in rows.items():
        lines.append("| " + " | ".join([f"`{probe}`"] + [_cell_text(row[c]) if c in row else "" for c in columns]) + " |")
    return lines


def _runtime_sections(cells: list[dict]) -> list[str]:
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
        out += [f"## {runtime}: delivered what the profile did not ask for", "",
                "| profile | asked | delivered | syscalls | why |", "|---|---|---|---|---|"]
        for (profile, asked, delivered, why), names in sorted(groups[runtime].items()):
            out.append(f"| `{profile}` | {asked} | {delivered} | {', '.join(sorted(names))} | {why} |")
        out.append("")
    return out


def _vintage_view(cells: list[dict]) -> list[str]:
    """Per image: the oldest vintage profile under which every API probe works, per errno
    and runtime (computed from the vintage profiles that ran)."""
    works: dict[tuple, dict[str, bool]] = defaultdict(dict)
    for c in cells:
        if c["kind"] != "api" or not c["profile"].startswith("vintage:"):
            continue
        _, kernel, err = c["profile"].split(":")
        ok = c["verdict"] in ("pass", "n/a")
        key = (c["image"], c["runtime"], err)
        works[key][kernel] = works[key].get(kernel, True) and ok
    if not works:
        return []
    from .libc import parse_version

    out = ["## Oldest vintage profile under which every API probe works", "",
           "Per image, runtime and default errno; `none` means it broke under every vintage that ran "
           "(listed in brackets).", ""]
    for image in sorted({k[0] for k in works}):
        errs = sorted({k[2] for k in works if k[0] == image})
        out += [f"### {image}", "", "| runtime | " + " | ".join(errs) + " |", "|---|" + "---|" * len(errs)]
        for runtime in sorted({k[1] for k in works if k[0] == image}):
            row = []
            for err in errs:
                kernels = works.get((image, runtime, err), {})
                good = sorted((k for k, ok in kernels.items() if ok), key=parse_version)
                tried = ", ".join(sorted(kernels, key=parse_version))
                row.append(good[0] if good else (f"none [{tried}]" if tried else ""))
            out.append(f"| {runtime} | " + " | ".join(row) + " |")
        out.append("")
    return out


def render(report: dict) -> str:
    env = report["environment"]
    out = ["# fallbackcheck compatibility matrix", "",
           "_Generated from matrix.json; do not edit._", "",
           f"- generated: {report['generated']}" + ("" if report.get("complete", True) else " (**partial run**)"),
           f"- kernel: {env.get('kernel')} ({env.get('machine')})"]
    for rt, info in sorted((env.get("runtimes") or {}).items()):
        out.append(f"- runtime `{rt}`: " + ", ".join(f"{k} {v}" for k, v in info.items() if v))
    for rt, reason in sorted((env.get("skipped_runtimes") or {}).items()):
        out.append(f"- runtime `{rt}` skipped: {reason}")
    summary = report["summary"]
    out += [f"- cells: {summary['cells']} in {summary['batches']} batches ({summary['containers']} containers); "
            + ", ".join(f"{k}: {v}" for k, v in sorted(summary["verdicts"].items())), "", LEGEND, ""]
    for image, cells in by_image(report["cells"]).items():
        out += [f"## {image_heading(image, cells)}", ""]
        for kind, title in (("api", "API probes"), ("raw", "Delivered errno (raw probes)")):
            subset = [c for c in cells if c["kind"] == kind]
            if subset:
                out += [f"### {title}", ""] + _table(subset) + [""]
    out += _runtime_sections(report["cells"])
    out += _vintage_view(report["cells"])
    bad = [c for c in report["cells"] if c["verdict"] in ("unexpected", "error")]
    if bad:
        out += ["## Unexpected and errored cells", ""]
        for c in bad:
            out.append(f"- `{c['probe']}` {c['image']} {c['runtime']} `{c['profile']}`: {c['verdict']}: {c['detail']}")
        out.append("")
    return "\n".join(out)


def write(report: dict, directory: Path) -> Path:
    return write_view(report, directory, "matrix.md", render)


def main(argv: list[str]) -> int:
    return view_main(argv, "render_md", "matrix.md", render)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
