"""An engine host on this machine's loopback address, for trying --engine-hosts (and for
its test): an engine generation started with an sshd on 127.0.0.1:<port>, reached with a
key made for it.

    python3 -m fallbackcheck.hosts.loopback up [GENERATION]   # prints what to pass
    python3 -m fallbackcheck.hosts.loopback down SESSION
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from .generation import Generation, cleanup_generations
from .recipes import GENERATIONS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def key_dir(session: str) -> Path:
    return Path("/tmp") / f"fbc-loopback-{session}"


def key_pair(session: str) -> Path:
    """An ed25519 key for this loopback host only (removed by `down`)."""
    directory = key_dir(session)
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"fallbackcheck-{session}", "-f", str(key)],
                       check=True)
    return key


def up(generation: str = "debian-13", session: str | None = None) -> tuple[str, str, str]:
    """Start the generation with an sshd on loopback; return (session, url, ssh options)."""
    session = session or "loop-" + uuid.uuid4().hex[:8]
    key = key_pair(session)
    port = free_port()
    host = Generation(GENERATIONS[generation], session, ssh_pubkey=key.with_suffix(".pub").read_text().strip(),
                      ssh_port=port)
    host.container  # provisions (cached) and starts it
    options = f"-i {key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    url = f"ssh://root@127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while subprocess.run(["ssh", *options.split(), "-p", str(port), "-o", "BatchMode=yes", "root@127.0.0.1", "true"],
                         capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            down(session)
            raise RuntimeError(f"the sshd of {generation} on 127.0.0.1:{port} did not answer")
        time.sleep(0.5)
    return session, url, options


def down(session: str) -> None:
    cleanup_generations(session)
    subprocess.run(["rm", "-rf", str(key_dir(session))], check=False)


def main(argv: list[str]) -> int:
    if argv[:1] == ["up"]:
        session, url, options = up(*(argv[1:2] or ["debian-13"]))
        print(f"export FALLBACKCHECK_SSH_OPTIONS='{options}'")
        print(f"# then: python3 -m pytest suites --engine-hosts loop={url} --runtimes docker-crun@loop ...")
        print(f"# and at the end: python3 -m fallbackcheck.hosts.loopback down {session}")
        return 0
    if argv[:1] == ["down"] and len(argv) == 2:
        down(argv[1])
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
