"""The URL's query string as a dict and back: one place for how view state is written into links."""
from __future__ import annotations

from collections.abc import Collection
from urllib.parse import parse_qsl, urlencode


def query_of(search: str | None) -> dict[str, str]:
    return dict(parse_qsl((search or "").lstrip("?")))


def encode(params: dict[str, str]) -> str:
    """'?a=1&b=x,y' (commas left readable, as lists are written), or '' for no parameters."""
    return f"?{urlencode(params, safe=',')}" if params else ""


def search_with(search: str | None, drop: Collection[str], updates: dict[str, str]) -> str:
    """`search` without the `drop` keys, then `updates` added; every other parameter kept in order."""
    params = {k: v for k, v in query_of(search).items() if k not in drop}
    params.update(updates)
    return encode(params)
