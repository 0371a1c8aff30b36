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
