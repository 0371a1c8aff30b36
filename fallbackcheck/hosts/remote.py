"""A host reached through a command transport (`docker exec` into a generation, `ssh` to a
machine): commands, cached directories copied once per content hash, scratch space."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

from ..cache import cache_dir
from ..engines import loads
from .base import Host, completed


class CommandHost(Host):
    remote_cache = "/var/tmp/fallbackcheck"  # where placed directories live there

    def wrap(self, argv: list[str], env: dict | None, interactive: bool) -> list[str]:
        """The local argv that runs `argv` there."""
        raise NotImplementedError

    def run(self, argv, *, input=None, timeout=120, check=True, env=None):
        local = self.wrap([str(a) for a in argv], env, input is not None)
        proc = subprocess.run(local, input=input, capture_output=True, text=not isinstance(input, bytes),
                              errors=None if isinstance(input, bytes) else "replace",
                              timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)
        return completed(argv, proc, check, self.name)

    def place(self, local: Path) -> str:
        """Copy a directory of our cache there (tar over the transport), once per content:
        its path under the cache carries its hash, and `.complete` marks a finished copy."""
        from ..cache import locked

        rel = local.resolve().relative_to(cache_dir().resolve())
        there = f"{self.remote_cache}/{rel.as_posix()}"
        if self.run(["test", "-e", f"{there}/.fbc-placed"], check=False).returncode == 0:
            return there
        with locked(f"place-{self.name}-{rel.as_posix().replace('/', '_')}"):
            if self.run(["test", "-e", f"{there}/.fbc-placed"], check=False).returncode != 0:
                started = time.monotonic()
                partial = f"{there}.partial-{uuid.uuid4().hex[:8]}"
                self.run(["mkdir", "-p", partial])
                sender = subprocess.Popen(["tar", "-C", str(local), "--numeric-owner", "-cf", "-", "."],
                                          stdout=subprocess.PIPE)
                receiver = subprocess.run(self.wrap(["tar", "-C", partial, "--numeric-owner", "-xpf", "-"], None, True),
                                          stdin=sender.stdout, capture_output=True, timeout=1800)
                sender.stdout.close()
                sender.wait()
                if receiver.returncode != 0 or sender.returncode != 0:
                    self.remove_tree(partial)
                    raise RuntimeError(f"copying {rel} to {self.name} failed: "
                                       f"{receiver.stderr.decode(errors='replace').strip()[-500:]}")
                self.run(["sh", "-c", 'rm -rf "$2" && touch "$1/.fbc-placed" && mv "$1" "$2"', "sh",
                          partial, there])
                loads.record(self.name, f"copy {rel}", started)
        return there

    def component_versions(self) -> dict:
        """Every engine component's version there (Debian packages and the binaries' own)."""
        # conmon, netavark and containers-image come with Podman; libc6 is the engines' own
        # (a generation may take any of them from another suite: debian-experimental).
        pkgs = self.package_versions(["docker.io", "docker-cli", "containerd", "runc", "crun", "podman",
                                      "containers-common", "libseccomp2", "golang-github-containers-common",
                                      "golang-github-containers-image", "conmon", "netavark", "libc6"])
        out = {"packages": {k: v for k, v in pkgs.items() if v}}
        for key, argv in {"dockerd": ["dockerd", "--version"], "containerd": ["containerd", "--version"],
                          "runc": ["runc", "--version"], "crun": ["crun", "--version"],
                          "podman": ["podman", "--version"], "ctr": ["ctr", "--version"]}.items():
            proc = self.run(argv, check=False)
            out[key] = proc.stdout.strip().splitlines()[0] if proc.returncode == 0 and proc.stdout.strip() else None
        for line in (self.run(["runc", "--version"], check=False).stdout or "").splitlines():
            if line.startswith("libseccomp:"):
                out["libseccomp (runc)"] = line.split(":", 1)[1].strip()
        for line in (self.run(["crun", "--version"], check=False).stdout or "").splitlines():
            if "SECCOMP" in line or "+SECCOMP" in line:
                out["crun features"] = line.strip()
        return out

    def versions(self) -> dict:
        return self.component_versions()

    def scratch(self, name: str) -> str:
        path = f"/tmp/fbc-{name}-{uuid.uuid4().hex[:8]}"
        self.run(["mkdir", "-p", path])
        return path
