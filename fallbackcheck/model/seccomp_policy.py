"""A profile as the policy lines probes/fbc-seccomp-exec reads (one filter installed with
libseccomp on this machine): used by the `local` runtime and by the kernel baseline's
FALLBACKCHECK_KERNEL_PLAY filter."""

from __future__ import annotations

from .profiles import Profile

_ACTIONS = {
    "SCMP_ACT_ALLOW": "allow", "SCMP_ACT_LOG": "log", "SCMP_ACT_KILL": "kill",
    "SCMP_ACT_KILL_THREAD": "kill", "SCMP_ACT_KILL_PROCESS": "kill_process", "SCMP_ACT_TRAP": "trap",
}
# libseccomp's names (seccomp_arch_resolve_name). A foreign architecture in a filter is
# harmless: its rules only ever match a task of that architecture.
_ARCHES = {"SCMP_ARCH_X86_64": "x86_64", "SCMP_ARCH_X86": "x86", "SCMP_ARCH_X32": "x32",
           "SCMP_ARCH_AARCH64": "aarch64", "SCMP_ARCH_ARM": "arm"}


def _action(action: str, errno_ret) -> str:
    if action == "SCMP_ACT_ERRNO":
        return f"errno {int(errno_ret) if errno_ret is not None else 1}"
    if action in _ACTIONS:
        return _ACTIONS[action]
    raise ValueError(f"the local runtime cannot apply seccomp action {action}")


def render_policy(profile: Profile) -> str:
    """The profile in fbc-seccomp-exec's line format (see probes/fbc-seccomp-exec.c)."""
    oci = profile.oci
    lines = [f"# fallbackcheck profile {profile.id}",
             f"default {_action(oci['defaultAction'], oci.get('defaultErrnoRet'))}"]
    lines += [f"arch {_ARCHES[a]}" for a in oci.get("architectures") or [] if a in _ARCHES]
    for rule in oci.get("syscalls") or []:
        if rule.get("args"):
            raise ValueError(f"the local runtime does not apply argument conditions (profile {profile.id})")
        action = _action(rule["action"], rule.get("errnoRet"))
        lines += [f"rule {name} {action}" for name in rule.get("names") or [rule.get("name")]]
    return "\n".join(lines) + "\n"
