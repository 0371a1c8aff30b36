"""A batch resolved once: its key's ids turned into the objects every step needs (the runtime,
the profile, the image's recipe, the probes), and the seccomp in force worked out once for the
batch rather than once per cell. Running a batch (execution/batch.py) and judging its cells
(judging/cells.py) read them from here instead of looking the ids up again."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..artefacts import images
from ..model.profiles import Profile
from .results import BatchKey


@dataclass(frozen=True, eq=False)
class BatchTarget:
    key: BatchKey
    runtime: object  # a runtimes.base.Runtime (the layer above: named here, not imported)
    profile: Profile
    probes: tuple[str, ...]
    image: images.Recipe | None  # None: not one of our recipes ("host", or a user's image reference)

    @classmethod
    def resolve(cls, key: BatchKey, runtime, profile: Profile, probes) -> "BatchTarget":
        return cls(key, runtime, profile, tuple(probes), images.lookup(key.image))

    def probe_set(self, arch: str) -> str:
        """Which build of the API probes fits the image: its recipe's (amd64, i386, amd64-musl,
        arm64 ...), else the architecture the runtime runs it as."""
        return self.image.probe_set if self.image is not None else arch

    @property
    def libc_family(self) -> str:
        return images.libc_family(self.key.image)

    @cached_property
    def in_force(self) -> dict | None:
        """The seccomp JSON in force for this runtime (Profile.in_force): {} none, None unknown."""
        return self.profile.in_force(self.runtime)
