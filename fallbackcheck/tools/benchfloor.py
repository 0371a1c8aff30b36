"""The floor a matrix run is measured against (scripts/benchmark): what its containers and
probes cost by themselves, with no pytest and no harness around them.

floor = max(sum of bare container starts / batches in flight, sum of runner time / cores)

A bare start is one batch container running the runner with one trivial spec (the static
raw probe asked for nothing it knows: start, run, exit, remove), through the same runtime code the matrix uses; the runner time is what the probes
themselves took inside the batches (the runner times each probe). A warm run whose wall
time is close to the floor spends little on anything else.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict

from ..model import profiles
from .. import runs
from ..runtimes import get as get_runtime
from ..runtimes.base import BatchPlan


def bare_start_s(runtime_id: str, image: str = "debian-12", repetitions: int = 5) -> float:
    """Median seconds of one batch container with nothing to run, on `runtime_id`."""
    runtime = get_runtime(runtime_id)
    ref, arch = runtime.prepare_image(image)
    probe_dir = runtime.probe_dir(arch)
    plan = BatchPlan(image, ref, arch, profiles.parse("unconfined"), (f"bare=/fbc/{arch}/raw --list",), probe_dir,
                     5.0, runs.session())
    runtime.run_batch(plan)  # warm: first use may connect, load, unpack
    times = []
    try:
        for _ in range(repetitions):
            started = time.monotonic()
            output = runtime.run_batch(plan)
            times.append(time.monotonic() - started)
            if '"runner_done"' not in output.stdout:
                raise RuntimeError(f"a bare batch on {runtime_id} did not run: {output.stderr[-300:]}")
    finally:
        runtime.cleanup(plan.session)  # what a runtime removes in bulk (podman) goes too
    return statistics.median(times)


def batch_facts(cells: list[dict]) -> dict[tuple, dict]:
    """Per batch: its runtime, duration and the runner's own time (sum of probe times)."""
    batches: dict[tuple, dict] = {}
    seen: dict[tuple, set] = defaultdict(set)
    for c in cells:
        key = (c["image"], c["runtime"], c["profile"])
        facts = batches.setdefault(key, {"runtime": c["runtime"], "duration_s": (c.get("batch") or {}).get(
            "duration_s") or 0.0, "runner_s": 0.0})
        elapsed = (c.get("observation") or {}).get("elapsed_ms")
        if elapsed is not None and c["probe"] not in seen[key]:
            seen[key].add(c["probe"])
            facts["runner_s"] += elapsed / 1000
    return batches


def floor(cells: list[dict], bare: dict[str, float], slots: int, cores: int | None = None) -> dict:
    """The floor of a run from its cells, the bare start per runtime and the batches in flight."""
    cores = cores or os.cpu_count() or 1
    batches = batch_facts(cells)
    starts = sum(bare[b["runtime"]] for b in batches.values())
    runner = sum(b["runner_s"] for b in batches.values())
    return {"batches": len(batches), "sum_bare_starts_s": round(starts, 2), "sum_runner_s": round(runner, 2),
            "slots": slots, "cores": cores, "floor_s": round(max(starts / slots, runner / cores), 2),
            "sum_batch_s": round(sum(b["duration_s"] for b in batches.values()), 2)}
