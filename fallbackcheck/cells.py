"""Cells: one (probe, image, runtime, profile), and its record for the report."""

from __future__ import annotations

from dataclasses import dataclass

from .batch import BatchKey, BatchResult
from .catalogue import ApiEntry, Catalogue
from .libc import Libc
from .profiles import Profile
from .verdict import Judgement, judge_api, judge_raw


@dataclass(frozen=True)
class Cell:
    probe: str
    image: str
    runtime: str
    profile: str

    @property
    def batch(self) -> BatchKey:
        return BatchKey(self.image, self.runtime, self.profile)

    @property
    def id(self) -> str:
        # Reads like the thing it tests: closefrom-debian-12-docker-runc-deny:close_range:EPERM
        return f"{self.probe}-{self.image}-{self.runtime}-{self.profile}"


def judge(cell: Cell, catalogue: Catalogue, result: BatchResult, profile: Profile, explain=None) -> Judgement:
    entry = catalogue.get(cell.probe)
    if result.error:
        return Judgement("error", f"the batch could not be measured: {result.error}")
    obs = result.observations.get(cell.probe)
    if obs is None:
        return Judgement("error", "the probe was not part of its batch (harness bug)")
    if isinstance(entry, ApiEntry):
        try:
            libc = Libc.parse(result.libc)
        except ValueError as exc:
            return Judgement("error", str(exc))
        return judge_api(entry, obs, result.delivered, libc, result.arch, catalogue.loader)
    asked = profile.asks(entry.syscall, result.arch) if result.arch else None
    return judge_raw(entry, obs, result.delivered.get(entry.syscall, "unknown"), asked,
                     (lambda a, d: explain(entry, a, d)) if explain else None)


def record(cell: Cell, catalogue: Catalogue, result: BatchResult, judgement: Judgement) -> dict:
    """The cell as a report row (DESIGN.md schema, plus fields of our own)."""
    entry = catalogue.get(cell.probe)
    obs = result.observations.get(cell.probe)
    row = {
        "probe": cell.probe,
        "kind": entry.kind,
        "api": entry.api if entry.kind == "api" else None,
        "syscalls": list(entry.syscalls),
        "image": cell.image,
        "libc": result.libc or None,
        "arch": result.arch or None,
        "runtime": cell.runtime,
        "profile": cell.profile,
        "delivered": {s: result.delivered.get(s, "unknown")
                      for s in dict.fromkeys(entry.syscalls + (catalogue.loader_syscalls if entry.kind == "api" else ()))
                      if s in result.delivered},
        "outcome": obs.outcome if obs else None,
        "errno": obs.errno if obs else None,
        "verdict": judgement.verdict,
        "detail": judgement.detail,
        "expected": judgement.expected or None,
        "source": judgement.source or None,
        "container": result.container or None,
    }
    if obs is not None:
        row["observation"] = obs.as_dict()
    return row
