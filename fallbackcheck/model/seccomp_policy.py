"""A profile as the policy lines probes/fbc-seccomp-exec reads (one filter installed with
libseccomp on this machine): used by the `local` runtime and by the kernel baseline's
FALLBACKCHECK_KERNEL_PLAY filter."""

from __future__ import annotations

from .profiles import Profile
from .seccomp_json import resolved

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


def render_policy(profile: Profile, kernel_arch: str | None = None) -> str:
    """The profile in fbc-seccomp-exec's line format (see probes/fbc-seccomp-exec.c), a
    Docker-format one resolved as an engine on a `kernel_arch` machine would (this one's if
    None: seccomp_json.resolved). Raises ValueError for what the helper cannot install."""
    oci = resolved(profile.oci, kernel_arch)
    lines = [f"# fallbackcheck profile {profile.id}",
             f"default {_action(oci['defaultAction'], oci.get('defaultErrnoRet'))}"]
    lines += [f"arch {_ARCHES[a]}" for a in oci.get("architectures") or [] if a in _ARCHES]
    with_args = list(dict.fromkeys(name for rule in oci.get("syscalls") or [] if rule.get("args")
                                   for name in rule.get("names") or []))
    if with_args:
        raise ValueError(f"fbc-seccomp-exec takes no argument conditions, and profile {profile.id} has them "
                         f"for {', '.join(with_args[:4])}{' ...' if len(with_args) > 4 else ''}")
    for rule in oci.get("syscalls") or []:
        action = _action(rule["action"], rule.get("errnoRet"))
        lines += [f"rule {name} {action}" for name in rule.get("names") or [rule.get("name")]]
    return "\n".join(lines) + "\n"


def refusal(profile: Profile, kernel_arch: str | None = None) -> str | None:
    """Why fbc-seccomp-exec cannot install `profile` (Runtime.unsupported_profile of the
    runtimes that filter with it), or None."""
    if profile.oci is None:
        return None
    try:
        render_policy(profile, kernel_arch)
    except (ValueError, KeyError) as exc:
        return f"its filter helper cannot install it: {exc}"
    return None
