"""`bwrap`: bubblewrap with the image's root file system as `/`, the probe build at /fbc.

The profile goes to bubblewrap the way Flatpak hands it its own filter: as a compiled
classic-BPF program on a file descriptor (`--seccomp FD`, bwrap(1)). The program is built by
libseccomp from the same policy lines the `local` runtime installs (seccomp_policy.py,
probes/fbc-seccomp-exec --bpf), so every profile family that `local` takes, bwrap takes.

A `flatpak:` profile (Flatpak's filter, model/flatpak_filter.py) is handed over as the very
program flatpak gives bubblewrap (flatpak_seccomp.py: proved byte-identical), not through
the policy lines, which carry no argument conditions.

`default`: bubblewrap installs no seccomp filter unless given one (bwrap(1), --seccomp; it
only sets no_new_privs), so its `default` is no filter at all, the same as `unconfined`.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..model.seccomp_json import DEFAULT_CAPS
from ..model.seccomp_policy import refusal, render_policy
from .base import BatchOutput, BatchPlan
from .sandbox import MARK, PATH, Sandbox, batch_name, run_group

STATIC_LIBSECCOMP = Path("/usr/lib/x86_64-linux-gnu/libseccomp.a")


class BwrapRuntime(Sandbox):
    kind = "bwrap"
    program = "bwrap"
    package = "bubblewrap"
    start_s = 0.05  # measured: 20-70 ms a batch

    def unavailable_reason(self) -> str | None:
        # The program is compiled by fbc-seccomp-exec, built here (statically, as kernel hosts use it).
        if shutil.which("cc") is None or shutil.which("make") is None or not STATIC_LIBSECCOMP.exists():
            return "compiling the filter needs cc, make and libseccomp-dev on this machine (run scripts/setup-host)"
        return super().unavailable_reason()

    def unsupported_profile(self, profile) -> str | None:
        if profile.kind == "own":
            return super().unsupported_profile(profile)
        if profile.kind in ("unconfined", "default", "flatpak"):
            return None
        return refusal(profile)  # its --seccomp program is compiled by the same helper

    def default_seccomp(self) -> dict | None:
        return {}  # bubblewrap alone installs no filter (bwrap(1), --seccomp)

    def versions(self) -> dict:
        said = subprocess.run(["bwrap", "--version"], capture_output=True, text=True).stdout.strip()
        libseccomp = self.host.package_versions(["libseccomp2"])["libseccomp2"]
        return {**super().versions(), "oci_runtime_version": said or None,
                "libseccomp": f"{libseccomp} (Debian libseccomp2: compiles the --seccomp program)" if libseccomp else None,
                "default_profile": "none: bubblewrap installs a filter only when given one (--seccomp FD)"}

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        asked, name = plan.profile.in_force(self), batch_name(plan.session)
        with tempfile.TemporaryDirectory(prefix="fbc-bwrap-") as tmp:
            if not asked:  # unconfined and default: no --seccomp
                return run_group(bwrap_argv(plan, None, name), plan.overall_timeout_s, name, cwd=tmp, received={})
            program = compile_filter(plan.profile, Path(tmp))
            with program.open("rb") as fh:
                # What bubblewrap was handed is this profile, compiled: nothing stands between.
                return run_group(bwrap_argv(plan, fh.fileno(), name), plan.overall_timeout_s, name, cwd=tmp,
                                 pass_fds=[fh.fileno()], received=asked)


def bwrap_argv(plan: BatchPlan, seccomp_fd: int | None, name: str) -> list[str]:
    """bubblewrap's command line for a batch: the namespaces, mounts and capabilities of the
    OCI runtimes' bundle (oci.bundle_config), so that the probes meet what they meet there."""
    argv = ["bwrap", "--die-with-parent",  # our kill of bwrap takes the sandbox with it
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--ro-bind", plan.image_ref, "/", "--ro-bind", str(plan.probe_dir), "/fbc",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp",
            "--clearenv", "--setenv", "PATH", PATH, "--setenv", "LC_ALL", "C", "--setenv", MARK, name,
            # As root bubblewrap keeps every capability: Docker's set instead, as in a container.
            "--cap-drop", "ALL"]
    for cap in sorted(DEFAULT_CAPS):
        argv += ["--cap-add", cap]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    return [*argv, "--", *plan.command()]


@functools.lru_cache(maxsize=None)
def _helper() -> str:
    """The static fbc-seccomp-exec (kernel.py builds it once per source and libseccomp),
    found once per process: finding it asks dpkg for libseccomp's version."""
    from .kernel import guest_helper

    return str(guest_helper())


def compile_filter(profile, directory: Path) -> Path:
    """The profile as a classic-BPF program (libseccomp's seccomp_export_bpf) in `directory`."""
    policy, program = directory / "policy", directory / "filter.bpf"
    if profile.kind == "flatpak":
        from .flatpak_seccomp import program as flatpak_program

        program.write_bytes(flatpak_program(profile.id.partition(":")[2]))
        return program
    policy.write_text(render_policy(profile))
    made = subprocess.run([_helper(), "--bpf", str(policy), str(program)], capture_output=True, text=True)
    if made.returncode != 0:
        raise RuntimeError(f"compiling {profile.id} for bubblewrap failed: {made.stderr.strip()[-300:]}")
    return program
