"""`local`: no container; the host libc under a filter installed with libseccomp.

The filter is installed by probes/fbc-seccomp-exec (compiled on the host) from a small
line-based policy rendered here, and then the runner is executed under it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..artefacts import probebuild
from ..batches.baseline import play_wrapper
from ..model.seccomp_policy import refusal, render_policy
from .base import BatchOutput, BatchPlan, Runtime

def host_runner_argv(plan: BatchPlan, hold_s: int = 0) -> list[str]:
    """The runner of the host's probe build over a batch's probes (`local` and `wrap:` run it
    on this machine, so the probes' /fbc paths become the build's own)."""
    return plan.command(hold_s, runner=str(plan.probe_dir / "amd64" / "runner"), probe_root=str(plan.probe_dir))


class LocalRuntime(Runtime):
    kind = "local"
    host_libc = True
    column_order = 50

    def unavailable_reason(self) -> str | None:
        if shutil.which("cc") is None or shutil.which("make") is None:
            return "no C compiler or make on the host (apt-get install gcc make)"
        if not Path("/usr/include/seccomp.h").exists():
            return "libseccomp headers missing on the host (apt-get install libseccomp-dev)"
        return None

    def versions(self) -> dict:
        libseccomp = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libseccomp2"], capture_output=True, text=True)
        return {"engine": "none (host process under a libseccomp filter)", "libc": os.confstr("CS_GNU_LIBC_VERSION") or None,
                "libseccomp": libseccomp.stdout.strip() or None}

    def unsupported_profile(self, profile) -> str | None:
        return super().unsupported_profile(profile) or refusal(profile)

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        return "host", "amd64"

    def probe_dir(self, arch: str = "amd64") -> Path:
        return probebuild.build_on_host()

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        base = plan.probe_dir / "amd64"
        argv = host_runner_argv(plan)
        with tempfile.TemporaryDirectory(prefix="fbc-local-") as tmp:
            if plan.profile.oci is not None:  # unconfined, and `default` (no filter of its own)
                policy = Path(tmp) / "policy"
                policy.write_text(render_policy(plan.profile))
                argv = [str(base / "fbc-seccomp-exec"), str(policy), *argv]
            # Outermost (installed first, so the batch's own filter is seen first): a filter
            # that plays an older kernel, when a test asks for one (kernel.py).
            argv = [*play_wrapper(Path(tmp)), *argv]
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    errors="replace", cwd=tmp, start_new_session=True)
            try:
                out, err = proc.communicate(timeout=plan.overall_timeout_s)
                return BatchOutput(out, err, proc.returncode, f"local-pid-{proc.pid}")
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
                return BatchOutput(out, err, None, f"local-pid-{proc.pid}", timed_out=True)
            except BaseException:  # Ctrl-C: never leave the process group behind
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise
