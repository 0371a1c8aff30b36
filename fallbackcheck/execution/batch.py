"""A batch: every selected probe of one (image, runtime, profile), run in ONE container."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..batches import libcinfo, received as received_mod
from ..model import profiles, syscalls
from . import startcheck
from .. import stopping
from ..model.catalogue import ApiEntry, Catalogue, RawEntry, is_errno_name
from ..batches.baseline import KERNEL_ENOSYS, KernelBaseline
from ..batches.observation import FILTER_LIKE, Observation, classify, delivered
from ..batches.launch import BatchOutput, BatchPlan, parse_output
from ..batches.results import BatchKey, BatchResult
from ..batches.target import BatchTarget

if TYPE_CHECKING:
    from ..runtimes.base import Runtime


def runner_spec(entry: ApiEntry | RawEntry, arch: str, probe_set: str) -> str:
    """Raw probes are static (/fbc/<arch>/raw); API probes come from the image's probe set
    (/fbc/amd64, /fbc/i386 or /fbc/amd64-musl)."""
    if isinstance(entry, RawEntry):
        return f"{entry.id}=/fbc/{arch}/raw {entry.syscall}"
    return " ".join([f"{entry.id}=/fbc/{probe_set}/{entry.binary}", *entry.args])


def needed_entries(catalogue: Catalogue, probe_ids: list[str]) -> list:
    """The selected entries plus the raw probes their delivered errnos are read from."""
    wanted: dict[str, object] = {}  # probe id -> entry, in order (entries compare field by field: slow)
    for pid in probe_ids:
        entry = catalogue.get(pid)
        for sc in entry.syscalls + (catalogue.loader_syscalls if entry.kind == "api" else ()):
            raw = catalogue.raw_for(sc)
            if raw is not None:
                wanted.setdefault(raw.id, raw)
        wanted.setdefault(entry.id, entry)
    # Raw probes first: they describe the filter, and are the cheapest to run.
    return sorted(wanted.values(), key=lambda e: e.kind != "raw")


def identify_libc(target: BatchTarget, ref: str, arch: str, probe_dir, session: str, probe_timeout_s: float) -> str:
    """The image's libc, from one unconfined run of libcinfo's specs (cached by content)."""
    runtime, image, family = target.runtime, target.key.image, target.libc_family

    def measure() -> str:
        plan = BatchPlan(image, ref, arch, profiles.parse("unconfined"), libcinfo.specs(arch, family),
                         probe_dir, probe_timeout_s, session)
        output = runtime.run_batch(plan)
        records, done = parse_output(output.stdout)
        if not done:
            raise RuntimeError(f"identifying the libc of {image} failed (exit {output.exit_code}): "
                               f"{output.stderr.strip()[-400:]}")
        return libcinfo.parse(records)

    return libcinfo.cached(runtime.image_content_key(image, ref), family, measure)


def _plan(target: BatchTarget, catalogue: Catalogue, result: BatchResult, session: str,
          probe_timeout_s: float) -> tuple[BatchPlan, list]:
    runtime, image = target.runtime, target.key.image
    stopping.checkpoint("images")
    ref, arch = runtime.prepare_image(image)
    result.arch = arch
    probe_set = target.probe_set(arch)
    probe_dir = runtime.probe_dir(probe_set)
    result.libc = identify_libc(target, ref, arch, probe_dir, session, probe_timeout_s)
    result.engine_version = runtime.engine_version()
    entries = [e for e in needed_entries(catalogue, list(target.probes)) if e.kind == "api" or e.exists_on(arch)]
    plan = BatchPlan(image, ref, arch, target.profile, tuple(runner_spec(e, arch, probe_set) for e in entries),
                     probe_dir, probe_timeout_s, session)
    return plan, entries


def delivered_here(entry: RawEntry, obs: Observation | None, arch: str, baseline: KernelBaseline | None) -> str:
    """The delivered class of a raw probe, read against the kernel that ran it."""
    found = delivered(entry, obs)
    if baseline is None:
        return found
    # ENOSYS for a syscall this kernel lacks is the kernel's answer, whatever the filter
    # would have said: its own class, never taken for the filter's ENOSYS.
    if found == "ENOSYS" and baseline.lacks(arch, entry.syscall):
        return KERNEL_ENOSYS
    # Another kernel can answer the harmless call with another errno than the catalogue's
    # (a kernel host's 6.12 has map_shadow_stack: EOPNOTSUPP without CPU support, where
    # this host's kernel lacks it): the same errno as unfiltered on that kernel, and not one
    # a filter delivers, is that kernel's own answer.
    if (is_errno_name(found) and found not in FILTER_LIKE
            and baseline.arches.get(arch, {}).get(entry.syscall) == found):
        return "allowed"
    return found


def _finish(result: BatchResult, entries: list, output: BatchOutput, catalogue: Catalogue,
            probe_timeout_s: float, baseline: KernelBaseline | None) -> None:
    result.container = output.container
    result.filter_read, result.filter_read_note = output.filter_read, output.filter_read_note
    result.boot = output.boot
    result.kernel = (output.boot or {}).get("kernel") or (baseline.kernel if baseline is not None else "") or ""
    result.runtime_stderr = output.stderr[-4000:]
    records, done = parse_output(output.stdout)
    result.exit_code, result.complete = output.exit_code, done
    for entry in entries:
        record = records.get(entry.id)
        if record is not None:
            result.observations[entry.id] = classify(record, probe_timeout_s)
        else:
            why = "the batch timed out" if output.timed_out else (
                "the runner stopped early" if records else "the runner produced nothing")
            tail = " | ".join(output.stderr.strip().splitlines()[-3:])
            result.observations[entry.id] = Observation(
                entry.id, "broken", detail=f"not run: {why} (exit {output.exit_code}){': ' + tail if tail else ''}")
    if not done and not result.error and not records:
        result.error = f"the batch produced no output (exit {output.exit_code}): {output.stderr.strip()[-500:]}"
    arch = result.arch
    for entry in entries:
        if entry.kind == "raw":
            result.delivered[entry.syscall] = delivered_here(entry, result.observations.get(entry.id), arch, baseline)
    for sc in {s for e in entries for s in e.syscalls}:
        result.delivered.setdefault(sc, "n/a" if catalogue.raw_for(sc) and not catalogue.raw_for(sc).exists_on(arch)
                                    else "unknown")


def _note_received(result: BatchResult, target: BatchTarget, output: BatchOutput) -> None:
    """What the OCI runtime received, and how it differs from what was asked."""
    result.received, result.received_note = output.received, output.received_note
    if output.received is None and not output.received_note:
        result.received_note = f"{target.runtime.id} does not read the OCI config it hands the runtime"
    try:
        machine = syscalls.NATIVE.get(target.image.arch) if target.image is not None else None
        result.profile_changes = received_mod.changes(target.in_force, output.received, kernel_arch=machine)
    except Exception as exc:  # a profile we cannot compare must not cost the measurement
        result.profile_changes = [f"could not compare asked and received profiles: {exc}"]


def _note_start_refused(result: BatchResult, runtime: Runtime, plan: BatchPlan, output: BatchOutput,
                        unconfined: BatchOutput | None = None) -> None:
    """A batch whose container printed nothing while the runtime said why. Under a filter, if
    the runtime still starts an unconfined container, it could not start this one under this
    profile (its own set-up after the filter is loaded needs a call the profile denies, e.g.
    execve): the runtime's answer to the profile, named with its version, not a measurement
    of ours that failed. If it starts nothing, unconfined included, the machine is at fault
    (startcheck): an error of the environment, not of the profile."""
    ran_something = any(o.outcome != "broken" for o in result.observations.values())
    if result.complete or ran_something or not startcheck.never_started(output):
        return
    said = startcheck.what_it_said(output)
    refused_unconfined = said if plan.profile.kind == "unconfined" else \
        startcheck.unconfined_refusal(runtime, plan, unconfined)
    if refused_unconfined is not None:
        result.machine_fault = True
        result.error = startcheck.environment_error(runtime, refused_unconfined)
        return
    versions = runtime.cached_versions()
    which = versions.get("oci_runtime_version") or runtime.id
    result.start_refused = True
    result.error = (f"the container did not start under this profile: {runtime.id} ({which}) said "
                    f"(exit {output.exit_code}): {said[-400:]}")


def run_many(targets: list[BatchTarget], catalogue: Catalogue, session: str, probe_timeout_s: float,
             baseline: KernelBaseline | None = None) -> dict[BatchKey, BatchResult]:
    """Several batches of one runtime, handed to it together (a kernel host runs the batches
    of one image in one boot); each still gets its own result."""
    started = time.monotonic()
    runtime = targets[0].runtime
    results = {t.key: BatchResult(t.key) for t in targets}
    planned = []
    for target in targets:
        try:
            planned.append((target, *_plan(target, catalogue, results[target.key], session, probe_timeout_s)))
        except Exception as exc:  # engine errors too: one plain line, which every cell of the batch reports
            results[target.key].error = runtime.explain_failure(exc)
    if planned:
        stopping.checkpoint("batch")
    try:
        outputs = runtime.run_batches([plan for _, plan, _ in planned]) if planned else []
    except Exception as exc:
        outputs = []
        for target, _, _ in planned:
            results[target.key].error = runtime.explain_failure(exc)
    # each image's unconfined batch, where it ran in this call: it says whether the runtime
    # starts anything at all (startcheck), with no container of its own
    unconfined = {plan.image_id: output for (_, plan, _), output in zip(planned, outputs)
                  if plan.profile.kind == "unconfined"}
    for (target, plan, entries), output in zip(planned, outputs):
        result = results[target.key]
        _finish(result, entries, output, catalogue, probe_timeout_s, baseline)
        _note_start_refused(result, runtime, plan, output, unconfined.get(plan.image_id))
        _note_received(result, target, output)
    for result in results.values():
        result.duration_s = time.monotonic() - started
    return results


def run(target: BatchTarget, catalogue: Catalogue, session: str, probe_timeout_s: float,
        baseline: KernelBaseline | None = None) -> BatchResult:
    return run_many([target], catalogue, session, probe_timeout_s, baseline)[target.key]
