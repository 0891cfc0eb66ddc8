"""A grid's sort in the URL: `sort=field:desc` (one column; a page's own parameter).

Kept in the URL like every other view choice, so a reload, a copied link or back shows the same order."""
from __future__ import annotations

Sort = tuple[str, bool]  # (field, descending)


def parse_sort(raw: str | None) -> Sort | None:
    """("field", descending) from "field:asc|desc"; None for none. Raises ValueError when malformed."""
    if not raw:
        return None
    field, _, order = raw.rpartition(":")
    if not field or order not in ("asc", "desc"):
        raise ValueError(raw)
    return field, order == "desc"


def sort_text(sort: Sort | None) -> str:
    return f"{sort[0]}:{'desc' if sort[1] else 'asc'}" if sort else ""
