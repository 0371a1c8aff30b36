"""runc and crun driven directly: an OCI bundle per batch, made from the same images.

No engine sits between the profile and the runtime here, so what the runtime does with
the OCI seccomp object is seen without Docker's or Podman's own rewriting.
"""

from __future__ import annotations

import json
import re
import socket
import shutil
import subprocess
import uuid
from pathlib import Path

from ..artefacts import images
from .. import runs
from ..model.behaviours import family_said
from ..errors import UsageError
from ..model.seccomp_json import DEFAULT_CAPS, resolve
from .base import PIDS_LIMIT, BatchOutput, BatchPlan, Runtime, oci_runtime_version, placed_probe_dir, stream_text
from ..engines.docker import engine

MEMORY_LIMIT_BYTES = 512 * 1024 * 1024


def bundle_config(plan: BatchPlan, rootfs: Path, argv: list[str], probes: str | None = None,
                  kernel_arch: str | None = None) -> dict:
    """An OCI runtime config close to what Docker would generate for the same batch; `probes`:
    where the runtime's host sees the probe build (plan.probe_dir unless said); `kernel_arch`:
    the machine the runtime runs on (this one unless said), which a Docker-format profile's
    arch-dependent rules are resolved for, as Docker there would."""
    caps = sorted(DEFAULT_CAPS)
    linux = {
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        "resources": {"pids": {"limit": PIDS_LIMIT}, "memory": {"limit": MEMORY_LIMIT_BYTES}},
        "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
        "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"],
    }
    if plan.profile.kind != "unconfined" and plan.profile.oci is not None:
        linux["seccomp"] = resolve(plan.profile.oci, kernel_arch=kernel_arch)
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False, "user": {"uid": 0, "gid": 0}, "args": argv, "cwd": "/tmp",
            "env": ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL=C"],
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": str(rootfs), "readonly": True},
        "hostname": "fallbackcheck",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
            {"destination": "/fbc", "type": "bind", "source": probes or str(plan.probe_dir), "options": ["rbind", "ro"]},
        ],
        "linux": linux,
    }


def _sha256(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _owner_gone(name: str) -> bool:
    m = re.match(r"^fbc-.+-o(\d+)-[0-9a-f]{8}$", name)
    return bool(m) and runs.owner_is_gone({runs.OWNER_LABEL: f"{socket.gethostname()}/{m.group(1)}"})


class OciRuntime(Runtime):
    """Debian's runc or crun (kind = the binary's name), or any binary with runc's command
    line given by path (kind oci:/path): the same bundle and the same create/run/delete."""

    def __init__(self, binary: str, host=None, kind: str | None = None):
        self.binary = binary
        self.kind = kind or binary
        if self.kind in ("runc", "crun"):  # Debian's own: a family of their own, after the engines
            self.family, self.column_order = self.kind, 40 + self.oci_rank(self.kind)
        super().__init__(host)

    def _run(self, *args: str, timeout: float = 60):
        return self.host.run([self.binary, *args], check=False, timeout=timeout)

    def unavailable_reason(self) -> str | None:
        reason = self.host.unavailable_reason()
        if reason:
            return reason
        if not self.host.which(self.binary):
            return f"{self.binary} is not installed (apt-get install {self.binary})"
        if engine().unavailable_reason() and shutil.which("podman") is None:
            return ("the probes are compiled in a builder container, which needs the Docker engine or podman: "
                    f"{engine().unavailable_reason()}")
        return None

    def versions(self) -> dict:
        out = {"engine": None, "oci_runtime": self.binary, **oci_runtime_version(self.binary, self.host)}
        if self.binary.startswith("/"):  # a user's binary: say exactly which one was measured
            out["oci_runtime_sha256"] = _sha256(self.binary)
            out["oci_runtime_says"] = family_said(out.get("oci_runtime_version"))
        return out

    def default_seccomp(self) -> dict | None:
        return {}  # an OCI runtime applies no filter when the config names none

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        recipe = images.lookup(image_id)
        if recipe is None:
            raise UsageError(f"runtime {self.id} runs only fallbackcheck's own images (got {image_id!r})")
        return self.host.place(images.rootfs(recipe)), recipe.arch

    def probe_dir(self, arch: str = "amd64"):
        return placed_probe_dir(self.host, arch)

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        return "rootfs-" + images.tar_digest(images.lookup(image_id))[:32]

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        # No labels here: the name carries the session and the owning process instead.
        name = f"fbc-{plan.session}-o{runs.owner().rpartition('/')[2]}-{uuid.uuid4().hex[:8]}"
        bundle = self.host.scratch("bundle")
        config = bundle_config(plan, Path(plan.image_ref), plan.command())
        # Nothing stands between us and the runtime: what it receives is what we wrote.
        received = config["linux"].get("seccomp") or {}
        try:
            self.host.write_text(f"{bundle}/config.json", json.dumps(config))
            try:
                proc = self.host.run([self.binary, "run", "--bundle", bundle, name], check=False,
                                     timeout=plan.overall_timeout_s)
                return BatchOutput(proc.stdout, proc.stderr, proc.returncode, name, received=received)
            except subprocess.TimeoutExpired as exc:
                self._run("kill", name, "KILL")
                return BatchOutput(stream_text(exc.stdout), stream_text(exc.stderr), None, name, timed_out=True, received=received)
        finally:  # Ctrl-C included: the container and its bundle go
            self._run("delete", "--force", name)
            self.host.remove_tree(bundle)

    def cleanup(self, session: str | None) -> int:
        """Delete the containers of `session`; with None, those whose owning process (in the
        name: fbc-<session>-o<pid>-<id>) has ended. Another live run's are never touched."""
        if self.host.disposable or not self.host.which(self.binary):
            return 0
        listed = self._run("list", "-q").stdout.split()
        if session:
            names = [n for n in listed if n.startswith(f"fbc-{session}-")]
        else:
            names = [n for n in listed if _owner_gone(n)]
        for name in names:
            self._run("delete", "--force", name)
        return len(names)

