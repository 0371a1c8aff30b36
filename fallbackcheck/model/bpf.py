"""What a seccomp filter answers for a syscall, read from its classic-BPF program itself.

The kernel runs a filter over `struct seccomp_data` (include/uapi/linux/seccomp.h: nr, arch,
instruction_pointer, args[6]) and, with several filters installed, keeps the most restrictive
action (kernel/seccomp.c, seccomp_run_filters: the lowest ACTION_ONLY value, KILL_PROCESS
first). This module evaluates programs the same way for one (arch, nr) with every argument 0:
what the filter says for a call whose arguments it does not look at. A filter that does look
at arguments may answer the real call otherwise; callers compare with what was delivered.

Programs are lists of (code, jt, jf, k), as the kernel hands them out
(PTRACE_SECCOMP_GET_FILTER) or libseccomp exports them (seccomp_export_bpf): 8 bytes each.
"""

from __future__ import annotations

import errno as errno_mod
import struct

# AUDIT_ARCH_* (include/uapi/linux/audit.h): the arch word a filter compares.
AUDIT_ARCH = {"amd64": 0xC000003E, "i386": 0x40000003, "arm64": 0xC00000B7, "armhf": 0x40000028}

# Return values (include/uapi/linux/seccomp.h)
RET_KILL_PROCESS, RET_KILL_THREAD, RET_TRAP = 0x80000000, 0x00000000, 0x00030000
RET_ERRNO, RET_USER_NOTIF, RET_TRACE, RET_LOG, RET_ALLOW = 0x00050000, 0x7FC00000, 0x7FF00000, 0x7FFC0000, 0x7FFF0000
ACTION_FULL, DATA = 0xFFFF0000, 0x0000FFFF

Program = list[tuple[int, int, int, int]]


def parse(blob: bytes) -> Program:
    """struct sock_filter[] -> [(code, jt, jf, k)]."""
    if len(blob) % 8:
        raise ValueError(f"a BPF program is a whole number of 8-byte instructions, not {len(blob)} bytes")
    return [struct.unpack_from("<HBBI", blob, i) for i in range(0, len(blob), 8)]


def _data(arch: str, nr: int) -> bytes:
    return struct.pack("<iIQ6Q", nr, AUDIT_ARCH[arch], 0, 0, 0, 0, 0, 0, 0)


def run(program: Program, arch: str, nr: int) -> int:
    """The filter's return value for syscall `nr` on `arch`, every argument 0."""
    data, a, x, mem, pc = _data(arch, nr), 0, 0, [0] * 16, 0
    for _ in range(len(program) * 4 + 1):  # classic BPF only jumps forward: this bounds any program
        if not 0 <= pc < len(program):
            raise ValueError(f"the BPF program runs off its end at instruction {pc}")
        code, jt, jf, k = program[pc]
        cls, pc = code & 0x07, pc + 1
        if cls == 0x00:  # BPF_LD
            mode, size = code & 0xE0, code & 0x18
            if mode == 0x20 and size == 0x00:  # ABS, W: seccomp_data is read in 32-bit words
                a = struct.unpack_from("<I", data, k)[0] if k + 4 <= len(data) else 0
            elif mode == 0x00:  # IMM
                a = k
            elif mode == 0x60:  # MEM
                a = mem[k]
            elif mode == 0x80:  # LEN
                a = len(data)
            else:
                raise ValueError(f"BPF load {code:#x} is not one seccomp allows")
        elif cls == 0x01:  # BPF_LDX
            x = k if code & 0xE0 == 0x00 else mem[k] if code & 0xE0 == 0x60 else len(data)
        elif cls == 0x02:  # BPF_ST
            mem[k] = a
        elif cls == 0x03:  # BPF_STX
            mem[k] = x
        elif cls == 0x04:  # BPF_ALU
            a = _alu(code, a, x if code & 0x08 else k)
        elif cls == 0x05:  # BPF_JMP
            op, value = code & 0xF0, (x if code & 0x08 else k)
            if op == 0x00:  # JA
                pc += k
            else:
                taken = {0x10: a == value, 0x20: a > value, 0x30: a >= value, 0x40: bool(a & value)}[op]
                pc += jt if taken else jf
        elif cls == 0x06:  # BPF_RET
            return (a if code & 0x18 == 0x10 else k) & 0xFFFFFFFF
        elif cls == 0x07:  # BPF_MISC: TAX / TXA
            if code & 0xF8 == 0x00:
                x = a
            else:
                a = x
    raise ValueError("the BPF program does not return")


def _alu(code: int, a: int, v: int) -> int:
    op = code & 0xF0
    result = {0x00: a + v, 0x10: a - v, 0x20: a * v, 0x30: a // v if v else 0, 0x40: a | v, 0x50: a & v,
              0x60: a << v, 0x70: a >> v, 0x80: -a, 0x90: a % v if v else 0, 0xA0: a ^ v}[op]
    return result & 0xFFFFFFFF


def _rank(ret: int) -> int:
    """ACTION_ONLY as the kernel compares it: a signed 32-bit value, lowest wins."""
    action = ret & ACTION_FULL
    return action - (1 << 32) if action & 0x80000000 else action


def combined(programs: list[Program], arch: str, nr: int) -> int:
    """The return value the kernel acts on when every program is installed."""
    return min((run(p, arch, nr) for p in programs), key=_rank, default=RET_ALLOW)


def answer(ret: int) -> str:
    """A return value as the delivered classes name answers: allowed, an errno name, SIGSYS,
    ENOSYS for SECCOMP_RET_TRACE (no tracer attached: the kernel fails the call so), or
    `user-notif` (the answer is a supervisor's, not the filter's)."""
    action = ret & ACTION_FULL
    if action in (RET_ALLOW, RET_LOG):
        return "allowed"
    if action == RET_ERRNO:
        return errno_mod.errorcode.get(ret & DATA, f"E{ret & DATA}")
    if action == RET_TRACE:
        return "ENOSYS"
    if action == RET_USER_NOTIF:
        return "user-notif"
    return "SIGSYS"  # KILL_PROCESS, KILL_THREAD, TRAP
