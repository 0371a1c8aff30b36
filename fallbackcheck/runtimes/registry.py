"""Runtime ids -> runtime objects."""

from __future__ import annotations

from ..errors import UsageError
from .base import Runtime

RUNTIME_IDS = ("docker-runc", "docker-crun", "podman-runc", "podman-crun", "runc", "crun", "local")
_CACHE: dict[str, Runtime] = {}


def _get_on_host(runtime_id: str) -> Runtime:
    """`<runtime>@<host>`: so far `local@<kernel host>` (local@linux-6.1, kernels.py)."""
    from .. import kernels

    runtime, host = runtime_id.split("@", 1)
    if runtime != "local" or not kernels.is_kernel_host(host):
        raise UsageError(f"unknown runtime {runtime_id!r}: a kernel host is local@<kernel host>, e.g. "
                         f"{', '.join('local@' + h for h in kernels.host_ids())}")
    from .kernel import KernelRuntime

    return KernelRuntime(host)


def get(runtime_id: str) -> Runtime:
    if "@" in runtime_id:
        if runtime_id not in _CACHE:
            _CACHE[runtime_id] = _get_on_host(runtime_id)
        return _CACHE[runtime_id]
    if runtime_id not in RUNTIME_IDS:
        raise UsageError(f"unknown runtime {runtime_id!r}: use one of {', '.join(RUNTIME_IDS)}, "
                         "or local@<kernel host> (local@linux-6.1)")
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
