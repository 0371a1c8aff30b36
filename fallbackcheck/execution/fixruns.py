"""Proving the fixes: the broken cells of each patched profile, run again under it.

One batch (one container) per (image, runtime, patched profile), as many at once as
--batches allows; rows carry fix_of and fix_group, so views count the proof per cause group.

When one process runs every cell (-n 0, or -n auto on machines with up to 4 cores), it takes
its batches profile by profile (scheduler.run_order), and EarlyFixes plans each profile's fix
as soon as that profile's last batch is judged and proves it while the batches of the next
profiles run. At the end of the run the fixes are planned again from every cell that ran
(a cause group spans profiles, and what fixes it may depend on another profile's cells): a
fix proven early is used only if it is the same fix, down to its text and the cells it
reruns; any other is proven then. Under xdist workers the controller plans at the end.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from ..judging import fixes
from .. import stopping
from .batch import run as run_batch
from ..batches.results import BatchKey
from ..batches.target import BatchTarget
from ..model.profiles import Profile
from ..runtimes import get as get_runtime
from .scheduler import concurrency


def _jobs(planned: list) -> list[tuple]:
    return [(fix, image, runtime_id, probes) for fix in planned
            for (image, runtime_id), probes in fix.batches().items()]


def _rerun_one(run, job, stop: threading.Event | None) -> list[dict]:
    """The rows of one rerun batch; none when `stop` is set, or the run was signalled, before
    it starts."""
    if (stop is not None and stop.is_set()) or stopping.requested.is_set():
        return []
    stopping.checkpoint("fixes")
    fix, image, runtime_id, probes = job
    key = BatchKey(image, runtime_id, fix.profile_id)
    profile = Profile(fix.profile_id, "file", fix.patched)
    target = BatchTarget.resolve(key, get_runtime(runtime_id), profile, probes)
    result = run_batch(target, run.catalogue, run.session, run.options.probe_timeout,
                       run.baselines.get(target.runtime.machine))
    rows = run.judged(target, result)
    return [{**row, "fix_of": fix.profile, "fix_group": fix.group_of(probe, image, runtime_id)}
            for probe, row in rows.items()]


def _pool(run) -> ThreadPoolExecutor:
    """The rerun containers in flight: as many as --batches."""
    return ThreadPoolExecutor(max_workers=concurrency(run.options.batches), thread_name_prefix="fbc-fix")


def rerun(run, planned: list, stop: threading.Event | None = None) -> list[dict]:
    """The rows of every fix's reruns; with `stop` set, jobs not yet started are skipped."""
    stopping.phase("the fix reruns")
    with _pool(run) as pool:
        return [row for rows in pool.map(lambda job: _rerun_one(run, job, stop), _jobs(planned)) for row in rows]


def when_proven(early: bool, planned: int, missing: int) -> str:
    """The report's environment.timing.fixes_proven: when the run proved its fixes."""
    if not planned:
        return "no fix to prove"  # nothing broke that a profile change could mend
    if not early or missing == planned:
        return "after the last cell"
    if not missing:
        return "while the cells ran"
    return f"while the cells ran ({planned - missing} of {planned} fixes), the rest after the last cell"


def cell_keys(rows) -> frozenset:
    return frozenset((r["probe"], r["image"], r["runtime"], r["profile"]) for r in rows)


class EarlyFixes:
    """In a thread of its own, profile by profile in the order of `keys`: once every batch
    of a profile is judged (run.scheduler.result(key) -> probe -> row), plans that profile's
    fix and queues its reruns on a pool beside the run's batches."""

    def __init__(self, run, keys: list[BatchKey]):
        self.run = run
        self.by_profile: dict[str, list[BatchKey]] = {}
        for key in keys:
            self.by_profile.setdefault(key.profile, []).append(key)
        self.stopping = threading.Event()
        self.proven: dict[str, tuple] = {}  # profile -> (its fix, the cells it was planned from, its rows)
        self.future: Future = Future()
        threading.Thread(target=self._work, name="fbc-early-fixes", daemon=True).start()

    def _work(self) -> None:
        run = self.run
        pool = _pool(run)
        try:
            pending = []
            for profile_id, keys in self.by_profile.items():
                rows = [row for key in keys for row in run.scheduler.result(key).values()]
                if self.stopping.is_set():
                    raise RuntimeError("stopped")
                planned, _ = fixes.plan(rows, {profile_id: run.selection.profiles[profile_id]},
                                        run.report_dir / "fixes", run.catalogue, fixes.newer_default(), write=False)
                for fix in planned:  # at most one: the profile's own
                    stopping.phase("the batches and the fix reruns beside them")
                    futures = [pool.submit(_rerun_one, run, job, self.stopping) for job in _jobs([fix])]
                    pending.append((fix, cell_keys(rows), futures))
            run.phase("batches_judged")
            for fix, cells, futures in pending:
                self.proven[fix.profile] = (fix, cells, [row for f in futures for row in f.result()])
            if self.stopping.is_set():
                raise RuntimeError("stopped")
            run.phase("early_fixes_proven")
            self.future.set_result(True)
        except BaseException as exc:  # the end of the run proves what is missing; nothing is lost
            self.future.set_exception(exc)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """No new rerun starts; the ones running end with their batches."""
        self.stopping.set()

    def wait(self) -> None:
        try:
            self.future.result()
        except BaseException:
            pass

    def split(self, planned: list, rows) -> tuple[list[dict], list]:
        """(the rows of the fixes of `planned` proven early, the fixes of `planned` still to
        prove): a fix counts as proven only if the early one is equal to it (rules, text,
        cells to rerun) and was planned from exactly the cells of its profile that ran."""
        try:
            self.future.result()
        except BaseException:
            return [], list(planned)
        ran: dict[str, list] = {}
        for row in rows:
            ran.setdefault(row["profile"], []).append(row)
        done, missing = [], []
        for fix in planned:
            early = self.proven.get(fix.profile)
            if early is not None and early[0] == fix and early[1] == cell_keys(ran.get(fix.profile, ())):
                done += early[2]
            else:
                missing.append(fix)
        return done, missing
