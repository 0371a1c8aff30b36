"""The pytest surface of fallbackcheck: options, the cell matrix, batching, the report.

Domain logic lives in the other modules; this one only wires it into pytest.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path

import pytest

from . import catalogue as catalogue_mod
from . import (cache, cellprotocol, ci_summary, diff, fixes, fixruns, images, paths, progressline, render_html,
               render_md, render_table, report, runs, stopping)
from .kernel import KernelBaseline
from .batch import BatchKey, run as run_batch, run_many
from .causes import works
from .cells import Cell, judge, record
from .errors import UsageError
from .hosts import loads, registry as hosts_registry
from .hosts.cleanup import cleanup_hosts, leftovers
from .hosts.generation import cleanup_generations
from .hosts.recipes import GENERATIONS
from .hosts.ssh import parse_engine_hosts
from .profiles import Profile
from .received import content_hash as received_content_hash
from .runtimes.registry import split_id
from .runtimes import get as get_runtime
from .scheduler import DEFAULT_CONCURRENCY, BatchScheduler, CellTiming, concurrency, images_first, run_order
from .selection import resolve

SUITES = paths.SUITES
# Parametrised fixture name -> the catalogue kind of the cells it gets.
CELL_FIXTURES = {"api_cell": "api", "raw_cell": "raw"}
REQUIRE_ENGINE = "FALLBACKCHECK_REQUIRE_ENGINE"
# Up to this many cores, `-n auto` runs the matrix in one process (its batches still run
# concurrently): measured on 2-core machines, see docs/benchmark.md.
AUTO_SINGLE_PROCESS_CORES = 4
SESSION_ENV = "FALLBACKCHECK_SESSION"


def run_of(config) -> "MatrixRun | None":
    """This process's matrix run, or None where pytest runs no matrix (kept in config.stash)."""
    return config.stash.get(RUN, None)


def pytest_addoption(parser):
    group = parser.getgroup("fallbackcheck", "fallbackcheck compatibility matrix")
    group.addoption("--images", help="comma-separated image ids (debian-11,debian-12,... or registry/name:tag)")
    group.addoption("--runtimes", help="comma-separated runtime ids (docker-runc,docker-crun,...,local)")
    group.addoption("--profiles", help="comma-separated profile ids (unconfined,default,deny:clone3:EPERM,"
                                       "vintage:5.2:EPERM,file:path.json) or sets: sweep (deny each catalogued "
                                       "syscall with EPERM and ENOSYS), vintages (LTS-kernel vintages)")
    group.addoption("--probes", help="comma-separated probe ids or globs (pthread_create,raw:*)")
    group.addoption("--report-dir", default=None,
                    help="where matrix.json/.md/.html go (default: reports/ of the checkout, else ./reports)")
    group.addoption("--batches", type=int, default=None, metavar="N",
                    help=f"batches in flight at once per pytest process (default {DEFAULT_CONCURRENCY}, "
                         "or $FALLBACKCHECK_BATCHES)")
    group.addoption("--probe-timeout", type=_positive_seconds, default=10.0,
                    help="seconds each probe may run (default 10; must be > 0)")
    group.addoption("--engine-hosts", help="comma-separated name=ssh://user@host[:port] machines whose engines "
                                           "become runtimes <kind>@<name>")
    group.addoption("--baseline", help="an earlier matrix.json: cells whose outcome, works, delivered errno or "
                                       "verdict changed fail, and the report lists them")
    group.addoption("--no-fixes", action="store_true",
                    help="do not write patched profiles to <report-dir>/fixes/ nor rerun cells under them")
    group.addoption("--shard", metavar="K/N",
                    help="run only the K-th of N parts of the selection, split by batch (never a batch across "
                         "shards) and balanced by expected cost; merge the N reports with fallbackcheck.merge")
    group.addoption("--summary", help="write a short Markdown summary here (also appended to $GITHUB_STEP_SUMMARY "
                                      "when that is set)")


def _positive_seconds(text: str) -> float:
    """argparse type: a positive number of seconds (pytest turns the error into one line)."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds greater than 0")
    return value


def _cell_of(item) -> Cell | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    for name in CELL_FIXTURES:
        cell = params.get(name)
        if isinstance(cell, Cell):
            return cell
    return None


def _cells_of(items):
    for item in items:
        cell = _cell_of(item)
        if cell is not None:
            yield cell


def grouped_by_batch(items: list, order) -> list:
    """The items with the cells of each batch together, batches in `order(keys in the order
    their first cell comes)`, the cells of a batch in their order; other items keep their places.

    pytest collects file by file: every raw cell (test_conformance.py) before every API cell
    (test_matrix.py). Run in that order, the API cells of a batch waited until every batch had
    run once for the raw cells: on the main job 13 s of API cells after the last batch.
    Grouped, a batch's cells run while later batches are in flight."""
    cells = [(i, cell) for i, cell in enumerate(map(_cell_of, items)) if cell is not None]
    rank = {key: n for n, key in enumerate(order(list(dict.fromkeys(cell.batch for _, cell in cells))))}
    ranked = sorted(range(len(cells)), key=lambda n: rank[cells[n][1].batch])  # stable
    out = list(items)
    for (slot, _), n in zip(cells, ranked):
        out[slot] = items[cells[n][0]]
    return out


def _batch_order(items) -> list[BatchKey]:
    """The distinct batches of `items`, in the order their first cell comes."""
    return list(dict.fromkeys(cell.batch for cell in _cells_of(items)))


def _batch_index(cells) -> dict[BatchKey, list[str]]:
    """Batch -> the probes of its cells, in the order the cells come."""
    index: dict[BatchKey, dict[str, None]] = {}
    for cell in cells:
        index.setdefault(cell.batch, {})[cell.probe] = None
    return {key: list(probes) for key, probes in index.items()}


def _items_will_be_the_selection(config) -> bool:
    """Whether this process will run exactly the selection's cells, which is then known
    before pytest has collected them: one process runs every cell (no xdist workers), the
    command line names the suites directory only (no single file, no node id) and nothing
    deselects (-k, -m, --deselect, --lf, --sw). A conftest that deselects is found out when
    collection is done (pytest_collection_finish)."""
    opt = config.option
    if not _is_controller(config) or config.pluginmanager.getplugin("dsession") is not None:
        return False
    if opt.collectonly or opt.keyword or opt.markexpr or getattr(opt, "deselect", None) or \
            getattr(opt, "lf", False) or getattr(opt, "stepwise", False) or getattr(opt, "stepwise_skip", False):
        return False
    return bool(config.args) and all("::" not in arg and Path(arg).resolve() == SUITES for arg in config.args)


def _read_rows(path: Path):
    """The rows one process wrote (a run cut short may end in half a row: stop there)."""
    with path.open("rb") as fh:
        while True:
            try:
                yield pickle.load(fh)
            except (EOFError, pickle.UnpicklingError, ValueError):
                return


def _runs_matrix(config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == SUITES or SUITES in path.parents:
            return True
    return False


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


class MatrixRun:
    """Per-process state of a matrix run: the selection, cached batches, collected rows."""

    def __init__(self, config):
        self.config = config
        self.catalogue = catalogue_mod.load()
        opt = config.option
        if _is_controller(config):
            # Every container of this run carries this id as a label (FALLBACKCHECK_SESSION lets
            # a caller choose it, e.g. to find this run's containers among others').
            self.session = os.environ.get(SESSION_ENV) or "s-" + uuid.uuid4().hex[:12]
            runs.start(self.session)
        else:
            self.session = config.workerinput["fallbackcheck_session"]
            runs.start(self.session, config.workerinput["fallbackcheck_owner"])
        # Engine hosts before the selection: a misspelt or unreachable engine host, or a
        # generation that cannot be provisioned, is one ERROR line before anything runs
        # (and a generation started meanwhile goes again, Ctrl-C included).
        hosts_registry.configure(self.session, parse_engine_hosts(opt.engine_hosts))
        self.cleaned = False  # the run's containers removed (the end of the run, or a stop before it)
        try:
            self._start(config)
        except BaseException as exc:
            if _is_controller(config):
                with stopping.shielded():
                    self.remove_everything()
                    if getattr(self, "parts", None):
                        shutil.rmtree(self.parts, ignore_errors=True)
                if isinstance(exc, KeyboardInterrupt):
                    stopping.note_interrupt(exc)
                    # pytest shows nothing of an interrupt this early: our line is all there is.
                    cache.progress(stopping.line("nothing was measured, so no report was written (the previous "
                                                 f"one, if any, is kept); {_what_is_left(self.session)}").removeprefix(
                                                     "fallbackcheck: "))
            raise

    def remove_everything(self) -> None:
        """Every container, engine container and volume of this run, once (called shielded:
        a signal cannot cut it short). One runtime's or host's failure does not keep the others'."""
        if self.cleaned:
            return
        self._sweep()
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None and stopping.requested.is_set():
            # Batches still running end once their containers are gone; one that was creating
            # its container while the sweep looked is removed by its own thread or the sweep after.
            scheduler.join()
            if getattr(self, "early_fixes", None) is not None:  # their reruns are batches too, outside the scheduler
                self.early_fixes.stop()
                self.early_fixes.wait()
            self._sweep()
        self.cleaned = True

    def _sweep(self) -> None:
        for rid in getattr(getattr(self, "selection", None), "runtimes", ()):
            try:
                get_runtime(rid).cleanup(self.session)
            except Exception:
                pass
        try:
            cleanup_hosts(self.session)
        except Exception:
            pass

    def _start(self, config) -> None:
        opt = config.option
        self.selection = resolve(self.catalogue, opt.images, opt.runtimes, opt.profiles, opt.probes,
                                 opt.shard)
        if _is_controller(config):
            images.check_archives(self.selection.images)  # a suite no archive carries: one line, now
            self.report_dir = _writable_report_dir(Path(config.option.report_dir) if config.option.report_dir
                                                   else paths.default_report_dir())
            self.parts = Path(tempfile.mkdtemp(prefix=f"fallbackcheck-{self.session}-"))
            name = "main"
            loads.configure(self.parts / f"loads-{name}.jsonl")
            self.swept = self._sweep_dead_runs()
            self.baselines = self._measure_baselines()
        else:
            self.parts = Path(config.workerinput["fallbackcheck_parts"])
            name = config.workerinput["workerid"]
            loads.configure(self.parts / f"loads-{name}.jsonl")
            self.baselines = {m: KernelBaseline.from_dict(m, d)
                              for m, d in json.loads(config.workerinput["fallbackcheck_baselines"]).items()}
        # An xdist worker's rows go to its own rows file, and the controller merges them: a
        # cell row is several kB, and sending each through xdist's report channel cost more
        # than running the cell. An interrupted run keeps what was written. Opened once and
        # flushed when the process ends its session (Ctrl-C included): one open/append/close
        # per cell cost more than judging the cell. Pickled, not JSON: only our own processes
        # read them, and encoding a row as JSON cost a measurable share of a cell. Every
        # process writes its timing there at the end.
        self.rows_out = (self.parts / f"{name}.rows").open("ab", buffering=1 << 16)
        # The controller runs cells only when there are no workers: its rows stay in memory,
        # read by itself at the end (a pickle per cell and reading 58,800 back cost 3 s).
        self.rows: list[dict] | None = [] if _is_controller(config) else None
        self.scheduler: BatchScheduler | None = None
        self.timing = CellTiming()
        self.last_key: BatchKey | None = None
        self._last_rows: dict[str, dict] | None = None  # the rows of last_key's batch, once it is back
        self.pytest_session = None  # set when collection is done (pytest_collection_finish)
        self.properties: list | None = None  # the JUnit properties of the cell that just ran
        self.cell_protocol = cellprotocol.usable(config)  # cells skip pytest's per-test hooks
        self.passed_phases = True  # whether a cell's passed setup/teardown are reported (set once collected)
        self.next_cell: Cell | None = None  # an xdist worker's next item's cell (pytest_runtest_protocol)
        self.lean = False  # every collected item is a plain cell: the cell protocol runs them (set once collected)
        self.before_waiting = None  # called before a cell waits for its batch (the progress line's refresh)
        # The report's first step for rows already judged, done while a cell waits for its batch.
        self.report_forms = report.FormsWhileWaiting()
        self._ihooks: dict = {}  # a test file's path -> its hook proxy (fixed once collected)
        self._cells_by_kind: dict[str, list[Cell]] | None = None
        # A cell's facts as JUnit properties (on its teardown report) are made only for what
        # reads them: --junitxml, and pytest-reportlog's --report-log where installed.
        self.wants_properties = bool(getattr(opt, "xmlpath", None) or getattr(opt, "report_log", None))
        self.early_fixes: fixruns.EarlyFixes | None = None
        self._batch_index: dict[BatchKey, list[str]] | None = None
        self._index_lock = threading.Lock()
        self._shared: dict[tuple, Future] = {}  # kernel hosts: (image, runtime) -> its boot's results
        self._shared_lock = threading.Lock()
        self._received: dict[str, dict] = {}  # hash -> the seccomp section a runtime received
        self._received_lock = threading.Lock()
        self._loaded: list | None = None  # what was loaded into hosts (read before parts go)
        self.started = time.time()
        # When each phase of the run was reached, in seconds since this point (the report's
        # environment.timing.phases_s; scripts/benchmark prints them): where a run's tail goes.
        self.clock0 = time.perf_counter()
        self.phases: dict[str, float] = {}
        self.interrupted = False
        self.stop_line: str | None = None  # the terminal's one line for a run stopped by a signal
        self.written: tuple = ()
        self.write_error = ""
        self.report = None
        self.baseline = _load_baseline(opt.baseline)

    def _sweep_dead_runs(self) -> int:
        """Containers of runs that have ended but could not remove them (an engine that was
        down at the time): removed now. Live runs' containers are never touched."""
        removed = 0
        for rid in self.selection.runtimes:
            try:
                removed += get_runtime(rid).cleanup(None)
            except Exception:  # a sweep must never stop a run
                pass
        try:
            removed += cleanup_generations(None)  # generation containers of ended runs
        except Exception:
            pass
        return removed

    def _measure_baselines(self) -> dict[str, KernelBaseline]:
        """One kernel baseline per machine that runs batches, for the arches selected."""
        arches = sorted({self.selection.image_arch(i) for i in self.selection.images})
        out: dict[str, KernelBaseline] = {}
        for rid in self.selection.runtimes_with_cells(self.catalogue):  # a shard boots no kernel it does not use
            runtime = get_runtime(rid)
            if runtime.machine in out:
                continue
            try:
                out[runtime.machine] = runtime.kernel_baseline(self.catalogue, arches)
            except Exception as exc:  # the batches will say what broke; the report says this
                out[runtime.machine] = KernelBaseline(runtime.machine, error=f"not measured: {exc}")
            out[runtime.machine].machine = runtime.machine
        return out

    def _index(self, session) -> dict[BatchKey, list[str]]:
        """Batch -> its probes still selected after -k/deselection (indexed once, on first use,
        when the session's items are final, or from the selection when the batches start
        before collection). Batch threads call this: the index is built whole and only then
        published, so no thread ever sees half of it."""
        with self._index_lock:
            if self._batch_index is None:
                self._batch_index = _batch_index(_cells_of(session.items))
        return self._batch_index

    def start_batches_early(self) -> None:
        """Start the batches while pytest collects the cells (5 s for the main job's 58,800,
        on one core, while the engines would sit idle): from the selection, in the order the
        items will come (the raw cells' suite is collected first)."""
        ordered = self.cells_of_kind("raw") + self.cells_of_kind("api")
        with self._index_lock:
            self._batch_index = _batch_index(ordered)
        self._start_batches(self.run_order(list(self._batch_index)))  # as the items will be grouped

    def check_early_index(self, session) -> None:
        """After collection: when the items are not the selection after all (a conftest
        deselected some), batches not yet started run the items' probes; those already
        running measure a few more, whose rows no cell reads."""
        actual = _batch_index(_cells_of(session.items))
        with self._index_lock:
            if actual != self._batch_index:
                self._batch_index = actual

    def _start_batches(self, keys: list[BatchKey]) -> None:
        """The scheduler of a process that runs every cell, asked for all its batches at once
        (the first of each image first), and the fixes proven early."""
        self.phase("batches_start")
        stopping.phase("the batches")
        self.scheduler = BatchScheduler(self._run, concurrency(self.config.option.batches))
        self.scheduler.want(images_first(keys))
        if not self.config.option.no_fixes:
            self.early_fixes = fixruns.EarlyFixes(self, keys)

    def run_order(self, keys: list[BatchKey]) -> list[BatchKey]:
        """scheduler.run_order for this run's profiles: patchable ones first."""
        def patchable(profile_id: str) -> bool:
            profile = self.selection.profiles.get(profile_id)
            return profile is not None and profile.kind in fixes.PATCHABLE and bool(profile.oci)
        return run_order(keys, patchable)

    def batch_probes(self, session, key: BatchKey) -> list[str]:
        return self._index(session).get(key, [])

    def _run(self, key: BatchKey) -> dict[str, dict]:
        """A batch thread: run the batch, then judge every selected cell of it at once (probe
        -> report row). Cells only read their row; the fixes can be planned as soon as the
        last batch is judged, before the last cell has run (EarlyFixes)."""
        runtime = get_runtime(key.runtime)
        profile, probes = self.selection.profiles[key.profile], self.batch_probes(self.pytest_session, key)
        if runtime.shares_start:
            result = self._run_shared(runtime, key)
        else:
            result = run_batch(runtime, self.catalogue, key, profile, probes, self.session,
                               self.config.option.probe_timeout, self.baselines.get(runtime.machine))
        rows = self.judged(key, result, profile, probes)
        if self.rows is not None:  # this process keeps the rows for the report: their forms while cells wait
            self.report_forms.add(list(rows.values()))
        return rows

    def judged(self, key: BatchKey, result, profile: Profile, probes: list[str]) -> dict[str, dict]:
        """The report rows of a batch's cells (probe -> row)."""
        if result.received is not None:
            self.keep_received(result.received)
        runtime = get_runtime(key.runtime)
        rows, summary = {}, result.summary()
        for probe in probes:
            cell = Cell(probe, key.image, key.runtime, key.profile)
            rows[probe] = record(cell, self.catalogue, result, judge(cell, self.catalogue, result, profile, runtime),
                                 summary)
        return rows

    def _run_shared(self, runtime, key: BatchKey):
        """A runtime that boots per image (kernel hosts): the first batch of an image asked for
        runs every batch of that image on that runtime in one start; the others wait for it.
        (Their cells are one xdist group, batch_group(), so they are all in this process.)"""
        group = (key.image, key.runtime)
        with self._shared_lock:
            pending, owner = self._shared.get(group), False
            if pending is None:
                pending, owner = self._shared.setdefault(group, Future()), True
        if owner:
            keys = [k for k in self._index(self.pytest_session) if (k.image, k.runtime) == group]
            jobs = [(k, self.selection.profiles[k.profile], self.batch_probes(self.pytest_session, k)) for k in keys]
            try:
                pending.set_result(run_many(runtime, self.catalogue, jobs, self.session,
                                            self.config.option.probe_timeout, self.baselines.get(runtime.machine)))
            except BaseException as exc:
                pending.set_exception(exc)
                raise
        return pending.result()[key]

    def _batch(self, session, key: BatchKey):
        """The batch's result; asks the scheduler for the batches this process needs next
        (all of them at the first cell without xdist; under xdist, those queued for this
        worker, each time a new batch starts), so that several run at once."""
        if key == self.last_key and self._last_rows is not None:
            return self._last_rows  # the batch of the cell before (a batch's cells run together)
        if self.scheduler is None:
            if _is_controller(self.config):  # this process runs every cell
                self._start_batches(_batch_order(session.items))
            else:
                self.scheduler = BatchScheduler(self._run, concurrency(self.config.option.batches))
        if key != self.last_key:
            self.last_key, self._last_rows = key, None
            if self.before_waiting is not None and not self.scheduler.done(key):
                self.before_waiting()  # the progress so far is shown while the run waits
            with self.timing.waiting():  # the cell cannot run before its batch is back anyway
                while not self.scheduler.done(key) and self.report_forms.step():
                    pass
            if not _is_controller(self.config):
                # An xdist worker knows, through pytest's protocol, the item after this one:
                # its batch starts now if it is another, so one batch runs while this one's
                # cells are reported (xdist keeps the rest of the worker's queue to itself).
                upcoming = self.next_cell.batch if self.next_cell is not None else key
                self.scheduler.want([key] + ([upcoming] if upcoming != key else []))
        with self.timing.waiting():
            rows = self.scheduler.result(key)
        self._last_rows = rows
        return rows

    def row(self, cell: Cell) -> dict:
        """The report row of a cell, judged with its batch (which runs on first use, or has
        run already with others in flight), written to this process's rows file. The suites
        call this from the test itself: a fixture per cell cost pytest more than the cell."""
        self.timing.cell_starts()
        row = self._batch(self.pytest_session, cell.batch)[cell.probe]
        if self.rows is not None:
            self.rows.append(row)
        else:
            pickle.dump(row, self.rows_out, protocol=pickle.HIGHEST_PROTOCOL)
        if self.wants_properties:
            self.properties = junit_properties(row)
        self.timing.cell_ends()
        return row

    def cells_of_kind(self, kind: str) -> list[Cell]:
        """The selection's cells of one kind (raw, api), in the selection's order; worked out
        once per run (the batches starting early and each suite's parametrisation ask)."""
        if self._cells_by_kind is None:
            by_kind: dict[str, list[Cell]] = {}
            for cell in self.selection.cells(self.catalogue):
                by_kind.setdefault(self.catalogue.get(cell.probe).kind, []).append(cell)
            self._cells_by_kind = by_kind
        return list(self._cells_by_kind.get(kind, ()))

    def ihook_of(self, item):
        """item.ihook, asked once per test file: pytest works it out per item from the
        conftests that apply to its path, and none are added once collection is done."""
        if self.pytest_session is None:
            return item.ihook
        hook = self._ihooks.get(item.path)
        if hook is None:
            hook = self._ihooks[item.path] = item.ihook
        return hook

    def phase(self, name: str, at: float | None = None) -> None:
        """Note that the run reached `name` (now, or at perf_counter value `at`), once."""
        self.phases.setdefault(name, round((time.perf_counter() if at is None else at) - self.clock0, 2))

    def take_properties(self) -> list:
        """The JUnit properties of the cell that just ran (once)."""
        properties, self.properties = self.properties or [], None
        return properties

    def check_unchanged(self, row: dict) -> None:
        """Fails the cell when --baseline says its outcome, works, delivered errno or verdict
        changed (a cell the baseline lacks is new: listed in the report, not a failure)."""
        old = self.baseline.get(diff.key(row)) if self.baseline is not None else None
        if old is None:
            return
        fields = diff.changed_fields(old, row)
        if fields:
            pytest.fail(f"changed since the baseline: {diff.change_text({'fields': fields})}", pytrace=False)

    def keep_received(self, received: dict) -> None:
        """Each distinct received profile goes into the report once, under its hash (one
        file per process; the controller merges them). Batch threads call this."""
        key = received_content_hash(received)
        with self._received_lock:
            if key in self._received:
                return
            self._received[key] = received
            if self.parts.exists():
                with (self.parts / f"received-{Path(self.rows_out.name).stem}.jsonl").open("a") as fh:
                    fh.write(json.dumps({"hash": key, "seccomp": received}) + "\n")

    def read_parts(self) -> None:
        """Controller: the received profiles and the load log of every process, before the
        parts directory goes."""
        for part in sorted(self.parts.glob("received-*.jsonl")):
            for line in part.read_text().splitlines():
                if line.strip():
                    item = json.loads(line)
                    self._received.setdefault(item["hash"], item["seccomp"])
        self._loaded = loads.read(self.parts)

    def environment(self) -> dict:
        runtimes = {}
        for rid in self.selection.runtimes:
            try:
                runtimes[rid] = get_runtime(rid).cached_versions()  # asked once per process
            except Exception as exc:  # the report must still be written
                runtimes[rid] = {"error": str(exc)}
        hosts = {}
        loaded = self._loaded if self._loaded is not None else loads.read(self.parts)
        for name in dict.fromkeys(split_id(rid)[1] for rid in self.selection.runtimes):
            if name and not name.startswith("linux-"):
                try:
                    host = hosts_registry.get(name)
                    hosts[name] = {"kind": host.kind_name, **host.versions(), "provisioned": host.provisioned,
                                   "container": getattr(host, "container_name", None),
                                   "loaded": [x for x in loaded if x["host"] == name]}
                except Exception as exc:  # the report must still be written
                    hosts[name] = {"error": str(exc)}
        return {"session": self.session, "runtimes": runtimes, "engine_hosts": hosts,
                "generation_order": list(GENERATIONS),
                "loaded_here": [x for x in loaded if x["host"] == "this host"],
                "skipped_runtimes": self.selection.skipped_runtimes,
                "notes": self.selection.notes, "duration_s": round(time.time() - self.started, 1),
                "kernel_baseline": {m: b.as_dict() for m, b in self.baselines.items()},
                "swept_leftovers": self.swept}


RUN = pytest.StashKey["MatrixRun | None"]()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Every process: stop the batch scheduler (cancelling what has not started when
    interrupted) and flush this process's rows before the controller merges them."""
    run = run_of(session.config)
    if run is None:
        return
    with stopping.shielded():
        _finish_process(run, session, exitstatus)


def _finish_process(run, session, exitstatus) -> None:
    run.timing.finish()
    cancel = exitstatus not in (0, 1) or run.interrupted or stopping.requested.is_set()
    if cancel:
        if run.early_fixes is not None:
            run.early_fixes.stop()
        for rid in run.selection.runtimes:
            get_runtime(rid).abandon()
    stopped = bool(session.shouldfail or session.shouldstop)  # -x, --maxfail: what ran decides
    if stopped and run.early_fixes is not None:
        run.early_fixes.stop()
    if run.scheduler is not None:
        run.scheduler.close(cancel=cancel, drop_queued=stopped)
    pickle.dump({"_timing": run.timing.as_dict()}, run.rows_out, protocol=pickle.HIGHEST_PROTOCOL)
    run.rows_out.close()


def _load_baseline(path: str | None) -> dict | None:
    """The baseline's cells by key (diff.key), or None without --baseline."""
    if not path:
        return None
    try:
        rows = report.load(Path(path)).cells
    except OSError as exc:
        raise UsageError(f"--baseline: cannot read {path}: {exc.strerror}") from None
    except (ValueError, KeyError) as exc:
        raise UsageError(f"--baseline: {exc}") from None
    return {diff.key(r): r for r in rows}


def _asked_for_details(config) -> bool:
    """Did the user ask for per-test lines (-r..., -v) on the command line itself? (pyproject's
    addopts has -ra, which would list every skipped and xfailed cell of a matrix run.)"""
    for arg in config.invocation_params.args:
        arg = str(arg)
        if arg.startswith(("-r", "-v", "--verbose")) or (arg.startswith("-") and not arg.startswith("--")
                                                           and "v" in arg[1:] and arg[1:].isalpha()):
            return True
    return False


def _terminal_past_capture():
    """A stream on the real standard error that pytest's output capture will not take over:
    a duplicate of file descriptor 2 made in pytest_configure, where pytest has suspended its
    global capture (it captures while loading conftests and around each test, and restores
    the real descriptors in between)."""
    try:
        return os.fdopen(os.dup(2), "w", buffering=1, errors="replace")
    except OSError:
        return None


def pytest_configure(config):
    cache.set_progress_stream(_terminal_past_capture())
    for line in ("engine: needs a container engine; skipped without one unless FALLBACKCHECK_REQUIRE_ENGINE=1",
                 "cell: one (probe, image, runtime, profile) cell of the compatibility matrix"):
        config.addinivalue_line("markers", line)
    if _runs_matrix(config):
        # Before the run starts anything (an engine generation is provisioned while the
        # selection is resolved): a signal then must still end in the clean-up.
        stopping.install()
        _MATRIX_CONFIG["config"] = config
        stopping.phase("the set-up (resolving the selection: engine generations, images, probe builds)")
        try:
            config.stash[RUN] = MatrixRun(config)
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        run = config.stash[RUN]
        if _is_controller(config):
            config.pluginmanager.register(ReportWriter(run), "fallbackcheck-report")


@pytest.hookimpl(wrapper=True)
def pytest_keyboard_interrupt(excinfo):
    """A stopped matrix run ends with one line of ours (ReportWriter's terminal summary), not
    pytest's KeyboardInterrupt banner with the place the interrupt landed, which says nothing
    to a user and, in Python 3.11, can itself fail on an entry without a line number (an
    instruction with tb_lineno None: the terminal's own rendering of it, which runs before we
    drop it, would end the run with a traceback of its own), so such entries go first."""
    if not all(map(_has_line, excinfo.traceback)):
        excinfo.traceback = excinfo.traceback.filter(_has_line)
    result = yield
    config = _MATRIX_CONFIG.get("config")
    if config is not None:
        stopping.note_interrupt(excinfo.value)
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None and hasattr(terminal, "_report_keyboardinterrupt"):
            # pytest prints the banner at the end of the session (or at unconfigure, for a
            # stop before the session): both go through this method of the reporter.
            terminal._report_keyboardinterrupt = lambda: None
    return result


def _has_line(entry) -> bool:
    try:
        return entry.lineno is not None
    except TypeError:  # pytest computes it from a tb_lineno that Python 3.11 may leave None
        return False


_MATRIX_CONFIG: dict = {}  # the config of this process's matrix run, if it runs one


def _writable_report_dir(directory: Path) -> Path:
    """Fail before any cell runs when the report cannot be written there."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write the report to {directory}: {exc.strerror or exc}; "
                         "choose another --report-dir") from None
    return directory


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto` for the matrix: batches already run several at a time in one process, and
    every xdist worker adds a pytest per test plus the controller's share; on machines with
    few cores that costs more than it brings (docs/benchmark.md), so the matrix then runs in
    one process. Other test runs keep xdist's own choice."""
    if not _runs_matrix(config):
        return None
    cores = os.cpu_count() or 1
    return 0 if cores <= AUTO_SINGLE_PROCESS_CORES else cores // 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Cells grouped by batch (grouped_by_batch), after any plugin has reordered or deselected."""
    run = run_of(config)
    if run is not None:
        items[:] = grouped_by_batch(items, run.run_order)


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    run = run_of(session.config)
    if run is not None and _items_will_be_the_selection(session.config):
        run.start_batches_early()


def pytest_collection_finish(session):
    run = run_of(session.config)
    if run is None:
        return
    run.pytest_session = session
    run.passed_phases = cellprotocol.passed_phases_read(session.config)
    run.lean = run.cell_protocol and cellprotocol.plain_cells(session.items, CELL_FIXTURES, run)
    run.phase("collected")
    if run.scheduler is not None:  # started before collection
        run.check_early_index(session)
    # The collected cells (58,800 items on the main job) live until the run ends, and every
    # full garbage collection walks them: the automatic ones during the run, and pytest's
    # own at the end (5.6 s on the main job). Frozen, the collector no longer looks at them.
    gc.collect()
    gc.freeze()


def pytest_unconfigure(config):
    run = run_of(config)
    if run is None:
        return
    if _is_controller(config) and not run.cleaned:
        # A stop that landed where pytest calls no pytest_sessionfinish (in pytest_sessionstart):
        # the containers still go, and the line still comes.
        with stopping.shielded():
            run.remove_everything()
        if stopping.stopped_by():
            cache.progress(stopping.line("nothing was measured, so no report was written; "
                                         f"{_what_is_left(run.session)}").removeprefix("fallbackcheck: "))
    # pytest's unraisable-exception plugin collects garbage five times when the run ends, each
    # time walking every object made since collection (the rows, the report): collected once
    # here, what survives is frozen, and its five collections only see what is newer.
    gc.collect()
    gc.freeze()


def pytest_sessionstart(session):
    config = session.config
    run = run_of(config)
    if run is None or not _is_controller(config):
        return
    # The terminal reporter exists from here on. Batches finished / asked: known where this
    # process runs them (not under xdist).
    progress = progressline.install(config, lambda: run.scheduler.progress() if run.scheduler else (0, 0))
    if progress is not None:
        run.before_waiting = progress.refresh
    if _asked_for_details(config):
        return
    # A matrix run has thousands of skipped and xfailed cells: the summary keeps only the
    # failed and errored ones (and warnings) unless -r/-v was given explicitly.
    config.option.reportchars = "fEw"
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.reportchars = "fEw"


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    run = run_of(node.config)
    if run is not None:
        node.workerinput["fallbackcheck_session"] = run.session
        node.workerinput["fallbackcheck_owner"] = os.getpid()
        node.workerinput["fallbackcheck_parts"] = str(run.parts)
        node.workerinput["fallbackcheck_baselines"] = json.dumps({m: b.as_dict() for m, b in run.baselines.items()})


def pytest_report_header(config):
    run = run_of(config)
    if run is None:
        return None
    return header_lines(run.selection, getattr(run, "baselines", {}))


def header_lines(sel, baselines: dict | None = None) -> list[str]:
    lines = [f"fallbackcheck: runtimes {', '.join(sel.runtimes)}; images {', '.join(sel.images)}; "
             f"{len(sel.profiles)} profiles; {len(sel.probes)} probes"]
    if sel.shard_info:
        info = sel.shard_info
        lines.append(f"fallbackcheck: shard {info['index']}/{info['of']} of selection {info['of_selection']}: "
                     f"{info['cells']} of {info['selection_cells']} cells, {info['batches']} batches")
    lines += [f"fallbackcheck: NOTE {note}" for note in sel.notes]
    lines += [f"fallbackcheck: skipped runtime {rid}: {why}" for rid, why in sel.skipped_runtimes.items()]
    # A kernel host that cannot be fetched or booted says so here, before its cells error.
    lines += [f"fallbackcheck: kernel baseline of {machine} {b.error}" for machine, b in (baselines or {}).items()
              if b.error and machine != "host"]
    return lines


def batch_group(cell: Cell) -> str:
    """The xdist group of a cell: its batch, or for a runtime that boots once per image
    (kernel hosts), every batch of that image on that runtime."""
    if get_runtime(cell.runtime).shares_start:
        return f"{cell.image}|{cell.runtime}|*"
    return str(cell.batch)


def pytest_generate_tests(metafunc):
    for name, kind in CELL_FIXTURES.items():
        if name not in metafunc.fixturenames:
            continue
        run = run_of(metafunc.config)
        if run is None:
            raise pytest.UsageError("the matrix suites need their plugin state; run them as `pytest suites`")
        cells = run.cells_of_kind(kind)
        if hasattr(metafunc.config, "workerinput"):
            # One batch = one xdist group: under --dist loadgroup a batch runs once, on one
            # worker, and the API and raw cells of a batch share its single container.
            params = [pytest.param(c, id=c.id, marks=pytest.mark.xdist_group(batch_group(c))) for c in cells]
        else:
            # One process runs every cell: nothing to group (a mark per cell is a measurable
            # share of collecting the main job's 58,800 cells).
            params = [pytest.param(c, id=c.id) for c in cells]
        metafunc.parametrize(name, params)


@pytest.fixture(scope="session")
def fallbackcheck_run(request) -> MatrixRun:
    """Session scope: the matrix run of this process (selection, batch cache)."""
    return run_of(request.config)


# The facts of a cell that --junitxml carries as <property> elements (CI reads them without
# opening the report).
JUNIT_PROPERTIES = ("verdict", "outcome", "errno", "works", "delivered", "source", "container")


def junit_properties(row: dict) -> list[tuple[str, str]]:
    out = []
    for name in JUNIT_PROPERTIES:
        value = works(row) if name == "works" else row.get(name)
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        out.append((name, "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)))
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Where every collected item is a plain cell, each runs under the cell protocol
    (fallbackcheck/cellprotocol.py: pytest's reports without pytest's per-test hooks);
    otherwise every item runs under pytest's own."""
    run = run_of(item.config)
    if run is None:
        return None
    if run.rows is None:  # an xdist worker: the batch after this one's may start early
        run.next_cell = _cell_of(nextitem) if nextitem is not None else None
    if not run.lean:
        return None
    return cellprotocol.run(item, nextitem, run.take_properties, run.ihook_of(item), run.passed_phases)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """The cell that just ran hands its facts to its teardown report (JUnit reads them there)."""
    run = run_of(item.config)
    if run is not None:
        item.user_properties.extend(run.take_properties())


def pytest_runtest_setup(item):
    if item.get_closest_marker("engine") is None:
        return
    from .runtimes.docker_engine import engine

    reason = engine().unavailable_reason()
    if reason:
        if os.environ.get(REQUIRE_ENGINE) == "1":
            pytest.fail(f"{REQUIRE_ENGINE}=1 but {reason}", pytrace=False)
        pytest.skip(f"needs a container engine: {reason}")


class ReportWriter:
    """Controller-only plugin: gathers every cell row and writes the report at the end.

    Registered only where not hasattr(config, "workerinput"), so xdist workers never write.
    """

    def __init__(self, run: MatrixRun):
        self.run = run

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        tr.section("fallbackcheck")
        for line in header_lines(self.run.selection, self.run.baselines):
            tr.write_line(line)
        if self.run.report is not None and not self.run.stop_line:
            for line in ci_summary.terminal_lines(self.run.report, self.run.written):
                tr.write_line(line)
        if self.run.stop_line:
            tr.write_line(self.run.stop_line, yellow=True)
        if self.run.write_error:
            tr.write_line(self.run.write_error, red=True)

    def pytest_keyboard_interrupt(self, excinfo):
        self.run.interrupted = True
        if self.run.early_fixes is not None:
            self.run.early_fixes.stop()
        if self.run.scheduler is not None:
            self.run.scheduler.close(cancel=True)

    def pytest_sessionfinish(self, session, exitstatus):
        # Shielded: a signal now (a second Ctrl-C, a SIGTERM after a Ctrl-C, or the first one
        # during the fix reruns or the report) stops the fix reruns not yet started and marks
        # the report incomplete, but cannot cut short the removal of the run's containers.
        stopping.phase("the end of the run (fix reruns, removing containers, writing the report)")
        with stopping.shielded():
            self._finish(session, exitstatus)

    def _finish(self, session, exitstatus):
        run = self.run
        if session.config.option.collectonly:
            shutil.rmtree(run.parts, ignore_errors=True)
            return  # nothing ran: keep the last report
        option = session.config.option
        directory = run.report_dir
        complete = exitstatus in (0, 1) and not run.interrupted and not stopping.requested.is_set()
        if run.timing.first is not None:
            run.phase("first_cell", run.timing.first)
        if run.timing.last is not None:
            run.phase("last_cell", run.timing.last)
        planned, notes, fixes_when = [], None, None
        try:
            rows, timings = list(run.rows or ()), []
            for part in sorted(run.parts.glob("*.rows")):
                for item in _read_rows(part):
                    (timings.append(item["_timing"]) if "_timing" in item else rows.append(item))
            forms = run.report_forms.forms  # encode() uses those of rows that are still these rows
            if run.early_fixes is not None:
                if not complete or option.no_fixes or session.shouldfail or session.shouldstop:
                    run.early_fixes.stop()  # cut short (-x, --maxfail): the cells that ran decide
                run.early_fixes.wait()  # nothing of it may still be starting containers below
            if complete and not option.no_fixes:
                planned, notes = fixes.plan(rows, run.selection.profiles, directory / "fixes", run.catalogue,
                                            fixes.newer_default(), write=False)
                proven, missing = (run.early_fixes.split(planned, rows) if run.early_fixes is not None
                                   else ([], list(planned)))
                if missing:
                    proven += fixruns.rerun(run, missing, stop=stopping.requested)
                    run.phase("fixes_proven")
                fixes_when = fixruns.when_proven(run.early_fixes is not None, len(planned), len(missing))
                for fix in planned:
                    fix.write()
                rows += proven
            run.phase("rows_ready")
            run.read_parts()  # received profiles and load logs of every process, before they go
            shutil.rmtree(run.parts, ignore_errors=True)
        except BaseException:
            run.remove_everything()
            raise
        sections = {"fixes": [f.as_dict() for f in planned]}
        if notes is not None:  # planned: why the groups without a fix have none
            sections["unfixable"] = notes
        if run.baseline is not None:
            changes = diff.compare(run.baseline.values(), [r for r in rows if not report.is_fix_row(r)])
            sections["changes"] = {"baseline": option.baseline, **changes}
        profiles = {pid: p.oci for pid, p in run.selection.profiles.items()}
        profiles.update({f.profile_id: f.patched for f in planned})
        try:
            environment = run.environment()  # asks the generations their versions: before they go
        finally:
            run.remove_everything()
        # The seccomp sections the OCI runtimes received, once per distinct content; each
        # batch names its own by hash (cells' batch.received_profile).
        sections["received_profiles"] = dict(sorted(run._received.items()))
        stopping.phase("the writing of the report")
        stopping.checkpoint("report")
        complete = complete and not stopping.requested.is_set()  # a signal during the fix reruns or now
        run.phase("report_build")  # the last phase the report can carry (its own writing comes after)
        data = report.build(rows, {**environment, "timing": {**CellTiming.combine(timings), "fixes_proven": fixes_when,
                                                             "phases_s": dict(sorted(run.phases.items(),
                                                                                     key=lambda kv: kv[1]))}},
                            run.selection.as_dict(), complete, profiles=profiles, forms=forms,
                            **sections, **_stop_section(complete))
        # one container per engine generation (its engines run inside it)
        data["summary"]["generation_containers"] = sum(1 for h in environment["engine_hosts"].values()
                                                       if h.get("container"))
        run.report = report.Report(data, rows)  # the views read the rows as they are, not decoded again
        try:
            run.written = report.atomic_write_all(directory, {
                "matrix.json": report.dumps(data), "matrix.md": render_md.render(run.report),
                "matrix.html": render_html.render(run.report), **render_table.texts(run.report)})
            write_summaries(run.report, option.summary, run.written[1])
            if not complete:
                run.stop_line = _stop_line(data, run.written[0], run.session)
        except OSError as exc:  # a full disk, a directory gone read-only: one line, old report kept
            run.write_error = (f"ERROR: could not write the report to {directory}: {exc.strerror or exc} "
                               "(the previous matrix.json, if any, is intact)")
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        if stopping.stopped_by() and session.exitstatus != pytest.ExitCode.INTERNAL_ERROR:
            session.exitstatus = pytest.ExitCode.INTERRUPTED  # a stopped run never exits 0


def _stop_section(complete: bool) -> dict:
    """The report says which signal stopped the run and where (report-format: `stopped`)."""
    if complete or not stopping.stopped_by():
        return {}
    return {"stopped": {"signal": stopping.stopped_by(), "during": stopping.stopped_in()}}


def _stop_line(data: dict, path: Path, session: str) -> str | None:
    """The one line of a run that did not end by itself; None for one that did (an error or
    -x ends a run early too, and pytest says so itself)."""
    if not stopping.stopped_by():
        return None
    cells = data["summary"]["cells"]
    return stopping.line(f"{cells} cells measured, report marked incomplete: {path}; {_what_is_left(session)}")


def _what_is_left(session: str) -> str:
    """The end of a stop line: checked on the engines, not assumed."""
    try:
        left = leftovers(session)
    except Exception as exc:  # the line must still come
        return f"could not check for containers left ({type(exc).__name__})"
    if not left:
        return "no container of the run is left"
    return f"left on this machine: {', '.join(left[:5])} (label fallbackcheck.session={session})"


def write_summaries(data, summary_path: str | None, md_path: Path) -> None:
    """The short Markdown summary: to --summary PATH, and appended to $GITHUB_STEP_SUMMARY."""
    text = ci_summary.markdown(data, str(md_path))
    if summary_path:
        Path(summary_path).write_text(text)
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a") as fh:
            fh.write(text)
