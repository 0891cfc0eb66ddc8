"""The agents page's server side: the league grid's AG Grid sort and filter models applied to a small
frame (callbacks/grids.py sort_and_filter, grid_block) agree with plain pandas selections, and the
agent picker's search (callbacks/agents.py find_agents) ranks and limits its matches."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from callbacks.agents import find_agents
from callbacks.grids import grid_block, sort_and_filter

FRAME = pd.DataFrame({
    "id": ["A01", "A02", "B03", "B04", "C05", "C06"],
    "name": ["Wang Fang", "Li Na", "wang lei", "Zhang Wei", None, "Liu Yang"],
    "fyp_sold": [900.0, 700.0, 500.0, None, 300.0, 100.0],
    "cases": [9, 7, 5, 0, 3, 1],
})


def ids(frame: pd.DataFrame) -> list[str]:
    return list(frame["id"])


def text(kind: str, value: str | None = None) -> dict:
    return {"filterType": "text", "type": kind, "filter": value}


def number(kind: str, value: float | None = None, to: float | None = None) -> dict:
    return {"filterType": "number", "type": kind, "filter": value, "filterTo": to}


lower = FRAME["name"].str.lower()
fyp = FRAME["fyp_sold"]


@pytest.mark.parametrize(("model", "expected"), [
    (text("contains", "WANG"), lower.str.contains("wang").fillna(False)),
    (text("notContains", "wang"), ~lower.str.contains("wang").fillna(False)),  # a blank name is not "wang"
    (text("equals", "li na"), lower == "li na"),
    (text("notEqual", "li na"), (lower != "li na") | FRAME["name"].isna()),
    (text("startsWith", "l"), lower.str.startswith("l").fillna(False)),
    (text("endsWith", "wei"), lower.str.endswith("wei").fillna(False)),
    (text("blank"), FRAME["name"].isna()),
    (text("notBlank"), FRAME["name"].notna()),
])
def test_text_filters_ignore_case(model, expected):
    got = sort_and_filter(FRAME, None, {"name": model})
    assert ids(got) == ids(FRAME[expected.astype(bool)])


@pytest.mark.parametrize(("model", "expected"), [
    (number("equals", 500), fyp == 500),
    (number("notEqual", 500), (fyp != 500) & fyp.notna()),  # blanks are not kept
    (number("greaterThan", 500), fyp > 500),
    (number("greaterThanOrEqual", 500), fyp >= 500),
    (number("lessThan", 500), fyp < 500),
    (number("lessThanOrEqual", 500), fyp <= 500),
    (number("inRange", 100, 700), (fyp > 100) & (fyp < 700)),  # AG Grid's range excludes its ends
    (number("blank"), fyp.isna()),
    (number("notBlank"), fyp.notna()),
])
def test_number_filters(model, expected):
    assert ids(sort_and_filter(FRAME, None, {"fyp_sold": model})) == ids(FRAME[expected])


def test_combined_conditions_and_several_columns():
    either = {"filterType": "number", "operator": "OR",
              "conditions": [number("lessThan", 200), number("greaterThan", 800)]}
    assert ids(sort_and_filter(FRAME, None, {"fyp_sold": either})) == ids(FRAME[(fyp < 200) | (fyp > 800)])
    both = {"filterType": "text", "operator": "AND", "conditions": [text("contains", "a"), text("notContains", "g")]}
    got = sort_and_filter(FRAME, None, {"name": both, "cases": number("greaterThan", 1)})
    mask = lower.str.contains("a").fillna(False) & ~lower.str.contains("g").fillna(False) & (FRAME["cases"] > 1)
    assert ids(got) == ids(FRAME[mask])


def test_sort_any_column_blanks_last_and_no_sort_keeps_the_order():
    assert ids(sort_and_filter(FRAME, [], None)) == ids(FRAME)
    ascending = sort_and_filter(FRAME, [{"colId": "fyp_sold", "sort": "asc"}], None)
    assert ids(ascending) == ["C06", "C05", "B03", "A02", "A01", "B04"]
    descending = sort_and_filter(FRAME, [{"colId": "name", "sort": "desc"}], None)
    assert list(descending["name"])[:-1] == sorted(FRAME["name"].dropna(), reverse=True)
    assert descending["name"].iloc[-1] is None or pd.isna(descending["name"].iloc[-1])


def test_a_block_is_a_slice_of_the_sorted_filtered_rows_with_their_count():
    request = {"startRow": 1, "endRow": 3, "sortModel": [{"colId": "cases", "sort": "asc"}],
               "filterModel": {"fyp_sold": number("notBlank")}}
    expected = FRAME[fyp.notna()].sort_values("cases")
    block = grid_block(FRAME, request)
    assert block["rowCount"] == len(expected)
    assert [r["id"] for r in block["rowData"]] == list(expected["id"].iloc[1:3])
    assert all(not (isinstance(v, float) and math.isnan(v)) for r in block["rowData"] for v in r.values())


@pytest.mark.parametrize(("sort", "filters"), [
    ([{"colId": "no_such", "sort": "asc"}], None),
    (None, {"no_such": text("contains", "x")}),
    (None, {"name": text("regex", "x")}),
])
def test_unknown_columns_or_filter_types_are_refused(sort, filters):
    with pytest.raises(ValueError):
        sort_and_filter(FRAME, sort, filters)


ROSTER = pd.DataFrame({"agent.agent": ["A0012", "A0120", "A0121", "A1200", "B0001", "B0002"],
                       "agent.agent|en": ["Li Na", "Wang A12", "Zhang Wei", "Na Li", "Wang Fang", "Ana"]})


@pytest.mark.parametrize(("text", "expected"), [
    ("a012", ["A0120", "A0121"]),  # an id prefix in any case; "Wang A12" does not contain "a012"
    (" A0120 ", ["A0120"]),
    ("a12", ["A1200", "A0120"]),  # ids first, then the name that contains it
    ("na", ["A1200", "A0012", "B0002"]),  # the name that starts with it first, then by id
    ("wang", ["A0120", "B0001"]),
    ("", []),
    ("x", []),
])
def test_agent_search_matches_an_id_prefix_or_a_name(text, expected):
    assert list(find_agents(ROSTER, text, "en")["agent.agent"]) == expected


def test_agent_search_puts_the_exact_id_first_and_keeps_to_the_limit():
    assert list(find_agents(ROSTER, "a0121", "en", limit=5)["agent.agent"]) == ["A0121"]
    assert list(find_agents(ROSTER, "A", "en", limit=3)["agent.agent"]) == ["A0012", "A0120", "A0121"]
    exact = pd.DataFrame({"agent.agent": ["A1", "A10", "A11"], "agent.agent|en": ["x", "y", "z"]})
    assert list(find_agents(exact, "a1", "en", limit=2)["agent.agent"]) == ["A1", "A10"]
