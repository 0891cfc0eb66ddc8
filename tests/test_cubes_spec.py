"""QuerySpec: validation with messages naming the valid choices, canonical form, stable cache key."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cubes.catalog import cube_by_name
from cubes.model import SpecError
from cubes.spec import QuerySpec

BASE = {"cube": "policies", "rows": ["geography.region"], "measures": ["written_premium"]}


def spec(**changes) -> dict:
    return {**BASE, **changes}


@pytest.mark.parametrize("changes, message", [
    ({"cube": "polices"}, "unknown cube 'polices'; valid: policies, contribution"),
    ({"rows": ["geografy.region"]}, "has no dimension 'geografy'; valid: geography, occupation"),
    ({"rows": ["geography.town"]}, "no level 'town'; valid: geography.region, geography.province"),
    ({"measures": ["premium"]}, "no measure 'premium'; valid: policies, in_force_policies"),
    ({"measures": []}, "needs at least one measure; valid: policies"),
    ({"filters": [{"dim": "channel", "op": "like", "values": ["a"]}]}, "unknown filter op 'like'; valid: eq, in"),
    ({"filters": [{"dim": "time.year", "op": "eq", "values": ["2025"]}]}, "whole numbers, got '2025'"),
    ({"filters": [{"dim": "channel", "op": "in", "values": []}]}, "needs at least one value"),
    ({"filters": [{"dim": "channel", "op": "between", "values": ["2025-01-01", "2025-02-01"]}]}, "not a time level"),
    ({"filters": [{"dim": "time.month", "op": "between", "values": ["2025-13-01", None]}]}, "ISO dates"),
    ({"top": {"n": 0}}, "positive whole number"),
    ({"top": {"n": 9223372036854775808}}, "positive whole number up to 1,000,000"),
    ({"sort": [{"by": "loss_ratio"}]}, "sort by one of written_premium, geography.region"),
    ({"compare": "mom"}, "unknown compare 'mom'; valid: yoy, prev, ytd"),
    ({"compare": "prev"}, "needs a time level"),
    ({"rows": ["geography.region", "geography.region"]}, "only once"),
    ({"colour": "red"}, "unknown spec key(s) colour; valid: cube, rows"),
    ({"drill": {"hierarchy": "geography", "path": ["east", "31", "3101", "B1", "x"]}}, "only 4 levels"),
])
def test_invalid_specs_say_what_is_valid(changes, message):
    with pytest.raises(SpecError) as err:
        QuerySpec.from_dict(spec(**changes))
    assert message in str(err.value)


def test_not_json_is_a_clear_error():
    with pytest.raises(SpecError, match="not valid JSON"):
        QuerySpec.from_json("{cube: policies")


def test_equivalent_specs_share_one_cache_key():
    a = QuerySpec.from_dict(spec(rows=["channel"], filters=[
        {"dim": "time.year", "op": "in", "values": [2025, 2024, 2025]},
        {"dim": "geography.region", "op": "eq", "values": ["east"]}]))
    b = QuerySpec.from_dict(spec(rows=["channel.channel"], filters=[
        {"dim": "geography.region", "op": "eq", "value": "east"},
        {"dim": "time.year", "op": "in", "values": [2024, 2025]}]))
    assert a == b and a.cache_key() == b.cache_key()
    assert a.cache_key() != QuerySpec.from_dict(spec(rows=["channel"])).cache_key()


def test_spec_is_frozen():
    s = QuerySpec.from_dict(BASE)
    with pytest.raises(AttributeError):
        s.cube = "contribution"


cube = cube_by_name("policies")
text_levels = [ref for ref in cube.level_names if cube.level(ref)[1].dtype == "str" and ref != "time.month"]
members = st.text(min_size=0, max_size=12)
filters = st.one_of(
    st.builds(lambda d, vs: {"dim": d, "op": "in", "values": vs}, st.sampled_from(text_levels),
              st.lists(members, min_size=1, max_size=4)),
    st.builds(lambda d, v: {"dim": d, "op": "not_in", "values": [v]}, st.sampled_from(text_levels), members),
    st.builds(lambda lo, hi: {"dim": "time.year", "op": "range", "values": [lo, hi]},
              st.integers(2000, 2030), st.one_of(st.none(), st.integers(2000, 2030))),
)
specs = st.builds(
    lambda rows, measures, fs, totals, top: {
        "cube": "policies", "rows": rows, "measures": measures, "filters": fs, "totals": totals,
        **({"top": {"n": top, "others": True}} if top and rows else {})},
    st.lists(st.sampled_from(["geography.region", "channel", "time.year", "sex"]), unique=True, max_size=2),
    st.lists(st.sampled_from(cube.measure_names), unique=True, min_size=1, max_size=4),
    st.lists(filters, max_size=3), st.booleans(), st.one_of(st.none(), st.integers(1, 20)))


@settings(max_examples=150, deadline=None)
@given(specs)
def test_json_round_trip_keeps_the_cache_key(data):
    first = QuerySpec.from_dict(data)
    again = QuerySpec.from_json(json.dumps(first.to_dict()))
    assert again == first and again.cache_key() == first.cache_key()
    assert QuerySpec.from_dict(json.loads(first.to_json())).to_json() == first.to_json()
