"""Batches in flight: several containers start and run at once, whatever the pytest mode.

A container start mostly waits on the kernel and the engine, not on this process, so even
two cores keep several batches busy. The scheduler runs batches on a small thread pool in
the order this process will need them (its own items, or under xdist the items already
queued for this worker), and a cell only waits for its own batch's result.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

# Batches in flight per pytest process. Measured on the 2-core machines this project runs on
# (docs/benchmark.md): 4 keeps the engine busy without making container starts queue.
DEFAULT_CONCURRENCY = 4
CONCURRENCY_ENV = "FALLBACKCHECK_BATCHES"


def concurrency(option: int | None) -> int:
    value = option or int(os.environ.get(CONCURRENCY_ENV) or DEFAULT_CONCURRENCY)
    return max(1, value)


def images_first(keys: list) -> list:
    """The first batch of every image ahead of the rest, the rest in their order: on a cold
    run the batches in flight then build different images at once (one build per image,
    under its lock) instead of queueing behind the first image's build. Warm, it moves a few
    batches forward."""
    firsts = list({key.image: key for key in reversed(keys)}.values())[::-1]
    chosen = set(firsts)
    return firsts + [key for key in keys if key not in chosen]


def run_order(keys: list, patchable) -> list:
    """The order a process that runs every cell takes its batches in (BatchKeys, given in the
    order their first cell was collected; `patchable(profile id)`: can the run write a fix
    for that profile).

    Profile by profile, the profiles the run can patch first: a profile's fix is planned and
    proven (fixruns.EarlyFixes) as soon as its last batch is judged, so the fix reruns run
    beside the batches of the profiles after it instead of after the last one. Within a
    profile the runtimes take turns: run runtime after runtime (the order pytest collects
    them in), the main job's two cores were only 60-70 % busy while the runc and crun batches
    ran (they start in milliseconds and leave little but this process's own work), the
    engines' batches queued together elsewhere. Then images_first (cold runs)."""
    blocks: dict[str, list] = {}
    for key in keys:
        blocks.setdefault(key.profile, []).append(key)
    out = []
    for profile in sorted(blocks, key=lambda p: not patchable(p)):  # stable: selection order otherwise
        by_runtime: dict[str, list] = {}
        for key in blocks[profile]:
            by_runtime.setdefault(key.runtime, []).append(key)
        out += [key for turn in itertools.zip_longest(*by_runtime.values()) for key in turn if key is not None]
    return images_first(out)


class BatchScheduler:
    """Runs `run(key)` for batch keys on a pool; `result(key)` waits for one (running it now
    if nobody asked for it yet)."""

    def __init__(self, run, workers: int):
        self._run = run
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fbc-batch")
        self._futures: dict[object, Future] = {}
        self._lock = threading.Lock()
        self._closed = False

    def want(self, keys) -> None:
        """Ask for these batches, in this order (already asked ones are not run again)."""
        with self._lock:
            for key in keys:
                if key not in self._futures and not self._closed:
                    self._futures[key] = self._pool.submit(self._run, key)

    def done(self, key) -> bool:
        """Whether the batch has its result already (asking does not start it)."""
        future = self._futures.get(key)
        return future is not None and future.done()

    def progress(self) -> tuple[int, int]:
        """(batches finished, batches asked for): for the progress line."""
        with self._lock:
            futures = list(self._futures.values())
        return sum(f.done() for f in futures), len(futures)

    def result(self, key):
        future = self._futures.get(key)  # asked already (every cell after its batch's first)
        if future is None:
            self.want([key])
            future = self._futures[key]
        return future.result()

    def close(self, cancel: bool, drop_queued: bool = False) -> None:
        """Stop: with `cancel`, batches not yet started never start (Ctrl-C); running ones end
        when the run's sweep removes their containers. With `drop_queued` (a run -x or
        --maxfail stopped), batches not yet started never start and the running ones are
        waited for: no cell will read them, but their containers must end before the clean-up."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel or drop_queued)

    def join(self) -> None:
        """Wait for the batches that are running (none starts any more)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)


class CellTiming:
    """Where a process's time goes while it runs cells: the span from its first cell to its
    last, and how much of it was spent waiting for batches. The rest is what pytest and the
    harness cost per cell (the benchmark reports it; tests never judge it)."""

    def __init__(self):
        self.first = self.last = None
        self.cpu_first = self.cpu_last = None  # this thread's CPU time (the cells run on it)
        self.proc_first = self.proc_last = None  # the process's, batch threads included
        # How long this thread was ready to run but had no core (Linux schedstat), at the
        # first cell and the end, and the part of it that fell while it waited for batches.
        self.queued_first = self.queued_last = None
        self.queued_while_waiting = 0.0
        self.blocked = 0.0
        self.cells = 0

    def cell_starts(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()
            self.cpu_first = time.thread_time()
            self.proc_first = time.process_time()
            self.queued_first = _queued_s()

    def cell_ends(self) -> None:
        self.last = time.perf_counter()
        self.cells += 1

    def finish(self) -> None:
        """The CPU clocks at the end of the cells (called when the session finishes, on the
        cells' thread): read once, not per cell, where the process clock cost 0.1 ms with
        batch threads running (py-spy)."""
        if self.cells:
            self.cpu_last = time.thread_time()
            self.proc_last = time.process_time()
            self.queued_last = _queued_s()

    @contextlib.contextmanager
    def waiting(self):
        """Time spent in here is waiting for batches (entered once or twice per batch)."""
        started, queued = time.perf_counter(), _queued_s()
        try:
            yield
        finally:
            self.blocked += time.perf_counter() - started
            now = _queued_s() if queued is not None else None
            if now is not None:
                self.queued_while_waiting += now - queued

    def as_dict(self) -> dict:
        span = (self.last - self.first) if self.first is not None and self.last is not None else 0.0
        ended = self.cpu_last is not None  # an interrupted run may stop inside its first cell
        # cpu_s: what the cells' thread itself computed in the span; the rest of the span it
        # waited for batches, for the GIL (batch threads) or for a core (probes, engines).
        queued = ended and self.queued_first is not None and self.queued_last is not None
        return {"cells": self.cells, "span_s": round(span, 4), "waiting_for_batches_s": round(self.blocked, 4),
                "cpu_s": round(self.cpu_last - self.cpu_first, 4) if ended else 0.0,
                "process_cpu_s": round(self.proc_last - self.proc_first, 4) if ended else 0.0,
                # of the time outside waiting for batches, how long the cells' thread had no core
                "core_wait_s": round(self.queued_last - self.queued_first - self.queued_while_waiting, 4)
                if queued else None}

    @staticmethod
    def combine(parts: list[dict]) -> dict:
        """Per-process timings -> the run's: summed, with the overhead per cell."""
        parts = [p for p in parts if p["cells"]]  # an xdist controller runs no cell itself
        cells = sum(p["cells"] for p in parts)
        busy = sum(p["span_s"] - p["waiting_for_batches_s"] for p in parts)
        return {"processes": len(parts), "cells": cells, "cell_span_s": round(sum(p["span_s"] for p in parts), 3),
                "waiting_for_batches_s": round(sum(p["waiting_for_batches_s"] for p in parts), 3),
                "process_cpu_s": round(sum(p.get("process_cpu_s", 0.0) for p in parts), 3),
                "cell_cpu_s": round(sum(p.get("cpu_s", 0.0) for p in parts), 3),
                "cpu_per_cell_ms": round(1000 * sum(p.get("cpu_s", 0.0) for p in parts) / cells, 3) if cells else None,
                "core_wait_per_cell_ms": round(1000 * sum(p["core_wait_s"] for p in parts) / cells, 3)
                if cells and all(p.get("core_wait_s") is not None for p in parts) else None,
                "overhead_per_cell_ms": round(1000 * busy / cells, 3) if cells else None}


def _queued_s() -> float | None:
    """Seconds the calling thread has spent ready to run without a core, so far (Linux
    schedstat's run delay); None where the kernel does not say."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None
