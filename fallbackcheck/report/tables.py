"""A titled table: what a view computes from matrix.json and every renderer (Markdown, HTML,
CSV) draws. Views never format; renderers never compute."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    intro: str  # may be empty; `code` in backquotes, as in Markdown
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    level: int = 2  # the heading's level
