"""Engine-generation recipes: a Debian suite's engines as one root file system.

Built like the target images (mmdebstrap, cached by a hash of the recipe), but with the
apt variant. The entrypoint is not part of the image: it is mounted when the generation
starts, so changing it rebuilds nothing.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from ..artefacts import archives
from ..cache import digest
from ..artefacts.images import RECIPES

RECIPE_VERSION = "1"
ENTRYPOINT = Path(__file__).resolve().parent / "generation-entrypoint.sh"


@dataclass(frozen=True)
class EngineRecipe:
    name: str  # the generation's name: debian-13
    suite: str
    include: tuple[str, ...]
    arch: str = "amd64"
    aptopts: tuple[str, ...] = ('Acquire::Check-Valid-Until "false"',)
    # A second suite, used only for the includes named <package>/<overlay> (as in images.Recipe).
    overlay: str = ""

    @property
    def suites(self) -> tuple[str, ...]:
        return tuple(s for s in (self.suite, self.overlay) if s)

    @property
    def id(self) -> str:
        """The cache name (images/<id>-<hash>.tar), apart from the target images' names."""
        return f"engine-{self.name}"

    @property
    def hash(self) -> str:
        # Optional fields left unset are left out: recipes without them keep their hash (and their cached volume).
        fields = {k: v for k, v in asdict(self).items() if v or k not in ("overlay", "cgroup2")}
        return digest(RECIPE_VERSION, json.dumps(fields, sort_keys=True))[:16]

    @property
    def tag(self) -> str:
        return f"fallbackcheck/{self.id}:{self.hash}"

    def mmdebstrap_argv(self, out: Path) -> list[str]:
        return ["mmdebstrap", "--quiet", "--variant=apt", f"--architectures={self.arch}", "--format=tar",
                "--include=" + ",".join(self.include), *[f"--aptopt={o}" for o in self.aptopts],
                self.suite, str(out), *[archives.sources_line(s) for s in self.suites]]


@dataclass(frozen=True)
class SystemdRecipe(EngineRecipe):
    """A root file system whose PID 1 is systemd (the `systemd-run` kind's container).
    `cgroup2`: systemd runs only on a cgroup2 /sys/fs/cgroup (systemdhost.py mounts one)."""

    cgroup2: bool = False

    @property
    def id(self) -> str:
        return f"systemd-{self.name}"


def load() -> dict[str, EngineRecipe]:
    data = tomllib.loads(RECIPES.read_text())
    return {name: EngineRecipe(name, r["suite"], tuple(r["include"]), overlay=r.get("overlay", ""))
            for name, r in data.get("engine", {}).items()}


def load_systemd_hosts() -> dict[str, SystemdRecipe]:
    data = tomllib.loads(RECIPES.read_text())
    return {name: SystemdRecipe(name, r["suite"], tuple(r["include"]), cgroup2=bool(r.get("cgroup2")))
            for name, r in data.get("systemd", {}).items()}


GENERATIONS = load()
SYSTEMD_HOSTS = load_systemd_hosts()
