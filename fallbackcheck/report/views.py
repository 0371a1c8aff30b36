"""What every rendered view of matrix.json shares: cell labels, the probe × column grid,
writing the file, and the re-render command line."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..judging import causes
from .diff import change_text, key_text
from ..judging.fixes import proof
from ..memo import IdentityMemo
from . import Report, as_report, atomic_write, load


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


@dataclass
class CulpritAnswer:
    """One culprit (causes.Culprit): its cause groups as sub-rows (delivered errno and
    mechanism), each with its fixes."""
    culprit: causes.Culprit
    subs: list[Answer]

    @property
    def fixes(self) -> list[tuple[dict, int, int]]:
        return [f for sub in self.subs for f in sub.fixes]


def what_breaks(report: Report) -> list[CulpritAnswer]:
    """The culprits of the run's non-working cells, each with its cause groups, their fixes
    and their proof (computed once per report: the four views of a run each ask).
    Cells failing exactly as on an old kernel are not here (old_kernel_like)."""
    return _what_breaks_once(report)


def _answers(report: Report, found: list[causes.Group]) -> list[Answer]:
    fixes = report.get("fixes") or []
    by_place = causes.outcomes_by_place(report.cells)
    out = []
    for group in found:
        gid = group.cause.id
        proven = [({"profile": f["profile"], "patched_profile": f["patched_profile"], "diff": f.get("diff", ""),
                    **f["groups"][gid]}, *proof(f, gid, report.fix_cells))
                  for f in fixes if gid in f["groups"]]
        patched = {f["profile"] for f, _, _ in proven}
        out.append(Answer(group, proven, causes.survivors(report.cells, group, by_place),
                          [p for p in group.profiles if p not in patched]))
    return out


def _what_breaks(report: Report) -> list[CulpritAnswer]:
    answers = {id(a.group): a for a in _answers(report, causes.groups(report.cells))}
    return [CulpritAnswer(c, [answers[id(g)] for g in c.groups]) for c in causes.by_culprit(list(
        a.group for a in answers.values()))]


_what_breaks_once = IdentityMemo(_what_breaks, size=4)  # a Report does not change once built or read


def old_kernel_like(report: Report) -> list[causes.Culprit]:
    """Per culprit: the cells that fail exactly as on a kernel without the syscall."""
    return causes.by_culprit(causes.like_old_kernel(report.cells))


@dataclass
class FixLine:
    """One fix of a culprit: the change (the same rule), and every profile it was made for,
    with its proof."""
    change: str
    proofs: list[tuple[str, int, int]]  # (profile, cells that now work, cells rerun)
    patched: list[str]  # the patched profiles' paths
    diff: str = ""

    @property
    def proven(self) -> bool:
        return all(rerun and worked == rerun for _, worked, rerun in self.proofs)


def fix_lines(answer: CulpritAnswer) -> list[FixLine]:
    """One line per distinct change, naming every profile it was proven for (the same rule
    fixes the culprit under every profile that filtered it)."""
    out: dict[str, FixLine] = {}
    for fix, worked, rerun in answer.fixes:
        line = out.setdefault(fix["change"], FixLine(fix["change"], [], [], fix.get("diff", "")))
        for i, (profile, w, n) in enumerate(line.proofs):
            if profile == fix["profile"]:  # two mechanisms of one profile: one proof
                line.proofs[i] = (profile, w + worked, n + rerun)
                break
        else:
            line.proofs.append((fix["profile"], worked, rerun))
        if fix["patched_profile"][5:] not in line.patched:
            line.patched.append(fix["patched_profile"][5:])
    return list(out.values())


def proofs_text(line: FixLine, limit: int = 8) -> str:
    """`proven on vintage:5.4:EPERM (72/72), vintage:5.4:ENOSYS (24/24)`"""
    head = "proven on" if line.proven else "NOT proven everywhere:"
    return f"{head} " + list_text([f"`{p}` ({w}/{n})" + ("" if n and w == n else " NOT proven")
                                   for p, w, n in line.proofs], limit)


def list_text(values: list[str], limit: int = 6) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


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


def unfixable_lines(report: Report, answer: CulpritAnswer) -> list[tuple[list[str], str]]:
    """The culprit's profiles without a patch, those that share a reason together."""
    by_text: dict[str, list[str]] = {}
    for sub in answer.subs:
        for profile in sub.unfixable:
            profiles = by_text.setdefault(unfixable_text(report, sub, profile), [])
            if profile not in profiles:
                profiles.append(profile)
    return [(profiles, text) for text, profiles in by_text.items()]


def mechanism_text(answer: CulpritAnswer) -> str:
    """The sub-rows in a few words: `→ EPERM 72 · → ENOSYS where the profile asks EPERM: runc's stub 24`."""
    return " · ".join(f"{sub.group.cause.mechanism} {len(sub.group.cells)}" for sub in answer.subs)


def fix_status(answer: CulpritAnswer) -> str:
    """The culprit's fixes in a few words, for the overview table."""
    parts = []
    for line in fix_lines(answer):
        parts.append(f"{'proven' if line.proven else 'NOT proven'} on {len(line.proofs)} profile(s)")
    unfixable = {p for sub in answer.subs for p in sub.unfixable}
    survivors = sorted({r for sub in answer.subs for p in sub.unfixable for r in sub.survivors.get(p, [])})
    if survivors:
        parts.append(f"works on {', '.join(survivors)}")
    if unfixable and not survivors:
        parts.append(f"no patch for {len(unfixable)} profile(s)")
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


def machine_faults(cells: list[dict]) -> list[tuple[str, str, int]]:
    """(runtime, what it said, cells not measured) for each runtime that started no container
    at all, unconfined included (batch.machine_fault): a problem of the machine, which every
    view says once per runtime instead of in every cell."""
    faults: dict[str, list[dict]] = {}
    for c in cells:
        if (c.get("batch") or {}).get("machine_fault"):
            faults.setdefault(c["runtime"], []).append(c)
    return [(runtime, hit[0]["detail"], len(hit)) for runtime, hit in sorted(faults.items())]


def counts_line(report: Report) -> str:
    summary = report["summary"]
    broken = len(causes.breaking(report.cells))
    return (f"{summary['cells']} cells in {summary['batches']} batches ({summary['containers']} containers): "
            + ", ".join(f"{k} {v}" for k, v in sorted(summary["verdicts"].items()))
            + f"; {broken} do not work (works = false)")


def write_view(report, directory: Path, filename: str, render) -> Path:
    return atomic_write(directory / filename, render(as_report(report)))


def view_source(argv: list[str], prog: str):
    """The matrix.json a view command is given (reports/matrix.json by default) and its report,
    or None after one line that says why it cannot be read."""
    src = Path(argv[0]) if argv else Path("reports/matrix.json")
    try:
        return src, load(src)
    except (OSError, ValueError) as exc:
        print(f"{prog}: cannot read {src}: {exc}", file=sys.stderr)
        return None


def view_main(argv: list[str], prog: str, filename: str, render) -> int:
    """`python -m fallbackcheck.report.<prog> [matrix.json]`: re-render one view beside the JSON."""
    found = view_source(argv, prog)
    if found is None:
        return 2
    src, report = found
    print(write_view(report, src.parent, filename, render))
    return 0
