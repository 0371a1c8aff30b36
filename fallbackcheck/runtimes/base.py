"""The runtime interface shared by every way of starting a batch."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..errors import SetupError

# Every container we start carries the run's labels (runs.py), so that leftovers can be found.
from ..runs import LABEL, SESSION_LABEL

from ..batches.launch import MEMORY_LIMIT, PIDS_LIMIT, BatchOutput, BatchPlan


def oci_runtime_version(binary: str, host=None) -> dict:
    """`<runc|crun> --version` on `host`: its first line, and the libseccomp it reports or links."""
    from ..hosts import this_host

    host = host or this_host()
    try:
        lines = host.run([binary, "--version"], check=False, timeout=30).stdout.splitlines()
    except OSError:
        return {"oci_runtime_version": None}
    out = {"oci_runtime_version": lines[0] if lines else None}
    for line in lines:
        if line.startswith("libseccomp:"):
            out["libseccomp"] = line.split(":", 1)[1].strip()
    if "libseccomp" not in out:
        version = host.package_versions(["libseccomp2"])["libseccomp2"]
        if version:
            out["libseccomp"] = f"{version} (Debian libseccomp2, linked dynamically)"
    return out


class Runtime:
    """How one kind of runtime starts a batch, on one engine host (WHERE: hosts/)."""

    kind = "?"  # docker-runc, podman-crun, containerd-runc, runc, ...
    # Facts of the kind, which the run writes into matrix.json (environment.runtime_kinds) for
    # the views to read, so that a new kind is its own module and no table elsewhere:
    family: str | None = None  # the engine family a deployment asks about ("Docker + runc"); None: none
    column_order = 60  # where its column goes in the tables (engines first, bare runtimes, local)
    start_s = 0.3  # expected seconds to start one batch (or boot once): shards are balanced by it

    @staticmethod
    def oci_rank(oci_runtime: str) -> int:
        """runc, then crun, then any other OCI runtime an engine has (columns within a family)."""
        return {"runc": 0, "crun": 1}.get(oci_runtime, 2)

    # The column it shares with others in the compatibility table ("kernels": every kernel
    # host, one column); None: a column of its own.
    shared_column: str | None = None

    def kind_facts(self) -> dict:
        """What the views read of this runtime instead of parsing its id: its kind and host
        ("" = this host), and the kind's facts above."""
        host = self.host if isinstance(self.host, str) else getattr(self.host, "name", "")
        return {"kind": self.kind, "host": host, "family": self.family, "column_order": self.column_order,
                "start_s": self.start_s, "shared_column": self.shared_column}

    def __init__(self, host=None):
        from ..hosts import this_host

        self.host = host or this_host()
        self.id = self.kind + self.host.suffix
        self.machine = self.host.machine

    def unavailable_reason(self) -> str | None:
        raise NotImplementedError

    def unsupported_profile(self, profile) -> str | None:
        """Why this runtime cannot take `profile` (a profiles.Profile) at all, or None: its
        cells are left out of the run and the selection says why, once (a sandbox whose
        filter option has no errno per syscall, say). Not for a profile the runtime refuses
        at start: that refusal is the runtime's answer, measured (startcheck.py)."""
        if profile.kind == "own":  # a sandbox's own named filter: only that sandbox has it
            return f"{self.id} has no filter of its own named {profile.id.partition(':')[2]!r}"
        return None

    def versions(self) -> dict:
        return {}

    def once(self, key, compute):
        """compute() for `key`, once per process and runtime: the first batch thread that asks
        computes it while the others of the moment wait (four threads in flight at the start
        asked every engine question four times). For facts that do not change during a run."""
        known = self.__dict__.setdefault("_once", {})  # setdefault is atomic: no lock needed here
        gate = known.setdefault(("gate", key), threading.Lock())
        with gate:
            if ("value", key) not in known:
                known[("value", key)] = compute()
        return known[("value", key)]

    def cached_versions(self) -> dict:
        """versions(), asked once per process."""
        return self.once("versions", self.versions)

    def engine_version(self) -> str | None:
        """The engine in front of the OCI runtime ("docker 20.10.24"), or None."""
        return self.cached_versions().get("engine")

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        """Make `image_id` runnable; return (reference to start, Debian arch)."""
        raise NotImplementedError

    def probe_dir(self, arch: str = "amd64") -> Path:
        """Host directory with the compiled probes for this runtime's images."""
        raise NotImplementedError

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        """A key that changes whenever the image's content does (the engine's image id, the
        root file system's digest): what the libc reading is cached by. None: do not cache."""
        return None

    def seccomp_in_force(self, profile) -> dict | None:
        """The seccomp JSON in force here under `profile` (profiles.Profile.in_force): {} for
        none, None where it cannot be known. A sandbox that puts our rules on top of a filter
        of its own says so here (profiles.UNKNOWN_DEFAULT)."""
        if profile.kind == "unconfined":
            return {}
        if profile.kind == "default":
            return self.default_seccomp()
        return profile.oci

    def default_seccomp(self) -> dict | None:
        """The profile this runtime applies when told nothing ({} = no filter), or None
        when it cannot be read (Docker compiles its default into dockerd)."""
        return None

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        raise NotImplementedError

    # The machine whose kernel runs this runtime's batches: its kernel baseline applies
    # ("host" for this machine and its engine generations; set from the engine host).
    machine = "host"
    # The Debian architecture of that kernel: x86_64 machines here, arm64 for the arm64
    # kernel hosts. Images run only where their tasks are native (runs_arch): never through
    # qemu-user, whose seccomp answers are qemu's own.
    kernel_arch = "amd64"

    def runs_arch(self, arch: str) -> bool:
        from ..model.syscalls import NATIVE

        return NATIVE.get(arch) == self.kernel_arch

    def kernel_baseline(self, catalogue, arches: list[str]):
        """The kernel baseline of `machine` (kernel.KernelBaseline), measured now: here, or
        on the engine host whose kernel runs the batches (an ssh machine's own)."""
        from ..batches.baseline import measure

        probe_set = "amd64" if "i386" not in arches else "i386"
        if self.host.machine != "host":
            return self.host.kernel_baseline(catalogue, arches, self.probe_dir(probe_set))
        # A generation shares this machine's kernel; its probe directory is its own copy.
        # (probe_dir() is a path on the runtime's host, a str: this machine's is the same path)
        probe_dir = local_probe_dir(probe_set) if self.host.name else Path(self.probe_dir(probe_set))
        return measure(catalogue, probe_dir, arches)

    def libseccomp_knows(self, name: str, arch: str) -> bool | None:
        """Whether the libseccomp of this runtime's host resolves `name` (behaviours.py asks)."""
        from ..hosts.base import Host

        if isinstance(self.host, Host):
            return self.host.libseccomp_knows(name, arch)
        from ..model.behaviours import host_libseccomp_knows

        return host_libseccomp_knows(name, arch)  # a kernel host filters with this machine's

    def explain_failure(self, exc: Exception) -> str:
        """One plain line for an error that broke a batch (our own errors already are one)."""
        if type(exc) in (RuntimeError, OSError) or isinstance(exc, SetupError):
            return str(exc)
        return f"{type(exc).__name__}: {exc}"

    # True for a runtime that runs this machine's own libc (the image `host`) rather than
    # container images: local, and wrap:<command>.
    host_libc = False

    # A runtime that starts something costly per image (a kernel host boots a VM) runs the
    # batches of one image together; the others run them one by one.
    shares_start = False

    def run_batches(self, plans: list[BatchPlan]) -> list[BatchOutput]:
        return [self.run_batch(plan) for plan in plans]

    def abandon(self) -> None:
        """The run is interrupted: end what this process is running now. Containers need
        nothing here (the session sweep removes them); a kernel host kills its VMs."""

    def cleanup(self, session: str | None) -> int:
        """Remove anything this runtime left behind for `session` (all sessions if None)."""
        return 0


def local_probe_dir(probe_set: str) -> Path:
    """The probe build on this machine (compiled in a builder container here). Found once per
    process and cache: every batch asks, and finding it hashes every probe source."""
    key = (probe_set, os.environ.get("FALLBACKCHECK_CACHE"), os.environ.get("XDG_CACHE_HOME"))
    found = _probe_dirs.get(key)
    if found is None or not found.is_dir():
        from ..artefacts import probebuild
        from ..engines.builders import probe_builder

        found = _probe_dirs[key] = probebuild.build_all(probe_builder(), probe_set)
    return found


_probe_dirs: dict[tuple, Path] = {}


def placed_probe_dir(host, probe_set: str) -> str:
    """The probe build on `host` (its path there): each architecture's part is placed on its
    own. The build directory is shared by every architecture (one read-only mount holds the
    amd64 runner and the i386 probes), and its parts are compiled as runs need them: a
    directory placed whole while it held amd64 only stayed that way on a generation's cached
    volume, and the i386 batches there found no probes (execve ENOENT; found 2026-12-06)."""
    local = local_probe_dir(probe_set)
    there = ""
    for part in dict.fromkeys(("amd64", probe_set)):
        there = host.place(local / part)
    return str(Path(there).parent)



def stream_text(value) -> str:
    """What a timed-out subprocess had printed (bytes, str or None) as text."""
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


def run_cli_batch(host, argv: list[str], plan: BatchPlan, name: str, read_received) -> BatchOutput:
    """Run a batch started by a command-line client (podman, ctr) to its end or its time
    limit, then read what the OCI runtime received (`read_received(name)` -> (profile, note))."""
    import subprocess

    try:
        proc = host.run(argv, check=False, timeout=plan.overall_timeout_s)
    except subprocess.TimeoutExpired as exc:
        return BatchOutput(stream_text(exc.stdout), stream_text(exc.stderr), None, name, timed_out=True,
                           received_note="the batch timed out")
    received, note = read_received(name)
    return BatchOutput(proc.stdout, proc.stderr, proc.returncode, name, received=received, received_note=note)
