"""What every rendered view of matrix.json shares: cell labels, the probe × column grid,
writing the file, and the re-render command line."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import causes
from .diff import change_text, key_text
from .fixes import proof
from .memo import IdentityMemo
from .report import Report, as_report, atomic_write, load


def cell_label(cell: dict) -> str:
    """A cell in a few words: what the API did (or the errno delivered), then the verdict mark."""
    if cell["kind"] == "raw":
        text = "/".join(cell["delivered"].values())
    else:
        text = cell["errno"] if cell["outcome"] == "error" and cell["errno"] else (cell["outcome"] or "?")
        if cell.get("works") is False:  # the API did not do its job, whatever the verdict
            text = f"✗ {text}"
    verdict = cell["verdict"]
    if verdict == "expected-break":
        return f"{text} (break)"
    if verdict == "unexpected":
        return f"{text} UNEXPECTED"
    if verdict == "error":
        return "ERROR"
    if verdict == "n/a":
        return f"n/a ({text})" if text not in ("n/a", "?") else "n/a"
    return text


def by_image(cells: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for cell in cells:
        out[cell["image"]].append(cell)
    return dict(sorted(out.items()))


def grid(cells: list[dict]) -> tuple[list[tuple[str, str]], dict[str, dict[tuple[str, str], dict]]]:
    """Columns (runtime, profile) and rows probe -> column -> cell, both sorted."""
    rows: dict[str, dict[tuple[str, str], dict]] = defaultdict(dict)
    for cell in cells:
        rows[cell["probe"]][(cell["runtime"], cell["profile"])] = cell
    columns = sorted({(c["runtime"], c["profile"]) for c in cells})
    return columns, dict(sorted(rows.items()))


def image_heading(image: str, cells: list[dict]) -> str:
    libcs = sorted({c["libc"] for c in cells if c.get("libc")})
    arches = sorted({c["arch"] for c in cells if c.get("arch")})
    return f"{image} ({', '.join(libcs) or 'libc unknown'}, {', '.join(arches) or '?'})"


@dataclass
class Answer:
    """One cause group with what the report knows about fixing it."""
    group: causes.Group
    fixes: list[tuple[dict, int, int]]  # (fix record, cells that now work, cells rerun)
    survivors: dict[str, list[str]]  # profile -> runtimes of the run under which these cells work
    unfixable: list[str]  # profiles of the group no patch was made for


def what_breaks(report: Report) -> list[Answer]:
    """The cause groups of the run's non-working cells, each with its fixes and their proof
    (computed once per report: the four views of a run each ask)."""
    return _what_breaks_once(report)


def _what_breaks(report: Report) -> list[Answer]:
    fixes = report.get("fixes") or []
    by_place = causes.outcomes_by_place(report.cells)
    out = []
    for group in causes.groups(report.cells):
        gid = group.cause.id
        proven = [({"profile": f["profile"], "patched_profile": f["patched_profile"], "diff": f.get("diff", ""),
                    **f["groups"][gid]}, *proof(f, gid, report.fix_cells))
                  for f in fixes if gid in f["groups"]]
        patched = {f["profile"] for f, _, _ in proven}
        out.append(Answer(group, proven, causes.survivors(report.cells, group, by_place),
                          [p for p in group.profiles if p not in patched]))
    return out


_what_breaks_once = IdentityMemo(_what_breaks, size=4)  # a Report does not change once built or read


def list_text(values: list[str], limit: int = 6) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def proof_text(worked: int, total: int) -> str:
    if total == 0:
        return "not rerun"
    return f"proven: {worked}/{total} cells now work" if worked == total else f"NOT proven: {worked}/{total} cells work"


def unfixable_text(report: Report, answer: Answer, profile: str) -> str:
    """Why a profile of the group has no patch, and who does not break under it."""
    runtimes = answer.survivors.get(profile)
    notes = report.get("unfixable")
    if profile == "default":
        base = "the runtime's own default profile (not ours to patch)"
    elif profile == "unconfined":
        base = "no filter at all: the kernel or the runtime, not a profile"
    elif notes is None:
        base = "no patch: fixes were not planned in this run (--no-fixes, or an interrupted run)"
    else:
        base = "no patch: " + notes.get(answer.group.cause.id, "this kind of profile cannot be patched")
    if runtimes:
        return f"{base}; works on {', '.join(runtimes)} in this run"
    return base


def unfixable_lines(report: Report, answer: Answer) -> list[tuple[list[str], str]]:
    """The group's profiles without a patch, those that share a reason together."""
    by_text: dict[str, list[str]] = {}
    for profile in answer.unfixable:
        by_text.setdefault(unfixable_text(report, answer, profile), []).append(profile)
    return [(profiles, text) for text, profiles in by_text.items()]


def fix_status(answer: Answer) -> str:
    """The group's fixes in a few words, for the overview table."""
    parts = []
    for fix, worked, rerun in answer.fixes:
        parts.append(f"{fix['profile']}: {proof_text(worked, rerun).replace(' cells now work', '')}")
    survivors = sorted({r for p in answer.unfixable for r in answer.survivors.get(p, [])})
    if survivors:
        parts.append(f"works on {', '.join(survivors)}")
    if answer.unfixable and not survivors:
        parts.append(f"no patch for {len(answer.unfixable)} profile(s)")
    return "; ".join(parts)


def change_lines(report: Report, limit: int = 50) -> list[str]:
    """What changed since the baseline, one line each (empty when there was no baseline)."""
    changes = report.get("changes")
    if not changes:
        return []
    out = []
    for item in changes["changed"][:limit]:
        out.append(f"changed: {key_text(item['cell'])}: {change_text(item)}")
    for what in ("new", "vanished"):
        for item in changes[what][:limit]:
            out.append(f"{what}: {key_text(item)}")
    return out


def counts_line(report: Report) -> str:
    summary = report["summary"]
    broken = len(causes.breaking(report.cells))
    return (f"{summary['cells']} cells in {summary['batches']} batches ({summary['containers']} containers): "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary["verdicts"].items()))
            + f"; {broken} do not work (works = false)")


def write_view(report, directory: Path, filename: str, render) -> Path:
    return atomic_write(directory / filename, render(as_report(report)))


def view_main(argv: list[str], prog: str, filename: str, render) -> int:
    """`python -m fallbackcheck.<prog> [matrix.json]`: re-render one view beside the JSON."""
    src = Path(argv[0]) if argv else Path("reports/matrix.json")
    try:
        report = load(src)
    except (OSError, ValueError) as exc:
        print(f"{prog}: cannot read {src}: {exc}", file=sys.stderr)
        return 2
    print(write_view(report, src.parent, filename, render))
    return 0
