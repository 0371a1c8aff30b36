"""Whether a runtime starts any container at all.

A batch whose container never started under a filter is the runtime's answer to that profile
only while the same runtime still starts an unconfined container of the same image. When it
starts none, the machine is at fault (seen: crun failing to create its cgroup directory after
the host's cgroup tree was damaged), and naming each profile as the cause would send the user
after the wrong thing: the batch is then an error of the environment, said once per runtime.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..artefacts import images
from ..batches import libcinfo
from ..model import profiles
from ..batches.launch import BatchOutput, BatchPlan

if TYPE_CHECKING:
    from ..runtimes.base import Runtime


def what_it_said(output: BatchOutput) -> str:
    """The runtime's last words on stderr, as one line."""
    return " | ".join(output.stderr.strip().splitlines()[-3:])


def never_started(output: BatchOutput) -> bool:
    """The container printed nothing (not even the runner's first line), without timing out,
    while the runtime said why."""
    runner_spoke = any(line.lstrip().startswith("{") for line in output.stdout.splitlines())
    return not runner_spoke and not output.timed_out and bool(what_it_said(output))


def environment_error(runtime: Runtime, said: str) -> str:
    """The line for every batch of a runtime that starts nothing, unconfined included."""
    which = runtime.cached_versions().get("oci_runtime_version") or runtime.id
    return (f"{runtime.id} ({which}) cannot start any container, unconfined included: a problem of this "
            f"machine, not of the profile: {said[-400:]}")


def unconfined_refusal(runtime: Runtime, plan: BatchPlan, unconfined: BatchOutput | None = None) -> str | None:
    """None if `runtime` starts an unconfined container of `plan`'s image; else what it said.
    `unconfined`: the output of that image's unconfined batch, where it ran beside this one
    (a kernel host runs every profile of an image in one boot): it answers, nothing starts.
    Otherwise a container that runs only the libc probe answers, asked again each time (never
    cached: a machine can break, or recover, mid-run), and only refused batches pay for it;
    except on a runtime that boots a machine per start (shares_start), where one refused batch
    must not boot a whole kernel again: its refusal is taken as the profile's."""
    if unconfined is not None:
        return what_it_said(unconfined) if never_started(unconfined) else None
    if runtime.shares_start:
        return None
    check = replace(plan, profile=profiles.parse("unconfined"),
                    specs=libcinfo.specs(plan.arch, images.libc_family(plan.image_id)))
    output = runtime.run_batch(check)
    if not never_started(output):
        return None
    return what_it_said(output)
