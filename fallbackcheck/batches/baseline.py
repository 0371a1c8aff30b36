"""The kernel baseline: what this machine's kernel itself answers to every raw probe.

Measured at the start of every run, on the machine that runs the batches, by running the
raw probes with no seccomp filter at all. A syscall the kernel lacks answers ENOSYS here;
in a batch, an ENOSYS for such a syscall is then the kernel's (`kernel-ENOSYS`), never taken
for a filter's ENOSYS, and the conformance cell says the filter cannot be judged there.

FALLBACKCHECK_KERNEL_PLAY=<profile id> (e.g. vintage:6.1:ENOSYS) makes the baseline, and
every batch of the `local` runtime, run under a filter that plays an older kernel: the way to
test all of this without booting another kernel.
"""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .launch import parse_output, runner_argv
from .observation import classify, delivered

KERNEL_ENOSYS = "kernel-ENOSYS"
PLAY_ENV = "FALLBACKCHECK_KERNEL_PLAY"
PROBE_TIMEOUT_S = 5.0  # one raw probe, unfiltered: a syscall answers at once or hangs


def raw_entries(catalogue, arch: str) -> list:
    """The raw probes that exist on `arch`: what a baseline of that arch asks the kernel."""
    return [e for e in catalogue.raw.values() if e.exists_on(arch)]


def runner_command(runner: str, probe_root: str, arch: str, entries: list,
                   timeout_s: float = PROBE_TIMEOUT_S) -> list[str]:
    """The runner's argv that asks every raw probe of one arch (`probe_root`/<arch>/raw, the
    static raw probe, wherever the kernel measured sees the probe build): here, over ssh, or in
    a QEMU boot alike."""
    return runner_argv(runner, timeout_s, [f"{e.id}={probe_root}/{arch}/raw {e.syscall}" for e in entries])


@dataclass
class KernelBaseline:
    """Per architecture: syscall -> delivered class with no filter (observation.delivered)."""

    machine: str = "host"
    kernel: str = ""
    arches: dict[str, dict[str, str]] = field(default_factory=dict)
    how: str = ""
    error: str | None = None

    def lacks(self, arch: str, syscall: str) -> bool:
        return self.arches.get(arch, {}).get(syscall) == "ENOSYS"

    def as_dict(self) -> dict:
        return {"kernel": self.kernel, "how": self.how, "error": self.error, "arches": self.arches,
                "lacks": {arch: sorted(s for s, d in found.items() if d == "ENOSYS")
                          for arch, found in self.arches.items()}}

    def read(self, arch: str, entries: list, stdout: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
        """One arch's answers from the runner's output (runner_command): each raw probe's
        delivered class, "unknown" where it printed nothing. Whether the runner said it was done."""
        records, done = parse_output(stdout)
        self.arches[arch] = {e.syscall: delivered(e, classify(records[e.id], timeout_s)) if e.id in records
                             else "unknown" for e in entries}
        return done

    @classmethod
    def from_dict(cls, machine: str, data: dict) -> "KernelBaseline":
        return cls(machine, data.get("kernel", ""), data.get("arches", {}), data.get("how", ""), data.get("error"))


def play_profile():
    """The profile that plays an older kernel (FALLBACKCHECK_KERNEL_PLAY), or None."""
    value = os.environ.get(PLAY_ENV)
    if not value:
        return None
    from ..model.profiles import parse

    return parse(value)


def play_wrapper(tmp: Path) -> list[str]:
    """argv prefix that runs a command under the play filter ([] when none is set)."""
    profile = play_profile()
    if profile is None:
        return []
    from ..artefacts import probebuild
    from ..model.seccomp_policy import render_policy

    policy = tmp / "kernel-play.policy"
    policy.write_text(render_policy(profile))
    return [str(probebuild.build_on_host() / "amd64" / "fbc-seccomp-exec"), str(policy)]


def measure(catalogue, probe_dir: Path, arches: list[str], timeout_s: float = PROBE_TIMEOUT_S) -> KernelBaseline:
    """Run every raw probe of `arches` from `probe_dir` (<dir>/amd64/runner, <dir>/<arch>/raw)
    on this machine, unfiltered (or under the play filter), and classify the answers."""
    baseline = KernelBaseline(kernel=platform.release())
    play = os.environ.get(PLAY_ENV)
    baseline.how = ("raw probes run directly on this machine with no seccomp filter" if not play else
                    f"raw probes run under {PLAY_ENV}={play} (a filter playing an older kernel; a test setting)")
    if _filtered():
        baseline.how += "; NOTE this process itself runs under a seccomp filter, which the baseline includes"
    for arch in arches:
        entries = raw_entries(catalogue, arch)
        with tempfile.TemporaryDirectory(prefix="fbc-baseline-") as tmp:
            argv = [*play_wrapper(Path(tmp)),
                    *runner_command(str(probe_dir / "amd64" / "runner"), str(probe_dir), arch, entries, timeout_s)]
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", cwd=tmp,
                                      timeout=timeout_s * len(entries) + 60)
            except (OSError, subprocess.TimeoutExpired) as exc:
                baseline.error = f"the {arch} baseline could not be measured: {exc}"
                continue
        if not baseline.read(arch, entries, proc.stdout, timeout_s):
            baseline.error = f"the {arch} baseline runner failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}"
    return baseline


def _filtered() -> bool:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Seccomp:"):
                return line.split()[1] != "0"
    except OSError:
        pass
    return False
