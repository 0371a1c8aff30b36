"""What breaks, and why: the cells whose API did not do its job, grouped by cause.

A cause is what defeats the API in a cell, read from the cell row alone:
- `syscall`: the syscalls the API depends on that the filter answered with something other
  than "allowed" (e.g. clone3 -> EPERM): the usual case, an errno that defeats an ENOSYS-only
  fallback;
- `runtime`: as `syscall`, but the runtime delivered something other than the profile asks,
  as a documented runtime behaviour (read from the raw cell of the same batch), e.g. Docker
  20.10 dropping defaultErrnoRet so that an ENOSYS profile delivers EPERM;
- `loader`: the probe could not even start, and the loader's syscalls were filtered;
- `other`: not the filter's doing: every syscall the API uses was allowed and it still
  failed, or the catalogue says the filter does not matter here (an n/a cell, e.g. glibc 2.31's
  lchmod, a stub that always fails).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from .cells import works_of

# Delivered classes that mean "the syscall reached the kernel" (allowed|EPERM: the kernel's
# own answer looks like a filter's errno) or that there is nothing to filter.
_NOT_FILTERED = ("allowed", "n/a", "unknown")


def works(row: dict) -> bool | None:
    """Did the API do its job in this cell? The row's own `works` as the run recorded it; for a
    row of a report written before rows carried it, the same rule (cells.works_of) from the
    row's fields (a probe that never reached its API says `broken`)."""
    if "works" in row:
        return row["works"]
    return works_of(row.get("kind"), row.get("outcome"), row.get("verdict"), row.get("na_reason"),
                    api_reached=row.get("outcome") != "broken")


def _filtered(delivered: str) -> bool:
    return not (delivered in _NOT_FILTERED or delivered.startswith("allowed"))


@dataclass(frozen=True)
class Cause:
    kind: str  # syscall | runtime | loader | other
    culprits: tuple[tuple[str, str], ...]  # (syscall, delivered)
    outcome: str = ""  # for `other`: what the API did
    asked: str = ""  # for `runtime`: what the profile asks for the culprits
    behaviour: str = ""  # for `runtime`: the documented behaviour, in a few words

    @property
    def id(self) -> str:
        if self.kind == "other":
            return f"other:{self.outcome}"
        prefix = {"loader": "loader:", "runtime": "runtime:"}.get(self.kind, "")
        return prefix + ",".join(f"{s}:{d}" for s, d in self.culprits)

    @property
    def title(self) -> str:
        said = ", ".join(f"{s} → {d}" for s, d in self.culprits)
        if self.kind == "runtime":
            return f"{said} where the profile asks {self.asked}: {self.behaviour}"
        if self.kind == "loader":
            return f"the loader: {said} (the program cannot start)"
        if self.kind == "other":
            return f"not the filter: the API fails on its own ({self.outcome})"
        return said

    @property
    def syscalls(self) -> list[str]:
        return [s for s, _ in self.culprits]

    @property
    def culprit(self) -> str:
        """What a reader looks for: the syscalls (or the loader's, or nothing of the filter's),
        whatever errno came and by which mechanism. One Culprit groups its causes."""
        if self.kind == "other":
            return "other"
        names = ",".join(sorted({s for s, _ in self.culprits}))
        return f"loader:{names}" if self.kind == "loader" else names

    @property
    def mechanism(self) -> str:
        """How the culprits failed, in a few words: a Culprit's sub-row."""
        delivered = ", ".join(dict.fromkeys(d for _, d in self.culprits))
        if self.kind == "runtime":
            return f"→ {delivered} where the profile asks {self.asked}: {self.behaviour}"
        if self.kind == "other":
            return self.outcome
        return f"→ {delivered}"


def asked_index(rows) -> dict[tuple, tuple[str, str]]:
    """(image, runtime, profile, syscall) -> (what the profile asks, the documented behaviour
    that explains a difference), from the raw cells."""
    out = {}
    for row in rows:
        if row.get("kind") == "raw" and row.get("expected") and row.get("delivered"):
            syscall = next(iter(row["delivered"]))
            out[(row["image"], row["runtime"], row["profile"], syscall)] = (row["expected"], row.get("behaviour") or "")
    return out


def cause_of(row: dict, asked: dict | None = None) -> Cause:
    delivered = row.get("delivered") or {}
    own = list(row.get("syscalls") or [])
    outcome = row.get("outcome") or "?"
    outcome = f"{outcome} {row['errno']}" if row.get("errno") else outcome
    if row.get("verdict") == "n/a":
        return Cause("other", (), outcome)
    if row.get("outcome") == "cannot-start":
        loader = [(s, d) for s, d in delivered.items() if s not in own and _filtered(d)]
        if loader:
            return Cause("loader", tuple(sorted(loader)))
    culprits = [(s, delivered[s]) for s in own if s in delivered and _filtered(delivered[s])]
    if culprits:
        for s, d in culprits:
            want, behaviour = (asked or {}).get((row["image"], row["runtime"], row["profile"], s), ("", ""))
            if want and want != d and behaviour:
                return Cause("runtime", tuple(culprits), asked=want, behaviour=behaviour.split(":")[0])
        dropped = _engine_dropped_default(row, {d for _, d in culprits})
        if dropped:
            return Cause("runtime", tuple(culprits), asked=dropped,
                         behaviour="the engine dropped defaultErrnoRet")
        return Cause("syscall", tuple(culprits))
    return Cause("other", (), outcome)


_DROPPED = re.compile(r"defaultErrnoRet: asked (\w+), received none \((\w+)\)")


def _engine_dropped_default(row: dict, delivered: set[str]) -> str:
    """The errno the user's profile asked by default, where the engine dropped
    defaultErrnoRet (the batch's measured profile_changes) and the culprits got the
    runtime's fallback instead (Docker 20.10: EPERM); "" otherwise. The raw cells are judged
    against what the runtime received, so this is where the asked errno is still known."""
    for change in (row.get("batch") or {}).get("profile_changes") or ():
        match = _DROPPED.match(change)
        if match and match.group(1) != match.group(2) and delivered == {match.group(2)}:
            return match.group(1)
    return ""


class _CellFacts:
    """What a set of cells (`self.cells`) covers, for the views: shared by Group and Culprit."""

    def _values(self, key: str) -> list[str]:
        return sorted({c[key] for c in self.cells})

    @property
    def images(self) -> list[str]:
        return self._values("image")

    @property
    def runtimes(self) -> list[str]:
        return self._values("runtime")

    @property
    def profiles(self) -> list[str]:
        return self._values("profile")

    @property
    def probes(self) -> list[str]:
        return self._values("probe")

    def reasons(self) -> list[tuple[str, str, str]]:
        """(probe, libc, why with its source) once per probe and reason: the catalogue rule's
        source says why glibc breaks here; the cell's detail where there is none."""
        seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        for c in self.cells:
            seen[(c["probe"], c.get("source") or c.get("detail") or "")].add(c.get("libc") or "?")
        return [(probe, ", ".join(sorted(libcs)), why) for (probe, why), libcs in sorted(seen.items())]


@dataclass
class Group(_CellFacts):
    cause: Cause
    cells: list[dict] = field(default_factory=list)


def breaking(rows) -> list[dict]:
    return [r for r in rows if works(r) is False]


def _grouped(rows, asked, keep) -> list[Group]:
    out: dict[Cause, Group] = {}
    for row in breaking(rows):
        if keep(row):
            cause = cause_of(row, asked)
            out.setdefault(cause, Group(cause)).cells.append(row)
    # What a profile can fix first; "not the filter" last, however large.
    return sorted(out.values(), key=lambda g: (g.cause.kind == "other", -len(g.cells), g.cause.id))


def groups(rows) -> list[Group]:
    """Every cell that does not work, grouped by cause, the largest group first (groups that
    are not the filter's doing after all others); cells that fail exactly as on a kernel
    without the syscall (`fails_like_old_kernel`) are not here: like_old_kernel()."""
    rows = list(rows)
    return _grouped(rows, asked_index(rows), lambda r: not r.get("fails_like_old_kernel"))


def like_old_kernel(rows) -> list[Group]:
    """The cells that do not work but fail exactly as on a kernel without their syscall: a
    thin wrapper with no fallback answering ENOSYS. A program must cope with that on an old
    kernel anyway; it is not the filter breaking a fallback, and no fix is planned for it."""
    rows = list(rows)
    return _grouped(rows, asked_index(rows), lambda r: bool(r.get("fails_like_old_kernel")))


@dataclass
class Culprit(_CellFacts):
    """Every cause group of one culprit (cause.culprit): what a reader takes in as one problem,
    with one sub-row per delivered errno and mechanism."""
    id: str
    groups: list[Group]

    @property
    def title(self) -> str:
        if self.id == "other":
            return "not the filter: the API fails on its own"
        if self.id.startswith("loader:"):
            return f"the loader: {self.id[7:].replace(',', ', ')} (the program cannot start)"
        return self.id.replace(",", ", ")

    @property
    def cells(self) -> list[dict]:
        return [c for g in self.groups for c in g.cells]


def by_culprit(found: list[Group]) -> list[Culprit]:
    """Cause groups gathered per culprit, the largest first, "not the filter" last."""
    out: dict[str, Culprit] = {}
    for group in found:
        out.setdefault(group.cause.culprit, Culprit(group.cause.culprit, [])).groups.append(group)
    return sorted(out.values(), key=lambda c: (c.id == "other", -len(c.cells), c.id))


def outcomes_by_place(rows) -> dict[tuple, list[tuple[str, bool]]]:
    """(probe, image, profile) -> (runtime, works) of each row: what survivors() reads."""
    out: dict[tuple, list[tuple[str, bool]]] = defaultdict(list)
    for row in rows:
        out[(row["probe"], row["image"], row["profile"])].append((row["runtime"], bool(works(row))))
    return out


def survivors(rows, group: Group, by_place: dict | None = None) -> dict[str, list[str]]:
    """Per profile of the group: the runtimes of the run under which the same probes on the
    same images work (e.g. a runtime whose default profile allows the syscall). `by_place`:
    outcomes_by_place(rows), when several groups ask."""
    by_place = outcomes_by_place(rows) if by_place is None else by_place
    out: dict[str, set[str]] = defaultdict(set)
    broken: dict[str, set[str]] = defaultdict(set)
    for key in {(c["probe"], c["image"], c["profile"]) for c in group.cells}:
        for runtime, worked in by_place.get(key, ()):
            (out if worked else broken)[key[2]].add(runtime)
    return {p: sorted(rts - broken[p]) for p, rts in out.items() if rts - broken[p]}
