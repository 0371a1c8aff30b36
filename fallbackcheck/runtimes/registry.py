"""Runtime ids -> runtime objects. An id is `<kind>` (this host) or `<kind>@<host>` (an
engine generation or an engine host); `<kind>@*` means every generation."""

from __future__ import annotations

from ..errors import UsageError
from .base import Runtime

# The runtimes of this host that a run uses when --runtimes is not given (and local).
RUNTIME_IDS = ("docker-runc", "docker-crun", "podman-runc", "podman-crun", "runc", "crun", "local")
# Every kind a host can have (containerd's are opt-in: --runtimes containerd-runc,...).
KINDS = ("docker-runc", "docker-crun", "podman-runc", "podman-crun", "containerd-runc", "containerd-crun",
         "runc", "crun", "local")
_CACHE: dict[str, Runtime] = {}


def split_id(runtime_id: str) -> tuple[str, str]:
    kind, _, host = runtime_id.partition("@")
    if kind not in KINDS:
        raise UsageError(f"unknown runtime {runtime_id!r}: use one of {', '.join(KINDS)}, "
                         "optionally @<generation> or @* (every generation), or local@<kernel host> (local@linux-6.1)")
    return kind, host


def expand(runtime_id: str) -> list[str]:
    """`docker-crun@*` -> one id per generation; anything else -> itself."""
    from ..hosts.recipes import GENERATIONS

    kind, host = split_id(runtime_id)
    if host == "*":
        return [f"{kind}@{name}" for name in GENERATIONS]
    return [runtime_id]


def get(runtime_id: str) -> Runtime:
    kind, host_name = split_id(runtime_id)
    if kind == "local" and host_name:  # a kernel host booted in QEMU (kernels.py; says if unknown)
        if runtime_id not in _CACHE:
            from .kernel import KernelRuntime

            _CACHE[runtime_id] = KernelRuntime(host_name)
        return _CACHE[runtime_id]
    if runtime_id not in _CACHE:
        from ..hosts.registry import get as get_host

        host = get_host(host_name)
        family, _, oci = kind.rpartition("-")
        if family == "docker":
            from .docker import DockerRuntime

            runtime = DockerRuntime(oci, host)
        elif family == "podman":
            from .podman import PodmanRuntime

            runtime = PodmanRuntime(oci, host)
        elif family == "containerd":
            from .containerd import ContainerdRuntime

            runtime = ContainerdRuntime(oci, host)
        elif kind in ("runc", "crun"):
            from .oci import OciRuntime

            runtime = OciRuntime(kind, host)
        else:
            from .local import LocalRuntime

            runtime = LocalRuntime()
        _CACHE[runtime_id] = runtime
    return _CACHE[runtime_id]
