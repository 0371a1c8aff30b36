"""The run of a matrix, pytest-free: the selection, the batches in flight, judging each
batch's cells, the rows, the environment. A front end (the pytest plugin) builds one per
process, hands it the cells it collected, asks it for each cell's row and, on the controller,
ends it with matrix.finish.write_report. An xdist worker's run is built from what the
controller's worker_input() gave it.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future
from pathlib import Path

from ..model import catalogue as catalogue_mod
from .. import cache, paths, report, runs, stopping
from ..judging import fixes
from ..execution import fixruns
from ..artefacts import images
from ..report import diff
from ..execution.batch import run as run_batch, run_many
from ..batches.results import BatchKey
from ..batches.target import BatchTarget
from ..judging.cells import Cell, judge, record
from ..errors import UsageError
from ..engines import loads
from ..hosts import Host, registry as hosts_registry
from ..hosts.cleanup import cleanup_hosts
from ..hosts.generation import cleanup_generations
from ..hosts.recipes import GENERATIONS
from ..hosts.ssh import parse_engine_hosts
from ..batches.baseline import KernelBaseline
from ..batches.received import content_hash as received_content_hash
from ..runtimes import get as get_runtime
from ..execution.scheduler import BatchScheduler, CellTiming, concurrency, images_first, run_order
from ..execution.selection import Selection, resolve
from .options import RunOptions
from .texts import junit_properties, what_is_left

SESSION_ENV = "FALLBACKCHECK_SESSION"


def _batch_order(cells) -> list[BatchKey]:
    """The distinct batches of `cells`, in the order their first cell comes."""
    return list(dict.fromkeys(cell.batch for cell in cells))


def _batch_index(cells) -> dict[BatchKey, list[str]]:
    """Batch -> the probes of its cells, in the order the cells come."""
    index: dict[BatchKey, dict[str, None]] = {}
    for cell in cells:
        index.setdefault(cell.batch, {})[cell.probe] = None
    return {key: list(probes) for key, probes in index.items()}


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



class MatrixRun:
    """Per-process state of a matrix run: the selection, cached batches, collected rows."""

    def __init__(self, options: RunOptions, worker: dict | None = None):
        self.options = options
        self.worker = worker  # what xdist handed this worker (worker_input()); None on the controller
        self.controller = worker is None
        self.catalogue = catalogue_mod.load()
        opt = options
        if self.controller:
            # Every container of this run carries this id as a label (FALLBACKCHECK_SESSION lets
            # a caller choose it, e.g. to find this run's containers among others').
            self.session = os.environ.get(SESSION_ENV) or "s-" + uuid.uuid4().hex[:12]
            runs.start(self.session)
        else:
            self.session = worker["fallbackcheck_session"]
            runs.start(self.session, worker["fallbackcheck_owner"])
        # Engine hosts before the selection: a misspelt or unreachable engine host, or a
        # generation that cannot be provisioned, is one ERROR line before anything runs
        # (and a generation started meanwhile goes again, Ctrl-C included).
        hosts_registry.configure(self.session, parse_engine_hosts(opt.engine_hosts))
        self.cleaned = False  # the run's containers removed (the end of the run, or a stop before it)
        try:
            self._start()
        except BaseException as exc:
            if self.controller:
                with stopping.shielded():
                    self.remove_everything()
                    if getattr(self, "parts", None):
                        shutil.rmtree(self.parts, ignore_errors=True)
                if isinstance(exc, KeyboardInterrupt):
                    stopping.note_interrupt(exc)
                    # pytest shows nothing of an interrupt this early: our line is all there is.
                    self._say_nothing_measured()
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

    def _start(self) -> None:
        opt = self.options
        if self.controller:
            self.selection = resolve(self.catalogue, opt.images, opt.runtimes, opt.profiles, opt.probes, opt.shard)
        else:  # resolved once, on the controller (worker_input)
            self.selection = Selection.from_controller(self.worker["fallbackcheck_selection"])
        if self.controller:
            images.check_archives(self.selection.images)  # a suite no archive carries: one line, now
            self.report_dir = _writable_report_dir(Path(opt.report_dir) if opt.report_dir
                                                   else paths.default_report_dir())
            self.parts = Path(tempfile.mkdtemp(prefix=f"fallbackcheck-{self.session}-"))
            name = "main"
            loads.configure(self.parts / f"loads-{name}.jsonl")
            self.swept = self._sweep_dead_runs()
            self.baselines = self._measure_baselines()
        else:
            self.parts = Path(self.worker["fallbackcheck_parts"])
            name = self.worker["workerid"]
            loads.configure(self.parts / f"loads-{name}.jsonl")
            self.baselines = {m: KernelBaseline.from_dict(m, d)
                              for m, d in json.loads(self.worker["fallbackcheck_baselines"]).items()}
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
        self.rows: list[dict] | None = [] if self.controller else None
        self.scheduler: BatchScheduler | None = None
        self.timing = CellTiming()
        self.last_key: BatchKey | None = None
        self._last_rows: dict[str, dict] | None = None  # the rows of last_key's batch, once it is back
        self.collected: list[Cell] = []  # the cells of this process's items, in their order (collected_cells())
        self.properties: list | None = None  # the JUnit properties of the cell that just ran
        self.next_cell: Cell | None = None  # an xdist worker's next cell, where its front end knows it
        self.before_waiting = None  # called before a cell waits for its batch (the progress line's refresh)
        # The report's first step for rows already judged, done while a cell waits for its batch.
        self.report_forms = report.FormsWhileWaiting()
        self._cells_by_kind: dict[str, list[Cell]] | None = None
        # A cell's facts as JUnit properties (on its teardown report) are made only for what
        # reads them: --junitxml, and pytest-reportlog's --report-log where installed.
        self.wants_properties = opt.wants_properties
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
                out[runtime.machine] = runtime.kernel_baseline(self.catalogue,
                                                               [a for a in arches if runtime.runs_arch(a)])
            except Exception as exc:  # the batches will say what broke; the report says this
                out[runtime.machine] = KernelBaseline(runtime.machine, error=f"not measured: {exc}")
            out[runtime.machine].machine = runtime.machine
        return out

    def collected_cells(self, cells: list[Cell]) -> None:
        """The cells this process will run, in their order (its front end's collection)."""
        self.collected = cells

    def _index(self) -> dict[BatchKey, list[str]]:
        """Batch -> its probes still selected after -k/deselection (indexed once, on first use,
        when the session's items are final, or from the selection when the batches start
        before collection). Batch threads call this: the index is built whole and only then
        published, so no thread ever sees half of it."""
        with self._index_lock:
            if self._batch_index is None:
                self._batch_index = _batch_index(self.collected)
        return self._batch_index

    def start_batches_early(self) -> None:
        """Start the batches while pytest collects the cells (5 s for the main job's 58,800,
        on one core, while the engines would sit idle): from the selection, in the order the
        items will come (the raw cells' suite is collected first)."""
        ordered = self.cells_of_kind("raw") + self.cells_of_kind("api")
        with self._index_lock:
            self._batch_index = _batch_index(ordered)
        self._start_batches(self.run_order(list(self._batch_index)))  # as the items will be grouped

    def check_early_index(self) -> None:
        """After collection: when the items are not the selection after all (a conftest
        deselected some), batches not yet started run the items' probes; those already
        running measure a few more, whose rows no cell reads."""
        actual = _batch_index(self.collected)
        with self._index_lock:
            if actual != self._batch_index:
                self._batch_index = actual

    def _start_batches(self, keys: list[BatchKey]) -> None:
        """The scheduler of a process that runs every cell, asked for all its batches at once
        (the first of each image first), and the fixes proven early."""
        self.phase("batches_start")
        stopping.phase("the batches")
        self.scheduler = BatchScheduler(self._run, concurrency(self.options.batches))
        self.scheduler.want(images_first(keys))
        if not self.options.no_fixes:
            self.early_fixes = fixruns.EarlyFixes(self, keys)

    def run_order(self, keys: list[BatchKey]) -> list[BatchKey]:
        """scheduler.run_order for this run's profiles: patchable ones first."""
        def patchable(profile_id: str) -> bool:
            profile = self.selection.profiles.get(profile_id)
            return profile is not None and profile.kind in fixes.PATCHABLE and bool(profile.oci)
        return run_order(keys, patchable)

    def batch_probes(self, key: BatchKey) -> list[str]:
        return self._index().get(key, [])

    def target(self, key: BatchKey) -> BatchTarget:
        """The batch resolved once (its runtime, profile, image recipe and probes)."""
        return BatchTarget.resolve(key, get_runtime(key.runtime), self.selection.profiles[key.profile],
                                   self.batch_probes(key))

    def _run(self, key: BatchKey) -> dict[str, dict]:
        """A batch thread: run the batch, then judge every selected cell of it at once (probe
        -> report row). Cells only read their row; the fixes can be planned as soon as the
        last batch is judged, before the last cell has run (EarlyFixes)."""
        target = self.target(key)
        runtime = target.runtime
        if runtime.shares_start:
            result = self._run_shared(runtime, key)
        else:
            result = run_batch(target, self.catalogue, self.session, self.options.probe_timeout,
                               self.baselines.get(runtime.machine))
        rows = self.judged(target, result)
        if self.rows is not None:  # this process keeps the rows for the report: their forms while cells wait
            self.report_forms.add(list(rows.values()))
        return rows

    def judged(self, target: BatchTarget, result) -> dict[str, dict]:
        """The report rows of a batch's cells (probe -> row)."""
        if result.received is not None:
            self.keep_received(result.received)
        key, rows, summary = target.key, {}, result.summary()
        for probe in target.probes:
            cell = Cell(probe, key.image, key.runtime, key.profile)
            rows[probe] = record(cell, self.catalogue, result, judge(cell, self.catalogue, result, target), summary)
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
            keys = [k for k in self._index() if (k.image, k.runtime) == group]
            try:
                pending.set_result(run_many([self.target(k) for k in keys], self.catalogue, self.session,
                                            self.options.probe_timeout, self.baselines.get(runtime.machine)))
            except BaseException as exc:
                pending.set_exception(exc)
                raise
        return pending.result()[key]

    def _batch(self, key: BatchKey):
        """The batch's result; asks the scheduler for the batches this process needs next
        (all of them at the first cell without xdist; under xdist, those queued for this
        worker, each time a new batch starts), so that several run at once."""
        if key == self.last_key and self._last_rows is not None:
            return self._last_rows  # the batch of the cell before (a batch's cells run together)
        if self.scheduler is None:
            if self.controller:  # this process runs every cell
                self._start_batches(_batch_order(self.collected))
            else:
                self.scheduler = BatchScheduler(self._run, concurrency(self.options.batches))
        if key != self.last_key:
            self.last_key, self._last_rows = key, None
            if self.before_waiting is not None and not self.scheduler.done(key):
                self.before_waiting()  # the progress so far is shown while the run waits
            with self.timing.waiting():  # the cell cannot run before its batch is back anyway
                while not self.scheduler.done(key) and self.report_forms.step():
                    pass
            if not self.controller:
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
        row = self._batch(cell.batch)[cell.probe]
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

    def phase(self, name: str, at: float | None = None) -> None:
        """Note that the run reached `name` (now, or at perf_counter value `at`), once."""
        self.phases.setdefault(name, round((time.perf_counter() if at is None else at) - self.clock0, 2))

    def take_properties(self) -> list:
        """The JUnit properties of the cell that just ran (once)."""
        properties, self.properties = self.properties or [], None
        return properties

    def baseline_change(self, row: dict) -> str | None:
        """What --baseline says changed in the cell's outcome, works, delivered errno or
        verdict (the cell then fails), or None (a cell the baseline lacks is new: listed in
        the report, not a failure)."""
        old = self.baseline.get(diff.key(row)) if self.baseline is not None else None
        fields = diff.changed_fields(old, row) if old is not None else None
        return f"changed since the baseline: {diff.change_text({'fields': fields})}" if fields else None

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
        runtimes, kinds, engine_hosts = {}, {}, {}
        for rid in self.selection.runtimes:
            try:
                runtime = get_runtime(rid)
                kinds[rid] = runtime.kind_facts()
                runtimes[rid] = runtime.cached_versions()  # asked once per process
            except Exception as exc:  # the report must still be written
                runtimes[rid] = {"error": str(exc)}
                continue
            # the engine host a runtime runs on (a generation, an ssh host), as the runtime holds
            # it: a kernel host's or a systemd host's name after `@` is no engine host
            if isinstance(runtime.host, Host) and runtime.host.name:
                engine_hosts.setdefault(runtime.host.name, runtime.host)
        hosts = {}
        loaded = self._loaded if self._loaded is not None else loads.read(self.parts)
        for name, host in engine_hosts.items():
            try:
                hosts[name] = {"kind": host.kind_name, **host.versions(), "provisioned": host.provisioned,
                               "container": getattr(host, "container_name", None),
                               "loaded": [x for x in loaded if x["host"] == name]}
            except Exception as exc:  # the report must still be written
                hosts[name] = {"error": str(exc)}
        return {"session": self.session, "runtimes": runtimes, "runtime_kinds": kinds, "engine_hosts": hosts,
                "generation_order": list(GENERATIONS),
                "loaded_here": [x for x in loaded if x["host"] == "this host"],
                "skipped_runtimes": self.selection.skipped_runtimes,
                "notes": self.selection.notes, "duration_s": round(time.time() - self.started, 1),
                "kernel_baseline": {m: b.as_dict() for m, b in self.baselines.items()},
                "swept_leftovers": self.swept}

    def end_process(self, cancel: bool, cut_short: bool) -> None:
        """Every process, as its session ends: stop the batch scheduler (with `cancel`, what
        has not started never starts: a stop or an error), and flush this process's rows before
        the controller merges them. `cut_short` (-x, --maxfail): the cells that ran decide."""
        self.timing.finish()
        cancel = cancel or self.interrupted or stopping.requested.is_set()
        if cancel:
            if self.early_fixes is not None:
                self.early_fixes.stop()
            for rid in self.selection.runtimes:
                get_runtime(rid).abandon()
        if cut_short and self.early_fixes is not None:
            self.early_fixes.stop()
        if self.scheduler is not None:
            self.scheduler.close(cancel=cancel, drop_queued=cut_short)
        pickle.dump({"_timing": self.timing.as_dict()}, self.rows_out, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows_out.close()

    def worker_input(self) -> dict:
        """What an xdist worker's run is built from (plain values: xdist sends them)."""
        return {"fallbackcheck_session": self.session, "fallbackcheck_owner": os.getpid(),
                "fallbackcheck_parts": str(self.parts),
                "fallbackcheck_selection": self.selection.for_workers(self.options.shard),
                "fallbackcheck_baselines": json.dumps({m: b.as_dict() for m, b in self.baselines.items()})}

    def interrupt(self) -> None:
        """Ctrl-C or a signal: nothing more starts (batches, fix reruns)."""
        self.interrupted = True
        if self.early_fixes is not None:
            self.early_fixes.stop()
        if self.scheduler is not None:
            self.scheduler.close(cancel=True)

    def end_unfinished(self) -> None:
        """The controller of a run stopped before its session could end (a signal during
        the set-up): the containers still go, and the stop line still comes."""
        with stopping.shielded():
            self.remove_everything()
        if stopping.stopped_by():
            self._say_nothing_measured()

    def _say_nothing_measured(self) -> None:
        """The one line of a run stopped before it measured anything."""
        cache.progress(stopping.line("nothing was measured, so no report was written (the previous one, if any, "
                                     f"is kept); {what_is_left(self.session)}").removeprefix("fallbackcheck: "))
