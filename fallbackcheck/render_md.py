"""reports/matrix.md, rendered from matrix.json only (python -m fallbackcheck.render_md [matrix.json])."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from .report import load

LEGEND = """\
How to read a cell: what the API did, then the verdict.
`ok` works · `EPERM` (any errno name) the call failed with that errno · `abort` killed by a signal ·
`cannot-start` the loader or runtime could not start the probe · `timeout` · `absent` the libc lacks the API.
Verdict marks: no mark = pass · `(break)` expected-break: the filter's errno defeats an ENOSYS-only
fallback, as documented · `UNEXPECTED` the catalogue did not predict this · `ERROR` not measured ·
`n/a` not applicable. Raw rows show the errno the filter delivered (`allowed` = reached the kernel)."""


def _cell_text(cell: dict) -> str:
    if cell["kind"] == "raw":
        text = "/".join(cell["delivered"].values())
    else:
        text = cell["errno"] if cell["outcome"] == "error" and cell["errno"] else (cell["outcome"] or "?")
    verdict = cell["verdict"]
    if verdict == "expected-break":
        return f"{text} (break)"
    if verdict == "unexpected":
        return f"**{text} UNEXPECTED**"
    if verdict == "error":
        return "**ERROR**"
    if verdict == "n/a":
        return f"n/a ({text})" if text not in ("n/a", "?") else "n/a"
    return text


def _table(cells: list[dict], columns: list[tuple[str, str]]) -> list[str]:
    by_probe: dict[str, dict] = defaultdict(dict)
    for cell in cells:
        by_probe[cell["probe"]][(cell["runtime"], cell["profile"])] = cell
    head = ["probe"] + [f"{rt}<br>{pf}" for rt, pf in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for probe in sorted(by_probe):
        row = [f"`{probe}`"] + [_cell_text(by_probe[probe][c]) if c in by_probe[probe] else "" for c in columns]
        lines.append("| " + " | ".join(row) + " |")
    return lines


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
    by_image: dict[str, list[dict]] = defaultdict(list)
    for cell in report["cells"]:
        by_image[cell["image"]].append(cell)
    for image, cells in sorted(by_image.items()):
        libcs = sorted({c["libc"] for c in cells if c.get("libc")})
        arches = sorted({c["arch"] for c in cells if c.get("arch")})
        out += [f"## {image} ({', '.join(libcs) or 'libc unknown'}, {', '.join(arches) or '?'})", ""]
        columns = sorted({(c["runtime"], c["profile"]) for c in cells})
        for kind, title in (("api", "API probes"), ("raw", "Delivered errno (raw probes)")):
            subset = [c for c in cells if c["kind"] == kind]
            if subset:
                out += [f"### {title}", ""] + _table(subset, columns) + [""]
    bad = [c for c in report["cells"] if c["verdict"] in ("unexpected", "error")]
    if bad:
        out += ["## Unexpected and errored cells", ""]
        for c in bad:
            out.append(f"- `{c['probe']}` {c['image']} {c['runtime']} `{c['profile']}`: {c['verdict']}: {c['detail']}")
        out.append("")
    return "\n".join(out)


def write(report: dict, directory: Path) -> Path:
    path = directory / "matrix.md"
    path.write_text(render(report))
    return path


def main(argv: list[str]) -> int:
    src = Path(argv[0]) if argv else Path("reports/matrix.json")
    try:
        report = load(src)
    except (OSError, ValueError) as exc:
        print(f"render_md: cannot read {src}: {exc}", file=sys.stderr)
        return 2
    print(write(report, src.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
