"""An engine generation: one container per generation and run, started from the
generation's root file system, running its own dockerd (with containerd), and podman,
ctr, runc and crun on demand (commands through `docker exec`).

What these machines need to run engines inside a container (measured; docs/generations.md):
--privileged fails (root here lacks CAP_SYS_RESOURCE), so the container gets every other
capability, no seccomp filter (so what the inner runtimes deliver is their own), writable
system paths, every device, and a private cgroup namespace.

The generation's state (dockerd's data root with its containerd, podman's storage, the
probe builds and root file systems copied in) lives on a volume named by the generation's
recipe hash, so a second run loads nothing. Two runs never share one volume: a run that
finds the cached volume in use gets a volume of its own, removed at its end.
"""

from __future__ import annotations

import subprocess
import time
from functools import cached_property
from pathlib import Path

from .. import runs, stopping
from ..cache import locked
from ..runs import LABEL, SESSION_LABEL
from .recipes import ENTRYPOINT, GENERATIONS, EngineRecipe
from ..engines import loads
from .remote import CommandHost

GENERATION_LABEL = f"{LABEL}.generation"
STATE = "/var/lib/fbc"  # the volume inside the generation
SOCKET_DIR = "/run/fbc"  # bind-mounted from the host: dockerd's socket is reachable from here
PODMAN_ENV = {"PODMAN_IGNORE_CGROUPSV1_WARNING": "1"}
START_TIMEOUT_S = 90


def host_engine():
    from ..engines.docker import engine

    return engine()


def cached_volume(recipe: EngineRecipe) -> str:
    return f"fallbackcheck-gen-{recipe.name}-{recipe.hash}"


def socket_dir(session: str, name: str) -> Path:
    return Path("/tmp") / f"fbc-gen-{session}-{name}"


def container_name(recipe: EngineRecipe, session: str) -> str:
    return f"fallbackcheck-gen-{recipe.name}-{session}"


class Generation(CommandHost):
    kind_name = "generation"
    containerd_socket = "/run/docker/containerd/containerd.sock"
    remote_cache = f"{STATE}/cache"
    disposable = True

    def __init__(self, recipe: EngineRecipe, session: str, ssh_pubkey: str | None = None, ssh_port: int = 0,
                 fresh_volume: bool = False):
        self.recipe = recipe
        self.name = recipe.name
        self.session = session
        self.ssh_pubkey = ssh_pubkey  # with ssh_port: also start an sshd (tests of --engine-hosts)
        self.ssh_port = ssh_port
        self.fresh_volume = fresh_volume  # a volume of its own even if the cached one is free (benchmark)
        self._container = None
        self.provisioned: dict = {}  # what this process did to get the generation running

    # -- transport -------------------------------------------------------------------
    def wrap(self, argv, env, interactive):
        envs = [f"--env={k}={v}" for k, v in {**PODMAN_ENV, **(env or {})}.items()]
        return ["docker", "exec", *(["-i"] if interactive else []), *envs, self.container.id, *argv]

    @property
    def socket_dir(self) -> Path:
        return socket_dir(self.session, self.name)

    def docker(self):
        self.container  # started on first use
        return self._docker

    @cached_property
    def _docker(self):
        from ..engines.docker import DockerEngine

        return DockerEngine(f"unix://{self.socket_dir}/docker.sock", where=self.name)

    # -- provisioning ----------------------------------------------------------------
    def unavailable_reason(self) -> str | None:
        reason = host_engine().unavailable_reason()
        if reason:
            return f"an engine generation is a container on this host's Docker engine: {reason}"
        try:
            self.container
        except Exception as exc:  # build, import or start: any failure means "not here"
            return f"generation {self.name} cannot be provisioned: {str(exc).strip()[:400]}"
        return None

    @property
    def container(self):
        if self._container is None:
            with locked(f"generation-{self.name}-{self.session}"):
                self._container = self._find() or self._start()
        return self._container

    def _find(self):
        import docker

        try:
            found = host_engine().client.containers.get(container_name(self.recipe, self.session))
        except docker.errors.NotFound:
            return None
        return found if found.status == "running" else None

    def _image(self) -> str:
        engine = host_engine()
        started = time.monotonic()
        if not engine.has(self.recipe.tag):
            engine.ensure(self.recipe)  # builds (mmdebstrap) and imports once per recipe hash
            self.provisioned["build_import_s"] = round(time.monotonic() - started, 1)
            loads.record(self.name, f"generation image {self.recipe.tag} (mmdebstrap + docker import)", started)
        return self.recipe.tag

    def _volume(self) -> str:
        """The cached volume when no other run uses it, else one for this run only."""
        client = host_engine().client
        name = cached_volume(self.recipe)
        with locked(f"generation-volume-{name}"):
            busy = client.api.containers(filters={"volume": name})
            if not busy and not self.fresh_volume:
                try:
                    client.volumes.get(name)
                except Exception:
                    client.volumes.create(name, labels={LABEL: "generation-state", GENERATION_LABEL: self.name,
                                                        f"{LABEL}.recipe": self.recipe.hash})
                    self.provisioned["new_volume"] = name
                return name
        own = f"{name}-{self.session}"
        client.volumes.create(own, labels={**runs.labels("generation-state", self.session),
                                           GENERATION_LABEL: self.name})
        self.provisioned["new_volume"] = own
        return own

    def _start(self):
        stopping.phase(f"the provisioning of engine generation {self.name}")
        client = host_engine().client
        image = self._image()
        started = time.monotonic()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        volume = self._volume()
        # The docker CLI, not the SDK: systempaths=unconfined is a CLI option (the API's
        # MaskedPaths/ReadonlyPaths, which the SDK does not expose).
        labels = {**runs.labels("generation", self.session), GENERATION_LABEL: self.name}
        argv = ["docker", "run", "-d", "--name", container_name(self.recipe, self.session),
                *[a for k, v in labels.items() for a in ("--label", f"{k}={v}")],
                "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
                "--security-opt", "systempaths=unconfined", "--security-opt", "apparmor=unconfined",
                "--device-cgroup-rule", "a *:* rwm", "--cgroupns", "private",
                "-v", f"{volume}:{STATE}", "-v", f"{self.socket_dir}:{SOCKET_DIR}",
                "-v", f"{ENTRYPOINT}:/fbc-entrypoint:ro"]
        if self.ssh_port:
            # sshd on this machine's loopback address: the generation shares the host's network
            # namespace (its dockerd makes no bridge and no iptables rules; batches have none).
            argv += ["--network", "host", "-e", f"FBC_SSH_PUBKEY={self.ssh_pubkey}", "-e", f"FBC_SSH_PORT={self.ssh_port}"]
        else:
            argv += ["--network", "none"]  # nothing in a generation needs a network
        # Shielded, in a session of its own (a Ctrl-C on the terminal reaches the whole process
        # group): a `docker run` killed half way leaves dockerd creating the container after
        # the clean-up has looked for it. Once it has returned, the label finds it.
        with stopping.shielded(raise_after=True):
            proc = subprocess.run([*argv, image, "/fbc-entrypoint"], capture_output=True, text=True, timeout=120,
                                  start_new_session=True)
        if proc.returncode != 0:
            raise RuntimeError(f"starting the {self.name} container failed: {proc.stderr.strip()[-500:]}")
        container = client.containers.get(proc.stdout.strip())
        self._container = container
        stopping.checkpoint("provisioning")
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            container.reload()
            if container.status != "running":
                logs = container.logs().decode(errors="replace")
                self._remove(container)
                raise RuntimeError(f"the {self.name} container stopped while starting: {logs.strip()[-500:]}")
            proc = self.run(["docker", "-H", f"unix://{SOCKET_DIR}/docker.sock", "version", "--format",
                             "{{.Server.Version}}"], check=False, timeout=30)
            if proc.returncode == 0:
                break
            if time.monotonic() > deadline:
                log = self.run(["tail", "-5", "/var/log/dockerd.log"], check=False).stdout
                self._remove(container)
                raise RuntimeError(f"dockerd in generation {self.name} did not start within "
                                   f"{START_TIMEOUT_S} s: {log.strip()[-500:]}")
            time.sleep(0.5)
        # A cached volume may hold batch containers of a run that was killed with its
        # generation: they are stopped records now; remove them before anything runs.
        ctr = f"ctr -a {self.containerd_socket} -n fallbackcheck"
        self.run(["sh", "-c", f"""
            ids=$(docker ps -aq --filter label={LABEL}); [ -z "$ids" ] || docker rm -f $ids
            ids=$(podman ps -aq --filter label={LABEL}); [ -z "$ids" ] || podman rm -f $ids
            for c in $({ctr} containers ls -q); do {ctr} tasks delete -f $c; {ctr} containers delete $c; done
            rm -rf {self.remote_cache}/*.partial-* {self.remote_cache}/*/*.partial-*
            true"""], check=False, timeout=120)
        self.provisioned["start_s"] = round(time.monotonic() - started, 1)
        stopping.phase("the set-up (loading images and probes into the engines)")
        self.provisioned["volume"] = volume
        return container

    def _remove(self, container) -> None:
        try:
            container.remove(force=True)
        except Exception:
            pass
        self._container = None

    @property
    def container_name(self) -> str:
        return container_name(self.recipe, self.session)

    def versions(self) -> dict:
        overlay = {"overlay": self.recipe.overlay} if self.recipe.overlay else {}
        return {"suite": self.recipe.suite, **overlay, "recipe": self.recipe.hash, **self.component_versions()}

    def cleanup(self, session: str | None) -> int:
        """Remove this run's generation containers (all generations) and their own volumes."""
        return cleanup_generations(session)


def cleanup_generations(session: str | None) -> int:
    """Generation containers of `session` (with None: of every run that has ended), the
    per-run volumes of that session and the socket directories. Cached volumes stay
    (content-addressed; prune removes those no recipe refers to)."""
    engine = host_engine()
    if engine.unavailable_reason():
        return 0
    client = engine.client
    label = f"{SESSION_LABEL}={session}" if session else f"{LABEL}=generation"
    removed = 0
    for item in client.api.containers(all=True, filters={"label": [f"{LABEL}=generation", label]}):
        labels = item.get("Labels") or {}
        if session is None and not runs.owner_is_gone(labels):
            continue  # a live run's generation
        try:
            client.api.remove_container(item["Id"], force=True, v=False)
            removed += 1
        except Exception:
            pass
        if labels.get(SESSION_LABEL) and labels.get(GENERATION_LABEL):
            subprocess.run(["rm", "-rf", str(socket_dir(labels[SESSION_LABEL], labels[GENERATION_LABEL]))], check=False)
    if session:
        for vol in client.volumes.list(filters={"label": [f"{LABEL}=generation-state", f"{SESSION_LABEL}={session}"]}):
            try:
                vol.remove(force=True)
            except Exception:
                pass
        for name in GENERATIONS:
            subprocess.run(["rm", "-rf", str(socket_dir(session, name))], check=False)
    return removed


def generation(name: str, session: str) -> Generation:
    return Generation(GENERATIONS[name], session)
