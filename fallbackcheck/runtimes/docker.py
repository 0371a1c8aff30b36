"""docker-runc and docker-crun: one container per batch through a dockerd (docker SDK)."""

from __future__ import annotations

import json
import threading
import time

import requests

from ..artefacts import images
from .base import MEMORY_LIMIT, PIDS_LIMIT, BatchOutput, BatchPlan, Runtime, oci_runtime_version, placed_probe_dir

# Where dockerd's containerd keeps a running container's OCI bundle (exec-root
# /run/docker, namespace moby); the bundle goes when the container exits, hence runner -w.
BUNDLE = "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/{id}/config.json"
HOLD_S = 30


def _remove(api, container_id: str) -> None:
    """Remove a batch container; one already gone or already being removed is fine (the
    session sweep may race with us), and must not turn a measured batch into an error."""
    import docker

    try:
        api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409 and not _engine_gone(exc):
            raise
    except (requests.exceptions.ConnectionError, docker.errors.DockerException):
        pass  # the engine is down: the container carries the run's owner label, and the
        # end-of-run sweep, the next run or prune removes it once the engine is back


def _signal(api, container_id: str, signal: str) -> None:
    """Send a signal to a batch container; one that has ended meanwhile needs none."""
    try:
        api.kill(container_id, signal=signal)
    except Exception:
        pass


def _engine_gone(exc: BaseException) -> bool:
    """Whether an error means the engine stopped answering (restarted, killed)."""
    import docker

    if isinstance(exc, requests.exceptions.ConnectionError):
        return True
    if not isinstance(exc, (docker.errors.DockerException, requests.exceptions.RequestException)):
        return False  # a local error (a file of ours) says nothing about the engine
    text = f"{type(exc).__name__} {exc}"
    return any(
        word in text for word in ("Connection aborted", "Connection refused", "connection reset",
                                  "No such file or directory", "Max retries exceeded", "RemoteDisconnected"))


def _api_message(exc) -> str:
    """What dockerd said in an API error (its `explanation`), without the request URL."""
    return str(getattr(exc, "explanation", None) or exc)


def _server_error(exc: BaseException) -> bool:
    """A 5xx from the engine: a daemon that is shutting down answers some calls that way."""
    import docker

    return isinstance(exc, docker.errors.APIError) and (exc.status_code or 0) >= 500


class DockerRuntime(Runtime):
    start_s = 0.5
    def __init__(self, oci_runtime: str, host=None):
        self.oci_runtime = oci_runtime
        self.kind = f"docker-{oci_runtime}"
        self.family = f"Docker + {oci_runtime}"
        self.column_order = 10 + self.oci_rank(oci_runtime)
        super().__init__(host)

    @property
    def engine(self):
        return self.host.docker()

    def unavailable_reason(self) -> str | None:
        reason = self.host.unavailable_reason() or self.engine.unavailable_reason()
        if reason:
            return reason
        known = self.engine.info().get("Runtimes", {})
        if self.oci_runtime not in known:
            return (f"dockerd has no runtime named {self.oci_runtime!r} (has: {', '.join(sorted(known))}); "
                    f"register it with --add-runtime {self.oci_runtime}=<path> or daemon.json")
        return None

    def versions(self) -> dict:
        info = self.engine.info()
        version = self.engine.version()
        runtime = info.get("Runtimes", {}).get(self.oci_runtime, {})
        components = {c.get("Name"): c.get("Version") for c in version.get("Components") or []}
        out = {"engine": f"docker {version.get('Version')}", "api": version.get("ApiVersion"),
               "containerd": components.get("containerd"), "oci_runtime": self.oci_runtime,
               "oci_runtime_path": runtime.get("path")}
        if runtime.get("path"):
            path = runtime["path"]
            if "/" not in path:
                path = self.host.run(["sh", "-c", f"command -v {path}"], check=False).stdout.strip() or path
            out.update(oci_runtime_version(path, self.host))
        out["default_profile"] = "built into dockerd; what the runtime received is in each batch's received_profile"
        return out

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        # An image's reference and content id do not change during a run: asked of the engine
        # once per run (three requests per batch before), as for podman.
        return self.once(("image", image_id), lambda: self._prepare_image(image_id))

    def _prepare_image(self, image_id: str) -> tuple[str, str]:
        self.engine.wait_until_reachable()
        return self.engine.reference(image_id)

    def probe_dir(self, arch: str = "amd64"):
        return placed_probe_dir(self.host, arch)

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        if self.host.name and images.lookup(image_id):
            # the same root file system as on this host: one libc reading serves every host
            return "rootfs-" + images.tar_digest(images.lookup(image_id))[:32]
        return self.once(("content key", image_ref), lambda: self.engine.image_id(image_ref))

    def _security_opt(self, plan: BatchPlan) -> list[str]:
        opts = ["no-new-privileges"]
        if plan.seccomp == {}:
            opts.append("seccomp=unconfined")
        elif plan.seccomp is not None:
            # The Engine API takes the profile as JSON text, not as a path (docs/runtimes.md, "Handing a profile over").
            opts.append("seccomp=" + plan.profile.render())
        return opts

    def _received(self, container_id: str) -> tuple[dict | None, str]:
        """The seccomp section of the config.json dockerd handed the OCI runtime, read from
        the bundle while the runner holds (runner -w)."""
        path = BUNDLE.format(id=container_id)
        for _ in range(50):
            text = self.host.read_text(path)
            if text:
                return json.loads(text).get("linux", {}).get("seccomp") or {}, ""
            time.sleep(0.1)
        return None, f"the OCI bundle {path} could not be read while the container ran"

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        import docker

        self.engine.wait_until_reachable()
        # The SDK's low-level API: its container objects inspect the container after creating
        # it and before each logs call, and waiting for the runner to hold meant polling the
        # logs; each request costs this process about a millisecond of interpreter time,
        # taken from the cells that run meanwhile. Attached before it starts, a batch makes
        # seven requests (create, inspect + attach, start, the release, wait, remove).
        api = self.engine.client.api
        # No log driver: the output is read from the attached stream (attached before the
        # start, nothing is missed), so dockerd need not also write it to a log file.
        host_config = api.create_host_config(
            runtime=self.oci_runtime, security_opt=self._security_opt(plan), pids_limit=PIDS_LIMIT,
            mem_limit=MEMORY_LIMIT, binds={str(plan.probe_dir): {"bind": "/fbc", "mode": "ro"}},
            log_config={"Type": "none", "Config": {}})
        container_id = api.create_container(
            plan.image_ref, plan.command(hold_s=HOLD_S), working_dir="/tmp", network_disabled=True,
            labels=plan.labels, host_config=host_config)["Id"]
        try:
            stream = api.attach(container_id, stdout=True, stderr=True, stream=True, demux=True)
            # Reading the stream waits as long as the runner runs: a stuck runner is stopped
            # by this timer (each probe has its own limit inside the runner).
            expired = threading.Event()
            watchdog = threading.Timer(plan.overall_timeout_s, self._expire, (api, container_id, expired))
            watchdog.daemon = True
            try:
                try:
                    api.start(container_id)
                except docker.errors.APIError as exc:
                    # The OCI runtime refused to start the container (dockerd relays its
                    # message as a 500; where the runtime's init died during set-up, dockerd
                    # only says "cannot start a stopped process"): the runtime's answer,
                    # kept as what it said.
                    if not any(m in str(exc) for m in ("OCI runtime", "cannot start a stopped process")):
                        raise
                    return BatchOutput("", _api_message(exc), None, container_id[:12])
                watchdog.start()
                stdout, stderr, received, note = self._follow(api, container_id, stream)
            finally:
                watchdog.cancel()
                stream.close()
            status = None if expired.is_set() else api.wait(container_id, timeout=60).get("StatusCode")
            return BatchOutput(stdout, stderr, status, container_id[:12], expired.is_set(),
                               received=received, received_note=note)
        finally:
            _remove(api, container_id)

    def _follow(self, api, container_id: str, stream) -> tuple[str, str, dict | None, str]:
        """The container's stdout and stderr, read to their end; when the runner says it is
        holding, the seccomp section the OCI runtime received is read and the runner released
        with SIGUSR1 (a signal before that line would be dropped: it is PID 1)."""
        out: list[bytes] = []
        err: list[bytes] = []
        received, note, released = None, "the runner ended before it held: the OCI bundle was not read", False
        try:
            for stdout, stderr in stream:
                if stdout:
                    out.append(stdout)
                    if not released and b"runner_hold" in b"".join(out):  # the line may come in parts
                        released = True
                        received, note = self._received(container_id)
                        _signal(api, container_id, "SIGUSR1")
                if stderr:
                    err.append(stderr)
        except OSError:
            pass  # the stream broke (an engine going away): the wait that follows says what happened
        return b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace"), received, note

    @staticmethod
    def _expire(api, container_id: str, expired: threading.Event) -> None:
        expired.set()
        _signal(api, container_id, "SIGKILL")

    def cleanup(self, session: str | None) -> int:
        if self.host.disposable:
            return 0  # the generation's container goes as a whole (hosts/generation.py)
        return self.engine.cleanup(session)

    def explain_failure(self, exc: Exception) -> str:
        if _engine_gone(exc) or (_server_error(exc) and self.engine.stops_answering()):
            self.engine.mark_gone()
            return f"the Docker engine went away during the batch ({type(exc).__name__}: {str(exc)[:200]})"
        return super().explain_failure(exc)
