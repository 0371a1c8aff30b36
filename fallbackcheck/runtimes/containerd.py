"""containerd-runc and containerd-crun: one container per batch through containerd's own
client, `ctr run`, against dockerd's containerd on a host.

`default` here is containerd's built-in default profile (`ctr run --seccomp`): the profile
Kubernetes' `RuntimeDefault` applies on containerd nodes (the CRI plugin uses the same
generator, containerd's contrib/seccomp). So this column is the Kubernetes-on-containerd
answer (docs/generations.md, with sources).
"""

from __future__ import annotations

import json
import time
import uuid

from ..artefacts import images
from .. import runs
from ..cache import locked
from ..engines import loads
from ..errors import UsageError
from .base import (LABEL, SESSION_LABEL, BatchOutput, BatchPlan, Runtime, placed_probe_dir, oci_runtime_version,
    run_cli_batch)

MEMORY_LIMIT_BYTES = 512 * 1024 * 1024
OCI_BINARY = {"runc": "/usr/bin/runc", "crun": "/usr/bin/crun"}


class ContainerdRuntime(Runtime):
    family = "containerd (Kubernetes RuntimeDefault)"
    start_s = 0.6

    def __init__(self, oci_runtime: str, host=None):
        self.oci_runtime = oci_runtime
        self.kind = f"containerd-{oci_runtime}"
        self.column_order = 30 + self.oci_rank(oci_runtime)
        super().__init__(host)

    def ctr(self, *args: str, timeout: float = 120, check: bool = True):
        return self.host.run([*self.host.ctr_argv(), *args], timeout=timeout, check=check)

    def unavailable_reason(self) -> str | None:
        reason = self.host.unavailable_reason()
        if reason:
            return reason
        if not self.host.which("ctr"):
            return "ctr (containerd's client) is not installed (apt-get install containerd)"
        if not self.host.which(self.oci_runtime):
            return f"{self.oci_runtime} is not installed"
        proc = self.ctr("version", check=False, timeout=30)
        if proc.returncode != 0:
            return f"containerd does not answer at {self.host.containerd_socket}: {proc.stderr.strip()[-200:]}"
        return self.host.docker().unavailable_reason()  # images come in through dockerd (docker save)

    def versions(self) -> dict:
        server = ""
        lines = self.ctr("version", check=False).stdout.splitlines()
        if "Server:" in lines:
            server = next((ln.split(":", 1)[1].strip() for ln in lines[lines.index("Server:"):]
                           if ln.strip().startswith("Version:")), "")
        return {"engine": f"containerd {server}".strip(), "client": "ctr", "oci_runtime": self.oci_runtime,
                **oci_runtime_version(OCI_BINARY[self.oci_runtime], self.host),
                "default_profile": "containerd's built-in (ctr run --seccomp; Kubernetes RuntimeDefault on "
                                   "containerd nodes); what the runtime received is in each batch's received_profile"}

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        """Our image, imported into containerd (namespace fallbackcheck) from dockerd, once
        per recipe hash (the tag carries it)."""
        recipe = images.lookup(image_id)
        if recipe is None:
            raise UsageError(f"runtime {self.id} runs only fallbackcheck's own images (got {image_id!r})")
        tag, arch = self.host.docker().reference(image_id)
        ref = "docker.io/" + tag
        if not self._has(ref):
            with locked(f"import-containerd-{self.host.name or 'this'}-{recipe.id}-{recipe.hash}"):
                if not self._has(ref):
                    started = time.monotonic()
                    ctr = " ".join(self.host.ctr_argv())
                    self.host.run(["sh", "-c", f"docker save {tag} | {ctr} images import -"], timeout=600)
                    loads.record(self.host.name, f"ctr images import {ref}", started)
        return ref, arch

    def _has(self, ref: str) -> bool:
        return ref in self.ctr("images", "ls", "-q", check=False).stdout.split()

    def probe_dir(self, arch: str = "amd64"):
        return placed_probe_dir(self.host, arch)

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        # the same root file system as on this host: one libc reading serves every host
        return "rootfs-" + images.tar_digest(images.lookup(image_id))[:32]

    def _received(self, name: str) -> tuple[dict | None, str]:
        """The seccomp section of the container's spec in containerd (what the shim hands
        the OCI runtime), read after the task ended and before the container is removed."""
        proc = self.ctr("containers", "info", name, check=False)
        if proc.returncode != 0:
            return None, f"ctr containers info failed: {proc.stderr.strip()[-200:]}"
        spec = json.loads(proc.stdout).get("Spec") or {}
        return spec.get("linux", {}).get("seccomp") or {}, ""

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        name = f"fbc-{plan.session}-{uuid.uuid4().hex[:8]}"
        scratch = self.host.scratch("ctr")
        try:
            seccomp = []
            if plan.seccomp is None:
                seccomp = ["--seccomp"]  # containerd's default profile
            elif plan.seccomp != {}:
                path = f"{scratch}/seccomp.json"
                self.host.write_text(path, plan.profile.render())
                seccomp = ["--seccomp", "--seccomp-profile", path]
            labels = [a for k, v in plan.labels.items() for a in ("--label", f"{k}={v}")]
            # ctr has no pids limit option; memory and no-new-privileges (its default) apply.
            argv = [*self.host.ctr_argv(), "run", "--runc-binary", OCI_BINARY[self.oci_runtime], *seccomp,
                    "--memory-limit", str(MEMORY_LIMIT_BYTES), *labels, "--cwd", "/tmp",
                    "--mount", f"type=bind,src={plan.probe_dir},dst=/fbc,options=rbind:ro",
                    plan.image_ref, name, *plan.command()]
            return run_cli_batch(self.host, argv, plan, name, self._received)
        finally:
            self._remove(name)
            self.host.remove_tree(scratch)

    def _labels(self, name: str) -> dict:
        try:
            return json.loads(self.ctr("containers", "info", name, check=False).stdout or "{}").get("Labels") or {}
        except ValueError:
            return {}

    def _remove(self, name: str) -> None:
        self.ctr("tasks", "kill", "-s", "SIGKILL", name, check=False)
        self.ctr("tasks", "delete", "-f", name, check=False)
        self.ctr("containers", "delete", name, check=False)

    def cleanup(self, session: str | None) -> int:
        """Remove the containers of `session`; with None, those of runs that have ended
        (their owner label, as for Docker and Podman): never a live run's."""
        if self.host.disposable or not self.host.which("ctr"):
            return 0
        label = f"labels.\"{SESSION_LABEL}\"=={session}" if session else f"labels.\"{LABEL}\""
        names = self.ctr("containers", "ls", "-q", label, check=False).stdout.split()
        if session is None:
            names = [n for n in names if runs.owner_is_gone(self._labels(n))]
        for name in names:
            self._remove(name)
        return len(names)

