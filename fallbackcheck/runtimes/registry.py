"""Runtime ids -> runtime objects."""

from __future__ import annotations

from ..errors import UsageError
from .base import Runtime

RUNTIME_IDS = ("docker-runc", "docker-crun", "podman-runc", "podman-crun", "runc", "crun", "local")
_CACHE: dict[str, Runtime] = {}


def get(runtime_id: str) -> Runtime:
    if runtime_id not in RUNTIME_IDS:
        raise UsageError(f"unknown runtime {runtime_id!r}: use one of {', '.join(RUNTIME_IDS)}")
    if runtime_id not in _CACHE:
        if runtime_id.startswith("docker-"):
            from .docker import DockerRuntime

            _CACHE[runtime_id] = DockerRuntime(runtime_id.split("-", 1)[1])
        elif runtime_id.startswith("podman-"):
            from .podman import PodmanRuntime

            _CACHE[runtime_id] = PodmanRuntime(runtime_id.split("-", 1)[1])
        elif runtime_id in ("runc", "crun"):
            from .oci import OciRuntime

            _CACHE[runtime_id] = OciRuntime(runtime_id)
        elif runtime_id == "local":
            from .local import LocalRuntime

            _CACHE[runtime_id] = LocalRuntime()
    return _CACHE[runtime_id]
