"""The Docker engine, through the docker SDK: connection, image import, helper containers, cleanup."""

from __future__ import annotations

import uuid
from functools import cached_property

from .. import images
from ..errors import UsageError
from .base import LABEL, SESSION_LABEL



class DockerEngine:
    def __init__(self):
        self._error: str | None = None

    @cached_property
    def client(self):
        import docker  # imported here so that `local`-only runs never need the engine

        try:
            client = docker.from_env(timeout=120)
            client.ping()
            return client
        except Exception as exc:  # any failure to connect means "no engine"
            self._error = f"cannot reach the Docker engine ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
            return None

    def unavailable_reason(self) -> str | None:
        return None if self.client is not None else self._error

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
                tar = images.build_tar(recipe)
                repo, tag = recipe.tag.split(":")
                self.client.api.import_image_from_file(
                    str(tar), repository=repo, tag=tag,
                    changes=[f"LABEL {LABEL}.recipe={recipe.hash}", f"LABEL {LABEL}.image={recipe.id}"])
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

    def libc(self, ref: str, family: str = "auto") -> str:
        """The image's libc, read with testinfra in a short-lived container (cached by image id)."""
        import contextlib

        from ..imageinfo import libc_of

        @contextlib.contextmanager
        def open_host():
            import testinfra

            container = self.client.containers.run(
                ref, ["sleep", "120"], detach=True, network_disabled=True,
                labels={LABEL: "inspect", SESSION_LABEL: "inspect-" + uuid.uuid4().hex[:8]})
            try:
                yield testinfra.get_host(f"docker://{container.id}")
            finally:
                container.remove(force=True)

        return libc_of(content_key(ref, lambda: self.client.images.get(ref).id), open_host, family)

    def run_tool(self, ref: str, command: list[str], volumes: dict) -> str:
        """Run a helper container (e.g. the probe builder) to completion; return its logs."""
        container = self.client.containers.create(
            ref, command, volumes=volumes, network_disabled=True,
            labels={LABEL: "tool", SESSION_LABEL: "tool-" + uuid.uuid4().hex[:8]})
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
        if self.client is None:
            return 0
        label = f"{SESSION_LABEL}={session}" if session else LABEL
        removed = 0
        # The low-level list: the high-level one inspects each container and races with
        # containers that their own batch is removing at the same moment.
        for item in self.client.api.containers(all=True, filters={"label": label}):
            try:
                self.client.api.remove_container(item["Id"], force=True)
                removed += 1
            except Exception:  # already gone: removed by its own batch meanwhile
                pass
        return removed


def content_key(ref: str, image_id) -> str:
    """Our own tags carry the recipe hash (the same in every engine); anything else is
    keyed by the engine's image id."""
    if ref.startswith("fallbackcheck/") and ":" in ref:
        return "recipe-" + ref.rsplit(":", 1)[1]
    return "image-" + image_id().replace("sha256:", "")[:32]


_ENGINE: DockerEngine | None = None


def engine() -> DockerEngine:
    """The process-wide Docker engine connection (made on first use)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = DockerEngine()
    return _ENGINE
