"""The command-line selection (--images/--runtimes/--profiles/--probes) -> validated ids -> cells."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from ..artefacts import images
from ..artefacts.engine_profiles import FETCHED
from ..model import profiles
from . import shard as shard_mod
from ..model.catalogue import Catalogue
from ..judging.cells import Cell
from ..errors import UsageError
from ..runtimes import RUNTIME_IDS, get as get_runtime
from ..runtimes.registry import expand as expand_runtime

CONTAINER_RUNTIMES = tuple(r for r in RUNTIME_IDS if r != "local")


def is_kernel_runtime(runtime_id: str) -> bool:
    """local@linux-6.1 and the like: batches on a Debian kernel booted in QEMU (kernels.py)."""
    return runtime_id.startswith("local@")


def split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def split_profiles(value: str | None) -> list[str]:
    """Profiles are comma-separated, but deny: lists syscalls with commas too:
    'unconfined,deny:clone3,close_range:EPERM' is two profiles."""
    out: list[str] = []
    for part in split(value):
        if out and out[-1].startswith("deny:") and out[-1].count(":") == 1:
            out[-1] += "," + part  # still inside the syscall list of the previous deny:
        else:
            out.append(part)
    return out


# Kernels of the long-term releases distributions shipped (Debian 11: 5.10, 12: 6.1, 13: 6.12):
# a runtime of that era ships a profile that knows exactly those syscalls.
LTS_KERNELS = ("5.4", "5.10", "6.1", "6.6")


def sweep_profiles(catalogue: Catalogue, arches: set[str]) -> list[str]:
    """deny:<s>:EPERM and deny:<s>:ENOSYS for every syscall an API probe on these
    architectures depends on: every fallback path, one syscall at a time."""
    syscalls = sorted({s for e in catalogue.api.values() if set(e.arches) & arches for s in e.syscalls
                       if catalogue.raw_for(s) and any(catalogue.raw_for(s).exists_on(a) for a in arches)})
    return [f"deny:{s}:{err}" for s in syscalls for err in ("EPERM", "ENOSYS")]


def vintage_profiles() -> list[str]:
    return [f"vintage:{k}:{err}" for k in LTS_KERNELS for err in ("EPERM", "ENOSYS")]


# Profile-set names usable in --profiles, expanded here.
PROFILE_SETS = {
    "sweep": lambda catalogue, arches: sweep_profiles(catalogue, arches),
    "vintages": lambda catalogue, arches: vintage_profiles(),
}


def start_cost(runtime_id: str) -> float:
    """Expected seconds to start one unit of `runtime_id` (its kind's start_s): what shards
    are balanced by."""
    return get_runtime(runtime_id).start_s


def default_profiles(catalogue: Catalogue, arches: set[str]) -> list[str]:
    """The main job: no filter, the runtime's own default, and what runtimes of each LTS
    era would ship, with either default errno."""
    return ["unconfined", "default", *vintage_profiles()]


@dataclass
class Selection:
    images: list[str]
    runtimes: list[str]
    profiles: dict[str, profiles.Profile]
    probes: list[str]
    skipped_runtimes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    shard: shard_mod.Shard | None = None
    shard_info: dict | None = None  # the report's selection.shard (resolve() fills it in)

    def image_arch(self, image_id: str) -> str:
        recipe = images.lookup(image_id)
        return recipe.arch if recipe else "amd64"

    def image_libc(self, image_id: str) -> str:
        """The libc family whose API probes the image gets: glibc's, unless it is a musl
        image ("auto" images run the glibc probes and find out whether a libc is there)."""
        recipe = images.lookup(image_id)
        return "musl" if recipe and recipe.libc == "musl" else "glibc"

    def cells(self, catalogue: Catalogue) -> list[Cell]:
        """The cells this run measures: the selection's, or this shard's part of them."""
        every = self.all_cells(catalogue)
        return every if self.shard is None else shard_mod.pick(every, self.shard, start_cost)

    def runtimes_with_cells(self, catalogue: Catalogue) -> list[str]:
        """The runtimes this run starts anything on (a shard may have none of some)."""
        used = {c.runtime for c in self.cells(catalogue)}
        return [r for r in self.runtimes if r in used]

    def all_cells(self, catalogue: Catalogue) -> list[Cell]:
        out = []
        unsupported = self.unsupported()
        for runtime in self.runtimes:
            runs_arch = get_runtime(runtime).runs_arch
            for image in self.images:
                if (image == "host") != get_runtime(runtime).host_libc:
                    continue
                if not runs_arch(self.image_arch(image)):
                    continue  # an arm64 image only on an arm64 kernel host, and the other way round
                arch, libc = self.image_arch(image), self.image_libc(image)
                for profile in self.profiles:
                    if profile == "default" and is_kernel_runtime(runtime):
                        continue  # no runtime default on a kernel host: not applicable (noted at resolve)
                    if profile in unsupported.get(runtime, ()):
                        continue  # a profile this runtime cannot take (noted at resolve)
                    for pid in self.probes:
                        entry = catalogue.get(pid)
                        if entry.kind == "api" and (arch not in entry.arches or libc not in entry.libcs):
                            continue
                        if entry.kind == "raw" and not entry.exists_on(arch):
                            continue
                        out.append(Cell(pid, image, runtime, profile))
        return out

    def unsupported(self) -> dict[str, dict[str, str]]:
        """runtime -> {profile: why it cannot take it} (Runtime.unsupported_profile)."""
        out: dict[str, dict[str, str]] = {}
        for rid in self.runtimes:
            runtime = get_runtime(rid)
            for pid, profile in self.profiles.items():
                reason = runtime.unsupported_profile(profile)
                if reason:
                    out.setdefault(rid, {})[pid] = reason
        return out

    def for_workers(self, shard_opt: str | None) -> dict:
        """The resolved selection as plain values (what xdist can send a worker)."""
        return {"images": self.images, "runtimes": self.runtimes, "profiles": list(self.profiles),
                "probes": self.probes, "skipped_runtimes": self.skipped_runtimes, "notes": self.notes,
                "shard": shard_opt}

    @classmethod
    def from_controller(cls, sent: dict) -> "Selection":
        """A worker's selection: the controller's, as resolved there (no engine is asked again,
        so every process runs the same runtimes)."""
        selection = cls(sent["images"], sent["runtimes"], {pid: profiles.parse(pid, FETCHED) for pid in sent["profiles"]},
                        sent["probes"], sent["skipped_runtimes"], sent["notes"])
        selection.shard = shard_mod.parse(sent["shard"])
        return selection

    def as_dict(self) -> dict:
        ids = {"images": self.images, "runtimes": self.runtimes, "profiles": list(self.profiles),
               "probes": self.probes, "profile_facts": {pid: {**profiles.facts(pid), **({"source": p.source} if p.source else {})}
                                   for pid, p in self.profiles.items()}}
        return {**ids, "shard": self.shard_info} if self.shard_info else ids


def _select_probes(catalogue: Catalogue, wanted: list[str]) -> list[str]:
    if not wanted:
        return catalogue.ids
    chosen: list[str] = []
    for pattern in wanted:
        hits = [pid for pid in catalogue.ids if fnmatch.fnmatchcase(pid, pattern)]
        if not hits:
            raise UsageError(f"unknown probe {pattern!r}: see probes/catalogue/*.toml for ids "
                             f"(e.g. {', '.join(list(catalogue.api)[:3])}, raw:clone3)")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _select_runtimes(requested: list[str]) -> tuple[list[str], dict[str, str]]:
    # Which ids were asked for by name, not only through <kind>@* (every generation): a
    # generation whose engine cannot run here (Podman 6 on a cgroup v1 host) is then a column
    # skipped with its reason, like a missing runtime of this host, not the end of the run.
    by_name: dict[str, bool] = {}
    for asked in requested:
        for rid in expand_runtime(asked):
            by_name[rid] = by_name.get(rid, False) or not asked.endswith("@*")
    requested = list(by_name)
    for rid in requested:
        get_runtime(rid)  # raises UsageError for an unknown id or engine host
    candidates = requested or list(CONTAINER_RUNTIMES)
    usable, skipped = [], {}
    for rid in candidates:
        reason = get_runtime(rid).unavailable_reason()
        if reason and by_name.get(rid) and "@" in rid and not rid.startswith("local@"):
            # A generation or engine host was asked for by name: not having it is an error,
            # said before any cell runs, not a column silently skipped.
            raise UsageError(f"runtime {rid}: {reason}")
        if reason:
            skipped[rid] = reason
        else:
            usable.append(rid)
    if not requested and not usable:
        reason = get_runtime("local").unavailable_reason()
        if reason:
            raise UsageError(f"no container runtime is available and the local runtime cannot run: {reason}")
        usable = ["local"]
    if requested and not usable:
        raise UsageError("none of the requested runtimes can run here: "
                         + "; ".join(f"{rid}: {why}" for rid, why in skipped.items()))
    return usable, skipped


def resolve(catalogue: Catalogue, images_opt: str | None, runtimes_opt: str | None,
            profiles_opt: str | None, probes_opt: str | None, shard_opt: str | None = None) -> Selection:
    shard = shard_mod.parse(shard_opt)
    image_ids = split(images_opt)
    for image_id in image_ids:
        images.check_id(image_id)
    # The user's own profiles are checked before any engine is asked anything.
    parsed = {pid: profiles.parse(pid, FETCHED) for pid in split_profiles(profiles_opt) if pid not in PROFILE_SETS}
    probes = _select_probes(catalogue, split(probes_opt))
    runtimes, skipped = _select_runtimes(split(runtimes_opt))
    notes = []
    if runtimes == ["local"] and not split(runtimes_opt):
        notes.append("no container engine is available: running the local runtime on the host libc")
    on_host = [r for r in runtimes if get_runtime(r).host_libc]  # local, wrap:<command>
    if not image_ids:
        image_ids = (["host"] if on_host else []) + (
            list(images.DEFAULT_IMAGES) if len(on_host) < len(runtimes) else [])
    elif on_host and "host" not in image_ids:
        notes.append(f"{' and '.join(on_host)} only run{'s' if len(on_host) == 1 else ''} the image 'host' "
                     "(this machine's libc); add it to --images to include it")
    arches = {"amd64"} | {images.lookup(i).arch for i in image_ids if images.lookup(i)}
    wanted = split_profiles(profiles_opt)
    if not wanted:
        wanted = default_profiles(catalogue, arches)
    expanded = [p for w in wanted for p in (PROFILE_SETS[w](catalogue, arches) if w in PROFILE_SETS else [w])]
    parsed = {pid: parsed.get(pid) or profiles.parse(pid, FETCHED) for pid in dict.fromkeys(expanded)}
    if "default" in parsed and any(is_kernel_runtime(r) for r in runtimes):
        notes.append("profile `default` is not applicable on kernel hosts (local@linux-*): there is no runtime "
                     "whose default could apply; their cells are left out")
    selection = Selection(image_ids, runtimes, parsed, probes, skipped, notes)
    for rid, reasons in selection.unsupported().items():
        notes += [f"profile {pid} is not applicable on {rid}: {why}; its cells are left out" for pid, why in reasons.items()]
    every = selection.all_cells(catalogue)
    paired = {c.image for c in every}
    for image in image_ids:
        if image != "host" and image not in paired and images.lookup(image) and every:
            notes.append(f"image {image} ({selection.image_arch(image)}) runs on none of the selected runtimes: "
                         "arm64 and armhf images run only on arm64 kernel hosts (local@, runc@ or crun@linux-6.12-arm64), "
                         "x86 images only on x86 kernels")
    if not every:
        raise UsageError("the selection has no cells: the local runtime and wrap: pair only with --images host, "
                         "container runtimes and sandboxes only with container images, arm64 and armhf images only with "
                         "arm64 kernel hosts (local@, runc@ or crun@linux-6.12-arm64) and x86 images only with x86 "
                         "kernels, and a runtime's cells are left out for the profiles it cannot take")
    if shard is not None:
        selection.shard = shard
        mine = selection.cells(catalogue)
        if not mine:
            units = len({shard_mod.unit_of(c.image, c.runtime, c.profile) for c in every})
            raise UsageError(f"--shard {shard}: this shard has no batches: the selection has {units} "
                             f"(batches, or images on a kernel host); use N <= {units}")
        selection.shard_info = shard_mod.describe(shard, selection.as_dict(), mine, every)
    return selection
