"""The batch scheduler and what its threads share: every batch once, in the order asked,
and the batch-to-probes index never seen half built."""

import os
import threading

import pytest
import time
from types import SimpleNamespace

from fallbackcheck.batches.results import BatchKey
from fallbackcheck.judging.cells import Cell
from fallbackcheck.matrix.run import MatrixRun
from fallbackcheck.execution.scheduler import BatchScheduler, CellTiming


def test_each_batch_runs_once_and_several_at_once():
    started, lock, running, peak = [], threading.Lock(), [0], [0]

    def run(key):
        with lock:
            started.append(key)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return f"result {key}"

    scheduler = BatchScheduler(run, workers=4)
    scheduler.want(range(8))
    scheduler.want(range(8))  # asked again: not run again
    assert [scheduler.result(k) for k in range(8)] == [f"result {k}" for k in range(8)]
    scheduler.close(cancel=False)
    assert sorted(started) == list(range(8)) and peak[0] > 1


def test_cancel_starts_nothing_new():
    gate = threading.Event()
    ran = []
    scheduler = BatchScheduler(lambda k: (gate.wait(5), ran.append(k)), workers=1)
    scheduler.want(range(5))
    scheduler.close(cancel=True)
    gate.set()
    time.sleep(0.2)
    assert ran in ([], [0])  # at most the one already running finishes


def test_batch_index_is_whole_for_every_thread():
    """Batch threads ask for their probe lists at the same moment (the main job once ran
    batches with half an index): each must see every probe of its batch."""
    cells = [Cell(f"p{i}", "img", "rt", f"prof{j}") for j in range(20) for i in range(300)]
    run = MatrixRun.__new__(MatrixRun)
    run._batch_index, run._index_lock = None, threading.Lock()
    run.collected_cells(cells)
    results, barrier = {}, threading.Barrier(8)

    def ask(j):
        barrier.wait()
        results[j] = run.batch_probes(cells[j * 300].batch)

    threads = [threading.Thread(target=ask, args=(j,)) for j in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(probes) == 300 for probes in results.values()), {j: len(p) for j, p in results.items()}


def test_cell_timing_overhead_excludes_waiting():
    timing = CellTiming()
    timing.cell_starts()
    with timing.waiting():
        time.sleep(0.05)
    timing.cell_ends()
    part = timing.as_dict()
    assert part["cells"] == 1 and part["waiting_for_batches_s"] >= 0.05 and part["span_s"] >= part["waiting_for_batches_s"]
    combined = CellTiming.combine([part, part])
    assert combined["cells"] == 2 and combined["overhead_per_cell_ms"] < 50


def test_cell_timing_counts_time_without_a_core_outside_waiting_only(monkeypatch):
    from fallbackcheck.execution import scheduler

    readings = iter([1.0, 1.5, 3.5, 4.0])  # the first cell, entering a wait, leaving it, the end
    monkeypatch.setattr(scheduler, "_queued_s", lambda: next(readings))
    timing = CellTiming()
    timing.cell_starts()
    with timing.waiting():
        pass
    timing.cell_ends()
    timing.finish()
    part = timing.as_dict()
    assert part["core_wait_s"] == 1.0  # 3.0 s in all, 2.0 s of it while waiting for a batch
    assert CellTiming.combine([part])["core_wait_per_cell_ms"] == 1000.0
    monkeypatch.setattr(scheduler, "_queued_s", lambda: None)  # a kernel that does not say
    unknown = CellTiming()
    unknown.cell_starts()
    unknown.cell_ends()
    unknown.finish()
    assert unknown.as_dict()["core_wait_s"] is None
    assert CellTiming.combine([unknown.as_dict()])["core_wait_per_cell_ms"] is None


def test_this_kernel_says_how_long_a_thread_waited_for_a_core():
    from fallbackcheck.execution import scheduler

    before = scheduler._queued_s()
    assert isinstance(before, float) and scheduler._queued_s() >= before


@pytest.mark.engine
def test_engine_calls_from_batch_threads_survive_pytest_changing_the_environment():
    """pytest sets and deletes PYTEST_CURRENT_TEST in the main thread for every test phase;
    batch threads talk to the engine at the same time (the main job once lost 262 cells to a
    KeyError from requests reading proxies out of os.environ)."""
    from fallbackcheck.engines.docker import engine

    errors, stop = [], threading.Event()

    def ping():
        while not stop.is_set():
            try:
                engine().client.ping()
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(repr(exc))
                return

    threads = [threading.Thread(target=ping) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not errors:
        for i in range(200):
            os.environ[f"FBC_FLICKER_{i}"] = "x"
        for i in range(200):
            del os.environ[f"FBC_FLICKER_{i}"]
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


def test_runc_and_crun_names_say_whose_container_it_is():
    """runc/crun containers carry no labels: the name holds the owning run's process, so a
    sweep removes only a dead run's leftovers (the main job once lost batches to another
    run's sweep of every fbc- name)."""
    import subprocess

    from fallbackcheck.runtimes.oci import _owner_gone

    dead = subprocess.Popen(["true"])
    dead.wait()
    assert _owner_gone(f"fbc-s-1-o{dead.pid}-0123abcd") is True
    assert _owner_gone(f"fbc-s-1-o{os.getpid()}-0123abcd") is False
    assert _owner_gone("fbc-s-1-0123abcd") is False  # an older name: whose it is is unknown, keep it


def test_image_digest_taken_by_many_threads_at_once(tmp_path, monkeypatch):
    """A cold run's batch threads all want the same image's digest at once (a cold CI run
    once lost batches to two threads renaming the same temporary file)."""
    from fallbackcheck.artefacts import images

    monkeypatch.setenv("FALLBACKCHECK_CACHE", str(tmp_path))
    recipe = images.TARGETS["debian-12"]
    tar = tmp_path / "images" / f"{recipe.id}-{recipe.hash}.tar"
    tar.parent.mkdir()
    tar.write_bytes(b"x" * (4 << 20))
    monkeypatch.setattr(images, "build_tar", lambda r: tar)
    results, errors, barrier = [], [], threading.Barrier(8)

    def digest():
        barrier.wait()
        try:
            results.append(images.tar_digest(recipe))
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(exc))

    threads = [threading.Thread(target=digest) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(results)) == 1 and len(results) == 8


def test_a_local_file_error_is_not_the_engine_going_away():
    from fallbackcheck.runtimes.docker import _engine_gone

    assert _engine_gone(FileNotFoundError(2, "No such file or directory")) is False
    import requests

    assert _engine_gone(requests.exceptions.ConnectionError("Connection aborted.")) is True


def test_cell_timing_of_a_run_stopped_inside_its_first_cell():
    # SIGTERM during the first cell's batch: the timing must still be written (report complete: false)
    timing = CellTiming()
    timing.cell_starts()
    part = timing.as_dict()
    assert part["cells"] == 0 and part["cpu_s"] == 0.0 and part["process_cpu_s"] == 0.0
    assert CellTiming.combine([part])["cells"] == 0


def test_first_batch_of_every_image_goes_first():
    # cold: the batches in flight build different images at once instead of queueing behind one
    from fallbackcheck.execution.scheduler import images_first

    keys = [BatchKey(image, runtime, "unconfined") for image in ("debian-11", "debian-12", "debian-13")
            for runtime in ("docker-runc", "crun")]
    ordered = images_first(keys)
    assert [k.image for k in ordered[:3]] == ["debian-11", "debian-12", "debian-13"]
    assert set(ordered) == set(keys) and len(ordered) == len(keys)
    assert ordered[3:] == [k for k in keys if k not in ordered[:3]]


def test_run_order_goes_profile_by_profile_patchable_first_runtimes_taking_turns():
    from fallbackcheck.execution.scheduler import run_order

    keys = [BatchKey(image, runtime, profile) for profile in ("unconfined", "deny:clone3:EPERM", "default")
            for runtime in ("docker-runc", "runc") for image in ("debian-12", "debian-13")]
    ordered = run_order(keys, lambda profile: profile.startswith("deny"))
    assert len(ordered) == len(keys) and set(ordered) == set(keys)
    # images_first: one batch of each image up front (cold runs build them at once)
    assert [(k.image, k.profile) for k in ordered[:2]] == [("debian-12", "deny:clone3:EPERM"),
                                                           ("debian-13", "deny:clone3:EPERM")]
    assert [k.profile for k in ordered] == ["deny:clone3:EPERM"] * 4 + ["unconfined"] * 4 + ["default"] * 4
    assert [k.runtime for k in ordered[4:8]] == ["docker-runc", "runc", "docker-runc", "runc"]


def _item(name, cell=None):
    return SimpleNamespace(name=name, callspec=SimpleNamespace(params={"api_cell": cell} if cell else {}))


def test_items_are_grouped_by_batch_and_other_items_keep_their_places():
    from fallbackcheck.matrix.order import grouped_by_batch

    def cell(probe, profile):
        return Cell(probe, "debian-12", "crun", profile)

    items = [_item("raw-a", cell("raw:clone3", "p1")), _item("raw-b", cell("raw:clone3", "p2")), _item("plain"),
             _item("api-a", cell("pthread_create", "p1")), _item("api-b", cell("pthread_create", "p2"))]
    assert [i.name for i in grouped_by_batch(items, lambda keys: keys)] == \
        ["raw-a", "api-a", "plain", "raw-b", "api-b"]
    assert [i.name for i in grouped_by_batch(items, lambda keys: keys[::-1])] == \
        ["raw-b", "api-b", "plain", "raw-a", "api-a"]


class _Terminal:
    """What the progress line uses of pytest's terminal reporter, recorded."""

    def __init__(self, tty: bool):
        self.isatty = tty
        self.out: list[tuple[str, str]] = []

    def rewrite(self, line, erase=False):
        self.out.append(("rewrite", line))

    def write_line(self, line):
        self.out.append(("line", line))

    def flush(self):
        pass


def _progress(tty: bool, batches=None):
    from fallbackcheck.pytest_plugin.progressline import ProgressLine

    clock = [100.0]
    progress = ProgressLine(_Terminal(tty), batches, clock=lambda: clock[0])
    progress.total = 4
    return progress, clock


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "log"])
def test_the_progress_line_is_written_at_most_every_interval(tty):
    from fallbackcheck.matrix.progress import LOG_INTERVAL, TTY_INTERVAL

    progress, clock = _progress(tty, batches=lambda: (1, 2))
    interval = TTY_INTERVAL if tty else LOG_INTERVAL
    progress.pytest_runtest_logfinish("a")
    assert progress.terminal.out == []  # less than an interval since the start
    clock[0] += interval
    progress.pytest_runtest_logreport(SimpleNamespace(failed=True))
    progress.pytest_runtest_logfinish("b")
    kind = "rewrite" if tty else "line"
    assert progress.terminal.out == [(kind, f"fallbackcheck: 2/4 cells, 1/2 batches, 1 failed, 0:{int(interval):02d}")]
    clock[0] += 0.2
    progress.refresh()  # before a wait: a terminal's line is brought up to date, a log gets no line
    assert len(progress.terminal.out) == (2 if tty else 1)


@pytest.mark.parametrize("running", [True, False], ids=["while cells run", "in the summary"])
def test_the_progress_line_blanks_a_reports_letter_only_while_cells_run(running):
    progress, _ = _progress(False)
    progress.running = running
    wrapper = progress.pytest_report_teststatus(SimpleNamespace())
    next(wrapper)
    with pytest.raises(StopIteration) as done:
        wrapper.send(("xfailed", "x", "XFAIL"))
    assert done.value.value == (("xfailed", "", "") if running else ("xfailed", "x", "XFAIL"))


def test_the_last_progress_line_ends_on_a_new_line_on_a_terminal():
    progress, clock = _progress(True)
    progress.pytest_runtest_logfinish("a")
    loop = progress.pytest_runtestloop(None)
    next(loop)
    with pytest.raises(StopIteration):
        loop.send(True)
    assert progress.terminal.out == [("rewrite", "fallbackcheck: 1/4 cells, 0:00"), ("line", "")]


def test_an_early_fix_proof_counts_only_for_the_same_fix_planned_from_the_same_cells():
    from concurrent.futures import Future
    from pathlib import Path

    from fallbackcheck.execution import fixruns
    from fallbackcheck.judging.fixes import Fix

    def fix(profile, version):
        return Fix(profile, {}, Path(f"/fixes/{profile}.json"), {"version": version})

    rows = [{"probe": "pthread_create", "image": "debian-12", "runtime": "crun", "profile": p} for p in "abc"]
    early = object.__new__(fixruns.EarlyFixes)
    early.future = Future()
    early.future.set_result(True)
    early.proven = {"a": (fix("a", 1), fixruns.cell_keys(rows[:1]), ["rows of a"]),
                    "b": (fix("b", 1), fixruns.cell_keys(rows[1:2]), ["rows of b"]),
                    "c": (fix("c", 1), fixruns.cell_keys(rows[:1]), ["rows of c"])}
    planned = [fix("a", 1), fix("b", 2), fix("c", 1)]
    done, missing = early.split(planned, rows)
    # a: the same fix from the same cells; b: another fix at the end; c: planned from other cells
    assert done == ["rows of a"] and [f.profile for f in missing] == ["b", "c"]
    failed = object.__new__(fixruns.EarlyFixes)
    failed.future = Future()
    failed.future.set_exception(RuntimeError("stopped"))
    assert failed.split(planned, rows) == ([], planned)


def test_a_stopped_run_drops_queued_batches_and_waits_for_running_ones():
    # -x / --maxfail: no cell will read the batches not yet started, so they never start; the
    # running one is waited for (its container must end before the run's clean-up)
    started, release, ended = [], threading.Event(), []

    def run(key):
        started.append(key)
        release.wait(5)
        ended.append(key)
        return key

    scheduler = BatchScheduler(run, workers=1)
    scheduler.want(["a", "b", "c"])
    deadline = time.monotonic() + 5
    while not started and time.monotonic() < deadline:
        time.sleep(0.01)
    closer = threading.Thread(target=scheduler.close, kwargs={"cancel": False, "drop_queued": True})
    closer.start()
    time.sleep(0.1)
    assert closer.is_alive()  # waiting for the running batch
    release.set()
    closer.join(5)
    assert not closer.is_alive() and started == ["a"] and ended == ["a"]
    assert scheduler._futures["b"].cancelled() and scheduler._futures["c"].cancelled()
