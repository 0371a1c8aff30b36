"""Compiling the probes: inside a builder container per architecture, or on the host for `local`.

The output directory is named by a hash of the probe sources and the builder recipe, so
a second run compiles nothing. Layout: <dir>/<arch>/<binary>; <dir>/amd64/runner is the
static runner used for every image (the kernel is 64-bit, so it runs in i386 images too).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import paths
from ..cache import cache_dir, digest, locked, progress, tree_digest

PROBES = paths.PROBES


def musl_probes() -> list[str]:
    """The binaries the catalogue marks for musl (compiled with musl-gcc, dynamically)."""
    from ..model import catalogue

    return sorted({e.binary for e in catalogue.load().api.values() if "musl" in e.libcs})


@functools.lru_cache(maxsize=1)
def sources_hash() -> str:
    """Hashed once per process: every batch of a run uses the same probe build, even if
    probes/ is edited while the run goes on."""
    return digest(tree_digest(PROBES, exclude=("catalogue",)), " ".join(musl_probes()))


def finish(tmp: Path, out: Path) -> None:
    (tmp / ".complete").write_text("ok\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


@contextlib.contextmanager
def staged(out: Path, prefix: str):
    """A fresh directory beside `out` to build into, which becomes `out` (finish) when the block
    ends and is removed if it raises, Ctrl-C included: a failed build leaves nothing behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=out.parent))
    try:
        tmp.chmod(0o755)  # the probe share is read in containers and guests as other users
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finish(tmp, out)


def container_build_key(builders: dict) -> str:
    """One directory for every architecture's build, so that /fbc/amd64/runner sits beside
    /fbc/i386/<probe> in the single read-only mount of a batch."""
    return digest(sources_hash(), *sorted(b.hash for b in builders.values()))[:16]


def host_build_key() -> str:
    return "host-" + sources_hash()[:16]


def build_in_container(engine, builders: dict, arch: str) -> Path:
    """Probes for `arch`, compiled in that arch's builder image (engine: EngineImages)."""
    recipe = builders[arch]
    out = cache_dir() / "probes" / container_build_key(builders) / arch
    if (out / ".complete").exists():
        return out.parent
    with locked(f"probes-{out.parent.name}-{arch}"):
        if (out / ".complete").exists():
            return out.parent
        ref = engine.ensure(recipe)
        started = time.monotonic()
        progress(f"compiling the {arch} probes in {recipe.id} ...")
        if arch.endswith("-musl"):
            command = ["make", "-s", "-C", "/src", "OUT=/out", "CC=musl-gcc", f"API_ONLY={' '.join(musl_probes())}", "api"]
        else:
            command = ["make", "-s", "-C", "/src", "OUT=/out", "all"]
        with staged(out, f".{arch}-") as tmp:
            logs = engine.run_tool(ref, command, {str(PROBES): {"bind": "/src", "mode": "ro"},
                                                   str(tmp): {"bind": "/out", "mode": "rw"}})
            if not any(tmp.iterdir()) or (not arch.endswith("-musl") and not (tmp / "runner").exists()):
                raise RuntimeError(f"probe build for {arch} produced nothing usable; builder said: {logs[-2000:]}")
        progress(f"compiled the {arch} probes in {time.monotonic() - started:.1f} s")
    return out.parent


def build_all(engine, arch: str) -> Path:
    """The probe directory with the amd64 build (it holds the runner) and `arch`'s build."""
    from .images import BUILDERS

    if arch == "amd64":
        return build_in_container(engine, BUILDERS, "amd64")
    # Two builders, two builds: at the same time (a cold run waits for both before its kernel
    # baseline; each build is mostly mmdebstrap and the compiler in a container).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="fbc-probes") as pool:
        amd64 = pool.submit(build_in_container, engine, BUILDERS, "amd64")
        other = pool.submit(build_in_container, engine, BUILDERS, arch)
        other.result()
        return amd64.result()


def build_on_host() -> Path:
    """Probes compiled with the host's compiler, for the `local` runtime (no engine)."""
    out = cache_dir() / "probes" / host_build_key() / "amd64"
    if (out / ".complete").exists():
        return out.parent
    with locked(f"probes-host-{out.parent.name}"):
        if (out / ".complete").exists():
            return out.parent
        # Without musl-gcc the static pieces are linked statically against glibc instead.
        musl = "musl-gcc" if shutil.which("musl-gcc") else "cc"
        with staged(out, ".host-") as tmp:
            for target in ("all", "local-helper"):
                proc = subprocess.run(["make", "-s", "-C", str(PROBES), f"OUT={tmp}", f"MUSLCC={musl}", target],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise RuntimeError(f"building the probes on the host failed ({target}): {proc.stderr.strip()[-1500:]}")
    return out.parent
