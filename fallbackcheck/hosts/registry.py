"""Host names -> host objects: "" is this host, a generation name (images/recipes.toml
[engine.*]) a provisioned engine generation, an --engine-hosts name an ssh machine."""

from __future__ import annotations

from ..errors import UsageError
from .base import Host
from .recipes import GENERATIONS

_STATE: dict = {"session": None, "engine_hosts": {}}
_HOSTS: dict[str, Host] = {}


def configure(session: str, engine_hosts: dict[str, str] | None = None) -> None:
    """Called once per process before any host is asked for (the session labels every
    generation container; engine hosts come from --engine-hosts)."""
    _STATE["session"] = session
    _STATE["engine_hosts"] = dict(engine_hosts or {})
    for name in _STATE["engine_hosts"]:
        if name in GENERATIONS:
            raise UsageError(f"--engine-hosts: {name!r} is already a generation's name; choose another")


def session() -> str:
    if _STATE["session"] is None:
        import os
        import uuid

        _STATE["session"] = os.environ.get("FALLBACKCHECK_SESSION") or "s-" + uuid.uuid4().hex[:12]
    return _STATE["session"]


def known() -> list[str]:
    return [*GENERATIONS, *_STATE["engine_hosts"]]


def get(name: str) -> Host:
    if not name:
        from . import this_host

        return this_host()
    if name not in _HOSTS:
        if name in GENERATIONS:
            from .generation import Generation

            _HOSTS[name] = Generation(GENERATIONS[name], session())
        elif name in _STATE["engine_hosts"]:
            from .ssh import SshHost

            _HOSTS[name] = SshHost(name, _STATE["engine_hosts"][name])
        else:
            raise UsageError(f"unknown engine host {name!r}: generations are {', '.join(GENERATIONS)}"
                             + (f"; engine hosts {', '.join(_STATE['engine_hosts'])}" if _STATE["engine_hosts"]
                                else "; machines reached over ssh are named with --engine-hosts name=ssh://user@host")
                             + "; kernel hosts run local@, runc@ and crun@<kernel host> (local@linux-6.1, runc@linux-6.12-arm64)")
    return _HOSTS[name]


def started() -> list[Host]:
    """The hosts this process has made objects for (to clean up at the end)."""
    return list(_HOSTS.values())
