"""What a batch gives back: its key (image, runtime, profile) and its result, the observations
of every probe and what is known of the container that ran them. Data only; running a batch is
execution/batch.py's."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import received as received_mod
from .baseline import KERNEL_ENOSYS
from .observation import Observation

# Delivered classes that say nothing a filter's answer could be compared with.
UNREAD = ("unknown", "n/a", KERNEL_ENOSYS)


@dataclass(frozen=True)
class BatchKey:
    image: str
    runtime: str
    profile: str

    def __str__(self) -> str:
        return f"{self.image}|{self.runtime}|{self.profile}"


@dataclass
class BatchResult:
    key: BatchKey
    arch: str = ""
    libc: str = ""
    container: str = ""
    observations: dict[str, Observation] = field(default_factory=dict)
    delivered: dict[str, str] = field(default_factory=dict)  # syscall -> delivered class
    error: str | None = None  # the batch as a whole could not be measured
    duration_s: float = 0.0
    runtime_stderr: str = ""
    engine_version: str | None = None  # e.g. "docker 20.10.24+dfsg1"; behaviours depend on it
    exit_code: int | None = None
    complete: bool = False  # the runner said runner_done
    boot: dict | None = None  # kernel hosts: the boot that ran this batch, and its times
    # uname -r of the kernel that ran the batch: a kernel host's boot, else the machine's
    # kernel (its baseline's; containers share it); "" if unknown. Catalogue rules may depend
    # on it (Rule.kernel).
    kernel: str = ""
    received: dict | None = None  # the seccomp section the OCI runtime was handed ({} = none)
    received_note: str = ""  # why `received` is None
    filter_read: dict | None = None  # a wrapper's filter, read from the process: syscall -> answer
    filter_read_note: str = ""  # why it was not read
    profile_changes: list[str] = field(default_factory=list)  # asked vs received, in words
    start_refused: bool = False  # the runtime did not start the container under this filter
    machine_fault: bool = False  # the runtime starts no container at all, unconfined included

    def summary(self) -> dict:
        """What a report row says about its batch (enough to diagnose a broken one)."""
        out = {"container": self.container or None, "exit": self.exit_code, "complete": self.complete,
               "duration_s": round(self.duration_s, 2)}
        if self.kernel:
            out["kernel"] = self.kernel
        if self.boot:
            out["boot"] = self.boot
        if not self.complete and self.runtime_stderr.strip():
            out["stderr"] = self.runtime_stderr.strip()[-800:]
        if self.received is not None:
            out["received_profile"] = received_mod.content_hash(self.received)
        elif self.received_note:
            out["received_profile_unread"] = self.received_note
        if self.filter_read is not None:  # of every syscall: the ones this batch's probes call
            out["filter_read"] = {s: self.filter_read[s] for s in sorted(self.filter_read) if s in self.delivered}
            # where the filter itself says otherwise than what the raw probe got (a filter that
            # looks at arguments answers the real call otherwise than a call with zeros)
            # ("allowed|ENOSYS": the kernel's own answer looks like that errno, either agrees)
            differs = {s: {"filter": a, "delivered": self.delivered[s]} for s, a in sorted(self.filter_read.items())
                       if self.delivered.get(s, "unknown") not in UNREAD and a not in self.delivered[s].split("|")}
            if differs:
                out["filter_disagrees"] = differs
        elif self.filter_read_note:
            out["filter_unread"] = self.filter_read_note
        if self.profile_changes:
            out["profile_changes"] = self.profile_changes
        if self.start_refused:
            out["start_refused"] = True
        if self.machine_fault:
            out["machine_fault"] = True
        return out
