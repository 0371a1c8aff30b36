"""What a matrix run is asked to do: the command line's options as plain values."""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class RunOptions:
    images: str | None = None
    runtimes: str | None = None
    profiles: str | None = None
    probes: str | None = None
    shard: str | None = None
    report_dir: str | None = None
    batches: int | None = None  # batches in flight per process (None: the default)
    probe_timeout: float = 10.0
    engine_hosts: str | None = None
    baseline: str | None = None
    no_fixes: bool = False
    summary: str | None = None
    # Whether each cell's facts are wanted as JUnit properties (--junitxml, --report-log).
    wants_properties: bool = False

    @classmethod
    def from_namespace(cls, ns, wants_properties: bool = False) -> "RunOptions":
        """From an argparse-like namespace with these names (pytest's config.option)."""
        names = [f for f in cls.__dataclass_fields__ if f != "wants_properties"]
        return cls(**{n: getattr(ns, n) for n in names if hasattr(ns, n)}, wants_properties=wants_properties)


def positive_seconds(text: str) -> float:
    """argparse type: a positive number of seconds (pytest turns the error into one line)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds greater than 0")
    return value
