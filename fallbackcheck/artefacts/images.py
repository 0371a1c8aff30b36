"""Image recipes (Debian via mmdebstrap, no registry) and their content-addressed builds.

A recipe's hash covers everything that shapes the root file system; the engine tag carries
it, so a second run finds the tag and builds nothing.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from . import archives
from .. import paths
from ..cache import cache_dir, digest, locked, progress
from ..errors import UsageError

RECIPE_VERSION = "2"  # bump when the build procedure itself changes
MERGED_USR_HOOKS = "/usr/share/mmdebstrap/hooks/merged-usr"


@dataclass(frozen=True)
class Recipe:
    """One Debian root file system built with mmdebstrap."""

    id: str
    suite: str
    arch: str  # Debian architecture: amd64 | i386 | arm64 | armhf
    include: tuple[str, ...] = ()
    role: str = "target"  # target | builder | oci-host
    # sid's Release file can be past its Valid-Until date (measured; docs/design.md).
    aptopts: tuple[str, ...] = ('Acquire::Check-Valid-Until "false"',)
    # mmdebstrap variant: minbase (Essential packages, a shell) or extract (only the
    # included packages and their dependencies unpacked: no shell, no tools, "distroless").
    variant: str = "minbase"
    # A second suite in the image's apt sources, used only for what `include` names as
    # <package>/<overlay> (sid + experimental's libc6): experimental is NotAutomatic, so apt
    # never takes anything else from it.
    overlay: str = ""

    @property
    def libc(self) -> str:
        """The libc family the probes use in this image ("auto": found out by running it,
        for images that may have none)."""
        if "musl" in self.include:
            return "musl"
        return "auto" if self.variant == "extract" else "glibc"

    @property
    def probe_set(self) -> str:
        """The directory under /fbc with this image's API probes: amd64, i386, amd64-musl."""
        return f"{self.arch}-musl" if self.libc == "musl" else self.arch

    @functools.cached_property  # a frozen recipe's hash: every batch asks for it several times
    def hash(self) -> str:
        fields = asdict(self)
        if fields["variant"] == "minbase":  # the default adds nothing: older recipes keep their hash
            del fields["variant"]
        else:
            fields["hook_dir"] = MERGED_USR_HOOKS
        if not fields["overlay"]:  # likewise
            del fields["overlay"]
        return digest(RECIPE_VERSION, json.dumps(fields, sort_keys=True))[:16]

    @property
    def tag(self) -> str:
        return f"fallbackcheck/{self.id}:{self.hash}"

    def mmdebstrap_argv(self, out: Path) -> list[str]:
        argv = ["mmdebstrap", "--quiet", f"--variant={self.variant}", f"--architectures={self.arch}", "--format=tar"]
        if self.include:
            argv.append("--include=" + ",".join(self.include))
        if self.variant == "extract":
            # extract sets up nothing: add the merged-/usr links (/lib64 -> usr/lib64, ...) that
            # every Debian system since bookworm has, or no dynamic program finds its loader.
            argv.append(f"--hook-dir={MERGED_USR_HOOKS}")
        argv += [f"--aptopt={opt}" for opt in self.aptopts]
        return argv + [self.suite, str(out), *self.sources()]

    def sources(self) -> list[str]:
        """The apt source lines: the suite's, then the overlay's (one mmdebstrap argument each)."""
        return [archives.sources_line(s) for s in (self.suite, self.overlay) if s]

    @property
    def suites(self) -> tuple[str, ...]:
        return tuple(s for s in (self.suite, self.overlay) if s)


RECIPES = paths.RECIPES


def _load() -> tuple[dict[str, Recipe], dict[str, Recipe], dict[str, Recipe]]:
    data = tomllib.loads(RECIPES.read_text())
    targets = {name: Recipe(name, r["suite"], r["arch"], tuple(r.get("include", ())),
                            variant=r.get("variant", "minbase"), overlay=r.get("overlay", ""))
               for name, r in data.get("target", {}).items()}
    builders = {arch: Recipe(f"builder-{arch}", r["suite"], r["arch"], tuple(r.get("include", ())), "builder")
                for arch, r in data.get("builder", {}).items()}
    oci_hosts = {f"oci-host-{name}": Recipe(f"oci-host-{name}", r["suite"], r["arch"], tuple(r.get("include", ())),
                                            "oci-host")
                 for name, r in data.get("oci-host", {}).items()}
    return targets, builders, oci_hosts


# OCI_HOSTS: the roots runc and crun run from inside a kernel host (runtimes/kernel_oci.py).
TARGETS, BUILDERS, OCI_HOSTS = _load()
# The musl probes are compiled in the amd64 builder (Debian's musl-tools), as their own set.
BUILDERS["amd64-musl"] = BUILDERS["amd64"]
# The main job's default: every Debian release, i386 where the loader itself is at stake,
# and the musl contrast.
DEFAULT_IMAGES = ("debian-11", "debian-12", "debian-13", "debian-sid", "debian-12-i386", "debian-13-i386",
                  "debian-12-musl", "debian-13-musl")


def lookup(image_id: str) -> Recipe | None:
    return TARGETS.get(image_id)


def libc_family(image_id: str) -> str:
    """The libc the probes use in `image_id`: ours say; a user's image is found out."""
    recipe = lookup(image_id)
    return recipe.libc if recipe else "auto"


def is_reference(image_id: str) -> bool:
    """A user's own image reference (registry/name:tag) rather than one of our recipe ids."""
    return "/" in image_id or ":" in image_id


def check_id(image_id: str) -> None:
    if image_id == "host" or image_id in TARGETS or is_reference(image_id):
        return
    raise UsageError(f"unknown image {image_id!r}: use one of {', '.join(sorted(TARGETS))}, host "
                     "(the local runtime), or an image reference such as registry/name:tag")


def tar_path(recipe: Recipe) -> Path:
    return cache_dir() / "images" / f"{recipe.id}-{recipe.hash}.tar"


def check_archives(image_ids) -> None:
    """Before a run starts: every image it may have to build has an archive that carries its
    suite (asked only for tars not in the cache), else one line saying which to set. An
    archive that cannot be reached is left to the build that needs it (the builders' tars
    are not needed when the probes are cached, and a kernel host's run may need neither)."""
    wanted = [r for r in (lookup(i) for i in image_ids) if r is not None]
    wanted += list({id(b): b for b in BUILDERS.values()}.values())
    for suite in dict.fromkeys(s for r in wanted if not tar_path(r).exists() for s in r.suites):
        try:
            archives.archive_for(suite)
        except archives.SuiteNotFound as exc:
            if exc.answered:
                raise UsageError(str(exc)) from None


# A build that failed fails once: every batch of its image gets the same error instead of
# running mmdebstrap (and printing its progress line) again.
_FAILED_BUILDS: dict[str, str] = {}


def build_tar(recipe: Recipe) -> Path:
    """The recipe's root file system as a tar in the cache, built once per recipe hash."""
    out = tar_path(recipe)
    if out.exists():
        return out
    with locked(f"tar-{recipe.id}-{recipe.hash}"):
        if out.exists():
            return out
        if recipe.hash in _FAILED_BUILDS:
            raise RuntimeError(_FAILED_BUILDS[recipe.hash])
        try:
            return _build(recipe, out)
        except RuntimeError as exc:
            _FAILED_BUILDS[recipe.hash] = str(exc)
            raise


def _build(recipe: Recipe, out: Path) -> Path:
    if shutil.which("mmdebstrap") is None:
        raise RuntimeError("mmdebstrap is not installed (apt-get install mmdebstrap): it builds the Debian images")
    partial = out.with_suffix(".partial")
    argv = recipe.mmdebstrap_argv(partial)  # finds the archive first (archives.py)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    progress(f"building image {recipe.id} ({'+'.join(recipe.suites)}/{recipe.arch}) with mmdebstrap ...")
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env={**_environment(), "LC_ALL": "C"})
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"mmdebstrap failed for {recipe.id} ({'+'.join(recipe.suites)}/{recipe.arch}): {tail}")
    partial.rename(out)
    progress(f"built image {recipe.id} in {time.monotonic() - started:.1f} s")
    return out


def _environment() -> dict:
    """A copy of os.environ that a batch thread can take while pytest, in the main thread,
    sets and deletes PYTEST_CURRENT_TEST (copying iterates the keys: retry if one vanished)."""
    while True:
        try:
            return dict(os.environ)
        except KeyError:
            continue


def tar_digest(recipe: Recipe) -> str:
    """sha256 of the recipe's built tar: the content key of what runc/crun bundles run
    (kept beside the tar, so it is computed once per build)."""
    tar = build_tar(recipe)
    side = tar.with_suffix(".sha256")
    if side.exists() and side.stat().st_mtime >= tar.stat().st_mtime:
        return side.read_text().strip()
    # Batch threads and xdist workers may all want it at once: one computes, the others wait.
    with locked(f"digest-{recipe.id}-{recipe.hash}"):
        if not side.exists() or side.stat().st_mtime < tar.stat().st_mtime:
            import hashlib

            h = hashlib.sha256()
            with tar.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            tmp = side.with_name(f".{side.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(h.hexdigest() + "\n")
            tmp.replace(side)
    return side.read_text().strip()


def rootfs(recipe: Recipe) -> Path:
    """The recipe's root file system unpacked (for runc/crun bundles), once per recipe hash.
    Bundles mount it read-only, so concurrent batches share it safely."""
    out = cache_dir() / "rootfs" / f"{recipe.id}-{recipe.hash}"
    if (out / ".complete").exists():
        return out
    tar = build_tar(recipe)
    with locked(f"rootfs-{recipe.id}-{recipe.hash}"):
        if not (out / ".complete").exists():
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            proc = subprocess.run(["tar", "-xpf", str(tar), "--numeric-owner", "-C", str(out)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"unpacking {tar.name} failed: {proc.stderr.strip()[-500:]}")
            (out / ".complete").write_text("ok\n")
    return out
