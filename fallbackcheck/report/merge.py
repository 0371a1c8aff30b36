"""One matrix from many reports: `python3 -m fallbackcheck.report.merge OUT_DIR REPORT...`
(also `fallbackcheck merge OUT_DIR REPORT...`).

The reports may be shards of one selection (--shard K/N), or runs on other machines, engine
generations, kernels, architectures or dates. Each is a *source*, named after its directory
(or `NAME=PATH`). What the merge keeps:

- **Environments apart.** A runtime id is one environment only if every source that ran it
  saw the same kernel, machine and runtime versions; otherwise each source's cells of it get
  the id `<runtime>~<source>` (docker-runc~arm-runner), and its versions, kernel baseline and
  engine hosts are kept under that name. Shards of one run on one machine share their ids.
- **Conflicts first.** A cell (probe, image, runtime, profile) measured by two sources of
  the same environment must agree on what `fallbackcheck.report.diff` compares (outcome, works,
  delivered errno, verdict). If it does not, the first source's row is kept with
  `merge_conflict` naming the other source and what it saw, every view lists the conflicts
  before anything else, and the merge exits 1. Nothing is silently overwritten.
- **Missing shards named.** Sources that are shards of one selection (the same
  `selection.shard.of_selection`) must be all N of them; the missing ones are named, the
  merged report is `complete: false`, and the merge exits 1.

Exit status: 0 merged, 1 merged with conflicts or missing shards, 4 bad input (one ERROR: line).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import diff
from .. import report as report_mod
from . import Report

QUALIFIER = "~"


@dataclass
class Source:
    label: str
    path: Path
    report: Report

    @property
    def env(self) -> dict:
        return self.report["environment"]

    def fingerprint(self, runtime: str) -> str:
        """What makes two sources' cells of `runtime` the same environment."""
        env = self.env
        info = (env.get("runtimes") or {}).get(runtime) or {}
        return json.dumps([env.get("kernel"), env.get("machine"), info], sort_keys=True)

    def summary(self) -> dict:
        data, env = self.report, self.env
        return {"label": self.label, "path": str(self.path), "generated": data.get("generated"),
                "complete": data.get("complete", True), "kernel": env.get("kernel"), "machine": env.get("machine"),
                "session": env.get("session"), "duration_s": env.get("duration_s"),
                "cells": data["summary"]["cells"], "shard": (data.get("selection") or {}).get("shard")}


@dataclass
class Merged:
    data: dict
    rows: list[dict]
    conflicts: list[dict] = field(default_factory=list)
    missing_shards: list[str] = field(default_factory=list)

    @property
    def report(self) -> Report:
        return Report(self.data, self.rows)


def read_sources(args: list[str]) -> list[Source]:
    """NAME=PATH or PATH (a matrix.json, or a directory holding one). Raises ValueError."""
    out: list[Source] = []
    taken: set[str] = set()
    for arg in args:
        label, sep, path_text = arg.partition("=")
        if not sep or "/" in label:
            label, path_text = "", arg
        path = Path(path_text)
        if path.is_dir():
            path = path / "matrix.json"
        try:
            loaded = report_mod.load(path)
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror}") from None
        base = label or (path.parent.name if path.parent.name not in ("", ".") else path.stem)
        label, n = base, 2
        while label in taken:
            label, n = f"{base}-{n}", n + 1
        taken.add(label)
        out.append(Source(label, path, loaded))
    return out


def runtime_names(sources: list[Source]) -> dict[tuple[str, str], str]:
    """(source label, runtime id) -> its id in the merged report."""
    prints: dict[str, dict[str, list[str]]] = {}
    for src in sources:
        for rid in sorted({r["runtime"] for r in src.report.all_cells}):
            prints.setdefault(rid, {}).setdefault(src.fingerprint(rid), []).append(src.label)
    out = {}
    for rid, groups in prints.items():
        for labels in groups.values():
            for label in labels:
                # One environment: the id stays. Several: each named after its first source.
                out[(label, rid)] = rid if len(groups) == 1 else f"{rid}{QUALIFIER}{labels[0]}"
    return out


def _merge_keyed(target: dict, items: dict, label: str, renamed: dict[str, str]) -> None:
    """Add `items` to `target`; a key already there with other content is kept apart as
    key~label (recorded in `renamed`)."""
    for key, value in items.items():
        if key in target and target[key] != value:
            renamed[key] = f"{key}{QUALIFIER}{label}"
            target[renamed[key]] = value
        else:
            target.setdefault(key, value)


def _shards(sources: list[Source]) -> tuple[list[str], list[str]]:
    """(missing shards, shards given twice), in words."""
    by_selection: dict[str, dict] = {}
    for src in sources:
        shard = (src.report.get("selection") or {}).get("shard")
        if shard:
            entry = by_selection.setdefault(shard["of_selection"], {"of": shard["of"], "seen": {}})
            entry["seen"].setdefault(shard["index"], []).append(src.label)
    missing, twice = [], []
    for digest, entry in sorted(by_selection.items()):
        for k in range(1, entry["of"] + 1):
            if k not in entry["seen"]:
                missing.append(f"shard {k}/{entry['of']} of selection {digest}")
            elif len(entry["seen"][k]) > 1:
                twice.append(f"shard {k}/{entry['of']} of selection {digest}: {', '.join(entry['seen'][k])}")
    return missing, twice


def merge(sources: list[Source]) -> Merged:
    names = runtime_names(sources)
    rows: list[dict] = []
    first: dict[tuple, tuple[dict, str]] = {}
    conflicts: list[dict] = []
    duplicates = 0
    env: dict = {"runtimes": {}, "runtime_kinds": {}, "engine_hosts": {}, "kernel_baseline": {}, "skipped_runtimes": {},
                 "notes": [], "generation_order": [], "loaded_here": [], "swept_leftovers": 0}
    selection: dict = {"images": [], "runtimes": [], "profiles": [], "probes": []}
    selection_facts: dict = {}
    sections: dict = {"fixes": [], "unfixable": {}, "received_profiles": {}}
    profiles: dict = {}
    for src in sources:
        data, senv = src.report, src.env
        renamed_machines: dict[str, str] = {}
        _merge_keyed(env["kernel_baseline"], senv.get("kernel_baseline") or {}, src.label, renamed_machines)
        renamed_hosts: dict[str, str] = {}
        _merge_keyed(env["engine_hosts"], senv.get("engine_hosts") or {}, src.label, renamed_hosts)
        for rid, info in (senv.get("runtimes") or {}).items():
            info = dict(info)
            if info.get("kernel_host") in renamed_machines:
                info["kernel_host"] = renamed_machines[info["kernel_host"]]
            env["runtimes"].setdefault(names.get((src.label, rid), rid), info)
        for rid, facts in (senv.get("runtime_kinds") or {}).items():
            env["runtime_kinds"].setdefault(names.get((src.label, rid), rid), facts)
        for rid, why in (senv.get("skipped_runtimes") or {}).items():
            env["skipped_runtimes"].setdefault(rid, f"{why} ({src.label})")
        env["notes"] += [f"{src.label}: {note}" for note in senv.get("notes") or []]
        env["generation_order"] += [g for g in senv.get("generation_order") or [] if g not in env["generation_order"]]
        env["loaded_here"] += [{**x, "source": src.label} for x in senv.get("loaded_here") or []]
        env["swept_leftovers"] += senv.get("swept_leftovers") or 0
        for key in ("images", "runtimes", "profiles", "probes"):
            selection[key] += [v for v in ((data.get("selection") or {}).get(key) or [])
                               if v not in selection[key]]
        selection_facts.update((data.get("selection") or {}).get("profile_facts") or {})
        _merge_keyed(profiles, data.get("profiles") or {}, src.label, {})
        sections["received_profiles"].update(data.get("received_profiles") or {})
        sections["unfixable"].update(data.get("unfixable") or {})
        for fix in data.get("fixes") or []:
            same = next((f for f in sections["fixes"] if f["profile"] == fix["profile"]), None)
            if same is None:
                sections["fixes"].append({**fix, "groups": dict(fix["groups"]), "patched_profiles": [fix["patched_profile"]],
                                          "sources": [src.label]})
            else:  # shards prove one profile's groups apart: one fix record, every group it proves
                for gid, rule in fix["groups"].items():
                    same["groups"].setdefault(gid, rule)
                same["patched_profiles"].append(fix["patched_profile"])
                same["sources"].append(src.label)
                same["cells"] += fix.get("cells", 0)
                same["batches"] += fix.get("batches", 0)
        for row in data.all_cells:
            runtime = names.get((src.label, row["runtime"]), row["runtime"])
            row = {**row, "runtime": runtime, "merged_from": src.label}
            if report_mod.is_fix_row(row):
                rows.append(row)
                continue
            key = diff.key(row)
            seen = first.get(key)
            if seen is None:
                first[key] = (row, src.label)
                rows.append(row)
                continue
            fields = diff.changed_fields(seen[0], row)
            if not fields:
                duplicates += 1
                continue
            conflict = {"cell": list(key), "sources": [seen[1], src.label], "fields": fields}
            conflicts.append(conflict)
            seen[0].setdefault("merge_conflict", []).append({"source": src.label, "fields": fields})
    missing, twice = _shards(sources)
    first_env = sources[0].env
    env.update({"kernel": first_env.get("kernel"), "machine": first_env.get("machine"),
                "session": "merged", "duration_s": round(sum(s.env.get("duration_s") or 0 for s in sources), 1)})
    merge_section = {"sources": [s.summary() for s in sources], "conflicts": conflicts, "missing_shards": missing,
                     "shards_given_twice": twice, "cells_measured_twice": duplicates,
                     "renamed_runtimes": sorted({v for v in names.values() if QUALIFIER in v})}
    complete = all(s.report.get("complete", True) for s in sources) and not missing
    selection["profile_facts"] = selection_facts
    data = report_mod.build(rows, {}, selection, complete, profiles=profiles, **sections, merge=merge_section)
    data["environment"] = {**env}  # the sources' environments, not this machine's
    data["summary"]["containers"] = sum(s.report["summary"].get("containers", 0) for s in sources)
    return Merged(data, rows, conflicts, missing)


def write(merged: Merged, directory: Path) -> tuple[Path, ...]:
    from . import render_html, render_md, render_table

    rep = merged.report
    texts = {"matrix.json": report_mod.dumps(merged.data), "matrix.md": render_md.render(rep),
             "matrix.html": render_html.render(rep)}
    texts.update(render_table.texts(rep))
    return report_mod.atomic_write_all(directory, texts)


USAGE = "usage: python3 -m fallbackcheck.report.merge OUT_DIR REPORT [REPORT...]  (REPORT: matrix.json, its directory, or NAME=PATH)"


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0].startswith("-"):
        print(f"ERROR: {USAGE}", file=sys.stderr)
        return 4
    out_dir = Path(argv[0])
    try:
        sources = read_sources(argv[1:])
    except (ValueError, KeyError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 4
    merged = merge(sources)
    try:
        written = write(merged, out_dir)
    except OSError as exc:
        print(f"ERROR: cannot write to {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 4
    section = merged.data["merge"]
    for c in merged.conflicts:
        print(f"CONFLICT: {diff.key_text(c['cell'])}: {c['sources'][0]} vs {c['sources'][1]}: "
              f"{diff.change_text(c)}")
    for m in merged.missing_shards:
        print(f"MISSING: {m}")
    for t in section["shards_given_twice"]:
        print(f"TWICE: {t}")
    print(f"merged {len(sources)} reports ({', '.join(s.label for s in sources)}): "
          f"{merged.data['summary']['cells']} cells, {len(merged.conflicts)} conflicts, "
          f"{section['cells_measured_twice']} cells measured twice alike, {len(merged.missing_shards)} shards missing")
    print(written[0])
    return 1 if merged.conflicts or merged.missing_shards else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
