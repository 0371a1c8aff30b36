"""Runtime ids -> runtime objects. An id is `<kind>` (this host) or `<kind>@<host>` (an
engine generation or an engine host); `<kind>@*` means every generation."""

from __future__ import annotations

import re

from ..artefacts.kernels import is_kernel_host
from ..errors import UsageError
from .base import Runtime

# The runtimes of this host that a run uses when --runtimes is not given (and local).
RUNTIME_IDS = ("docker-runc", "docker-crun", "podman-runc", "podman-crun", "runc", "crun", "local")
# Kinds from other packages: an entry point `<kind> = module:factory` in this group, the
# factory called as factory(host) with the host the id names (this host for `<kind>`).
ENTRY_POINT_GROUP = "fallbackcheck.runtimes"
_CACHE: dict[str, Runtime] = {}


def _engine_kind(family: str, oci: str):
    def make(host):
        if family == "docker":
            from .docker import DockerRuntime as cls
        elif family == "podman":
            from .podman import PodmanRuntime as cls
        else:
            from .containerd import ContainerdRuntime as cls
        return cls(oci, host)
    return make


def _oci_kind(name: str):
    def make(host):
        from .oci import OciRuntime

        return OciRuntime(name, host)
    return make


def _local(host):
    from .local import LocalRuntime

    return LocalRuntime()


def _systemd_run(systemd_host: str):
    from .systemdrun import make

    return make(systemd_host)


def _sandbox(module: str, name: str):
    """A sandbox kind (runtimes/sandbox.py): its own module, imported when asked for."""
    def make(host):
        from importlib import import_module

        from .sandbox import on_this_machine

        return on_this_machine(getattr(import_module(f".{module}", __package__), name))(host)
    return make


# Every kind a host can have -> how to make its runtime on a host (containerd's are opt-in:
# --runtimes containerd-runc,...). A kind is here or it is unknown: nothing falls back to
# another kind.
BUILTIN_KINDS = {
    **{f"{family}-{oci}": _engine_kind(family, oci) for family in ("docker", "podman", "containerd")
       for oci in ("runc", "crun")},
    "runc": _oci_kind("runc"), "crun": _oci_kind("crun"), "local": _local,
    # Sandboxes that are not OCI runtimes (opt-in, like containerd's: --runtimes bwrap,...).
    "bwrap": _sandbox("bwrap", "BwrapRuntime"), "nspawn": _sandbox("nspawn", "NspawnRuntime"),
    "firejail": _sandbox("firejail", "FirejailRuntime"), "flatpak": _sandbox("flatpak", "FlatpakRuntime"),
    # A transient systemd service in a container whose PID 1 is systemd (systemdrun.py);
    # `systemd-run@<name>`: another [systemd.<name>] recipe, not an engine generation.
    "systemd-run": lambda host: _systemd_run(""),
}
KINDS = tuple(BUILTIN_KINDS)  # in the order error messages list them
# docker-<name> / podman-<name>: any OCI runtime registered in dockerd under <name> (`docker info`
# -> Runtimes: a youki, a runsc, a wrapper) or in Podman's containers.conf ([engine.runtimes]);
# whether it is registered is the runtime's unavailable_reason.
ENGINE_REGISTERED = re.compile(r"(docker|podman)-([A-Za-z0-9][A-Za-z0-9_.+-]*)")


def engine_registered(kind: str):
    """The factory of an engine-registered runtime's kind, or None."""
    match = ENGINE_REGISTERED.fullmatch(kind)
    return _engine_kind(match.group(1), match.group(2)) if match else None


def plugin_kinds() -> dict:
    """The kinds other installed packages register (ENTRY_POINT_GROUP), loaded on first use;
    one that clashes with a built-in kind or does not load is one ERROR line."""
    if _PLUGINS is None:
        from importlib.metadata import entry_points

        found = {}
        for point in entry_points(group=ENTRY_POINT_GROUP):
            if point.name in BUILTIN_KINDS or point.name.startswith((OCI_PREFIX, WRAP_PREFIX)) or "@" in point.name:
                raise UsageError(f"runtime plug-in {point.value}: kind {point.name!r} clashes with fallbackcheck's own; "
                                 "give it another name")
            try:
                factory = point.load()
            except Exception as exc:
                raise UsageError(f"runtime plug-in {point.name} ({point.value}) does not load: {exc}") from None
            if not callable(factory):
                raise UsageError(f"runtime plug-in {point.name} ({point.value}) is not callable")
            found[point.name] = factory
        globals()["_PLUGINS"] = found
    return _PLUGINS


_PLUGINS: dict | None = None


OCI_PREFIX = "oci:"  # oci:/path/to/runtime: any binary with runc's command line


WRAP_PREFIX = "wrap:"  # wrap:<command>: a sandbox command the runner is appended to (wrap.py)


def split_id(runtime_id: str) -> tuple[str, str]:
    if runtime_id.startswith(OCI_PREFIX):
        check_oci_binary(runtime_id[len(OCI_PREFIX):])
        return runtime_id, ""
    if runtime_id.startswith(WRAP_PREFIX):  # the command is the user's: an '@' in it names no host
        from .wrap import parse_command

        parse_command(runtime_id[len(WRAP_PREFIX):])
        return runtime_id, ""
    kind, _, host = runtime_id.partition("@")
    if kind not in BUILTIN_KINDS and kind not in plugin_kinds() and engine_registered(kind) is None:
        raise UsageError(f"unknown runtime {runtime_id!r}: use one of {', '.join((*KINDS, *plugin_kinds()))}, "
                         "optionally @<generation> or @* (every generation), local@<kernel host> (local@linux-6.1), "
                         "docker-<name> or podman-<name> (a runtime registered in the engine under <name>), "
                         "oci:/path/to/runtime (a runtime binary with runc's command line), or wrap:<command> "
                         "(a sandbox command the runner is appended to)")
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
    if host == "*" and kind == "systemd-run":
        from ..hosts.recipes import SYSTEMD_HOSTS

        return [kind if name == "debian-12" else f"{kind}@{name}" for name in SYSTEMD_HOSTS]
    if host == "*":
        return [f"{kind}@{name}" for name in GENERATIONS]
    return [runtime_id]


def _kernel_local(host: str):
    from .kernel import KernelRuntime

    return KernelRuntime(host)


def _kernel_oci(binary: str):
    def make(host: str):
        from .kernel_oci import KernelOciRuntime

        return KernelOciRuntime(binary, host)
    return make


# The kinds that run on a kernel host (<kind>@linux-...: a Debian kernel booted in QEMU) rather
# than on an engine host: `local`'s filter helper, and runc or crun from the OCI host root.
KERNEL_HOST_KINDS = {"local": _kernel_local, "runc": _kernel_oci("runc"), "crun": _kernel_oci("crun")}


def get(runtime_id: str) -> Runtime:
    kind, host_name = split_id(runtime_id)
    if host_name and kind in KERNEL_HOST_KINDS and (kind == "local" or is_kernel_host(host_name)):
        if runtime_id not in _CACHE:  # a kernel host booted in QEMU (kernels.py; says if unknown)
            _CACHE[runtime_id] = KERNEL_HOST_KINDS[kind](host_name)
        return _CACHE[runtime_id]
    if kind == "systemd-run":  # its `@` names a systemd host (systemdrun.make), not an engine host
        if runtime_id not in _CACHE:
            _CACHE[runtime_id] = _systemd_run(host_name)
        return _CACHE[runtime_id]
    if runtime_id not in _CACHE:
        from ..hosts.registry import get as get_host

        host = get_host(host_name)
        if kind.startswith(OCI_PREFIX):
            from .oci import OciRuntime

            runtime = OciRuntime(kind[len(OCI_PREFIX):], host, kind=kind)
        elif kind.startswith(WRAP_PREFIX):
            from .wrap import WrapRuntime

            runtime = WrapRuntime(kind[len(WRAP_PREFIX):], host)
        else:
            runtime = (BUILTIN_KINDS.get(kind) or plugin_kinds().get(kind) or engine_registered(kind))(host)
        _CACHE[runtime_id] = runtime
    return _CACHE[runtime_id]
