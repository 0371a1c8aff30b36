"""docker-runc and docker-crun: one container per batch through the Docker engine."""

from __future__ import annotations

import requests

from .. import probebuild, runs
from .base import MEMORY_LIMIT, PIDS_LIMIT, BatchOutput, BatchPlan, Runtime, oci_runtime_version
from .docker_engine import engine


def _remove(container) -> None:
    """Remove a batch container; one already gone or already being removed is fine (the
    session sweep may race with us), and must not turn a measured batch into an error."""
    import docker

    try:
        container.remove(force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409 and not _engine_gone(exc):
            raise
    except (requests.exceptions.ConnectionError, docker.errors.DockerException):
        pass  # the engine is down: the container carries the run's owner label, and the
        # end-of-run sweep, the next run or prune removes it once the engine is back


def _engine_gone(exc: BaseException) -> bool:
    """Whether an error means the engine stopped answering (restarted, killed)."""
    text = f"{type(exc).__name__} {exc}"
    return isinstance(exc, requests.exceptions.ConnectionError) or any(
        word in text for word in ("Connection aborted", "Connection refused", "connection reset",
                                  "No such file or directory", "Max retries exceeded", "RemoteDisconnected"))


def _server_error(exc: BaseException) -> bool:
    """A 5xx from the engine: a daemon that is shutting down answers some calls that way."""
    import docker

    return isinstance(exc, docker.errors.APIError) and (exc.status_code or 0) >= 500


class DockerRuntime(Runtime):
    def __init__(self, oci_runtime: str):
        self.oci_runtime = oci_runtime
        self.id = f"docker-{oci_runtime}"

    def unavailable_reason(self) -> str | None:
        reason = engine().unavailable_reason()
        if reason:
            return reason
        known = engine().info().get("Runtimes", {})
        if self.oci_runtime not in known:
            return (f"dockerd has no runtime named {self.oci_runtime!r} (has: {', '.join(sorted(known))}); "
                    f"register it with --add-runtime {self.oci_runtime}=<path> or daemon.json")
        return None

    def versions(self) -> dict:
        info = engine().info()
        version = engine().version()
        runtime = info.get("Runtimes", {}).get(self.oci_runtime, {})
        out = {"engine": f"docker {version.get('Version')}", "api": version.get("ApiVersion"),
               "oci_runtime": self.oci_runtime, "oci_runtime_path": runtime.get("path")}
        if runtime.get("path"):
            import shutil

            out.update(oci_runtime_version(shutil.which(runtime["path"]) or runtime["path"]))
        out["default_profile"] = "built into dockerd (not exposed by the Engine API)"
        return out

    def prepare_image(self, image_id: str) -> tuple[str, str]:
        engine().wait_until_reachable()
        return engine().reference(image_id)

    def probe_dir(self, arch: str = "amd64"):
        return probebuild.build_all(engine(), arch)

    def image_content_key(self, image_id: str, image_ref: str) -> str | None:
        return engine().image_id(image_ref)

    def _security_opt(self, plan: BatchPlan) -> list[str]:
        opts = ["no-new-privileges"]
        if plan.profile.kind == "unconfined":
            opts.append("seccomp=unconfined")
        elif plan.profile.oci is not None:
            # The Engine API takes the profile as JSON text, not as a path (docs/runtimes.md, "Handing a profile over").
            opts.append("seccomp=" + plan.profile.render())
        return opts

    def run_batch(self, plan: BatchPlan) -> BatchOutput:
        engine().wait_until_reachable()
        client = engine().client
        command = ["/fbc/amd64/runner", "-t", f"{plan.probe_timeout_s:g}", *plan.specs]
        container = client.containers.create(
            plan.image_ref, command, runtime=self.oci_runtime, network_disabled=True,
            security_opt=self._security_opt(plan), pids_limit=PIDS_LIMIT, mem_limit=MEMORY_LIMIT,
            volumes={str(plan.probe_dir): {"bind": "/fbc", "mode": "ro"}}, working_dir="/tmp",
            labels=runs.labels("batch", plan.session))
        try:
            container.start()
            timed_out = False
            try:
                status = container.wait(timeout=plan.overall_timeout_s).get("StatusCode")
            except requests.exceptions.ReadTimeout:  # the SDK's read timeout: the batch hung
                timed_out, status = True, None
                container.kill()
            return BatchOutput(container.logs(stdout=True, stderr=False).decode(errors="replace"),
                               container.logs(stdout=False, stderr=True).decode(errors="replace"),
                               status, container.id[:12], timed_out)
        finally:
            _remove(container)

    def cleanup(self, session: str | None) -> int:
        return engine().cleanup(session)

    def explain_failure(self, exc: Exception) -> str:
        if _engine_gone(exc) or (_server_error(exc) and engine().stops_answering()):
            engine().mark_gone()
            return f"the Docker engine went away during the batch ({type(exc).__name__}: {str(exc)[:200]})"
        return super().explain_failure(exc)
