"""A report of a chosen size made from a real run's rows, for measuring the views at scale
(scripts/benchmark-html, the HTML view's browser test): every (image, runtime, profile)
batch of the target selection gets the rows of one real batch, renamed: the same batch where
the real run has it, else one of the same profile (on the nearest runtime and image the run
has), else any. The cells are real observations; only their placement in the grid is
synthetic (an i386 column filled from an amd64 batch still says amd64)."""

from __future__ import annotations

from collections import defaultdict

from ..artefacts.images import DEFAULT_IMAGES
from ..report import BATCH_KEY, is_fix_row
from ..execution.selection import CONTAINER_RUNTIMES, vintage_profiles


def scale(rows: list[dict], images: list[str], runtimes: list[str], profiles: list[str]) -> list[dict]:
    batches: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        if not is_fix_row(row):
            batches[tuple(row[k] for k in BATCH_KEY)].append(row)
    keys = sorted(batches)
    out = []
    n = 0
    for image in images:
        for runtime in runtimes:
            for profile in profiles:
                for row in batches[_source(keys, image, runtime, profile, n)]:
                    container = f"{row.get('container') or 'c'}-{n}"
                    copy = {**row, "image": image, "runtime": runtime, "profile": profile, "container": container}
                    if isinstance(row.get("batch"), dict):
                        copy["batch"] = {**row["batch"], "container": container}
                    out.append(copy)
                n += 1
    return out


def _near(wanted: str, have: str) -> int:
    """How alike two image or runtime ids are: shared leading dash-separated words."""
    score = 0
    for a, b in zip(wanted.replace("podman-", "").split("-"), have.replace("docker-", "").split("-")):
        if a != b:
            break
        score += 1
    return score


def _source(keys: list[tuple], image: str, runtime: str, profile: str, n: int) -> tuple:
    same_profile = [k for k in keys if k[2] == profile]
    if not same_profile:
        return keys[n % len(keys)]
    # Ties go to the newest image the run has (debian-sid is filled from debian-13, not 11).
    return max(same_profile, key=lambda k: (k[0] == image, k[1] == runtime, _near(runtime, k[1]),
                                            _near(image, k[0]), k[0]))


# The default main job's selection (README: 6 runtimes x 8 images x 10 profiles).
DEFAULT_RUNTIMES = list(CONTAINER_RUNTIMES)
DEFAULT_PROFILES = ["unconfined", "default", *vintage_profiles()]


def default_job(rows: list[dict]) -> list[dict]:
    return scale(rows, list(DEFAULT_IMAGES), DEFAULT_RUNTIMES, DEFAULT_PROFILES)
