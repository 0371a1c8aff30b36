"""podman-runc and podman-crun: one container per batch through the podman CLI, on a host.

Podman takes the seccomp profile as a file path (its Docker-compatible API would too:
docs/runtimes.md, "Handing a profile over"), and its default rlimits exceed these machines'
hard limits, so every run passes explicit --ulimit values (docs/design.md, "Host set-up").
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid

from ..artefacts import images
from .. import runs
from ..cache import locked
from ..engines import loads
from ..errors import UsageError
from .base import (LABEL, MEMORY_LIMIT, PIDS_LIMIT, SESSION_LABEL, BatchOutput, BatchPlan, Runtime, placed_probe_dir,
    oci_runtime_version, run_cli_batch)
from ..engines.docker import engine
from ..engines.builders import ULIMITS, PodmanTools, _label_args, podman

DEFAULT_PROFILE = "/usr/share/containers/seccomp.json"
# Ended batch containers are removed this many at a time: each podman command is a process
# of about 50 ms of CPU, and one `rm` per batch was a tenth of the main job's podman CPU. The
# last ones go with the run's cleanup (by session label), Ctrl-C included.
REMOVE_AT_ONCE = 16
# Debian's OCI runtimes, found on PATH; any other name is looked up as Podman looks it up.
DEBIAN_RUNTIMES = ("runc", "crun")


class PodmanRuntime(Runtime):
    family = "Podman"
    start_s = 1.0

    def __init__(self, oci_runtime: str, host=None):
        self.oci_runtime = oci_runtime
        self.kind = f"podman-{oci_runtime}"
        self.column_order = 20 + self.oci_rank(oci_runtime)
        if oci_runtime not in DEBIAN_RUNTIMES:  # a runtime of the user's: the family says which
            self.family = f"Podman + {oci_runtime}"
        self._ended: list[str] = []  # batch containers that ended and wait for removal
        self._lock = threading.Lock()
        super().__init__(host)

    def podman(self, *args: str, timeout: float = 120, check: bool = True, input=None):
        return self.host.run([*self.host.podman_argv(), *args], timeout=timeout, check=check, input=input)

    def unavailable_reason(self) -> str | None:
        reason = self.host.unavailable_reason()
        if reason:
            return reason
        if not self.host.which("podman"):
            return "podman is not installed (apt-get install podman)"
        if self.oci_runtime in DEBIAN_RUNTIMES and not self.host.which(self.oci_runtime):
            return f"{self.oci_runtime} is not installed"
        try:
            self.podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            # The release says why as often as the error does: Podman 6 refuses any host
            # without cgroup v2 ("Cgroups v1 not supported"; docs/generations.md).
            try:
                version = self.podman("--version", timeout=30, check=False).stdout.strip()
            except subprocess.TimeoutExpired:
                version = ""
            return f"podman does not work here ({version or 'podman --version says nothing'}): {exc}"
        if self.oci_runtime not in DEBIAN_RUNTIMES and not self._runtime_path():
            return (f"podman has no runtime named {self.oci_runtime!r}: name it in containers.conf's [engine.runtimes] "
                    f"({self.oci_runtime} = [\"/path/to/it\"])")
        return None

    def _runtime_path(self) -> str:
        """The binary Podman runs for this runtime name (its own lookup: containers.conf's
        [engine.runtimes], then PATH), or "" where it knows none."""
        def ask():
            done = self.podman("--runtime", self.oci_runtime, "info", "--format", "{{.Host.OCIRuntime.Path}}",
                               timeout=60, check=False)
            return done.stdout.strip() if done.returncode == 0 else ""
        return self.once("runtime path", ask)

    def versions(self) -> dict:
        version = self.podman("version", "--format", "{{.Client.Version}}").stdout.strip()
        path = self._runtime_path()
        has_default = self.host.run(["test", "-e", DEFAULT_PROFILE], check=False).returncode == 0
        return {"engine": f"podman {version}", "oci_runtime": self.oci_runtime, "oci_runtime_path": path or None,
                **oci_runtime_version(path or self.oci_runtime, self.host),
                # Debian 13 and later ship the default profile in golang-github-containers-common
                "containers-common": next((v for v in self.host.package_versions(
                    ["containers-common", "golang-github-containers-common"]).values() if v), None),
                "default_profile": DEFAULT_PROFILE if has_default else None}

    def default_seccomp(self) -> dict | None:
        """Podman's default profile is a file, so what `default` asks can be read. Read once
        per run (every cell asks, and the file does not change during a run); the one dict is
        shared: read-only for its callers."""
        return self.once("default_seccomp", self._read_default_seccomp)

    def _read_default_seccomp(self) -> dict | None:
        text = self.host.read_text(DEFAULT_PROFILE)
        return json.loads(text) if text else None

    def _has(self, ref: str) -> bool:
        return self.podman("image", "exists", ref, check=False).returncode == 0

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        # Each podman command is a process of about 50 ms of CPU; an image's reference and
        # id do not change during a run, so they are asked once per run, not per batch.
        return self.once(("image", image_id), lambda: self._prepare_image(image_id))

    def _prepare_image(self, image_id: str) -> tuple[str, str]:
        recipe = images.lookup(image_id)
        if recipe is None:
            if not self._has(image_id):
                raise UsageError(f"image {image_id!r} is not in podman's store and there is no registry here")
            arch = self.podman("image", "inspect", "--format", "{{.Architecture}}", image_id).stdout.strip()
            return image_id, {"386": "i386"}.get(arch, arch)
        if not self.host.name:
            return PodmanTools().ensure(recipe), recipe.arch
        ref = "localhost/" + recipe.tag
        if not self._has(ref):
            with locked(f"import-podman-{self.host.name}-{recipe.id}-{recipe.hash}"):
                if not self._has(ref):
                    started = time.monotonic()
                    with open(images.build_tar(recipe), "rb") as tar:
                        self.host.run([*self.host.podman_argv(), "import", "-q", "-", ref], input=tar.read(),
                                      timeout=600)
                    loads.record(self.host.name, f"podman import {ref}", started)
        return ref, recipe.arch

    def probe_dir(self, arch: str = "amd64"):
        return placed_probe_dir(self.host, arch)

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        if self.host.name and images.lookup(image_id):
            # the same root file system as on this host: one libc reading serves every host
            return "rootfs-" + images.tar_digest(images.lookup(image_id))[:32]
        return self.once(("content key", image_ref), lambda: "podman-" + self.podman(
            "image", "inspect", "--format", "{{.Id}}", image_ref).stdout.strip()[:32])

    def _config_path(self, cid: str) -> str | None:
        """Where podman keeps a container's OCI config (what `podman inspect` calls
        OCIConfigPath: <graph root>/<driver>-containers/<id>/userdata/config.json), from the
        store asked once per run; None where the store cannot be read."""
        root, driver = self.once("store", self._store)
        return f"{root}/{driver}-containers/{cid}/userdata/config.json" if root and cid else None

    def _store(self) -> tuple[str, str]:
        proc = self.podman("info", "--format", "{{.Store.GraphRoot}} {{.Store.GraphDriverName}}", check=False)
        parts = proc.stdout.split()
        return (parts[0], parts[1]) if proc.returncode == 0 and len(parts) == 2 else ("", "")

    def _received_from(self, scratch: str):
        def read(name: str) -> tuple[dict | None, str]:
            """The seccomp section of the config.json podman handed the OCI runtime (kept in
            the container's userdata until the container is removed): found from the id podman
            wrote to --cidfile, else asked of `podman inspect`."""
            cid = (self.host.read_text(f"{scratch}/cid") or "").strip()
            path = self._config_path(cid)
            text = self.host.read_text(path) if path else None
            if not text:
                proc = self.podman("inspect", "--format", "{{.OCIConfigPath}}", name, check=False)
                path = proc.stdout.strip()
                if proc.returncode != 0 or not path:
                    return None, f"podman inspect gave no OCIConfigPath: {proc.stderr.strip()[-200:]}"
                text = self.host.read_text(path)
                if not text:
                    return None, f"{path} could not be read"
            return json.loads(text).get("linux", {}).get("seccomp") or {}, ""
        return read

    def _retire(self, name: str) -> None:
        with self._lock:
            self._ended.append(name)
            if len(self._ended) < REMOVE_AT_ONCE:
                return
            names, self._ended = self._ended, []
        self.podman("rm", "-f", "--ignore", *names, check=False, timeout=300)

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        name = f"fbc-{plan.session}-{uuid.uuid4().hex[:8]}"
        scratch = self.host.scratch("podman")
        try:
            security = ["--security-opt", "no-new-privileges"]
            if plan.seccomp == {}:
                security += ["--security-opt", "seccomp=unconfined"]
            elif plan.seccomp is not None:
                path = f"{scratch}/seccomp.json"
                self.host.write_text(path, plan.profile.render())
                security += ["--security-opt", f"seccomp={path}"]
            # --log-driver none: the output comes through podman's own stdout and stderr, so conmon
            # need not also write it to a log file (7 % of a `podman run`'s CPU here).
            argv = [*self.host.podman_argv(), "--runtime", self.oci_runtime, "run", "--name", name, "--network", "none",
                    "--log-driver", "none", "--cidfile", f"{scratch}/cid",
                    *security, *ULIMITS, "--pids-limit", str(PIDS_LIMIT), "--memory", MEMORY_LIMIT,
                    *_label_args(plan.labels), "-v", f"{plan.probe_dir}:/fbc:ro", "-w", "/tmp", plan.image_ref,
                    *plan.command()]
            return run_cli_batch(self.host, argv, plan, name, self._received_from(scratch))
        finally:
            self._retire(name)
            self.host.remove_tree(scratch)

    def cleanup(self, session: str | None) -> int:
        """Remove the containers of `session`; with None, those of runs that have ended."""
        if self.host.disposable or not self.host.which("podman"):
            return 0
        if session is not None:
            with self._lock:
                self._ended = []  # removed below with the rest of the session's
        label = f"{SESSION_LABEL}={session}" if session else LABEL
        listed = self.podman("ps", "-a", "--format", "json", "--filter", f"label={label}", check=False).stdout
        try:
            found = json.loads(listed or "[]")
        except ValueError:
            return 0
        ids = [c["Id"] for c in found if session is not None or runs.owner_is_gone(c.get("Labels"))]
        if ids:
            self.podman("rm", "-f", *ids, check=False)
        return len(ids)

