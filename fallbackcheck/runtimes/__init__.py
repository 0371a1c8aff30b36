"""Runtimes: how a batch's container (or, for `local`, its filtered process) is started."""

from __future__ import annotations

from .base import BatchOutput, BatchPlan, Runtime
from .registry import RUNTIME_IDS, get

__all__ = ["BatchOutput", "BatchPlan", "Runtime", "RUNTIME_IDS", "get"]
