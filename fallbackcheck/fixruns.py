"""Proving the fixes: the broken cells of each patched profile, run again under it.

One batch (one container) per (image, runtime, patched profile), as many at once as
--batches allows; rows carry fix_of and fix_group, so views count the proof per cause group.

When one process runs every cell (-n 0, or -n auto on machines with up to 4 cores), every
row is known as soon as the last batch is judged, which is well before pytest has reported
the last cell: EarlyFixes plans and proves the fixes then, while the engines would otherwise
sit idle. The report uses that work only if it was planned from exactly the cells that ran
(a run cut short by -x plans again from what it has). Under xdist workers the controller
plans at the end of the run.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from . import fixes
from .batch import BatchKey, run as run_batch
from .profiles import Profile
from .runtimes import get as get_runtime
from .scheduler import concurrency


def rerun(run, planned: list, stop: threading.Event | None = None) -> list[dict]:
    """The rows of every fix's reruns; with `stop` set, jobs not yet started are skipped."""
    jobs = [(fix, image, runtime_id, probes) for fix in planned
            for (image, runtime_id), probes in fix.batches().items()]

    def one(job) -> list[dict]:
        if stop is not None and stop.is_set():
            return []
        fix, image, runtime_id, probes = job
        key = BatchKey(image, runtime_id, fix.profile_id)
        profile = Profile(fix.profile_id, "file", fix.patched)
        runtime = get_runtime(runtime_id)
        result = run_batch(runtime, run.catalogue, key, profile, probes, run.session,
                           run.config.option.probe_timeout, run.baselines.get(runtime.machine))
        rows = run.judged(key, result, profile, probes)
        return [{**row, "fix_of": fix.profile, "fix_group": fix.group_of(probe, image, runtime_id)}
                for probe, row in rows.items()]

    with ThreadPoolExecutor(max_workers=concurrency(run.config.option.batches),
                            thread_name_prefix="fbc-fix") as pool:
        return [row for rows in pool.map(one, jobs) for row in rows]


def cell_keys(rows) -> frozenset:
    return frozenset((r["probe"], r["image"], r["runtime"], r["profile"]) for r in rows)


class EarlyFixes:
    """Plans and proves the fixes in a thread of its own once every batch in `keys` is
    judged (run.scheduler.result(key) -> probe -> row)."""

    def __init__(self, run, keys: list[BatchKey]):
        self.run = run
        self.keys = list(keys)
        self.stopping = threading.Event()
        self.future: Future = Future()
        threading.Thread(target=self._work, name="fbc-early-fixes", daemon=True).start()

    def _work(self) -> None:
        try:
            rows = [row for key in self.keys for row in self.run.scheduler.result(key).values()]
            self.run.phase("batches_judged")
            if self.stopping.is_set():
                raise RuntimeError("stopped")
            planned, notes = fixes.plan(rows, self.run.selection.profiles, self.run.report_dir / "fixes",
                                        self.run.catalogue, fixes.newer_default(), write=False)
            proven = rerun(self.run, planned, self.stopping)
            self.run.phase("early_fixes_proven")
            self.future.set_result((cell_keys(rows), planned, notes, proven))
        except BaseException as exc:  # the end of the run plans again; nothing is lost
            self.future.set_exception(exc)

    def stop(self) -> None:
        """No new rerun starts; the ones running end with their batches."""
        self.stopping.set()

    def wait(self) -> None:
        try:
            self.future.result()
        except BaseException:
            pass

    def result_for(self, rows) -> tuple[list, dict, list[dict]] | None:
        """(planned, notes, fix rows) if they were planned from exactly these cells and all
        proven; else None."""
        try:
            keys, planned, notes, proven = self.future.result()
        except BaseException:
            return None
        if self.stopping.is_set() or keys != cell_keys(rows):
            return None
        return planned, notes, proven
