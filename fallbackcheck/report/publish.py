"""The published matrix: docs/matrix/, a measured, versioned data set in the repository.

    python3 -m fallbackcheck.report.publish SITE [OUT]     SITE: a merged run (its matrix.json)
    python3 -m fallbackcheck.report.publish --check [OUT]  what the data set says of itself now

From a merged report (scripts/publish-matrix runs the workflow's jobs and merges them) it
writes OUT (default docs/matrix/): the table data (matrix-table.json, .csv), the page
(matrix-table.html), the table as Markdown (matrix-table.md) and a short summary
(README.md), each stamped with what it was made from (STAMP_FIELDS); and the answers the
repository's README opens its results with, read from the data set (answers_markdown).
--check says which catalogue probes the data set lacks or has beyond the catalogue: a probe
added or removed since the last publication is named, never silently missing.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__, paths
from ..model.catalogue import CATALOGUE_DIR, load as load_catalogue
from .compat_table import table
from ..errors import UsageError
from .render_table import csv_text, environment_text, html_text, markdown
from . import atomic_write, atomic_write_all, load

OUT = paths.BASE / "docs" / "matrix"  # a checkout's
README = paths.BASE / "README.md"
ANSWERS_BEGIN = "<!-- answers from docs/matrix/matrix-table.json (python3 -m fallbackcheck.report.publish) -->"
ANSWERS_END = "<!-- end of the answers -->"
# The questions most people come with, as (probe, image, column, profile): answered from the
# data set. A 5.4-era profile: what a runtime whose allow-list stopped at Linux 5.4 ships.
QUESTIONS = (
    ("lchmod", "debian-13", "docker-crun", "default"),
    ("pthread_create", "debian-12", "docker-runc", "vintage:5.4:EPERM"),
    ("faccessat", "debian-13", "docker-crun", "vintage:5.4:EPERM"),
)


def catalogue_hash(directory: Path = CATALOGUE_DIR) -> str:
    """The catalogue's content: every file's name and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.toml")):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def stamp(data: dict, catalogue) -> dict:
    """What the data set was made from: fallbackcheck's version, the catalogue (its content
    hash and probe ids), the date; every column names its environment itself."""
    return {"fallbackcheck": __version__, "catalogue": catalogue_hash(), "catalogue_probes": sorted(catalogue.api),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "measured": data["generated_from"]["generated"]}


def measured_probes(data: dict) -> set[str]:
    return {api["probe"] for group in data["groups"] for api in group["apis"]}


def drift(data: dict, catalogue_ids) -> tuple[list[str], list[str]]:
    """(added, removed): catalogue API probes the data set does not have, and probes it has
    that the catalogue no longer knows."""
    published = set(data.get("published", {}).get("catalogue_probes") or measured_probes(data))
    current = set(catalogue_ids)
    return sorted(current - published), sorted(published - current)


def answer(data: dict, probe: str, image: str, column: str, profile: str) -> str:
    """One question's line, its words read from the data set."""
    api = next((a for g in data["groups"] for a in g["apis"] if a["probe"] == probe), None)
    entry = (api or {}).get("images", {}).get(image)
    cell = (entry or {}).get("cells", {}).get(column)
    col = next((c for c in data["columns"] if c["id"] == column), None)
    what = f"`{probe}` in {image}" + (f" ({entry['libc']})" if entry and entry.get("libc") else "")
    where = f"{column}" + (f" ({col['versions']})" if col and col.get("versions") else "")
    said = (cell or {}).get("profiles", {}).get(profile)
    if said is None:
        return f"- {what} under {where}, profile `{profile}`: not in this data set."
    said = "✓ works" if said == "works" else "✗ " + said if said.startswith("breaks") else said
    return f"- {what} under {where}, profile `{profile}`: **{said}**"


def answers_markdown(data: dict) -> str:
    """The README's answers: one line per question, then where the data set came from."""
    lines = [answer(data, *q) for q in QUESTIONS]
    published = data.get("published", {})
    lines.append(f"\n(Measured {published.get('measured', '?')}, fallbackcheck {published.get('fallbackcheck', '?')}, "
                 f"catalogue {published.get('catalogue', '?')}; every other cell: "
                 "[docs/matrix/](docs/matrix/), its page `matrix-table.html`.)")
    return "\n".join(lines)


def summary_markdown(data: dict) -> str:
    published = data["published"]
    out = ["# The published matrix", "",
           f"Measured {published['measured']} with fallbackcheck {published['fallbackcheck']} (catalogue "
           f"`{published['catalogue']}`, {len(measured_probes(data))} APIs), published {published['date']} by "
           "`scripts/publish-matrix`. Files: `matrix-table.html` (the page, with a find box: "
           "`matrix-table.html#find=lchmod`), `matrix-table.json` (every cell; format in "
           "[../compat-table-format.md](../compat-table-format.md)), `matrix-table.csv`, `matrix-table.md`.", "",
           "## Answers", "", *[answer(data, *q) for q in QUESTIONS], "", "## Columns and their environment", "",
           "| column | where | environment |", "|---|---|---|"]
    for col in data["columns"]:
        out.append(f"| {col['id']} | {col['host']} | {environment_text(col).replace('|', '/')} |")
    return "\n".join(out) + "\n"


def publish(site: Path, out: Path = OUT, readme: Path | None = README) -> Path:
    report = load(site / "matrix.json" if site.is_dir() else site)
    if not report.get("complete", True) or (report.get("merge") or {}).get("conflicts"):
        raise UsageError(f"{site} is incomplete or has conflicts: fix the run (its matrix.md says what) "
                         "before publishing it")
    data = table(report)
    data["published"] = stamp(data, load_catalogue())
    atomic_write_all(out, {"matrix-table.json": json.dumps(data, indent=1) + "\n", "matrix-table.md": markdown(data),
                           "matrix-table.csv": csv_text(data), "matrix-table.html": html_text(data),
                           "README.md": summary_markdown(data)})
    if readme is not None:
        write_answers(readme, data)
    return out


def write_answers(readme: Path, data: dict) -> None:
    text = readme.read_text()
    if ANSWERS_BEGIN not in text or ANSWERS_END not in text:
        raise UsageError(f"{readme} has no answers block ({ANSWERS_BEGIN} ... {ANSWERS_END}): put one back")
    head, rest = text.split(ANSWERS_BEGIN, 1)
    atomic_write(readme, head + ANSWERS_BEGIN + "\n" + answers_markdown(data) + "\n" + ANSWERS_END +
                 rest.split(ANSWERS_END, 1)[1])


def check(out: Path = OUT) -> list[str]:
    """The lines --check prints: what the data set lacks against the catalogue now."""
    data = json.loads((out / "matrix-table.json").read_text())
    added, removed = drift(data, load_catalogue().api)
    lines = []
    if added:
        lines.append(f"not in the published matrix (added to the catalogue since): {', '.join(added)}")
    if removed:
        lines.append(f"in the published matrix but no longer in the catalogue: {', '.join(removed)}")
    return lines


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["--check"]:
            lines = check(Path(argv[1]) if len(argv) > 1 else OUT)
            print("\n".join(lines) or "the published matrix has every probe of the catalogue")
            return 0
        if not argv:
            raise UsageError("usage: python3 -m fallbackcheck.report.publish SITE [OUT] | --check [OUT]")
        print(publish(Path(argv[0]), Path(argv[1]) if len(argv) > 1 else OUT))
        return 0
    except (UsageError, OSError, ValueError) as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
