"""The Docker engine, through the docker SDK: connection, image import, helper containers, cleanup."""

from __future__ import annotations

import os
import threading
import time
from functools import cached_property

from ..artefacts import images
from ..errors import UsageError
from .. import runs
from ..runs import LABEL, SESSION_LABEL



# How long a batch waits for an engine that stopped answering (a restart) before it fails.
ENGINE_WAIT_S = 30.0


class DockerEngine:
    """One dockerd: this host's (base_url None: the environment's DOCKER_HOST or the
    default socket) or a generation's / an engine host's (its unix socket)."""

    def __init__(self, base_url: str | None = None, where: str = ""):
        self.base_url = base_url
        self.where = where  # the host's name, for the load log ("" = this host)
        self._error: str | None = None
        self._gone: tuple | None = None  # (socket identity, when) after a batch saw the engine go
        self._gone_lock = threading.Lock()

    @cached_property
    def client(self):
        import docker  # imported here so that `local`-only runs never need the engine

        try:
            client = (docker.DockerClient(base_url=self.base_url, timeout=120) if self.base_url
                      else docker.from_env(timeout=120))
            # requests reads proxy settings from os.environ on every call, iterating it, while
            # pytest sets and deletes PYTEST_CURRENT_TEST in the main thread: from a batch
            # thread that iteration can fail (KeyError, measured). The engine is local or
            # reached over its own transport, so no proxy applies.
            client.api.trust_env = False
            client.ping()
            return client
        except Exception as exc:  # any failure to connect means "no engine"
            self._error = f"cannot reach the Docker engine ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
            return None

    def unavailable_reason(self) -> str | None:
        return None if self.client is not None else self._error

    def mark_gone(self) -> None:
        """A batch saw the engine go away: batches that start next wait for it to come back
        (a daemon shutting down still answers pings for a moment, so "back" means a new
        socket where the engine listens on one, or a bounded wait)."""
        with self._gone_lock:
            if self._gone is None:
                self._gone = (_socket_identity(), time.monotonic())

    def stops_answering(self, within_s: float = 3.0) -> bool:
        """Whether the engine stops answering within `within_s` (its socket goes, or a ping
        fails): how a server error from a daemon on its way down is told from a real one."""
        identity, deadline = _socket_identity(), time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                self.client.ping()
            except Exception:
                return True
            if _socket_identity() != identity:
                return True
            time.sleep(0.2)
        return False

    def wait_until_reachable(self, timeout_s: float = ENGINE_WAIT_S) -> None:
        """Return once the engine answers (after a restart: the new one); after `timeout_s`
        raise one line. A batch that starts while the engine restarts waits instead of failing."""
        deadline = time.monotonic() + timeout_s
        while True:
            gone = self._gone
            try:
                self.client.ping()
                if gone is None:
                    return
                if _socket_identity() != gone[0] or time.monotonic() - gone[1] > timeout_s:
                    with self._gone_lock:
                        self._gone = None
                    return
                error = "it is shutting down"
            except Exception as exc:
                error = type(exc).__name__
            if time.monotonic() >= deadline:
                raise RuntimeError(f"the Docker engine is not reachable (waited {timeout_s:g} s for it: {error})")
            time.sleep(0.25)

    def info(self) -> dict:
        return self.client.info()

    def version(self) -> dict:
        return self.client.version()

    def has(self, ref: str) -> bool:
        import docker

        try:
            self.client.images.get(ref)
            return True
        except docker.errors.ImageNotFound:
            return False

    def ensure(self, recipe: images.Recipe) -> str:
        """The engine tag of `recipe`, importing its root file system once per recipe hash."""
        if self.has(recipe.tag):
            return recipe.tag
        from ..cache import locked

        with locked(f"import-docker-{recipe.id}-{recipe.hash}"):
            if not self.has(recipe.tag):
                from .loads import record as record_load

                started = time.monotonic()
                tar = images.build_tar(recipe)
                repo, tag = recipe.tag.split(":")
                self.client.api.import_image_from_file(
                    str(tar), repository=repo, tag=tag,
                    changes=[f"LABEL {LABEL}.recipe={recipe.hash}", f"LABEL {LABEL}.image={recipe.id}"])
                record_load(self.where, f"docker import {recipe.tag}", started)
        return recipe.tag

    def reference(self, image_id: str) -> tuple[str, str]:
        """(engine reference, Debian arch) for one of our ids or a user's image reference."""
        recipe = images.lookup(image_id)
        if recipe is not None:
            return self.ensure(recipe), recipe.arch
        import docker

        try:
            image = self.client.images.get(image_id)
        except docker.errors.ImageNotFound:
            raise UsageError(f"image {image_id!r} is not in the Docker engine and there is no registry here: "
                             "load it first (docker load / docker import)") from None
        arch = image.attrs.get("Architecture", "amd64")
        return image_id, {"386": "i386"}.get(arch, arch)

    def image_id(self, ref: str) -> str:
        """The engine's content-addressed id of `ref` ("docker-<sha256 prefix>")."""
        return "docker-" + self.client.images.get(ref).id.replace("sha256:", "")[:32]

    def run_tool(self, ref: str, command: list[str], volumes: dict) -> str:
        """Run a helper container (e.g. the probe builder) to completion; return its logs."""
        container = self.client.containers.create(ref, command, volumes=volumes, network_disabled=True,
                                                  labels=runs.labels("tool"))
        try:
            container.start()
            result = container.wait(timeout=600)
            logs = container.logs().decode(errors="replace")
            if result.get("StatusCode") != 0:
                raise RuntimeError(f"{' '.join(command)} failed in {ref}: {logs[-2000:]}")
            return logs
        finally:
            container.remove(force=True)

    def cleanup(self, session: str | None) -> int:
        """Remove the containers of `session`; with None, those of every run whose
        controller has ended (runs.owner_is_gone): never a live run's."""
        if self.client is None:
            return 0
        removed = 0
        try:
            # The low-level list: the high-level one inspects each container and races with
            # containers that their own batch is removing at the same moment.
            label = f"{SESSION_LABEL}={session}" if session else LABEL
            found = self.client.api.containers(all=True, filters={"label": label})
        except Exception:  # the engine is gone: nothing can be removed now; the next run will
            return 0
        for item in found:
            if session is None and not runs.owner_is_gone(item.get("Labels")):
                continue
            if (item.get("Labels") or {}).get(LABEL) == "generation":
                continue  # an engine generation goes last, as a whole (hosts/generation.py)
            try:
                self.client.api.remove_container(item["Id"], force=True)
                removed += 1
            except Exception:  # already gone: removed by its own batch meanwhile
                pass
        return removed


def _socket_identity():
    """(inode, ctime) of the engine's unix socket: a restarted daemon makes a new one."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return None
    try:
        st = os.stat(host[len("unix://"):])
        return (st.st_ino, st.st_ctime_ns)
    except OSError:
        return None


_ENGINE: DockerEngine | None = None


def engine() -> DockerEngine:
    """The process-wide connection to this host's Docker engine (made on first use)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = DockerEngine()
    return _ENGINE
