"""This machine, as today: its own dockerd, podman, containerd, runc and crun."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .base import Host, completed


def _environment(extra: dict | None) -> dict | None:
    """None (inherit) unless variables are added: batch threads must not iterate os.environ
    while pytest changes it in the main thread (a KeyError, measured on main)."""
    if not extra:
        return None
    return {**os.environ.copy(), **extra}


class ThisHost(Host):
    name = ""

    def run(self, argv, *, input=None, timeout=120, check=True, env=None):
        proc = subprocess.run(argv, input=input, capture_output=True, text=not isinstance(input, bytes),
                              errors=None if isinstance(input, bytes) else "replace",
                              timeout=timeout, env=_environment(env))
        return completed(argv, proc, check, "this host")

    def docker(self):
        from ..engines.docker import engine

        return engine()

    def place(self, local: Path) -> str:
        return str(local)

    def read_text(self, path: str) -> str | None:
        try:
            return Path(path).read_text()
        except OSError:
            return None

    # Files of this machine directly, not through a process each (the base class's way for
    # hosts reached by a command): every OCI-runtime and podman batch writes its bundle's
    # config and removes its scratch directory.
    def write_text(self, path: str, text: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)

    def remove_tree(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def libseccomp_knows(self, name: str, arch: str) -> bool | None:
        from ..model.behaviours import host_libseccomp_knows

        return host_libseccomp_knows(name, arch)

    def scratch(self, name: str) -> str:
        return tempfile.mkdtemp(prefix=f"fbc-{name}-")


THIS_HOST = ThisHost()
