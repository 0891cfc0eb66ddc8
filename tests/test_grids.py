"""Grid helpers: sort state to and from the URL, typed columns, and the pivot's row order."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from callbacks.grids import number_column, sort_of, sorted_columns
from callbacks.pivot import _order
from layouts.explore_state import parse as parse_explore
from layouts.grid_sort import parse_sort, sort_text
from layouts.pivot_state import parse as parse_pivot, with_state


def test_sort_text_round_trips_and_rejects_malformed():
    assert parse_sort("a|b|written_premium:desc") == ("a|b|written_premium", True)
    assert sort_text(parse_sort("value:asc")) == "value:asc"
    assert parse_sort(None) is None and sort_text(None) == ""
    for bad in ("value", "value:up", ":desc"):
        with pytest.raises(ValueError):
            parse_sort(bad)


def test_bad_sort_in_the_url_is_named_and_ignored():
    pivot = parse_pivot({"sort": "health|claims_paid:desc"})  # a measure the pivot does not show
    assert pivot.sort is None and ("sort", "health|claims_paid:desc") in pivot.invalid
    assert parse_pivot({"sort": "health|written_premium:asc"}).sort == ("health|written_premium", False)
    explore = parse_explore({"sort": "secret:asc"})
    assert explore.sort is None and ("sort", "secret:asc") in explore.invalid
    assert "sort=health%7Cwritten_premium%3Adesc" in with_state("", parse_pivot({"sort": "health|written_premium:desc"}))


def test_sort_of_column_state():
    fields = {"a", "b"}
    assert sort_of([], fields) is False  # the grid has not drawn its columns yet
    assert sort_of([{"colId": "a"}, {"colId": "b"}], fields) is None
    assert sort_of([{"colId": "a", "sort": None}, {"colId": "b", "sort": "desc"}], fields) == ("b", True)


def test_sorted_columns_marks_a_child_of_a_group_only():
    columns = [{"field": "row"}, {"headerName": "g", "children": [{"field": "a"}, {"field": "b"}]}]
    marked = sorted_columns(columns, ("b", False))
    assert marked[1]["children"] == [{"field": "a"}, {"field": "b", "sort": "asc"}] and "sort" not in marked[0]
    assert sorted_columns(columns, None) == columns


def test_number_columns_are_typed_and_money_names_its_unit():
    zh = number_column("v", "保费收入", "money", "zh")
    assert zh["headerName"] == "保费收入（万元）" and zh["cellDataType"] == "number" and zh["type"] == "rightAligned"
    assert "/ 10000" in zh["valueFormatter"]["function"]
    assert number_column("v", "Written premium", "money", "en")["headerName"] == "Written premium (M CNY)"
    assert number_column("n", "Cases", "int")["headerName"] == "Cases"


def _wide(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["region", "channel", "_row_depth", "v"])


def _shown(wide: pd.DataFrame, sort) -> list[str]:
    names = (wide["region"].fillna("") + "/" + wide["channel"].fillna("")).tolist()
    return [names[i] for i in _order(wide, ["region", "channel"], sort)]


def test_pivot_order_keeps_subtotals_above_and_sorts_within_each_parent():
    # the engine's order: members, then their subtotal; the grand total last
    wide = _wide([("e", "a", 2, 5.0), ("e", "b", 2, 9.0), ("e", None, 1, 14.0),
                  ("n", "a", 2, 30.0), ("n", "b", 2, math.nan), ("n", None, 1, 30.0),
                  (None, None, 0, 44.0)])
    assert _shown(wide, None) == ["e/", "e/a", "e/b", "n/", "n/a", "n/b", "/"]
    assert _shown(wide, ("v", True)) == ["n/", "n/a", "n/b", "e/", "e/b", "e/a", "/"]  # blanks last either way
    assert _shown(wide, ("v", False)) == ["e/", "e/a", "e/b", "n/", "n/a", "n/b", "/"]
