"""Engine hosts: WHERE a batch runs (this host, a provisioned engine generation, an ssh
machine). A host knows how to run a command there, reach its Docker API, make a cached
directory (probe build, root file system) available there, and read a file there. How one
runtime starts a batch on a host is the runtime's business (fallbackcheck/runtimes/).
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class Host:
    name = ""  # "" = this host; a generation or engine-host name otherwise
    # Where dockerd's own containerd listens (Debian's dockerd starts containerd itself).
    containerd_socket = "/var/run/docker/containerd/containerd.sock"
    # Whose kernel runs the batches: "host" (this machine: this host and its generations) or
    # an engine host's name (an ssh machine has its own kernel baseline).
    machine = "host"
    # True where the whole host goes at the end of the run (a generation's container), so
    # runtimes need not clean up inside it one by one.
    disposable = False

    @property
    def suffix(self) -> str:
        """What a runtime id carries for this host: "" or "@debian-13"."""
        return f"@{self.name}" if self.name else ""

    def unavailable_reason(self) -> str | None:
        return None

    def run(self, argv: list[str], *, input: str | bytes | None = None, timeout: float = 120,
            check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        raise NotImplementedError

    def which(self, binary: str) -> bool:
        return self.run(["sh", "-c", f"command -v {binary}"], check=False).returncode == 0

    def docker(self):
        """A DockerEngine for this host's dockerd."""
        raise NotImplementedError

    def podman_argv(self) -> list[str]:
        return ["podman"]

    def ctr_argv(self) -> list[str]:
        return ["ctr", "-a", self.containerd_socket, "-n", "fallbackcheck"]

    def place(self, local: Path) -> str:
        """The path on this host of `local`, a content-addressed directory in our cache
        (copied there once; a `.complete` marker says the copy finished)."""
        raise NotImplementedError

    def read_text(self, path: str) -> str | None:
        proc = self.run(["cat", path], check=False)
        return proc.stdout if proc.returncode == 0 else None

    def write_text(self, path: str, text: str) -> None:
        self.run(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", path], input=text)

    def remove_tree(self, path: str) -> None:
        self.run(["rm", "-rf", path], check=False)

    def scratch(self, name: str) -> str:
        """A directory for one batch's files (bundle, profile), removed by the caller."""
        raise NotImplementedError

    def package_versions(self, packages: list[str]) -> dict:
        """Debian package versions installed there (None where not installed)."""
        fmt = "${Package} ${Version} ${db:Status-Abbrev}\\n"
        proc = self.run(["dpkg-query", "-W", f"-f={fmt}", *packages], check=False)
        found = {}
        for line in proc.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].startswith("ii"):
                found[parts[0]] = parts[1]
        return {p: found.get(p) for p in packages}

    def libseccomp_knows(self, name: str, arch: str) -> bool | None:
        """Whether the libseccomp there (the one its runc and crun link) resolves `name`,
        asked of its scmp_sys_resolver (Debian package `seccomp`); None if that is missing."""
        key = (name, arch)
        cache = self.__dict__.setdefault("_knows", {})
        if key not in cache:
            scmp = {"amd64": "x86_64", "i386": "x86"}[arch]
            proc = self.run(["scmp_sys_resolver", "-a", scmp, name], check=False)
            out = proc.stdout.strip()
            cache[key] = None if proc.returncode == 127 or not out else (out.isdigit())
        return cache[key]

    def cleanup(self, session: str | None) -> int:
        return 0


def completed(argv, proc: subprocess.CompletedProcess, check: bool, where: str) -> subprocess.CompletedProcess:
    if check and proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else (proc.stderr or b"").decode(errors="replace")
        raise RuntimeError(f"{' '.join(map(str, argv))[:200]} failed on {where}: {err.strip()[-800:]}")
    return proc
