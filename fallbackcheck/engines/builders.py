"""The engine that compiles the probes and builds helper images: Docker when reachable, else
podman's command line (PodmanTools), for machines with podman but no Docker engine. Apart
from the runtimes: finding a probe build must not import a runtime."""

from __future__ import annotations

import shutil
import subprocess
import time

from ..artefacts import images
from .. import runs
from ..cache import locked
from . import loads
from .docker import engine

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
                    started = time.monotonic()
                    podman("import", "-q", str(images.build_tar(recipe)), ref, timeout=600)
                    loads.record("", f"podman import {ref}", started)
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
