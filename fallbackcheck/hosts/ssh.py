"""Engine hosts reached over ssh (--engine-hosts name=ssh://user@host[:port]).

One transport serves every runtime: commands run through the ssh client (so the user's
~/.ssh/config, agent and known hosts apply; FALLBACKCHECK_SSH_OPTIONS adds options), and
the Docker API is the remote dockerd's socket forwarded to a local one by that same ssh
client (OpenSSH's unix-socket forwarding), which the docker SDK then uses like any other.
"""

from __future__ import annotations

import atexit
import os
import shlex
import subprocess
import threading
import time
import urllib.parse
from functools import cached_property
from pathlib import Path

from ..errors import UsageError
from .remote import CommandHost

SSH_OPTIONS_ENV = "FALLBACKCHECK_SSH_OPTIONS"


def parse_engine_hosts(value: str | None) -> dict[str, str]:
    """'a=ssh://root@10.0.0.5,b=ssh://me@box:2222' -> {name: url}, checked."""
    out: dict[str, str] = {}
    for item in [v.strip() for v in (value or "").split(",") if v.strip()]:
        name, sep, url = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--engine-hosts: {item!r} is not name=ssh://user@host[:port]")
        if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise UsageError(f"--engine-hosts: {name!r} is not a usable name (letters, digits, - _ .)")
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "ssh" or not parsed.hostname:
            raise UsageError(f"--engine-hosts: {url!r} for {name!r} is not an ssh://user@host[:port] URL")
        if name in out:
            raise UsageError(f"--engine-hosts: {name!r} is named twice")
        out[name] = url
    return out


class SshHost(CommandHost):
    kind_name = "ssh"
    remote_cache = "/var/tmp/fallbackcheck"

    def __init__(self, name: str, url: str):
        self.name = name
        self.url = url
        parsed = urllib.parse.urlparse(url)
        self.target = f"{parsed.username}@{parsed.hostname}" if parsed.username else parsed.hostname
        self.port = parsed.port
        self._forward: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self.provisioned: dict = {}

    def ssh_argv(self) -> list[str]:
        argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
        argv += shlex.split(os.environ.get(SSH_OPTIONS_ENV, ""))
        if self.port:
            argv += ["-p", str(self.port)]
        return argv

    def wrap(self, argv, env, interactive):
        command = shlex.join(argv)
        if env:
            command = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + command
        return [*self.ssh_argv(), "-T", self.target, "--", command]

    @cached_property
    def _reachable(self) -> str | None:
        try:
            proc = subprocess.run(self.wrap(["true"], None, False), capture_output=True, text=True, timeout=30,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return f"engine host {self.name} ({self.url}) did not answer within 30 s"
        if proc.returncode != 0:
            return f"cannot reach engine host {self.name} ({self.url}): {proc.stderr.strip()[-300:] or proc.returncode}"
        return None

    def unavailable_reason(self) -> str | None:
        return self._reachable

    def docker(self):
        with self._lock:  # batches run in threads: one forward per process
            return self._open_docker()

    def _open_docker(self):
        from ..engines.docker import DockerEngine

        if "_docker" not in self.__dict__:
            local = Path("/tmp") / f"fbc-ssh-{os.getpid()}-{self.name}.sock"
            local.unlink(missing_ok=True)
            self._forward = subprocess.Popen(
                [*self.ssh_argv(), "-nNT", "-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes",
                 "-L", f"{local}:/var/run/docker.sock", self.target],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            atexit.register(self.close)
            deadline = time.monotonic() + 20
            while not local.exists() and self._forward.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            self.__dict__["_docker"] = DockerEngine(f"unix://{local}", where=self.name)
            self._socket = local
        return self.__dict__["_docker"]

    @property
    def machine(self) -> str:
        return self.name

    def kernel_baseline(self, catalogue, arches: list[str], probe_dir: str):
        """What that machine's kernel answers to every raw probe, unfiltered (as kernel.measure
        does here), run there from its copy of the probes."""
        from ..batches.baseline import PROBE_TIMEOUT_S, KernelBaseline, raw_entries, runner_command

        baseline = KernelBaseline(machine=self.name, kernel=self.run(["uname", "-r"], check=False).stdout.strip(),
                                  how=f"raw probes run directly on {self.name} over ssh with no seccomp filter")
        for arch in arches:
            entries = raw_entries(catalogue, arch)
            argv = runner_command(f"{probe_dir}/amd64/runner", probe_dir, arch, entries)
            proc = self.run(["sh", "-c", 'cd "$(mktemp -d)" && exec "$@"', "sh", *argv], check=False,
                            timeout=PROBE_TIMEOUT_S * len(entries) + 60)
            if not baseline.read(arch, entries, proc.stdout):
                baseline.error = f"the {arch} baseline runner failed on {self.name}: {proc.stderr.strip()[-300:]}"
        return baseline

    def close(self) -> None:
        if self._forward is not None and self._forward.poll() is None:
            self._forward.terminate()
            try:
                self._forward.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._forward.kill()
        if getattr(self, "_socket", None):
            self._socket.unlink(missing_ok=True)

    def cleanup(self, session: str | None) -> int:
        self.close()
        return 0
