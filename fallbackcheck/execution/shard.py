"""`--shard K/N`: one of N parts of a selection, for a CI system's job matrix to run apart.

The unit of a shard is what one start of a runtime measures, never a cell: a batch (one
container per image, runtime and profile), or, on a kernel host, every batch of one image
(they share one boot). So no batch is ever split, and no kernel is booted twice for one
image. Units go to shards by expected cost, largest first, each to the shard with the
least so far (ties to the lowest shard, units in a fixed order): the same selection gives
the same shards on every machine, whatever order the ids were given in.

Each shard writes an ordinary report whose `selection.shard` says which part of which
selection it is (`of_selection`: a digest of the whole selection's ids), so that
`fallbackcheck.report.merge` can tell shards of one selection apart from other reports and name
the ones missing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass

from ..errors import UsageError

# Expected seconds, measured on the 2-core machines of docs/benchmark.md, of each cell; a
# unit's start (one container, or one kernel boot) is its runtime kind's start_s
# (runtimes/base.py). Rough on purpose: they only need to rank units, so that no shard gets
# all the kernel boots or all of Podman.
CELL_S = 0.02


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    of: int

    def __str__(self) -> str:
        return f"{self.index}/{self.of}"


def parse(text: str | None) -> Shard | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise UsageError(f"--shard {text!r}: give K/N with 1 <= K <= N (e.g. --shard 2/3)")
    return Shard(int(match.group(1)), int(match.group(2)))


def unit_of(image: str, runtime: str, profile: str) -> tuple:
    """What one runtime start measures: the batch, or the image on a kernel host."""
    return (image, runtime) if runtime.startswith("local@") else (image, runtime, profile)


def plan(cells, shards: int, start_cost) -> dict[tuple, int]:
    """Unit -> its shard (1-based) for every unit of `cells` (Cell or row: image, runtime,
    profile, probe); `start_cost(runtime id)`: the expected seconds of one start."""
    cells_of: dict[tuple, int] = defaultdict(int)
    starts: dict[tuple, set] = defaultdict(set)
    for cell in cells:
        unit = unit_of(cell.image, cell.runtime, cell.profile)
        cells_of[unit] += 1
        starts[unit].add(cell.profile)  # a kernel host boots once per image, a container per batch
    cost = {u: start_cost(u[1]) * (1 if len(u) == 2 else len(starts[u])) + CELL_S * n
            for u, n in cells_of.items()}
    load = [0.0] * shards
    out = {}
    for unit in sorted(cost, key=lambda u: (-cost[u], u)):
        target = min(range(shards), key=lambda s: (load[s], s))
        load[target] += cost[unit]
        out[unit] = target + 1
    return out


def pick(cells: list, shard: Shard, start_cost) -> list:
    """The cells of `cells` in this shard, in their order."""
    owner = plan(cells, shard.of, start_cost)
    return [c for c in cells if owner[unit_of(c.image, c.runtime, c.profile)] == shard.index]


def selection_digest(selection: dict) -> str:
    """The whole selection's ids, independent of the order they were given in."""
    ids = {k: sorted(selection.get(k) or []) for k in ("images", "runtimes", "profiles", "probes")}
    return hashlib.sha256(json.dumps(ids, sort_keys=True).encode()).hexdigest()[:16]


def describe(shard: Shard, selection: dict, cells: list, all_cells: list) -> dict:
    """The report's selection.shard."""
    units = sorted({unit_of(c.image, c.runtime, c.profile) for c in cells})
    return {"index": shard.index, "of": shard.of, "of_selection": selection_digest(selection),
            "cells": len(cells), "selection_cells": len(all_cells),
            "batches": len({(c.image, c.runtime, c.profile) for c in cells}), "units": len(units)}
