"""`firejail`: firejail on the image's root file system, as root.

Profiles (firejail(1)): `unconfined` = `--noprofile` (no filter); `default` = firejail's
default profile as a user gets it, `--profile=default` (as root firejail would pick
server.profile); `own:seccomp` = `--noprofile --seccomp`, its other built-in filter;
`deny:` = `--noprofile --seccomp.drop=NAME[:ERRNO],...` (only those names: measured).
Allow lists of ours (vintage:, most file:) are not handed over.

Firejail runs a program on another root only with `--chroot=`, which Debian's
/etc/firejail/firejail.config disables (`chroot no`), and it writes into the root it chroots
to (its /run/firejail, /etc/resolv.conf). So each batch runs in a mount namespace of its own
(`unshare --mount`, private propagation), where: the image's root is the lower layer of an
overlay whose upper layer is the batch's scratch directory (the cached root stays as it was),
the probe build is bound read-only at /fbc, a copy of firejail.config with `chroot yes` is
bound over the host's, and /run is a tmpfs (firejail keeps its state and its bind mounts in
/run/firejail: there, they go with the namespace). Firejail's seccomp filters do not depend
on any of this; what it changes is noted in docs/sandboxes.md.
"""

from __future__ import annotations

import errno as errno_mod
import shutil
import tempfile
import time
from pathlib import Path

from ..model.profiles import errno_name
from .base import BatchOutput, BatchPlan
from .nspawn import deny_rules
from .sandbox import MARK, PATH, Sandbox, batch_name, run_group

CONFIG = Path("/etc/firejail/firejail.config")
OWN = {"seccomp": ["--noprofile", "--seccomp"]}  # own:<name> -> firejail's options
OWN_FILTER = "firejail builds its own filter (its seccomp code and syscall groups): there is no seccomp JSON to read"
# In the batch's mount namespace: /run, the overlay root, the probe build, the config; then firejail.
SETUP = """set -e
mount -t tmpfs -o mode=755,size=16m fbc-run /run
mount -t overlay overlay -o "lowerdir=$1,upperdir=$3/upper,workdir=$3/work" "$3/root"
mount --bind "$2" "$3/root/fbc"
mount -o remount,bind,ro "$3/root/fbc"
mount --bind "$3/firejail.config" /etc/firejail/firejail.config
shift 3
exec "$@"
"""


def profile_options(profile) -> list[str]:
    """firejail's options for a profile it takes."""
    if profile.kind == "unconfined":
        return ["--noprofile"]
    if profile.kind == "default":
        return ["--profile=default"]
    if profile.kind == "own":
        return OWN[profile.id.partition(":")[2]]
    items = [name if number == errno_mod.EPERM else f"{name}:{errno_name(number)}"
             for names, number in deny_rules(profile) or [] for name in names]
    return ["--noprofile", "--seccomp.drop=" + ",".join(items)]


class FirejailRuntime(Sandbox):
    kind = "firejail"
    program = "firejail"
    package = "firejail"
    start_s = 0.5  # measured: 100-270 ms a run, two runs for a batch of every probe

    def unavailable_reason(self) -> str | None:
        if shutil.which("unshare") is None or not CONFIG.exists():
            return "firejail runs here in a mount namespace of its own: needs unshare (util-linux) and " \
                   f"{CONFIG} (apt-get install firejail)"
        return super().unavailable_reason()

    def unsupported_profile(self, profile) -> str | None:
        if profile.kind == "own":
            name = profile.id.partition(":")[2]
            return None if name in OWN else f"firejail has no filter of its own named {name!r} (it has: {', '.join(OWN)})"
        if profile.kind in ("unconfined", "default") or deny_rules(profile) is not None:
            return None
        return ("firejail takes denials on --seccomp.drop=; an allow list with a default action of ours "
                "(--seccomp.keep= and --seccomp-error-action=) is not handed over")

    def seccomp_in_force(self, profile) -> dict | None:
        if profile.kind in ("default", "own"):
            return None  # firejail's own filters, measured
        return super().seccomp_in_force(profile)  # --noprofile installs only what --seccomp.drop= names

    def versions(self) -> dict:
        # Not `firejail --version`: any run of firejail on the host makes /run/firejail and its mounts.
        out = super().versions()
        return {**out, "oci_runtime_version": f"firejail {(out.get('sandbox_package') or '?').split('-')[0]}",
                "default_profile": "firejail --profile=default (/etc/firejail/default.profile), measured"}

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        name = batch_name(plan.session)
        received = self.seccomp_in_force(plan.profile)
        note = "" if received is not None else OWN_FILTER
        with tempfile.TemporaryDirectory(prefix="fbc-firejail-") as tmp:
            work = Path(tmp)
            config = CONFIG.read_text()
            (work / "firejail.config").write_text(
                "".join(line for line in config.splitlines(True) if not line.lstrip().startswith("chroot "))
                + "chroot yes\n")
            firejail = ["firejail", "--quiet", *profile_options(plan.profile), f"--chroot={work / 'root'}",
                        f"--env={MARK}={name}", "--env=LC_ALL=C", "--"]
            runner = plan.command()[:3]  # /fbc/amd64/runner -t N
            parts = chunks(list(plan.specs), MAX_ARGS - 1 - len(firejail) - len(runner))
            outputs, deadline = [], time.monotonic() + plan.overall_timeout_s
            for part in parts:
                for layer in ("upper", "work", "root"):  # a fresh overlay per run: nothing carried over
                    shutil.rmtree(work / layer, ignore_errors=True)
                    (work / layer).mkdir()
                argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", SETUP, "sh",
                        plan.image_ref, str(plan.probe_dir), tmp, *firejail, *runner, *part]
                outputs.append(run_group(argv, max(deadline - time.monotonic(), 1.0), name, cwd=tmp,
                                         received=received, received_note=note))
                if outputs[-1].timed_out or '{"runner_done":true}' not in outputs[-1].stdout:
                    break  # the rest would fail the same way: their probes are reported as not run
        return joined(outputs, len(parts))


# firejail refuses a command line of MAX_ARGS arguments or more ("too many arguments: argc (133)
# >= MAX_ARGS (128)", src/firejail/main.c, firejail 0.9.72): a batch with more probes than that
# runs as several runner invocations, one firejail each.
MAX_ARGS = 128


def chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [[]]


def joined(outputs: list[BatchOutput], planned: int) -> BatchOutput:
    """The runs of one batch as one output: the runner is done only if every run said so."""
    done = len(outputs) == planned and all('{"runner_done":true}' in o.stdout for o in outputs)
    lines = [line for o in outputs for line in o.stdout.splitlines() if line != '{"runner_done":true}']
    last = outputs[-1]
    return BatchOutput("\n".join(lines + (['{"runner_done":true}'] if done else [])) + "\n",
                       "".join(o.stderr for o in outputs), last.exit_code, last.container,
                       timed_out=last.timed_out, received=last.received, received_note=last.received_note)
