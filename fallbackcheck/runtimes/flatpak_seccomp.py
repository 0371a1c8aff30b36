"""Flatpak's seccomp program, rebuilt here: model/flatpak_filter.py's rules handed to the
libseccomp flatpak itself links (libseccomp.so.2) in the order flatpak's setup_seccomp()
makes its calls, and exported with seccomp_export_bpf as flatpak exports it for bubblewrap's
`--seccomp FD`. Through ctypes: the non-variadic *_array forms of seccomp_rule_add, which the
variadic ones call, so no C of ours is compiled for it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import tempfile

from ..model import flatpak_filter

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ARCH_X86_64 = 0xC000003E  # AUDIT_ARCH_X86_64
_OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4, "SCMP_CMP_GE": 5,
        "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}  # enum scmp_compare (seccomp.h)
EFAULT, EEXIST = 14, 17


class _ArgCmp(ctypes.Structure):  # struct scmp_arg_cmp
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


@functools.lru_cache(maxsize=None)
def _libseccomp():
    path = ctypes.util.find_library("seccomp")
    if path is None:
        raise RuntimeError("libseccomp is not installed (apt-get install libseccomp2)")
    lib = ctypes.CDLL(path, use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    for name in ("seccomp_rule_add_array", "seccomp_rule_add_exact_array"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                       ctypes.POINTER(_ArgCmp)]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def program(variant: str = "run") -> bytes:
    """The classic-BPF program flatpak 1.14.10 gives bubblewrap for an x86_64 runtime
    without --allow=multiarch (`variant` devel: flatpak run --devel)."""
    lib = _libseccomp()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise RuntimeError("seccomp_init failed")
    try:
        made = lib.seccomp_arch_add(ctx, SCMP_ARCH_X86_64)  # the runtime's arch: the native one here
        if made < 0 and made != -EEXIST:
            raise RuntimeError(f"seccomp_arch_add: {os.strerror(-made)}")
        for rule in flatpak_filter.rules(variant):
            number = lib.seccomp_syscall_resolve_name(rule.syscall.encode())
            args = (_ArgCmp * 1)(_ArgCmp(rule.arg[0], _OPS[rule.arg[1]], rule.arg[2], rule.arg[3])) if rule.arg else None
            add = lib.seccomp_rule_add_exact_array if rule.exact else lib.seccomp_rule_add_array
            made = add(ctx, 0x00050000 | rule.errno, number, 1 if rule.arg else 0, args)
            # flatpak ignores every failure of its exact (socket) rules, and EFAULT of the others
            # (a syscall libseccomp cannot place on an architecture)
            if made < 0 and not rule.exact and made != -EFAULT:
                raise RuntimeError(f"seccomp_rule_add({rule.syscall}): {os.strerror(-made)}")
        with tempfile.TemporaryFile() as out:
            made = lib.seccomp_export_bpf(ctx, out.fileno())
            if made != 0:
                raise RuntimeError(f"seccomp_export_bpf: {os.strerror(-made)}")
            out.seek(0)
            return out.read()
    finally:
        lib.seccomp_release(ctx)
