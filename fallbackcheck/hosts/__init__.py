"""Engine hosts: WHERE batches run (this host, engine generations, ssh machines)."""

from __future__ import annotations

from .base import Host


def this_host() -> Host:
    from .this import THIS_HOST

    return THIS_HOST
