"""`systemd-run`: each batch a transient service with SystemCallFilter=, on the image's root.

A batch is `systemd-run --wait --pipe -p RootDirectory=<the image's root> ... -- runner ...`
in the run's systemd host (hosts/systemdhost.py: a container whose PID 1 is systemd, since
these machines have no systemd PID 1). The root is the unpacked root runc and crun get
(read-only), the probe build is bound read-only at /fbc, /tmp is a tmpfs, and the service's
capability bounding set is Docker's default set, as the probes meet it in a container.

Profiles, in systemd.exec(5)'s terms (systemd's `SystemCallFilter=`, `SystemCallErrorNumber=`):

- `unconfined`: no SystemCallFilter= (systemd then installs no filter: execute.c,
  apply_syscall_filter() returns early when the unit has none).
- `default`: `SystemCallFilter=@system-service` with `SystemCallErrorNumber=EPERM`, the
  hardening systemd.exec(5) recommends for system services. Not a JSON: its raw cells say what
  was delivered and ask nothing (n/a), as for the other sandboxes' own filters.
- a deny list (`deny:`, a `file:` profile that allows by default and only denies by name):
  `SystemCallFilter=~NAME:ERRNO ...`, the errno per name (systemd.exec(5)).
- an allow list (`vintage:`, a `file:` profile that only allows by name):
  `SystemCallFilter=NAME ...` with `SystemCallErrorNumber=ERRNO` (or `kill` for a kill
  default). systemd adds its `@default` set to every allow list (src/core/dbus-execute.c:
  futex_waitv, rseq, getrandom... whatever the kernel the profile plays lacked), so a second
  `SystemCallFilter=~...` names every syscall the profile does not allow, which takes them out
  again (systemd.exec(5): a later list of the other kind removes names from the first).
  Argument conditions, other actions and per-rule errnos in an allow list are left out, with
  the reason.

What systemd delivered is measured by the raw probes, never assumed: a name systemd's
libseccomp does not know is dropped with a log line (seccomp_parse_syscall_filter(),
SECCOMP_PARSE_PERMISSIVE), and such a cell shows as unexpected with what was delivered.
"""

from __future__ import annotations

import errno as errno_mod
import os
import subprocess
from pathlib import Path

from ..errors import UsageError
from ..model import syscalls
from ..model.profiles import errno_name
from ..model.seccomp_json import DEFAULT_CAPS
from .base import BatchOutput, BatchPlan
from .nspawn import deny_rules
from .sandbox import MARK, Sandbox, batch_name, run_group

# The bare `systemd-run` is this machine's Debian (12: systemd 252); `systemd-run@<name>` names
# another [systemd.<name>] recipe.
BARE = "debian-12"
DEFAULT_PROPERTIES = ("SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM")
OWN_FILTER = ("systemd's SystemCallFilter=@system-service with SystemCallErrorNumber=EPERM "
              "(its groups in seccomp-util.c, systemd's src/shared): there is no seccomp JSON to read")
# Provenance: seccomp-util.c (systemd's src/shared), override_default_action() and the @known loop of
# seccomp_load_syscall_filter_set_raw(), since systemd 255 (https://github.com/systemd/systemd/pull/30291);
# read at Debian's 257.13.
SYSTEMD_ENOSYS = ("systemd {major} answers ENOSYS instead of the allow list's errno for a syscall no rule names "
                  "that is outside its @known set or unknown to its libseccomp (seccomp-util.c, "
                  "override_default_action(), systemd >= 255, PR 30291): {syscall} is {why}")
_KILL = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD"}
# systemd filters every architecture of the machine with the same list (seccomp_local_archs).
_LOCAL_ARCHES = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}


def allow_list(profile) -> tuple[list[str], str] | None:
    """(allowed names, SystemCallErrorNumber= value) of an allow-shaped profile (a default
    action of errno or kill, every rule an unconditional allow), or None for any other shape."""
    oci = profile.oci or {}
    default = oci.get("defaultAction")
    if profile.kind not in ("vintage", "file") or default not in ({"SCMP_ACT_ERRNO"} | _KILL):
        return None
    names = []
    for rule in oci.get("syscalls") or []:
        if rule.get("action") not in ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG") or rule.get("args"):
            return None
        names += rule.get("names") or [rule.get("name")]
    if default in _KILL:
        return names, "kill"
    return names, errno_name(int(oci.get("defaultErrnoRet", errno_mod.EPERM)))


def not_expressible(profile) -> str | None:
    """Why an allow- or deny-shaped profile cannot be handed to systemd as it asks, or None."""
    archs = set((profile.oci or {}).get("architectures") or [])
    if archs and not _LOCAL_ARCHES <= archs:
        return ("it leaves out architectures of this machine, which systemd filters with the same list "
                "(SystemCallArchitectures= would kill them instead of filtering)")
    return None


def filter_properties(profile) -> list[str]:
    """The unit properties (`-p` values) that hand `profile` to systemd."""
    if profile.kind == "unconfined":
        return []
    if profile.kind == "default":
        return list(DEFAULT_PROPERTIES)
    allowed = allow_list(profile)
    if allowed is not None:
        names, number = allowed
        # systemd adds its @default set to an allow list (src/core/dbus-execute.c); a later `~` list
        # takes names out of it again (systemd.exec(5)): every syscall the profile does not allow.
        # (Not `~NAME:ERRNO`: with the list's own errno libseccomp refuses the rule, as it equals
        # the filter's default action, and the service fails with status 228/SECCOMP.)
        others = sorted(set(syscalls.table()) - set(names))
        return [f"SystemCallFilter={' '.join(names)}", *([f"SystemCallFilter=~{' '.join(others)}"] if others else []),
                f"SystemCallErrorNumber={number}"]
    return [f"SystemCallFilter=~{' '.join(f'{n}:{errno_name(number)}' for n in names)}"
            for names, number in deny_rules(profile) or []]


def make(host_name: str):
    """The runtime of `systemd-run[@host_name]` (registry.get)."""
    from ..hosts.recipes import SYSTEMD_HOSTS

    name = host_name or BARE
    if name not in SYSTEMD_HOSTS:
        raise UsageError(f"runtime systemd-run@{host_name}: no systemd host of that name; use one of "
                         + ", ".join("systemd-run" if n == BARE else f"systemd-run@{n}" for n in SYSTEMD_HOSTS))
    return SystemdRunRuntime(name)


class SystemdRunRuntime(Sandbox):
    kind = "systemd-run"
    program = "docker"
    package = "docker.io"
    start_s = 0.45  # measured: about 0.4 s a batch (one docker exec, one transient service)

    def __init__(self, systemd_host: str = BARE):
        super().__init__(None)
        self.systemd_name = systemd_host
        self.id = self.kind if systemd_host == BARE else f"{self.kind}@{systemd_host}"

    @property
    def systemd(self):
        from ..hosts.systemdhost import systemd_host

        return systemd_host(self.systemd_name)

    def kind_facts(self) -> dict:
        """Its `@` names a systemd host (a newer Debian's systemd), which the views read as its
        host, as they read an engine generation's."""
        return {**super().kind_facts(), "host": "" if self.systemd_name == BARE else self.systemd_name}

    def unavailable_reason(self) -> str | None:
        return super().unavailable_reason() or self.systemd.unavailable_reason()

    def unsupported_profile(self, profile) -> str | None:
        if profile.kind == "own":
            return super().unsupported_profile(profile)
        if profile.kind in ("unconfined", "default"):
            return None
        if deny_rules(profile) is None and allow_list(profile) is None:
            return ("SystemCallFilter= takes a list of names allowed or denied, with one errno per name or one for the "
                    "list (systemd.exec(5)): argument conditions and other actions cannot be handed over")
        return not_expressible(profile)

    def seccomp_in_force(self, profile) -> dict | None:
        if profile.kind == "default":
            return None  # systemd's groups, measured
        return super().seccomp_in_force(profile)

    def versions(self) -> dict:
        host = self.systemd.versions()
        return {"engine": f"none (systemd-run in a container whose PID 1 is systemd, Debian {host['suite']})",
                "sandbox": "systemd-run", "sandbox_package": (host.get("systemd") or "").partition("(")[2].rstrip(")") or None,
                "oci_runtime_version": host.get("systemd"), "libseccomp": host.get("libseccomp"),
                "systemd_host": f"container of recipe [systemd.{self.systemd_name}] {host['recipe']}, "
                                f"started in {host.get('start_s', '?')} s",
                "default_profile": "SystemCallFilter=@system-service, SystemCallErrorNumber=EPERM (systemd.exec(5)), measured"}

    def systemd_major(self) -> int | None:
        said = (self.cached_versions().get("oci_runtime_version") or "").split()
        return int(said[1]) if len(said) > 1 and said[0] == "systemd" and said[1].isdigit() else None

    def libseccomp_knows(self, name: str, arch: str) -> bool | None:
        """The systemd host's libseccomp; Debian 12's host has no resolver and links this
        machine's own libseccomp version, which is asked instead."""
        known = self.systemd.libseccomp_knows(name, arch)
        if known is None and self.systemd_name == BARE:
            return super().libseccomp_knows(name, arch)
        return known

    def explain_delivered(self, plain: dict, syscall: str, arch: str, asked: str, delivered: str) -> str | None:
        """systemd >= 255: an allow list's syscall that no rule names, outside systemd's @known set
        or unknown to its libseccomp, is answered ENOSYS, not the list's errno (behaviours.explain)."""
        if delivered != "ENOSYS" or asked in ("allowed", "ENOSYS", "SIGSYS", None):
            return None
        if plain.get("defaultAction") != "SCMP_ACT_ERRNO" or any(
                syscall in (rule.get("names") or []) for rule in plain.get("syscalls") or []):
            return None
        major = self.systemd_major()
        if major is None or major < 255:
            return None
        known = self.systemd.known_syscalls()
        if known is not None and syscall not in known:
            why = "not in its @known set"
        elif self.libseccomp_knows(syscall, arch) is False:
            why = "not known to its libseccomp"
        else:
            return None
        return SYSTEMD_ENOSYS.format(major=major, syscall=syscall, why=why)

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        root, arch = super().prepare_image(image_id)
        (Path(root) / "fbc").mkdir(exist_ok=True)  # BindReadOnlyPaths= needs its mount point on a read-only root
        return root, arch

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        name = batch_name(plan.session)
        systemd = self.systemd
        argv = systemd.exec_argv([
            "systemd-run", "--quiet", "--wait", "--pipe", "--collect", f"--unit={name}",
            "-p", f"RootDirectory={systemd.inside(plan.image_ref)}",
            "-p", f"BindReadOnlyPaths={systemd.inside(plan.probe_dir)}:/fbc",
            "-p", "TemporaryFileSystem=/tmp", "-p", "WorkingDirectory=/tmp",
            "-p", f"CapabilityBoundingSet={' '.join(sorted(DEFAULT_CAPS))}",
            "-E", "LC_ALL=C", "-E", f"{MARK}={name}",
            *[a for p in filter_properties(plan.profile) for a in ("-p", p)],
            "--", *plan.command()])
        received = self.seccomp_in_force(plan.profile)
        note = "" if received is not None else OWN_FILTER
        try:
            out = run_group(argv, plan.overall_timeout_s, name, env=dict(os.environ), received=received, received_note=note)
        except BaseException:
            self._stop_unit(name)  # our client is gone: the service would run on
            raise
        if out.timed_out:
            self._stop_unit(name)
        return out

    def _stop_unit(self, name: str) -> None:
        try:
            self.systemd.run(["systemctl", "kill", "--signal=SIGKILL", f"{name}.service"], timeout=20)
            self.systemd.run(["systemctl", "reset-failed", f"{name}.service"], timeout=20)
        except (subprocess.TimeoutExpired, RuntimeError, OSError):
            pass  # the run's clean-up removes the whole systemd host

    def cleanup(self, session: str | None) -> int:
        from ..hosts.systemdhost import cleanup_systemd_hosts

        return super().cleanup(session) + cleanup_systemd_hosts(session)
