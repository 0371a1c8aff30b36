"""The order cells run in: the batches' cells together. pytest-free: it reads the cell a test
item was parametrised with, nothing of pytest itself."""

from __future__ import annotations

from ..judging.cells import Cell
from ..runtimes import get as get_runtime

# Parametrised fixture name -> the catalogue kind of the cells it gets.
CELL_FIXTURES = {"api_cell": "api", "raw_cell": "raw"}


def cell_of(item) -> Cell | None:
    """The cell a pytest item was parametrised with (its api_cell or raw_cell), or None."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    for name in CELL_FIXTURES:
        cell = params.get(name)
        if isinstance(cell, Cell):
            return cell
    return None


def cells_of(items):
    for item in items:
        cell = cell_of(item)
        if cell is not None:
            yield cell


def grouped_by_batch(items: list, order) -> list:
    """The items with the cells of each batch together, batches in `order(keys in the order
    their first cell comes)`, the cells of a batch in their order; other items keep their places.

    pytest collects file by file: every raw cell (test_conformance.py) before every API cell
    (test_matrix.py). Run in that order, the API cells of a batch waited until every batch had
    run once for the raw cells: on the main job 13 s of API cells after the last batch.
    Grouped, a batch's cells run while later batches are in flight."""
    cells = [(i, cell) for i, cell in enumerate(map(cell_of, items)) if cell is not None]
    rank = {key: n for n, key in enumerate(order(list(dict.fromkeys(cell.batch for _, cell in cells))))}
    ranked = sorted(range(len(cells)), key=lambda n: rank[cells[n][1].batch])  # stable
    out = list(items)
    for (slot, _), n in zip(cells, ranked):
        out[slot] = items[cells[n][0]]
    return out


def batch_group(cell: Cell) -> str:
    """The xdist group of a cell: its batch, or for a runtime that boots once per image
    (kernel hosts), every batch of that image on that runtime."""
    if get_runtime(cell.runtime).shares_start:
        return f"{cell.image}|{cell.runtime}|*"
    return str(cell.batch)
