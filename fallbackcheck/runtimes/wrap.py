"""`wrap:<command>`: any command that runs a program in a sandbox of its own, given as the argv
prefix the runner is appended to (`wrap:'firejail --quiet'`, an agent's sandbox CLI).

Nothing can be handed to such a command, so it takes two profiles only: `default`, the runner
under the command (whatever filter it applies), and `unconfined`, the same runner without it
(the baseline it is compared with). What the command delivered is learned from inside, black
box: the raw probes' answers under it beside the unwrapped run's, per syscall (views.py's
sandbox section). Its raw cells ask nothing (there is no profile to read): `n/a`, with what was
delivered. Run as root, the filter is also read from the process it confined
(filter_reader.py): each batch's summary says per syscall what the filter itself answers
(`filter_read`) and where that differs from what the raw probe got (`filter_disagrees`).

The command runs on this machine's root, so wrap: runs the image `host` (this machine's libc,
the probe build of the `local` runtime), and the command must let the program it runs see the
probe build in the cache (a sandbox that hides the cache directory makes the runner fail to
start: the command's answer, with its message). It runs in our environment, as given: what
the command itself leaves on the host (firejail's /run/firejail, say) is its own doing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..artefacts import probebuild
from ..errors import UsageError
from .base import BatchOutput, BatchPlan, Runtime
from ..model import syscalls
from .filter_reader import answers as filter_answers, read_held
from .local import LocalRuntime, host_runner_argv
from .sandbox import abandon_all, run_group

PREFIX = "wrap:"
HOLD_S = 10  # how long the held runner waits for its filter to be read before it goes on anyway


def parse_command(text: str) -> list[str]:
    """The wrapper's argv prefix, or one line of usage error."""
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"runtime wrap:{text}: cannot split the command ({exc}); quote it as a shell would") from None
    if not argv:
        raise UsageError("runtime wrap: needs a command (wrap:'firejail --quiet --noprofile --seccomp')")
    return argv


class WrapRuntime(Runtime):
    host_libc = True
    column_order = 57  # after local and the sandboxes

    def __init__(self, command: str, host=None):
        self.command = command
        self.prefix = parse_command(command)
        self.kind = PREFIX + command
        super().__init__(host)
        self.id = self.kind  # the command may hold '@': the id is never split at it

    def binary(self) -> str | None:
        return shutil.which(self.prefix[0])

    def unavailable_reason(self) -> str | None:
        if self.binary() is None:
            return f"{self.prefix[0]}: command not found"
        return LocalRuntime().unavailable_reason()  # the probes are built on this machine, as for local

    def unsupported_profile(self, profile) -> str | None:
        if profile.kind in ("unconfined", "default"):
            return None
        return "a wrapper command takes no profile of ours: only `default` (its own filter) and `unconfined` (without it)"

    def seccomp_in_force(self, profile) -> dict | None:
        return {} if profile.kind == "unconfined" else None

    def versions(self) -> dict:
        """The command and the package of its binary (not its --version: running the wrapper can
        change the host, as firejail's first run does)."""
        path = self.binary()
        package = None
        if path:
            found = subprocess.run(["dpkg-query", "-S", os.path.realpath(path)], capture_output=True, text=True)
            name = found.stdout.split(":", 1)[0].strip() if found.returncode == 0 else ""
            if name:
                package = f"{name} {self.host.package_versions([name])[name] or '?'}"
        return {"engine": f"none (wrapper command: {self.command})", "wrapper": self.prefix,
                "wrapper_binary": path, "oci_runtime_version": package or path or self.prefix[0],
                "default_profile": "whatever the wrapper applies: measured, black box"}

    def abandon(self) -> None:
        abandon_all()  # the wrapper runs in a process group of its own, as a sandbox does

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        return "host", "amd64"

    def probe_dir(self, arch: str = "amd64") -> Path:
        return probebuild.build_on_host()

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        wrapped = plan.profile.kind != "unconfined"
        read = wrapped and os.geteuid() == 0  # PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN
        argv = host_runner_argv(plan, HOLD_S if read else 0)
        runner = argv[0]
        if wrapped:
            argv = [*self.prefix, *argv]
        env = {**os.environ, "LC_ALL": "C"}
        found: dict = {}

        def read_filter(proc) -> None:
            found["programs"], found["note"] = read_held(proc.pid, runner, HOLD_S,
                                                                       lambda: proc.poll() is not None)

        with tempfile.TemporaryDirectory(prefix="fbc-wrap-") as tmp:
            output = run_group(argv, plan.overall_timeout_s + (HOLD_S if read else 0), f"wrap-{plan.session}",
                               cwd=tmp, env=env, received={} if not wrapped else None,
                               received_note="" if not wrapped else
                               f"the wrapper {self.command!r} applies its own filter: nothing to read",
                               during=read_filter if read else None)
        if read:
            if found.get("programs") is not None:
                output.filter_read = filter_answers(found["programs"], "amd64", syscalls.numbers("amd64"))
            else:
                output.filter_read_note = found.get("note") or "the reader did not finish"
        elif wrapped:
            output.filter_read_note = "not run as root: the filter cannot be read from the process"
        return output
