"""The filter a wrapper command really installed, read from the process it confines.

A `wrap:` command takes nothing from us, so what its filter answers is learned two ways: from
inside (the raw probes' answers, black box) and, as root, from the filter itself. The runner
starts held (runner -w: waiting for SIGUSR1 in rt_sigtimedwait); from outside the wrapper, as the
wrapper's parent's user with CAP_SYS_ADMIN, we attach to it (PTRACE_SEIZE + PTRACE_INTERRUPT),
copy every filter in force (PTRACE_SECCOMP_GET_FILTER, Linux 4.4+, ptrace(2)), detach, and let
it go on (SIGUSR1). model/bpf.py evaluates the programs per syscall.

ptrace requests belong to the thread that attached, so one thread does all of it (read_held).
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

from ..model import bpf

PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_SECCOMP_GET_FILTER = 17, 0x4206, 0x4207, 0x420C
_WALL = 0x40000000
# What the held runner waits in (x86_64's number: /proc/PID/syscall shows the one in progress).
# Its SigBlk would not do: while it waits, the kernel unblocks the signals it waits for.
_SIGTIMEDWAIT = 128

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long


def _ptrace(request: int, pid: int, addr=0, data=None) -> int:
    ret = _libc.ptrace(request, pid, ctypes.c_void_p(addr), data)
    if ret == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"ptrace({request:#x}) on {pid}: {os.strerror(err)}")
    return ret


def read_filters(pid: int) -> list[bpf.Program]:
    """Every seccomp filter in force in `pid`, newest first, copied out of the kernel; the
    process is stopped while they are read and then let go."""
    _ptrace(PTRACE_SEIZE, pid)
    try:
        _ptrace(PTRACE_INTERRUPT, pid)
        os.waitpid(pid, _WALL)
        programs = []
        for index in range(64):  # a task holds at most MAX_INSNS_PER_PATH of filters: far fewer than this
            try:
                count = _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index)
            except OSError as exc:
                if exc.errno == 2:  # ENOENT: no filter at that depth
                    break
                raise
            buf = ctypes.create_string_buffer(count * 8)
            _ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, buf)
            programs.append(bpf.parse(buf.raw))
        return programs
    finally:
        try:
            _ptrace(PTRACE_DETACH, pid)
        except OSError:
            pass  # it died meanwhile: nothing to let go


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            out.setdefault(ppid, []).append(int(entry.name))
    return out


def held_runner(root: int, runner: str) -> int | None:
    """A descendant of `root` (or itself) that is our runner (argv[0] `runner`), waiting."""
    children, todo = _children(), [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            argv0 = (Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") or [b""])[0].decode(errors="replace")
            if argv0 != runner:
                continue
            in_progress = Path(f"/proc/{pid}/syscall").read_text().split()[0]
        except (OSError, IndexError):
            continue
        if in_progress == str(_SIGTIMEDWAIT):
            return pid
    return None


def read_held(root: int, runner: str, wait_s: float, done) -> tuple[list[bpf.Program] | None, str]:
    """Wait (at most wait_s, or until done() says the command has ended) for the held runner
    under `root`, read its filters and let it go on. (programs, "") or (None, why not)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and not done():
        pid = held_runner(root, runner)
        if pid is None:
            time.sleep(0.02)
            continue
        try:
            return read_filters(pid), ""
        except OSError as exc:
            return None, f"ptrace could not read it: {exc.strerror or exc}"
        finally:
            try:
                os.kill(pid, signal.SIGUSR1)
            except ProcessLookupError:
                pass
    return None, "the runner was not seen waiting under the command (it did not start there?)"


def answers(programs: list[bpf.Program], arch: str, numbers: dict[str, int]) -> dict[str, str]:
    """Per syscall name, what the filters together answer (every argument 0)."""
    return {name: bpf.answer(bpf.combined(programs, arch, nr)) for name, nr in numbers.items()}
