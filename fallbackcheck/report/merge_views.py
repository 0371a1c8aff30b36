"""The views of a merged report (fallbackcheck.report.merge), computed from matrix.json only:
its conflicts (first, before anything else a reader sees), the shards missing, and the
sources it was made from."""

from __future__ import annotations

from .diff import change_text, key_text
from .tables import Table


def tables(report) -> list[Table]:
    section = report.get("merge")
    if not section:
        return []
    out = []
    if section.get("conflicts"):
        out.append(Table(f"CONFLICTS: {len(section['conflicts'])} cells measured differently",
                         "The same cell (probe, image, runtime, profile) in two sources of the same environment, with "
                         "a different outcome, `works`, delivered errno or verdict. The merged matrix shows the first "
                         "source's row (its `merge_conflict` names the other); find out which measurement is right "
                         "before publishing.",
                         ["cell", "sources", "what differs"],
                         [[f"`{key_text(c['cell'])}`", " vs ".join(c["sources"]), change_text(c)]
                          for c in section["conflicts"]]))
    if section.get("missing_shards") or section.get("shards_given_twice"):
        out.append(Table("Shards missing from this merge", "The merged matrix is incomplete until they are added.",
                         ["shard", "status"],
                         [[m, "missing"] for m in section.get("missing_shards", [])]
                         + [[t, "given twice"] for t in section.get("shards_given_twice", [])]))
    renamed = section.get("renamed_runtimes") or []
    intro = (f"{section.get('cells_measured_twice', 0)} cells were measured by two sources alike. "
             + (f"Runtimes measured in different environments are kept apart as `<runtime>~<source>`: "
                f"{', '.join(f'`{r}`' for r in renamed)}." if renamed else
                "Every runtime id had one environment (kernel, machine, versions) across the sources."))
    out.append(Table(f"Merged from {len(section['sources'])} reports", intro,
                     ["source", "generated", "kernel", "machine", "cells", "shard", "complete", "path"],
                     [[s["label"], str(s.get("generated")), str(s.get("kernel")), str(s.get("machine")),
                       str(s.get("cells")),
                       f"{s['shard']['index']}/{s['shard']['of']} of {s['shard']['of_selection']}" if s.get("shard") else "",
                       "yes" if s.get("complete") else "no", f"`{s['path']}`"] for s in section["sources"]]))
    return out
