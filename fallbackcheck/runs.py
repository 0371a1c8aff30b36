"""The run a process belongs to: its session id, the labels every container of the run
carries, and how a later run tells a dead run's leftovers from a live run's containers.

Every container fallbackcheck creates (batch, tool, engine) carries three labels:
`fallbackcheck=<kind>`, `fallbackcheck.session=<session>` (the run's id, so the run can
sweep its own containers at the end, Ctrl-C included) and `fallbackcheck.owner=<host>/<pid>`
(the controller process of the run). A container whose owner process on this machine is
gone was left by a run that could not remove it (an engine that was down at the time):
the next run, or prune, removes it. A live owner's containers are never touched, so two
runs at once leave each other alone.
"""

from __future__ import annotations

import os
import socket

LABEL = "fallbackcheck"
SESSION_LABEL = "fallbackcheck.session"
OWNER_LABEL = "fallbackcheck.owner"

_current = {"session": None, "owner": None}


def start(session: str, owner_pid: int | None = None) -> None:
    """Called once per process by the plugin (workers pass their controller's pid)."""
    _current["session"] = session
    _current["owner"] = f"{socket.gethostname()}/{owner_pid or os.getpid()}"


def session() -> str:
    if _current["session"] is None:  # library use outside a pytest run
        start(f"adhoc-{os.getpid()}")
    return _current["session"]


def owner() -> str:
    session()
    return _current["owner"]


def labels(kind: str, session_id: str | None = None) -> dict[str, str]:
    """The labels of a container of this run; `kind` is batch | tool | engine."""
    return {LABEL: kind, SESSION_LABEL: session_id or session(), OWNER_LABEL: owner()}


def owner_is_gone(labels_of_container: dict | None) -> bool:
    """Whether the run that made a container has ended on this machine (so its container
    is a leftover). Containers of other machines, or without an owner label, are kept."""
    value = (labels_of_container or {}).get(OWNER_LABEL, "")
    host, _, pid = value.rpartition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
