"""Cells: one (probe, image, runtime, profile), and its record for the report."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..batches.results import BatchKey, BatchResult
from ..batches.target import BatchTarget
from ..model.catalogue import ApiEntry, Catalogue
from ..model.libc import Libc
from ..model import behaviours
from ..batches import libcinfo
from ..batches.baseline import KERNEL_ENOSYS
from ..model import syscalls
from ..model.profiles import asks_in, covers_arch
from .verdict import NA_REASONS, Judgement, judge_api, judge_raw


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


def judge(cell: Cell, catalogue: Catalogue, result: BatchResult, target: BatchTarget) -> Judgement:
    judgement = _judge(cell, catalogue, result, target)
    if judgement.verdict == "n/a" and judgement.na_reason not in NA_REASONS:
        # Bounded n/a: only a predicted reason may excuse a cell from being judged.
        return replace(judgement, verdict="unexpected", detail=f"n/a that nothing predicted: {judgement.detail}")
    return judgement


def _judge(cell: Cell, catalogue: Catalogue, result: BatchResult, target: BatchTarget) -> Judgement:
    entry = catalogue.get(cell.probe)
    if result.start_refused:
        # The runtime's own answer to the profile: seen, but not what the profile asks for.
        return Judgement("unexpected", result.error)
    if result.error:
        return Judgement("error", f"the batch could not be measured: {result.error}")
    obs = result.observations.get(cell.probe)
    if obs is None:
        return Judgement("error", "the probe was not part of its batch (harness bug)")
    if isinstance(entry, ApiEntry):
        if result.libc == libcinfo.NONE:
            return Judgement("n/a", f"no libc in this image: {entry.api} cannot exist here (the image runs "
                                    "static programs only)", na_reason="no-libc")
        try:
            libc = Libc.parse(result.libc)
        except ValueError as exc:
            return Judgement("error", str(exc))
        return judge_api(entry, obs, result.delivered, libc, result.arch, catalogue.loader, result.kernel)
    # Judged against the profile the OCI runtime received where it could be read (so a
    # `default` is judged too), else against the one we asked for.
    runtime, asked_oci = target.runtime, target.in_force
    oci = result.received if result.received is not None else asked_oci
    asked = asks_in(oci, entry.syscall, result.arch) if result.arch else None
    nr = entry.nr.get("x86_64" if result.arch == "amd64" else result.arch)
    judgement = judge_raw(entry, obs, result.delivered.get(entry.syscall, "unknown"), asked,
                          lambda a, d: behaviours.explain(runtime, result.engine_version, oci, entry.syscall,
                                                          nr, result.arch, a, d))
    if result.received is None:
        judgement = replace(judgement, detail=f"{judgement.detail} (judged against the profile asked for: "
                                              f"{result.received_note or 'the received profile was not read'})")
    elif result.arch and asked_oci is not None:
        wanted = asks_in(asked_oci, entry.syscall, result.arch)
        if wanted != asked:
            judgement = replace(judgement, detail=f"{judgement.detail}; the engine changed the profile: asked "
                                                  f"{wanted}, the runtime received {asked}")
    if oci and result.arch and not covers_arch(oci, result.arch):
        return replace(judgement, detail=f"{judgement.detail} (the profile's architectures do not include "
                                         f"{syscalls.SECCOMP_ARCH[result.arch]}: every {result.arch} syscall is killed)")
    return judgement


def record(cell: Cell, catalogue: Catalogue, result: BatchResult, judgement: Judgement,
           batch_summary: dict | None = None) -> dict:
    """The cell as a report row (docs/design.md schema, plus fields of our own). The rows of
    one batch may share `batch_summary` (result.summary(), read-only)."""
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
        "works": works(entry.kind, obs, judgement),
        "errno": obs.errno if obs else None,
        "verdict": judgement.verdict,
        "detail": judgement.detail,
        "expected": judgement.expected or None,
        "behaviour": judgement.behaviour or None,
        "source": judgement.source or None,
        "container": result.container or None,
        "batch": batch_summary if batch_summary is not None else result.summary(),
    }
    if judgement.na_reason:
        row["na_reason"] = judgement.na_reason
    if row["works"] is False:
        row["fails_like_old_kernel"] = _fails_like_old_kernel(entry, row["delivered"], judgement)
    if entry.kind == "raw" and result.received is not None and result.arch:
        row["received_asks"] = asks_in(result.received, entry.syscall, result.arch)
    if obs is not None:
        row["observation"] = obs.as_dict()
    return row


def works(kind: str, obs, judgement: Judgement) -> bool | None:
    """Did the API do its job? (works_of, for a cell being judged.)"""
    return works_of(kind, obs.outcome if obs is not None else None, judgement.verdict, judgement.na_reason,
                    judgement.api_reached)


def works_of(kind: str | None, outcome: str | None, verdict: str | None, na_reason: str | None = None,
             api_reached: bool = True) -> bool | None:
    """The one rule: True/False for an API cell that called its API; None where the cell never
    called it (no such API in this libc, no libc, another architecture, the probe could not
    reach it, or the cell could not be measured). Raw cells: None."""
    if kind != "api" or outcome is None or verdict == "error" or not api_reached:
        return None
    if outcome == "absent" or na_reason in ("arch", "libc-family", "no-libc"):
        return None
    return outcome == "ok"


def _fails_like_old_kernel(entry, delivered: dict, judgement: Judgement) -> bool:
    """The API failed exactly as the catalogue documents on a kernel without its syscall: a
    syscall it depends on answered ENOSYS, none was denied otherwise, and that failure is the
    documented one (a thin wrapper has no fallback). It is what an old kernel itself gives."""
    answers = [delivered.get(s) for s in entry.syscalls]
    missing = [a for a in answers if a in ("ENOSYS", KERNEL_ENOSYS)]
    return (judgement.verdict == "pass" and bool(missing)
            and all(a in ("ENOSYS", KERNEL_ENOSYS, "allowed") or (a or "").startswith("allowed|") for a in answers))
