"""One boot of a prepared kernel in QEMU that runs several commands in a chroot of an image.

The host shares three directories over 9p: the image's unpacked root (read-only), the probe
build (read-only, at /fbc as in a container) and a per-boot work directory (read-write) that
holds the boot script, the filter helper, the policies, and receives each command's stdout,
stderr, exit status and guest-side times. The guest's console goes to a file for diagnosis.

QEMU runs with TCG (no usable KVM here: docs/kernel-hosts.md), at most BOOT_SLOTS at once on
the machine (a TCG guest keeps a core busy). It is always killed: on the time limits, on any
exception (Ctrl-C included), when the run abandons its batches (STOP, set by the plugin when a
run is interrupted: batches run on pool threads that an interrupt does not reach), and by the
kernel when the thread that started it dies (`setpriv --pdeathsig KILL`), which covers SIGTERM
and SIGKILL of the harness.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import cache_dir
from ..artefacts.kernels import PreparedKernel

QEMU = "qemu-system-x86_64"
# Per kernel architecture: the QEMU binary, its machine and CPU, and the console device.
# arm64: `-cpu max` alone emulates pointer authentication with the architected algorithm,
# about three times slower under TCG; pauth-impdef=on keeps the feature with QEMU's cheap
# implementation-defined one (QEMU docs, "Arm CPU Features": "pauth-impdef").
MACHINES = {
    "amd64": (QEMU, ["-M", "pc", "-cpu", "max"], "ttyS0"),
    "arm64": ("qemu-system-aarch64", ["-M", "virt", "-cpu", "max,pauth-impdef=on"], "ttyAMA0"),
}
MEMORY_MB = 1024
NAME_PREFIX = "fbc-"  # qemu -name guest=fbc-<session>-...: cleanup finds leftovers of a session by it
NINEP = "trans=virtio,version=9p2000.L,msize=262144"
# The image root and the probes do not change during a boot: let the guest cache them (each
# probe run otherwise re-reads its libc over 9p, ~0.3 s per probe under TCG).
NINEP_RO = NINEP + ",ro,cache=loose"
GUEST_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
SLOTS_ENV = "FALLBACKCHECK_BOOTS"
BOOT_SLOTS = 2  # measured: about two TCG guests at a time fit the 2-core machines
STOP = threading.Event()  # set when the run abandons its batches: no VM starts, running ones die

# The probes at /fbc as in a container; `run <n> argv...` runs one command and keeps its
# stdout, stderr, exit status and guest-side start/end times in /work/out.
_PROLOGUE = f"""\
set -u
uname -r > /work/uname
: > /work/booted
mkdir -p /work/out
run() {{
    n=$1; shift
    read t0 _ < /proc/uptime
    env -i PATH={GUEST_PATH} LC_ALL=C HOME=/root "$@" > /work/out/$n.stdout 2> /work/out/$n.stderr
    echo $? > /work/out/$n.rc
    read t1 _ < /proc/uptime
    echo "$t0 $t1" > /work/out/$n.time
}}
"""
_PROBES_HERE = f"""\
mkdir -p /fbc
mount -t 9p -o {NINEP_RO} fbc /fbc || {{ echo "cannot mount the probes"; exit 1; }}
"""
# graft SRC DST: DST gets SRC's top level, links copied, directories and files bound in (proc,
# sys, dev and tmp are left out: each root gets fresh ones). DST is writable (the initramfs or
# a tmpfs) where SRC, a read-only 9p share, is not.
_GRAFT = """\
graft() {
    for e in "$1"/* ; do
        n=${e##*/}
        case "$n" in proc|sys|dev|tmp) continue ;; esac
        if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$2/$n"
        elif [ -d "$e" ]; then mkdir -p "$2/$n" && mount --bind "$e" "$2/$n"
        else touch "$2/$n" && mount --bind "$e" "$2/$n"; fi
    done
}
"""
# Mount the image root read-only and rebuild its top level in the initramfs's /new, with
# fresh proc, sys, dev and tmp as a container has, /fbc for the probes and /fbc-work for
# the work share; commands then run chrooted there.
_IMAGE_ROOT = _GRAFT + f"""\
R=/new
mount -t 9p -o {NINEP_RO} img /img || {{ echo "cannot mount the image root"; exit 1; }}
graft /img $R
mkdir -p $R/proc $R/sys $R/dev $R/tmp $R/fbc $R/fbc-work
mount -t proc proc $R/proc
mount -t sysfs -o ro sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/shm $R/dev/pts
mount -t tmpfs -o mode=1777 shm $R/dev/shm
mount -t devpts -o newinstance devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmp $R/tmp
mount -t 9p -o {NINEP_RO} fbc $R/fbc || {{ echo "cannot mount the probes"; exit 1; }}
mount --bind /work $R/fbc-work
"""
# An OCI runtime's host: the OCI host root (runc and crun installed) rebuilt on a tmpfs at /h
# with what a container host has (cgroup2 at /sys/fs/cgroup, a tmpfs /run for the runtimes'
# state), and the image's top level on another tmpfs at /h/ctr, the containers' root. Both
# are tmpfs mounts, not the initramfs itself: pivot_root refuses to leave the initial root
# (pivot_root(2), EINVAL), and runc pivots into /ctr from the chroot /h.
_OCI_HOST = _GRAFT + f"""\
H=/h
mkdir -p $H /host /img
mount -t tmpfs -o mode=755 oci-host $H
mount -t 9p -o {NINEP_RO} host /host || {{ echo "cannot mount the OCI host root"; exit 1; }}
mount -t 9p -o {NINEP_RO} img /img || {{ echo "cannot mount the image root"; exit 1; }}
graft /host $H
mkdir -p $H/proc $H/sys $H/dev $H/tmp $H/run $H/fbc $H/fbc-work $H/ctr
mount -t proc proc $H/proc
mount -t sysfs sysfs $H/sys
mount -t cgroup2 cgroup2 $H/sys/fs/cgroup
mount -t devtmpfs devtmpfs $H/dev
mount -t tmpfs -o mode=1777 tmp $H/tmp
mount -t tmpfs -o mode=755 run $H/run
mount -t 9p -o {NINEP_RO} fbc $H/fbc || {{ echo "cannot mount the probes"; exit 1; }}
mount --bind /work $H/fbc-work
mount -t tmpfs -o mode=755 ctr $H/ctr
graft /img $H/ctr
mkdir -p $H/ctr/proc $H/ctr/sys $H/ctr/dev $H/ctr/tmp $H/ctr/fbc
"""


@dataclass
class CommandResult:
    stdout: str
    stderr: str
    exit_code: int | None
    guest_s: float | None  # wall time inside the guest (its uptime clock)


@dataclass
class BootResult:
    name: str
    release: str | None  # uname -r in the guest
    wall_s: float  # QEMU start to exit, on the host
    booted_after_s: float | None  # host time until the boot script started
    commands: list[CommandResult] = field(default_factory=list)
    failure: str | None = None  # why the boot as a whole failed (commands then may be partial)


def boot_script(commands: list[list[str]], chroot: bool, oci_host: bool = False) -> str:
    """The script the guest init runs: the prologue, then `run <n> argv...` per command, in a
    chroot of the image (`chroot`; /fbc-work is the work share there), in a chroot of the OCI
    host root (`oci_host`: the commands start runc or crun, whose containers' root is /ctr), or
    in the initramfs."""
    lines = [_PROLOGUE, _OCI_HOST if oci_host else _IMAGE_ROOT if chroot else _PROBES_HERE]
    prefix = "/bin/chroot /h " if oci_host else "/bin/chroot /new " if chroot else ""
    lines += [f"run {n} {prefix}" + " ".join(shlex.quote(a) for a in argv) for n, argv in enumerate(commands)]
    return "\n".join(lines) + "\n"


def qemu_argv(kernel: PreparedKernel, name: str, image_root: Path | None, probe_dir: Path, work: Path,
              oci_host: Path | None = None) -> list[str]:
    def share(tag: str, path: Path, readonly: bool) -> list[str]:
        return ["-virtfs", f"local,path={path},mount_tag={tag},security_model=none" + (",readonly=on" if readonly else "")]

    qemu, machine, console = MACHINES[kernel.arch]
    return [qemu, "-name", f"guest={name}", *machine, "-accel", "tcg", "-m", str(MEMORY_MB),
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", str(kernel.vmlinux), "-initrd", str(kernel.initrd),
            "-append", f"console={console} panic=-1 quiet", "-serial", f"file:{work / 'console.log'}",
            *share("work", work, False), *share("fbc", probe_dir, True),
            *(share("img", image_root, True) if image_root else []),
            *(share("host", oci_host, True) if oci_host else [])]


@contextlib.contextmanager
def boot_slot():
    """One of the machine's BOOT_SLOTS (an flock on a slot file in the cache, so every
    process and run on the machine shares them); waits for a free one unless STOP is set."""
    slots = max(1, int(os.environ.get(SLOTS_ENV) or BOOT_SLOTS))
    locks = cache_dir() / "locks"
    locks.mkdir(exist_ok=True)
    while True:
        for n in range(slots):
            fh = open(locks / f"qemu-slot-{n}.lock", "w")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            try:
                yield
                return
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
        if STOP.is_set():
            raise RuntimeError("the run was interrupted before this boot could start")
        time.sleep(0.2)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _console_tail(work: Path) -> str:
    lines = [ln.strip() for ln in _read(work / "console.log").splitlines() if ln.strip()]
    return " | ".join(lines[-4:])


def boot(kernel: PreparedKernel, name: str, image_root: Path | None, probe_dir: Path, work: Path,
         commands: list[list[str]], boot_limit_s: float, run_limit_s: float,
         oci_host: Path | None = None) -> BootResult:
    """Boot once, run `commands` in turn (in a chroot of `image_root`, in a chroot of
    `oci_host` with the image as the containers' root, or with no image in the initramfs
    itself: static programs only), collect their outputs. `work` must exist and hold whatever
    the commands need besides the image and the probes."""
    (work / "boot.sh").write_text(boot_script(commands, image_root is not None, oci_host is not None))
    with boot_slot():
        return _boot(kernel, name, image_root, probe_dir, work, commands, boot_limit_s, run_limit_s, oci_host)


def _boot(kernel: PreparedKernel, name: str, image_root: Path | None, probe_dir: Path, work: Path,
          commands: list[list[str]], boot_limit_s: float, run_limit_s: float, oci_host: Path | None) -> BootResult:
    if STOP.is_set():
        raise RuntimeError("the run was interrupted before this boot could start")
    started = time.monotonic()
    argv = ["setpriv", "--pdeathsig", "KILL", "--", *qemu_argv(kernel, name, image_root, probe_dir, work, oci_host)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    failure, booted = None, None
    try:
        while proc.poll() is None:
            now = time.monotonic()
            if booted is None and (work / "booted").exists():
                booted = now
            if STOP.is_set():
                failure = "the run was interrupted: the VM was killed"
            elif booted is None and now - started > boot_limit_s:
                failure = f"{kernel.host} did not boot within {boot_limit_s:g} s (console: {_console_tail(work)})"
            elif booted is not None and now - booted > run_limit_s:
                failure = f"the batches on {kernel.host} did not finish within {run_limit_s:g} s after boot"
            if failure:
                proc.kill()
                break
            time.sleep(0.1)
        _, qemu_err = proc.communicate(timeout=30)
    except BaseException:  # Ctrl-C or anything else: the VM never outlives us
        proc.kill()
        proc.wait()
        raise
    wall = time.monotonic() - started
    if failure is None and proc.returncode != 0:
        failure = f"QEMU exited {proc.returncode}: {qemu_err.decode(errors='replace').strip()[-400:]}"
    if failure is None and booted is None:
        failure = f"{kernel.host} powered off before its boot script ran (console: {_console_tail(work)})"
    result = BootResult(name, _read(work / "uname").strip() or None, wall,
                        None if booted is None else booted - started, failure=failure)
    out = work / "out"
    for n in range(len(commands)):
        rc = _read(out / f"{n}.rc").strip()
        times = _read(out / f"{n}.time").split()
        result.commands.append(CommandResult(
            _read(out / f"{n}.stdout"), _read(out / f"{n}.stderr"), int(rc) if rc.lstrip("-").isdigit() else None,
            round(float(times[1]) - float(times[0]), 2) if len(times) == 2 else None))
    if failure is None and any(c.exit_code is None for c in result.commands):
        failure = f"the boot script stopped early: {_read(work / 'boot.log').strip()[-400:]}"
    return result


def _ppid(proc_dir: Path) -> int | None:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def leftovers(session: str | None) -> list[int]:
    """Pids of QEMU processes this harness started for `session`; with None, those of every
    session whose harness is gone (reparented to init). `setpriv --pdeathsig` normally kills them
    first: this is the belt to those braces, and never touches a live run's VM."""
    marker = f"guest={NAME_PREFIX}{session}-" if session else f"guest={NAME_PREFIX}"
    pids = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            argv = (proc_dir / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not (argv and any(argv[0].endswith(m[0].encode()) for m in MACHINES.values())
                and any(a.decode(errors="replace").startswith(marker) for a in argv)):
            continue
        if session is None and _ppid(proc_dir) != 1:
            continue
        pids.append(int(proc_dir.name))
    return pids


def kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
