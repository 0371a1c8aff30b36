"""What a matrix run is asked to do: its command-line options (COMMAND_LINE: flag and
argparse keywords, which the pytest plugin adds to pytest's) and their values (RunOptions)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..execution.scheduler import DEFAULT_CONCURRENCY


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


COMMAND_LINE = (
    ("--images", dict(help="comma-separated image ids (debian-11,debian-12,... or registry/name:tag)")),
    ("--runtimes", dict(help="comma-separated runtime ids (docker-runc,docker-crun,...,local)")),
    ("--profiles", dict(help="comma-separated profile ids (unconfined,default,deny:clone3:EPERM,vintage:5.2:EPERM,"
                             "file:path.json) or sets: sweep (deny each catalogued syscall with EPERM and ENOSYS), "
                             "vintages (LTS-kernel vintages)")),
    ("--probes", dict(help="comma-separated probe ids or globs (pthread_create,raw:*)")),
    ("--report-dir", dict(default=None, help="where matrix.json/.md/.html go (default: reports/ of the checkout, "
                                             "else ./reports)")),
    ("--batches", dict(type=int, default=None, metavar="N",
                       help=f"batches in flight at once per pytest process (default {DEFAULT_CONCURRENCY}, "
                            "or $FALLBACKCHECK_BATCHES)")),
    ("--probe-timeout", dict(type=positive_seconds, default=10.0,
                             help="seconds each probe may run (default 10; must be > 0)")),
    ("--engine-hosts", dict(help="comma-separated name=ssh://user@host[:port] machines whose engines become "
                                 "runtimes <kind>@<name>")),
    ("--baseline", dict(help="an earlier matrix.json: cells whose outcome, works, delivered errno or verdict "
                             "changed fail, and the report lists them")),
    ("--no-fixes", dict(action="store_true", help="do not write patched profiles to <report-dir>/fixes/ nor rerun "
                                                  "cells under them")),
    ("--shard", dict(metavar="K/N", help="run only the K-th of N parts of the selection, split by batch (never a "
                                         "batch across shards) and balanced by expected cost; merge the N reports "
                                         "with fallbackcheck.report.merge")),
    ("--summary", dict(help="write a short Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when that "
                            "is set)")),
)
