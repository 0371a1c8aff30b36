"""The end of a run (Ctrl-C and SIGTERM included): every generation container of the
session and its per-run volume go; ssh forwards close."""

from __future__ import annotations

from . import registry
from .generation import cleanup_generations


def cleanup_hosts(session: str | None) -> int:
    removed = 0
    for host in registry.started():
        if not host.disposable:
            try:
                removed += host.cleanup(session)
            except Exception:  # one host's failure must not keep the others' containers
                pass
    return removed + cleanup_generations(session)


def leftovers(session: str) -> list[str]:
    """What of `session` is still on this machine's engines after the clean-up (Docker
    containers and volumes, Podman containers), by label: what a stopped run reports."""
    import json
    import shutil
    import subprocess

    from ..runs import SESSION_LABEL
    from ..engines.docker import engine

    found: list[str] = []
    client = engine().client if not engine().unavailable_reason() else None
    if client is not None:
        label = {"label": f"{SESSION_LABEL}={session}"}
        try:
            found += [f"container {c['Names'][0].lstrip('/')}" for c in client.api.containers(all=True, filters=label)]
            found += [f"volume {v['Name']}" for v in client.api.volumes(filters=label).get("Volumes") or []]
        except Exception as exc:
            found.append(f"(the Docker engine could not be asked: {type(exc).__name__})")
    if shutil.which("podman"):
        proc = subprocess.run(["podman", "ps", "-a", "--format", "json", "--filter", f"label={SESSION_LABEL}={session}"],
                              capture_output=True, text=True, timeout=30, check=False)
        try:
            found += [f"podman container {c['Names'][0]}" for c in json.loads(proc.stdout or "[]")]
        except ValueError:
            pass
    return found
