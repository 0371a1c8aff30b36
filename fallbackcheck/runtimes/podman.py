"""podman-runc and podman-crun: one container per batch through the podman CLI.

Podman takes the seccomp profile as a file path (its Docker-compatible API would too:
docs/runtimes.md, "Handing a profile over"), and its default rlimits exceed these machines'
hard limits, so every run passes explicit --ulimit values (docs/design.md, "Host set-up").
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from .. import images, probebuild, runs
from ..cache import locked
from ..errors import UsageError
from .base import LABEL, MEMORY_LIMIT, PIDS_LIMIT, SESSION_LABEL, BatchOutput, BatchPlan, Runtime, oci_runtime_version
from .docker_engine import engine

DEFAULT_PROFILE = Path("/usr/share/containers/seccomp.json")
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def _label_args(labels: dict) -> list[str]:
    return [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["podman", *args], capture_output=True, text=True, errors="replace", timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError(f"podman {args[0]} failed: {proc.stderr.strip()[-800:]}")
    return proc


class PodmanTools:
    """What probebuild needs from an engine (ensure an image, run a tool container),
    through podman, for machines that have podman but no Docker engine."""

    def ensure(self, recipe: images.Recipe) -> str:
        ref = "localhost/" + recipe.tag
        if podman("image", "exists", ref, check=False).returncode != 0:
            with locked(f"import-podman-{recipe.id}-{recipe.hash}"):
                if podman("image", "exists", ref, check=False).returncode != 0:
                    podman("import", "-q", str(images.build_tar(recipe)), ref, timeout=600)
        return ref

    def run_tool(self, ref: str, command: list[str], volumes: dict) -> str:
        mounts = []
        for host, spec in volumes.items():
            mounts += ["-v", f"{host}:{spec['bind']}:{spec['mode']}"]
        proc = podman("run", "--rm", "--network", "none", *ULIMITS, *_label_args(runs.labels("tool")), *mounts,
                      ref, *command, check=False, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed in {ref}: {(proc.stdout + proc.stderr)[-2000:]}")
        return proc.stdout + proc.stderr


def probe_builder():
    """The engine that compiles the probes: Docker when reachable, else podman."""
    if engine().unavailable_reason() is None:
        return engine()
    if shutil.which("podman"):
        return PodmanTools()
    raise RuntimeError(f"no engine to compile the probes in: {engine().unavailable_reason()}; and no podman")


class PodmanRuntime(Runtime):
    def __init__(self, oci_runtime: str):
        self.oci_runtime = oci_runtime
        self.id = f"podman-{oci_runtime}"

    def unavailable_reason(self) -> str | None:
        if shutil.which("podman") is None:
            return "podman is not installed (apt-get install podman)"
        if shutil.which(self.oci_runtime) is None:
            return f"{self.oci_runtime} is not installed"
        try:
            podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return f"podman does not work here: {exc}"
        return None

    def versions(self) -> dict:
        version = podman("version", "--format", "{{.Client.Version}}").stdout.strip()
        return {"engine": f"podman {version}", "oci_runtime": self.oci_runtime,
                **oci_runtime_version(shutil.which(self.oci_runtime) or self.oci_runtime),
                "default_profile": str(DEFAULT_PROFILE) if DEFAULT_PROFILE.exists() else None}

    def default_seccomp(self) -> dict | None:
        """Podman's default profile is a file, so what `default` asks can be read."""
        return json.loads(DEFAULT_PROFILE.read_text()) if DEFAULT_PROFILE.exists() else None

    def _has(self, ref: str) -> bool:
        return podman("image", "exists", ref, check=False).returncode == 0

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        recipe = images.lookup(image_id)
        if recipe is None:
            if not self._has(image_id):
                raise UsageError(f"image {image_id!r} is not in podman's store and there is no registry here")
            arch = podman("image", "inspect", "--format", "{{.Architecture}}", image_id).stdout.strip()
            return image_id, {"386": "i386"}.get(arch, arch)
        return PodmanTools().ensure(recipe), recipe.arch

    def probe_dir(self, arch: str = "amd64") -> Path:
        return probebuild.build_all(probe_builder(), arch)

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        return "podman-" + podman("image", "inspect", "--format", "{{.Id}}", image_ref).stdout.strip()[:32]

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        name = f"fbc-{plan.session}-{uuid.uuid4().hex[:8]}"
        with tempfile.TemporaryDirectory(prefix="fbc-podman-") as tmp:
            security = ["--security-opt", "no-new-privileges"]
            if plan.profile.kind == "unconfined":
                security += ["--security-opt", "seccomp=unconfined"]
            elif plan.profile.oci is not None:
                path = Path(tmp) / "seccomp.json"
                path.write_text(plan.profile.render())
                security += ["--security-opt", f"seccomp={path}"]
            argv = ["podman", "--runtime", self.oci_runtime, "run", "--name", name, "--network", "none",
                    *security, *ULIMITS, "--pids-limit", str(PIDS_LIMIT), "--memory", MEMORY_LIMIT,
                    *_label_args(runs.labels("batch", plan.session)),
                    "-v", f"{plan.probe_dir}:/fbc:ro", "-w", "/tmp", plan.image_ref,
                    "/fbc/amd64/runner", "-t", f"{plan.probe_timeout_s:g}", *plan.specs]
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                                      timeout=plan.overall_timeout_s)
                return BatchOutput(proc.stdout, proc.stderr, proc.returncode, name)
            except subprocess.TimeoutExpired as exc:
                return BatchOutput(exc.stdout or "", exc.stderr or "", None, name, timed_out=True)
            finally:
                podman("rm", "-f", "--ignore", name, check=False, timeout=120)

    def cleanup(self, session: str | None) -> int:
        """Remove the containers of `session`; with None, those of runs that have ended."""
        if shutil.which("podman") is None:
            return 0
        label = f"{SESSION_LABEL}={session}" if session else LABEL
        listed = podman("ps", "-a", "--format", "json", "--filter", f"label={label}", check=False).stdout
        try:
            found = json.loads(listed or "[]")
        except ValueError:
            return 0
        ids = [c["Id"] for c in found if session is not None or runs.owner_is_gone(c.get("Labels"))]
        if ids:
            podman("rm", "-f", *ids, check=False)
        return len(ids)
