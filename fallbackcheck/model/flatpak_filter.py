"""Flatpak's seccomp filter as facts: the rules `flatpak run` adds, in the order it adds them.

Read from flatpak's source at the version Debian 12 ships (flatpak 1.14.10, tag `1.14.10`,
common/flatpak-run.c, setup_seccomp()); the table below is ours, written from that reading.
What it says, in short:

- The default action is to allow: a syscall flatpak does not list reaches the kernel, which
  answers it (ENOSYS for one the kernel lacks: what glibc's ENOSYS-only fallbacks need).
- `syslog uselib acct modify_ldt quotactl add_key keyctl request_key move_pages mbind
  get_mempolicy set_mempolicy migrate_pages unshare setns mount umount umount2 pivot_root
  chroot` answer EPERM; `clone` with CLONE_NEWUSER in its flags and `ioctl` with TIOCSTI or
  TIOCLINUX answer EPERM (argument conditions).
- `clone3` answers ENOSYS ("so user-space will fall back to clone()"), and so does the new
  mount API (`open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr`).
- Without --devel: `perf_event_open` and `ptrace` answer EPERM, and `personality` with any
  other persona than the one flatpak allows (PER_LINUX, 0, on x86_64).
- `socket` answers EAFNOSUPPORT for every address family but AF_UNSPEC, AF_LOCAL, AF_INET,
  AF_INET6 and AF_NETLINK (AF_CAN and AF_BLUETOOTH only with --allow=canbus/bluetooth), added
  with seccomp_rule_add_exact, whose failures flatpak ignores.
- Architectures: the runtime's (x86_64: already the native one), plus i386 only with
  --allow=multiarch. Without it an i386 process meets libseccomp's bad-architecture action
  (kill). Measured: `flatpak run` of a runtime without that permission has x86_64 only.

The same table gives the seccomp JSON the cells are judged by (rules with argument
conditions ask nothing the judging can read: n/a, with what was delivered) and the libseccomp
calls that rebuild flatpak's program (runtimes/flatpak_seccomp.py), proved byte-identical to
the one real flatpak hands bubblewrap (tests/test_flatpak.py).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

SOURCE = "flatpak 1.14.10, common/flatpak-run.c, setup_seccomp()"
VERSION = "1.14.10"
VARIANTS = ("run", "devel")  # flatpak run, and flatpak run --devel (FLATPAK_RUN_FLAG_DEVEL)

CLONE_NEWUSER = 0x10000000  # linux/sched.h
TIOCSTI, TIOCLINUX = 0x5412, 0x541C  # asm-generic/ioctls.h (x86_64)
PER_LINUX = 0  # linux/personality.h: the persona flatpak allows on a 64-bit runtime
# (family, run flag it needs or None), numerically ordered as in flatpak's socket_family_allowlist
SOCKET_FAMILIES_ALLOWED = ((0, None), (1, None), (2, None), (10, None), (16, None), (29, "canbus"), (31, "bluetooth"))


@dataclass(frozen=True)
class Rule:
    """One seccomp_rule_add call: errno, and at most one argument condition
    (index, op, datum_a, datum_b) in libseccomp's terms (SCMP_CMP_MASKED_EQ: mask, value)."""
    syscall: str
    errno: int
    arg: tuple[int, str, int, int] | None = None
    exact: bool = False  # seccomp_rule_add_exact, its failure ignored (flatpak's socket rules)


def _plain(names: str, number: int) -> list[Rule]:
    return [Rule(name, number) for name in names.split()]


def rules(variant: str = "run") -> list[Rule]:
    """Flatpak's rules in the order setup_seccomp adds them."""
    if variant not in VARIANTS:
        raise ValueError(f"flatpak filter variant {variant!r}: one of {', '.join(VARIANTS)}")
    out = _plain("syslog uselib acct modify_ldt quotactl add_key keyctl request_key move_pages mbind "
                 "get_mempolicy set_mempolicy migrate_pages unshare setns mount umount umount2 pivot_root chroot",
                 errno.EPERM)
    out.append(Rule("clone", errno.EPERM, (0, "SCMP_CMP_MASKED_EQ", CLONE_NEWUSER, CLONE_NEWUSER)))
    out += [Rule("ioctl", errno.EPERM, (1, "SCMP_CMP_MASKED_EQ", 0xFFFFFFFF, request)) for request in (TIOCSTI, TIOCLINUX)]
    out += _plain("clone3 open_tree move_mount fsopen fsconfig fsmount fspick mount_setattr", errno.ENOSYS)
    if variant == "run":
        out += [Rule("perf_event_open", errno.EPERM),
                Rule("personality", errno.EPERM, (0, "SCMP_CMP_NE", PER_LINUX, 0)),
                Rule("ptrace", errno.EPERM)]
    last = -1
    for family, flag in SOCKET_FAMILIES_ALLOWED:
        if flag is not None:
            continue  # neither --allow=canbus nor --allow=bluetooth: that family is blocked with the rest
        out += [Rule("socket", errno.EAFNOSUPPORT, (0, "SCMP_CMP_EQ", blocked, 0), exact=True)
                for blocked in range(last + 1, family)]
        last = family
    out.append(Rule("socket", errno.EAFNOSUPPORT, (0, "SCMP_CMP_GE", last + 1, 0), exact=True))
    return out


def seccomp_json(variant: str = "run") -> dict:
    """The filter as an OCI seccomp JSON (what the cells are judged by)."""
    syscalls = []
    for rule in rules(variant):
        entry = {"names": [rule.syscall], "action": "SCMP_ACT_ERRNO", "errnoRet": rule.errno}
        if rule.arg:
            index, op, datum_a, datum_b = rule.arg
            entry["args"] = [{"index": index, "value": datum_a, "valueTwo": datum_b, "op": op}]
        syscalls.append(entry)
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": syscalls}
