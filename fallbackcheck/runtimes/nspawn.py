"""`nspawn`: systemd-nspawn on the image's root file system (read-only), the probe build at /fbc.

`default` is the filter systemd-nspawn builds itself (src/nspawn/nspawn-seccomp.c): an allow
list of systemd's syscall groups and names, EPERM for the other syscalls its systemd knows
(`@known`) and ENOSYS for those it does not; not a JSON we can read, so its raw cells say
what it delivered and ask nothing (n/a). `unconfined` is nspawn with $SYSTEMD_SECCOMP=0, the
switch systemd's seccomp code reads to install no filter (seccomp-util.c, in systemd's src/shared).
A `deny:` profile goes on --system-call-filter=~NAMES (systemd-nspawn(1)), which takes the
names out of nspawn's allow list; it takes no errno, so a deny with another errno than EPERM
is handed over in systemd's unit syntax `~NAME:ERRNO` and what nspawn does with it is
measured (docs/sandboxes.md). Allow lists of ours (vintage:, most file:) cannot be handed
over: nspawn only adds names to its own list or takes them away.

It runs without systemd as PID 1 with --register=no --keep-unit. With --keep-unit it makes its
`payload` and `supervisor` cgroups under the cgroup it was started in: each batch starts it in
a cgroup of its own (in the name=systemd and cgroup2 hierarchies), removed after the batch
with everything in it, so nothing is added to the host's cgroup tree.
"""

from __future__ import annotations

import errno as errno_mod
import fcntl
import os
import shlex
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from ..model.profiles import UNKNOWN_DEFAULT, errno_name
from .base import BatchOutput, BatchPlan
from .sandbox import MARK, PATH, Sandbox, batch_name, run_group

CGROUP = Path("/sys/fs/cgroup")
STATE = Path("/run/systemd/nspawn")  # its lock and mount-propagation directories
OWN_FILTER = ("systemd-nspawn builds its own filter (src/nspawn/nspawn-seccomp.c, its allow list plus "
              "--system-call-filter=): there is no seccomp JSON to read")


def deny_rules(profile) -> list[tuple[list[str], int]] | None:
    """(names, errno) of each rule of a deny-shaped profile (default allow, errno rules without
    argument conditions), or None when the profile asks anything else."""
    oci = profile.oci or {}
    if profile.kind not in ("deny", "file") or oci.get("defaultAction") not in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG"):
        return None
    rules = []
    for rule in oci.get("syscalls") or []:
        if rule.get("action") != "SCMP_ACT_ERRNO" or rule.get("args"):
            return None
        rules.append((rule.get("names") or [rule.get("name")], int(rule.get("errnoRet", errno_mod.EPERM))))
    return rules


def filter_options(profile) -> list[str]:
    """--system-call-filter= options for a deny profile: `~NAME` for EPERM (what nspawn
    answers for a name taken out of its allow list), `~NAME:ERRNO` (systemd's unit syntax)
    for any other errno."""
    options = []
    for names, number in deny_rules(profile) or []:
        suffix = "" if number == errno_mod.EPERM else f":{errno_name(number)}"
        options.append("--system-call-filter=~" + " ".join(f"{n}{suffix}" for n in names))
    return options


def hierarchies() -> list[Path]:
    """The cgroup hierarchies systemd-nspawn makes its cgroups in: name=systemd and cgroup2
    (`unified`) on a hybrid host, the one cgroup2 tree on a unified host."""
    found = [CGROUP / h for h in ("systemd", "unified") if (CGROUP / h / "cgroup.procs").exists()]
    return found or ([CGROUP] if (CGROUP / "cgroup.controllers").exists() else [])


class NspawnRuntime(Sandbox):
    kind = "nspawn"
    program = "systemd-nspawn"
    package = "systemd-container"
    start_s = 0.3  # measured: 120-260 ms a batch

    def unsupported_profile(self, profile) -> str | None:
        if profile.kind == "own":
            return super().unsupported_profile(profile)
        if profile.kind in ("unconfined", "default") or deny_rules(profile) is not None:
            return None
        return ("systemd-nspawn's filter is its own allow list; --system-call-filter= only adds names to it or "
                "takes them away (systemd-nspawn(1)), so a profile with a default action of its own cannot be handed over")

    def seccomp_in_force(self, profile) -> dict | None:
        if profile.kind == "unconfined":
            return {}
        if profile.kind == "default":
            return None
        # What we ask is known for the names we deny; for every other syscall nspawn's own list answers.
        return {"defaultAction": UNKNOWN_DEFAULT,
                "syscalls": [{"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": number}
                             for names, number in deny_rules(profile) or []]}

    def versions(self) -> dict:
        said = self.host.run(["systemd-nspawn", "--version"], check=False).stdout.splitlines()
        return {**super().versions(), "oci_runtime_version": said[0] if said else None,
                "default_profile": "systemd-nspawn's own (src/nspawn/nspawn-seccomp.c of its systemd), measured"}

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        name = batch_name(plan.session)
        env = {"PATH": PATH}
        if plan.profile.kind == "unconfined":
            env["SYSTEMD_SECCOMP"] = "0"
        argv = ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--as-pid2", f"--machine={name}",
                "--directory", plan.image_ref, "--read-only", f"--bind-ro={plan.probe_dir}:/fbc",
                "--private-network", "--pipe", "--chdir=/tmp", "--tmpfs=/tmp", "--setenv=LC_ALL=C",
                f"--setenv={MARK}={name}", *filter_options(plan.profile), "--", *plan.command()]
        groups = [h / name for h in hierarchies()]
        with _STATE_LOCK:
            _USERS[0] += 1
        try:
            for group in groups:
                group.mkdir()
            # Into the batch's own cgroups before nspawn starts: it makes its own under them.
            enter = " && ".join(f"echo $$ > {shlex.quote(str(g / 'cgroup.procs'))}" for g in groups)
            wrapped = ["sh", "-c", f'{enter} && exec "$@"' if groups else 'exec "$@"', "sh", *argv]
            with tempfile.TemporaryDirectory(prefix="fbc-nspawn-") as tmp:
                received = {} if plan.profile.kind == "unconfined" else None
                return run_group(wrapped, plan.overall_timeout_s, name, cwd=tmp, env=env, received=received,
                                 received_note="" if received is not None else OWN_FILTER)
        finally:
            for group in groups:
                remove_cgroup(group)
            shutil.rmtree(STATE / "propagate" / name, ignore_errors=True)  # nspawn cannot, on a /run that is no tmpfs
            _forget_state()

    def cleanup(self, session: str | None) -> int:
        killed = super().cleanup(session)
        for hierarchy in hierarchies():
            for group in hierarchy.glob("fbc-*-o*-*"):
                owner = group.name.rsplit("-", 2)[-2][1:]
                if (session and group.name.startswith(f"fbc-{session}-o")) or \
                        (not session and owner.isdigit() and not Path(f"/proc/{owner}").exists()):
                    killed += remove_cgroup(group)
        return killed


_STATE_LOCK = threading.Lock()
_USERS = [0]  # batches of this process using STATE now
_STATE_EXISTED = STATE.exists()  # nspawn makes it on its first run: gone again when we made it


def _forget_state() -> None:
    """When the last batch of this process ends and STATE did not exist before the run: its
    empty directories go (rmdir: another process's nspawn in the middle of using them keeps them)."""
    with _STATE_LOCK:
        _USERS[0] -= 1
        if _USERS[0] or _STATE_EXISTED:
            return
        for lock in (STATE / "locks").glob("inode-*"):
            _remove_if_unlocked(lock)  # an image lock a killed nspawn (Ctrl-C) could not remove
        for directory in (STATE / "propagate", STATE / "locks", STATE):
            try:
                directory.rmdir()
            except OSError:
                pass


def _remove_if_unlocked(path: Path) -> None:
    """Remove a lock file of systemd-nspawn's that nobody holds (neither kind of lock)."""
    try:
        with path.open("rb") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            path.unlink()
    except OSError:
        pass  # held: its nspawn is running and removes it itself


def remove_cgroup(group: Path, wait_s: float = 5.0) -> int:
    """Kill every process in `group` and its children, then remove them, deepest first.
    Returns the number of processes killed."""
    if not group.exists():
        return 0
    killed = 0
    deadline = time.monotonic() + wait_s
    while True:
        pids = {int(p) for f in group.rglob("cgroup.procs") for p in _read(f).split()}
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        try:
            for child in sorted((d for d in group.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
                child.rmdir()
            group.rmdir()
            return killed
        except OSError:
            if time.monotonic() > deadline:
                return killed  # the sweep at the end of the run tries again
            time.sleep(0.05)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
