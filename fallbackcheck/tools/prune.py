"""Remove what no current recipe or probe build refers to any more.

    python3 -m fallbackcheck.tools.prune [--dry-run] [--engine]

The cache keeps one entry per content hash, so every edit of a recipe or of probes/ leaves
the previous image tar, unpacked root file system and probe build behind; kernel hosts leave
kernels the table no longer names, their preparations, and baselines measured with older
probes. --engine also removes fallbackcheck/* image tags in the Docker engine whose recipe
hash is stale (engine generations' images included) and the state volumes of generations no
recipe refers to.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ..artefacts import crossbuild, images, probebuild
from ..cache import cache_dir


def _recipes() -> list:
    """Every recipe whose build is current: target and builder images, OCI host roots, engine
    generations."""
    from ..hosts.recipes import GENERATIONS, SYSTEMD_HOSTS

    return [*images.TARGETS.values(), *images.BUILDERS.values(), *images.OCI_HOSTS.values(), *GENERATIONS.values(),
            *SYSTEMD_HOSTS.values()]


def stale_paths() -> list[Path]:
    recipes = _recipes()
    keep = {f"{r.id}-{r.hash}" for r in recipes}
    keep_probes = {probebuild.container_build_key(images.BUILDERS), probebuild.host_build_key(),
                   *crossbuild.build_names_in_use()}
    root = cache_dir()
    stale = []
    for path in sorted((root / "images").glob("*")):  # the tar and its .sha256 beside it
        if path.name.rsplit(".", 1)[0] not in keep:
            stale.append(path)
    for path in sorted((root / "rootfs").glob("*")):
        if path.name not in keep:
            stale.append(path)
    for path in sorted((root / "probes").glob("*")):
        if path.name not in keep_probes:
            stale.append(path)
    return stale + stale_kernel_paths(root / "kernels")


# What kernel hosts keep under kernels/: resolved packages, prepared kernels, the guest helper
# and kernel baselines. Anything else there (a preparation in progress) is left alone.
def stale_kernel_paths(directory: Path) -> list[Path]:
    """Kernel-host entries no current kernel table, probe build or helper source refers to."""
    from ..artefacts import kernels
    from ..runtimes.kernel import baseline_prefix, helper_dir

    if not directory.is_dir():
        return []
    keep = kernels.cache_names_in_use()
    if keep is None:  # the preparation's key is unknown here: keep every kernel entry
        return []
    prefixes = tuple(baseline_prefix(name) for name in keep if not name.startswith("resolved-"))
    helper = helper_dir().name
    stale = []
    for path in sorted(directory.iterdir()):
        name = path.name
        if name.startswith("baseline-"):
            current = name.startswith(prefixes)
        elif name.startswith("helper-"):
            current = name == helper
        elif name.startswith("resolved-") or (path.is_dir() and (path / "kernel.json").exists()):
            current = name in keep
        else:
            continue
        if not current:
            stale.append(path)
    return stale


def stale_engine_tags(client) -> list[str]:
    current = {r.tag for r in _recipes()}
    tags = []
    for image in client.images.list(name="fallbackcheck/*"):
        tags += [t for t in image.tags if t not in current]
    return sorted(tags)


def stale_generation_volumes(client) -> list[str]:
    """Generation state volumes (dockerd's data root with the images loaded into it) of
    generations no current recipe refers to, and per-run ones of runs that have ended;
    never one a container still uses."""
    from .. import runs
    from ..hosts.generation import cached_volume
    from ..hosts.recipes import GENERATIONS, SYSTEMD_HOSTS

    current = {cached_volume(r) for r in GENERATIONS.values()}
    stale = []
    for volume in client.volumes.list(filters={"label": "fallbackcheck=generation-state"}):
        labels = volume.attrs.get("Labels") or {}
        per_run = runs.SESSION_LABEL in labels
        if (volume.name in current) or (per_run and not runs.owner_is_gone(labels)):
            continue
        if client.api.containers(all=True, filters={"volume": volume.name}):
            continue
        stale.append(volume.name)
    return sorted(stale)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="list what would go, remove nothing")
    parser.add_argument("--engine", action="store_true",
                        help="also remove stale image tags from the Docker engine, and containers left by runs "
                             "that have ended (Docker and Podman)")
    args = parser.parse_args(argv)
    for path in stale_paths():
        print(f"{'would remove' if args.dry_run else 'removing'} {path}")
        if not args.dry_run:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    if args.engine:
        from ..engines.docker import engine

        reason = engine().unavailable_reason()
        if reason:
            print(f"prune: {reason}", file=sys.stderr)
            return 2
        for tag in stale_engine_tags(engine().client):
            print(f"{'would remove' if args.dry_run else 'removing'} image {tag}")
            if not args.dry_run:
                engine().client.images.remove(tag)
        for name in stale_generation_volumes(engine().client):
            print(f"{'would remove' if args.dry_run else 'removing'} volume {name}")
            if not args.dry_run:
                engine().client.volumes.get(name).remove()
        if not args.dry_run:
            from ..runtimes import get

            from ..hosts.generation import cleanup_generations

            removed = engine().cleanup(None) + get("podman-crun").cleanup(None) + cleanup_generations(None)
            print(f"removed {removed} container(s) left by runs that have ended")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
