"""The runtime-neutral launch description of a batch (BatchPlan) and what a runtime gives
back (BatchOutput): data only. Runtimes (runtimes/) translate a plan for their engine and
host; batch.py makes the plans and reads the outputs. Neither imports the other through here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..model.profiles import Profile

# Resource limits for a batch container: enough for the probes, small enough that a
# runaway probe cannot hurt the machine.
PIDS_LIMIT = 256
MEMORY_LIMIT = "512m"


def runner_argv(runner: str, timeout_s: float, specs, hold_s: int = 0) -> list[str]:
    """The runner's argv, the one spelling of it (probes/runner.c: -t per-probe limit, -w hold
    for SIGUSR1 first, then the SPECs): a batch's (BatchPlan.command) and a kernel baseline's."""
    return [runner, "-t", f"{timeout_s:g}", *(["-w", str(hold_s)] if hold_s else []), *specs]


@dataclass(frozen=True)
class BatchPlan:
    """The runtime-neutral launch description of one batch: each runtime only translates it
    for its engine on its host (runner argv, probe mount, seccomp, limits, labels)."""

    image_id: str
    image_ref: str  # what the runtime starts (engine tag, or "host")
    arch: str  # amd64 | i386
    profile: Profile
    specs: tuple[str, ...]  # runner SPEC strings, "ID=/fbc/<arch>/<binary> [args]"
    probe_dir: Path  # host directory mounted read-only at /fbc
    probe_timeout_s: float
    session: str

    def command(self, hold_s: int = 0, runner: str = "/fbc/amd64/runner", probe_root: str = "/fbc") -> list[str]:
        """The runner's argv, the one spelling of it; `hold_s` makes it wait for SIGUSR1 first
        (runner -w) so that the OCI config can be read before the container exits. `runner`:
        where the runner is (a kernel host runs its own architecture's); `probe_root`: where
        the probe build is seen, /fbc in a container, the build's own folder on this machine."""
        specs = self.specs if probe_root == "/fbc" else [s.replace("=/fbc/", f"={probe_root}/", 1) for s in self.specs]
        return runner_argv(runner, self.probe_timeout_s, specs, hold_s)

    @property
    def seccomp(self) -> dict | None:
        """The seccomp JSON to hand the engine: None = the engine's own default,
        {} = no filter (unconfined), else the profile (engines resolve its extensions)."""
        if self.profile.kind == "unconfined":
            return {}
        return self.profile.oci  # None for `default`

    @property
    def labels(self) -> dict[str, str]:
        from .. import runs

        return runs.labels("batch", self.session)

    @property
    def overall_timeout_s(self) -> float:
        # Each probe has its own limit inside the runner; this only catches a stuck runner.
        return self.probe_timeout_s * (len(self.specs) + 1) + 60


@dataclass
class BatchOutput:
    stdout: str
    stderr: str
    exit_code: int | None
    container: str = ""  # engine id of the one container that ran the batch
    timed_out: bool = False
    notes: list[str] = field(default_factory=list)
    boot: dict | None = None  # kernel hosts: the boot that ran the batch, and its times
    # The seccomp section of the OCI config the OCI runtime was handed ({} = none), or None
    # with the reason in received_note.
    received: dict | None = None
    received_note: str = ""
    # A wrapper's filter as read from the process it confined (runtimes/filter_reader.py):
    # syscall -> what it answers (every argument 0); None with the reason in filter_read_note.
    filter_read: dict | None = None
    filter_read_note: str = ""


def parse_output(stdout: str) -> tuple[dict[str, dict], bool]:
    """The runner's JSON lines (probe id -> its record) and whether it said it was done."""
    records, done = {}, False
    for line in stdout.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        if item.get("runner_done"):
            done = True
        elif "id" in item:
            records[item["id"]] = item
    return records, done
