"""Remove what no current recipe or probe build refers to any more.

    python3 -m fallbackcheck.prune [--dry-run] [--engine]

The cache keeps one entry per content hash, so every edit of a recipe or of probes/ leaves
the previous image tar, unpacked root file system and probe build behind. --engine also
removes fallbackcheck/* image tags in the Docker engine whose recipe hash is stale.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from . import images, probebuild
from .cache import cache_dir


def stale_paths() -> list[Path]:
    recipes = [*images.TARGETS.values(), *images.BUILDERS.values()]
    keep = {f"{r.id}-{r.hash}" for r in recipes}
    keep_probes = {probebuild.container_build_key(images.BUILDERS), probebuild.host_build_key()}
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
    return stale


def stale_engine_tags(client) -> list[str]:
    current = {r.tag for r in [*images.TARGETS.values(), *images.BUILDERS.values()]}
    tags = []
    for image in client.images.list(name="fallbackcheck/*"):
        tags += [t for t in image.tags if t not in current]
    return sorted(tags)


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
        from .runtimes.docker_engine import engine

        reason = engine().unavailable_reason()
        if reason:
            print(f"prune: {reason}", file=sys.stderr)
            return 2
        for tag in stale_engine_tags(engine().client):
            print(f"{'would remove' if args.dry_run else 'removing'} image {tag}")
            if not args.dry_run:
                engine().client.images.remove(tag)
        if not args.dry_run:
            from .runtimes import get

            removed = engine().cleanup(None) + get("podman-crun").cleanup(None)
            print(f"removed {removed} container(s) left by runs that have ended")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
