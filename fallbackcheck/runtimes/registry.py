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


OCI_PREFIX = "oci:"  # oci:/path/to/runtime: any binary with runc's command line


def split_id(runtime_id: str) -> tuple[str, str]:
    if runtime_id.startswith(OCI_PREFIX):
        check_oci_binary(runtime_id[len(OCI_PREFIX):])
        return runtime_id, ""
    kind, _, host = runtime_id.partition("@")
    if kind not in KINDS:
        raise UsageError(f"unknown runtime {runtime_id!r}: use one of {', '.join(KINDS)}, "
                         "optionally @<generation> or @* (every generation), local@<kernel host> (local@linux-6.1), "
                         "or oci:/path/to/runtime (a runtime binary with runc's command line)")
    return kind, host


def check_oci_binary(path: str) -> None:
    """oci:<path>: an absolute path to an executable file on this machine."""
    import os

    if not path.startswith("/"):
        raise UsageError(f"runtime oci:{path}: give the runtime binary's absolute path (oci:/usr/local/bin/runc)")
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise UsageError(f"runtime oci:{path}: no executable file there")


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
        elif kind.startswith(OCI_PREFIX):
            from .oci import OciRuntime

            runtime = OciRuntime(kind[len(OCI_PREFIX):], host, kind=kind)
        else:
            from .local import LocalRuntime

            runtime = LocalRuntime()
        _CACHE[runtime_id] = runtime
    return _CACHE[runtime_id]
