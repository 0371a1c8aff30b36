"""The runtime interface shared by every way of starting a batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..profiles import Profile

# Every container we start carries the run's labels (runs.py), so that leftovers can be found.
from ..runs import LABEL, SESSION_LABEL  # noqa: F401  (re-exported for the runtimes)

# Resource limits for a batch container: enough for the probes, small enough that a
# runaway probe cannot hurt the machine.
PIDS_LIMIT = 256
MEMORY_LIMIT = "512m"


@dataclass(frozen=True)
class BatchPlan:
    image_id: str
    image_ref: str  # what the runtime starts (engine tag, or "host")
    arch: str  # amd64 | i386
    profile: Profile
    specs: tuple[str, ...]  # runner SPEC strings, "ID=/fbc/<arch>/<binary> [args]"
    probe_dir: Path  # host directory mounted read-only at /fbc
    probe_timeout_s: float
    session: str

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


def oci_runtime_version(binary: str) -> dict:
    """`<runc|crun> --version`: its first line, and the libseccomp it reports or links."""
    import subprocess

    try:
        lines = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()
    except OSError:
        return {"oci_runtime_version": None}
    out = {"oci_runtime_version": lines[0] if lines else None}
    for line in lines:
        if line.startswith("libseccomp:"):
            out["libseccomp"] = line.split(":", 1)[1].strip()
    if "libseccomp" not in out:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libseccomp2"], capture_output=True, text=True)
        if proc.returncode == 0:
            out["libseccomp"] = f"{proc.stdout.strip()} (Debian libseccomp2, linked dynamically)"
    return out


class Runtime:
    """A way to run a batch. Subclasses say whether they are usable here and why not."""

    id = "?"

    def unavailable_reason(self) -> str | None:
        raise NotImplementedError

    def versions(self) -> dict:
        return {}

    def cached_versions(self) -> dict:
        """versions(), asked once per process."""
        if not hasattr(self, "_versions"):
            self._versions = self.versions()
        return self._versions

    def engine_version(self) -> str | None:
        """The engine in front of the OCI runtime ("docker 20.10.24"), or None."""
        return self.cached_versions().get("engine")

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        """Make `image_id` runnable; return (reference to start, Debian arch)."""
        raise NotImplementedError

    def probe_dir(self, arch: str = "amd64") -> Path:
        """Host directory with the compiled probes for this runtime's images."""
        raise NotImplementedError

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        """A key that changes whenever the image's content does (the engine's image id, the
        root file system's digest): what the libc reading is cached by. None: do not cache."""
        return None

    def default_seccomp(self) -> dict | None:
        """The profile this runtime applies when told nothing ({} = no filter), or None
        when it cannot be read (Docker compiles its default into dockerd)."""
        return None

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        raise NotImplementedError

    # The machine whose kernel runs this runtime's batches: its kernel baseline applies.
    machine = "host"

    def kernel_baseline(self, catalogue, arches: list[str]):
        """The kernel baseline of `machine` (kernel.KernelBaseline), measured now."""
        from ..kernel import measure

        return measure(catalogue, self.probe_dir("amd64" if "i386" not in arches else "i386"), arches)

    def explain_failure(self, exc: Exception) -> str:
        """One plain line for an error that broke a batch (our own errors already are one)."""
        if type(exc) in (RuntimeError, OSError):
            return str(exc)
        return f"{type(exc).__name__}: {exc}"

    # A runtime that starts something costly per image (a kernel host boots a VM) runs the
    # batches of one image together; the others run them one by one.
    shares_start = False

    def run_batches(self, plans: list[BatchPlan]) -> list[BatchOutput]:
        return [self.run_batch(plan) for plan in plans]

    def abandon(self) -> None:
        """The run is interrupted: end what this process is running now. Containers need
        nothing here (the session sweep removes them); a kernel host kills its VMs."""

    def cleanup(self, session: str | None) -> int:
        """Remove anything this runtime left behind for `session` (all sessions if None)."""
        return 0
