"""A systemd host: one container per run whose PID 1 is systemd, for the `systemd-run` kind.

`systemd-run` needs systemd as PID 1, which these machines do not have. So the run starts one
container from a root file system with systemd, systemd-sysv and dbus (images/recipes.toml,
[systemd.*], built once per recipe hash like the engine generations) and starts each batch as
a transient service in it. Provisioned on first use, once per run and recipe (the processes of
one run share it: it is found by its name), and removed by the run's clean-up; it carries the
run's labels and the generation label, so the clean-up of engine generations (and the next
run's sweep of dead runs) finds it too.

How it runs (measured on these machines, Debian 12, cgroup v1 hybrid, PID 1 is not systemd):
--network none (there is no docker0 bridge), every capability but CAP_SYS_RESOURCE
(--privileged fails: the VM withholds it), no seccomp filter and no AppArmor profile of
Docker's (or Docker's default filter would stack under systemd's and mask what systemd
delivers), tmpfs on /run and /run/lock, container=docker. The host's /sys/fs/cgroup is never
bound into it: the container has a cgroup namespace of its own, and Docker's read-only view of
the container's own cgroups (systemd on this kind of host, handed the host's tree read-write,
created hierarchies in the host's /sys/fs/cgroup tmpfs and made every later crun run fail).
It is stopped the way systemd wants to be (SIGRTMIN+3), then removed.

The cached image roots and probe builds are bound read-only (the cache's rootfs/ and
probes/ directories), so a batch's root is the same unpacked root runc and crun get.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from .. import runs, stopping
from ..cache import cache_dir, locked
from ..runs import LABEL, SESSION_LABEL
from .generation import GENERATION_LABEL, host_engine
from .recipes import SYSTEMD_HOSTS, SystemdRecipe

ROOTS = "/fbc-roots"  # the cache's rootfs/ inside the container (read-only)
PROBES = "/fbc-probes"  # the cache's probes/ inside the container (read-only)
START_TIMEOUT_S = 60
# In the container's own mount namespace: Docker's cgroup v1 view replaced by the cgroup2 tree of
# the container's cgroup namespace (rooted at the container's own cgroup), then systemd as PID 1.
# The host's mounts are not touched (a private mount namespace), nor its /sys/fs/cgroup tmpfs.
OWN_CGROUP2 = ("umount -R /sys/fs/cgroup && mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup "
               "&& exec /lib/systemd/systemd")
STOP_TIMEOUT_S = 20


def container_name(recipe: SystemdRecipe, session: str) -> str:
    return f"fallbackcheck-systemd-{recipe.name}-{session}"


class SystemdHost:
    """The container whose PID 1 is systemd, for one run and one recipe."""

    def __init__(self, recipe: SystemdRecipe, session: str):
        self.recipe = recipe
        self.session = session
        self._container_id: str | None = None
        self._versions: dict | None = None
        self.closed = False  # removed by the run's clean-up: never started again
        self._known: frozenset[str] | None = None
        self._resolved: dict[str, dict | None] = {}
        self.provisioned: dict = {}

    @property
    def container_id(self) -> str:
        if self._container_id is None:
            if self.closed:
                raise RuntimeError(f"the systemd host {self.recipe.name} of this run has been removed")
            with locked(f"systemd-host-{self.recipe.name}-{self.session}"):
                self._container_id = self._find() or self._start()
            self.versions()  # read while it runs: the report asks after the clean-up
        return self._container_id

    def unavailable_reason(self) -> str | None:
        reason = host_engine().unavailable_reason()
        if reason:
            return f"the systemd host is a container on this host's Docker engine: {reason}"
        try:
            self.container_id
        except Exception as exc:  # build, import or start: any failure means "not here"
            return f"the systemd host ({self.recipe.name}) cannot be provisioned: {str(exc).strip()[:400]}"
        return None

    def exec_argv(self, argv: list[str]) -> list[str]:
        """`argv` run in the container (docker exec), as a command line of this machine."""
        return ["docker", "exec", self.container_id, *argv]

    def run(self, argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self.exec_argv(argv), capture_output=True, text=True, timeout=timeout, check=False)

    def inside(self, path: str | Path) -> str:
        """Where a path of the cache's rootfs/ or probes/ is seen in the container."""
        path = Path(path)
        for local, there in ((cache_dir() / "rootfs", ROOTS), (cache_dir() / "probes", PROBES)):
            if path.is_relative_to(local):
                return str(Path(there) / path.relative_to(local))
        raise RuntimeError(f"{path} is not under the cache's rootfs/ or probes/: the systemd host cannot see it")

    def _find(self) -> str | None:
        proc = subprocess.run(["docker", "ps", "-q", "--filter", f"name=^{container_name(self.recipe, self.session)}$"],
                              capture_output=True, text=True, timeout=60, check=False)
        return proc.stdout.strip() or None

    def _start(self) -> str:
        stopping.phase(f"the provisioning of the systemd host {self.recipe.name}")
        engine = host_engine()
        started = time.monotonic()
        if not engine.has(self.recipe.tag):
            engine.ensure(self.recipe)  # built (mmdebstrap) and imported once per recipe hash
            self.provisioned["build_import_s"] = round(time.monotonic() - started, 1)
        for directory in ("rootfs", "probes"):
            (cache_dir() / directory).mkdir(exist_ok=True)
        labels = {**runs.labels("generation", self.session), GENERATION_LABEL: f"systemd-{self.recipe.name}"}
        argv = ["docker", "run", "-d", "--name", container_name(self.recipe, self.session),
                *[a for k, v in labels.items() for a in ("--label", f"{k}={v}")],
                "--network", "none", "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
                "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
                "--cgroupns", "private",  # its own view; never the host's /sys/fs/cgroup (module docstring)
                "--tmpfs", "/run", "--tmpfs", "/run/lock", "-e", "container=docker",
                "--stop-signal", "SIGRTMIN+3",
                "-v", f"{cache_dir() / 'rootfs'}:{ROOTS}:ro", "-v", f"{cache_dir() / 'probes'}:{PROBES}:ro"]
        if self.recipe.cgroup2:  # a systemd that refuses cgroup v1 (recipes.toml): its own cgroup2 tree
            argv += ["--entrypoint", "/bin/sh", self.recipe.tag, "-c", OWN_CGROUP2]
        else:
            argv += [self.recipe.tag, "/lib/systemd/systemd"]
        # Shielded, in a session of its own, as a generation's start (generation.py): once
        # `docker run` has returned, the label finds the container.
        with stopping.shielded(raise_after=True):
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, start_new_session=True)
        if proc.returncode != 0:
            raise RuntimeError(f"starting the systemd host {self.recipe.name} failed: {proc.stderr.strip()[-500:]}")
        container = proc.stdout.strip()
        self._container_id = container
        stopping.checkpoint("provisioning")
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            state = self.run(["systemctl", "is-system-running"], timeout=30).stdout.strip()
            if state in ("running", "degraded"):  # degraded: a unit of the image's own failed, not ours
                break
            if time.monotonic() > deadline or not self._running(container):
                logs = subprocess.run(["docker", "logs", "--tail", "20", container], capture_output=True,
                                      text=True, timeout=30).stdout
                stop(container)
                self._container_id = None
                raise RuntimeError(f"systemd in the {self.recipe.name} container did not come up ({state or 'stopped'}) "
                                   f"within {START_TIMEOUT_S} s: {logs.strip()[-400:]}")
            time.sleep(0.3)
        self.provisioned["start_s"] = round(time.monotonic() - started, 1)
        stopping.phase("the set-up (loading images and probes into the engines)")
        return container

    @staticmethod
    def _running(container: str) -> bool:
        proc = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", container], capture_output=True,
                              text=True, timeout=30, check=False)
        return proc.stdout.strip() == "true"

    def known_syscalls(self) -> frozenset[str] | None:
        """systemd's @known set (`systemd-analyze syscall-filter @known`), or None if unreadable."""
        if self._known is None and not self.closed:
            out = self.run(["systemd-analyze", "syscall-filter", "@known"], timeout=60).stdout
            names = {line.strip() for line in out.splitlines()[1:] if line.startswith("    ")}
            self._known = frozenset(n for n in names if n and not n.startswith(("#", "@")))
        return self._known or None

    def libseccomp_knows(self, name: str, arch: str) -> bool | None:
        """Whether the systemd host's libseccomp resolves `name` on `arch` (its scmp_sys_resolver,
        asked once per architecture for every name of our table), None where it cannot be asked."""
        from ..model import syscalls
        from ..model.behaviours import SCMP_ARCH

        if arch not in self._resolved and not self.closed:
            names = sorted(syscalls.table())
            script = 'a=$1; shift; for n; do printf "%s %s\\n" "$n" "$(scmp_sys_resolver -a "$a" "$n")"; done'
            proc = self.run(["sh", "-c", f"command -v scmp_sys_resolver >/dev/null && {script}", "sh",
                             SCMP_ARCH[arch], *names], timeout=120)
            answers = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
            self._resolved[arch] = ({n: v.strip().isdigit() for n, v in answers.items()}
                                    if proc.returncode == 0 and answers else None)
        found = self._resolved.get(arch)
        return None if found is None else found.get(name, False)

    def versions(self) -> dict:
        if self._versions is None:
            said = self.run(["systemctl", "--version"]).stdout.splitlines()
            libseccomp = self.run(["dpkg-query", "-W", "-f", "${Version}", "libseccomp2"]).stdout.strip()
            self._versions = {"suite": self.recipe.suite, "recipe": self.recipe.hash,
                              "systemd": said[0] if said else None,
                              "libseccomp": f"{libseccomp} (Debian libseccomp2 of the systemd host)" if libseccomp else None,
                              **self.provisioned}
        return self._versions


def stop(container: str) -> None:
    """Stop a systemd container the way systemd wants (SIGRTMIN+3: halt), then remove it;
    one that does not halt in time is killed by the removal."""
    subprocess.run(["docker", "kill", "--signal", "SIGRTMIN+3", container], capture_output=True, timeout=60, check=False)
    try:
        subprocess.run(["docker", "wait", container], capture_output=True, timeout=STOP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        pass
    subprocess.run(["docker", "rm", "-f", container], capture_output=True, timeout=120, check=False)


def cleanup_systemd_hosts(session: str | None) -> int:
    """The systemd hosts of `session` (with None: of every run that has ended), stopped and removed."""
    engine = host_engine()
    if engine.unavailable_reason():
        return 0
    label = f"{SESSION_LABEL}={session}" if session else f"{LABEL}=generation"
    if session is not None:
        for host in _HOSTS.values():
            if host.session == session:
                host.closed = True
    removed = 0
    for item in engine.client.api.containers(all=True, filters={"label": [f"{LABEL}=generation", label]}):
        labels = item.get("Labels") or {}
        if not labels.get(GENERATION_LABEL, "").startswith("systemd-"):
            continue
        if session is None and not runs.owner_is_gone(labels):
            continue  # a live run's
        stop(item["Id"])
        removed += 1
    return removed


_HOSTS: dict[tuple[str, str], SystemdHost] = {}


def systemd_host(name: str) -> SystemdHost:
    """This run's systemd host of recipe `name` (one object per process)."""
    key = (name, runs.session())
    if key not in _HOSTS:
        _HOSTS[key] = SystemdHost(SYSTEMD_HOSTS[name], runs.session())
    return _HOSTS[key]
