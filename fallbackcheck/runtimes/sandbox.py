"""What the sandbox kinds share (bwrap, nspawn, firejail): sandboxes that are not OCI runtimes.

A sandbox runs one batch as ONE command on this machine: the runner, with every probe of the
batch, on the image's unpacked root file system (images.rootfs, the same root runc and crun
get) with the probe build read-only at /fbc. The command runs in a process group of its own
that is killed on a time-out and on Ctrl-C, so nothing of it outlives the batch.

Each sandbox translates a profile into its own terms where it can, and says which profiles it
cannot take (unsupported_profile): their cells are left out and the selection says why once.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import uuid
from pathlib import Path

from ..artefacts import images
from .. import runs
from ..errors import UsageError
from .base import BatchOutput, Runtime, placed_probe_dir

# What a sandbox's process sees of our environment: only these (a sandbox that keeps the
# environment would otherwise hand the probes the caller's locale and variables).
PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


def on_this_machine(cls):
    """A registry factory for a sandbox kind: sandboxes run here only (no generation or
    engine host: `bwrap@debian-13` would need the sandbox inside a container)."""
    def make(host):
        if host is not None and host.name:  # None: this machine (Runtime.__init__)
            raise UsageError(f"runtime {cls.kind}@{host.name}: {cls.kind} runs on this machine only (use {cls.kind})")
        return cls(host)
    return make


class Sandbox(Runtime):
    """A sandbox program of this machine (`program`, from Debian package `package`)."""

    program = "?"
    package = "?"
    column_order = 55  # after the engines, runc/crun and local

    def unavailable_reason(self) -> str | None:
        if shutil.which(self.program) is None:
            return f"{self.program} is not installed (apt-get install {self.package}, or run scripts/setup-host)"
        from ..engines.docker import engine

        if engine().unavailable_reason() and shutil.which("podman") is None:
            return ("the probes are compiled in a builder container, which needs the Docker engine or podman: "
                    f"{engine().unavailable_reason()}")
        return None

    def versions(self) -> dict:
        package = self.host.package_versions([self.package])[self.package]
        return {"engine": f"none ({self.program}, Debian {self.package} {package or 'not installed'})",
                "sandbox": self.program, "sandbox_package": package}

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        recipe = images.lookup(image_id)
        if recipe is None:
            raise UsageError(f"runtime {self.id} runs only fallbackcheck's own images (got {image_id!r})")
        return str(images.rootfs(recipe)), recipe.arch

    def probe_dir(self, arch: str = "amd64"):
        return placed_probe_dir(self.host, arch)

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        return "rootfs-" + images.tar_digest(images.lookup(image_id))[:32]  # as runc/crun: the same root

    def abandon(self) -> None:
        abandon_all()

    def cleanup(self, session: str | None) -> int:
        """Kill what a batch of `session` left running (found by its name in the command line,
        batch_name()); with None, that of runs whose process has ended. Never another live run's."""
        killed = 0
        for pid, name in _named_processes():
            match = re.match(r"^fbc-(.+)-o(\d+)-[0-9a-f]{8}$", name)
            if not match or (session and match.group(1) != session) or \
                    (not session and Path(f"/proc/{match.group(2)}").exists()):
                continue
            try:
                os.killpg(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
        return killed


# Set when the run abandons its batches (Runtime.abandon): no sandbox starts after that.
STOP = threading.Event()
_LOCK = threading.Lock()
_RUNNING: set[subprocess.Popen] = set()
MARK = "FALLBACKCHECK_BATCH"  # the variable a sandbox's command line sets to the batch's name


def abandon_all() -> None:
    """The run is stopping: every sandbox command of this process dies now, none starts after."""
    with _LOCK:
        STOP.set()
        running = list(_RUNNING)
    for proc in running:
        _kill(proc)


def batch_name(session: str) -> str:
    """A batch's name: its session and the owning process, as runc's and crun's containers'."""
    return f"fbc-{session}-o{runs.owner().rpartition('/')[2]}-{uuid.uuid4().hex[:8]}"


def _named_processes() -> list[tuple[int, str]]:
    """(pid, batch name) of every process group leader of this machine whose command line sets
    MARK (run_group starts each sandbox in a session of its own; the sandbox's own children
    carry the mark too, and die with their leader's group or namespace)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or os.getpgid(int(entry.name)) != int(entry.name):
                continue
            # `--setenv MARK name` (bwrap), `--setenv=MARK=name` (nspawn), `--env=MARK=name` (firejail)
            text = (entry / "cmdline").read_bytes().replace(b"\0", b"=").decode(errors="replace")
        except OSError:
            continue
        match = re.search(rf"{MARK}=(fbc-[^=]+)", text)
        if match:
            found.append((int(entry.name), match.group(1)))
    return found


def run_group(argv: list[str], timeout_s: float, name: str, cwd=None, env=None, pass_fds=(),
              received=None, received_note: str = "", after=None, during=None) -> BatchOutput:
    """Run one batch's command in a process group of its own, to its end or its time limit;
    the group is killed on a time-out and on Ctrl-C (BaseException), so nothing is left.
    `pass_fds`: our descriptors the command inherits at the same numbers; `after()`: what the
    sandbox leaves that its own exit does not remove, called whatever happened; `during(proc)`:
    what watches the command while it runs, in a thread of its own that ends with it."""
    with _LOCK:  # abandon() sets STOP under this lock: no sandbox starts after its kills
        if STOP.is_set():
            raise RuntimeError("the run is stopping: no sandbox starts")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace", cwd=cwd, env=env if env is not None else {"PATH": PATH},
                                start_new_session=True, pass_fds=tuple(pass_fds))
        _RUNNING.add(proc)
    watcher = threading.Thread(target=during, args=(proc,), daemon=True) if during is not None else None
    if watcher is not None:
        watcher.start()
    try:
        out, err = proc.communicate(timeout=timeout_s)
        return BatchOutput(out, err, proc.returncode, name, received=received, received_note=received_note)
    except subprocess.TimeoutExpired:
        _kill(proc)
        out, err = proc.communicate()
        return BatchOutput(out, err, None, name, timed_out=True, received=received, received_note=received_note)
    except BaseException:  # Ctrl-C, SIGTERM (stopping.py raises): never leave the group behind
        _kill(proc)
        proc.communicate()
        raise
    finally:
        with _LOCK:
            _RUNNING.discard(proc)
        if watcher is not None:
            watcher.join(timeout=10)  # it polls proc and stops once the command has ended
        if after is not None:
            after()


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
