"""Properties any slice must have (parts add up, ratios of sums, distinct counts recounted), filter
values that are only ever values, and a row scope that nothing in a spec can widen."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cubes.catalog import cube_by_name
from cubes.model import SpecError
from cubes.scope import Scope
from tests.test_cubes_fixtures import engine, tables, warehouse  # noqa: F401

POLICIES = cube_by_name("policies")
SLICE_LEVELS = ["geography.region", "channel", "sex", "product.line", "status", "time.year", "vip_tier",
                "payment_frequency", "age_band", "tenure_band"]
ADDITIVE = [m.name for m in POLICIES.measures if m.additive]
RATIOS = [m for m in POLICIES.measures if m.kind == "ratio"]
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def total_and_parts(frame):
    return frame[frame["_row_depth"] == 0].iloc[0], frame[frame["_row_depth"] == 1]


@SETTINGS
@given(level=st.sampled_from(SLICE_LEVELS), measure=st.sampled_from(ADDITIVE))
def test_additive_parts_add_up_to_the_total(engine, level, measure):  # noqa: F811
    frame = engine.query({"cube": "policies", "rows": [level], "measures": [measure], "totals": True})
    total, parts = total_and_parts(frame)
    assert parts[measure].sum() == pytest.approx(total[measure], rel=1e-9)


@SETTINGS
@given(level=st.sampled_from(SLICE_LEVELS), ratio=st.sampled_from(RATIOS))
def test_a_ratio_total_is_the_ratio_of_summed_parts(engine, level, ratio):  # noqa: F811
    frame = engine.query({"cube": "policies", "rows": [level], "totals": True,
                          "measures": [ratio.name, ratio.numerator, ratio.denominator]})
    total, parts = total_and_parts(frame)
    additive = POLICIES.measure(ratio.numerator).additive and POLICIES.measure(ratio.denominator).additive
    # with additive parts the total is their sums' ratio; a distinct-count part is recounted instead
    numerator = parts[ratio.numerator].sum() if additive else total[ratio.numerator]
    denominator = parts[ratio.denominator].sum() if additive else total[ratio.denominator]
    if denominator:
        assert total[ratio.name] == pytest.approx(numerator / denominator, rel=1e-9)
    else:
        assert total[ratio.name] != total[ratio.name]  # NaN: no denominator, no rate


def test_distinct_customers_are_recounted_not_summed(engine, tables):  # noqa: F811
    frame = engine.query({"cube": "policies", "rows": ["channel"], "measures": ["customers"], "totals": True})
    total, parts = total_and_parts(frame)
    assert total["customers"] == tables["fact_policy"]["customer_id"].nunique()
    # customers buying through several channels are one customer in the total
    assert parts["customers"].sum() > total["customers"]


HOSTILE = ["east' OR '1'='1", "'; DROP TABLE fact_policy; --", "east\"; SELECT 1; --", "$p0", "?", "华东",
           "\u202eeast", "east\x00", "🙂", "%", "_", "' UNION SELECT customer_id FROM dim_customer --"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_filter_values_are_plain_values(engine, value):  # noqa: F811
    base = {"cube": "policies", "measures": ["policies"]}
    everything = engine.query(base)["policies"].iloc[0]
    for dim in ("geography.region", "product.product"):
        only = engine.query({**base, "filters": [{"dim": dim, "op": "in", "values": [value]}]})
        assert only["policies"].iloc[0] == 0
        but = engine.query({**base, "filters": [{"dim": dim, "op": "not_in", "values": [value]}]})
        assert but["policies"].iloc[0] == everything
    records = engine.drill_through({**base, "rows": ["geography.region"]}, {"geography.region": value})
    assert records.empty and records.attrs["total_rows"] == 0
    assert engine.query(base)["policies"].iloc[0] == everything  # nothing was dropped or changed


EAST = Scope.of(region=["east"])
region_filters = st.lists(st.sampled_from(["north", "east", "south", "central", "west", "' OR TRUE --"]),
                          min_size=1, max_size=3)


@SETTINGS
@given(values=region_filters, op=st.sampled_from(["in", "not_in"]), drill=st.sampled_from([None, "north", "east"]))
def test_row_scope_survives_any_filter_and_drill(engine, values, op, drill):  # noqa: F811
    spec = {"cube": "policies", "rows": ["geography.region"], "measures": ["policies", "written_premium"],
            "filters": [{"dim": "geography.region", "op": op, "values": values}], "totals": True}
    if drill:
        spec["drill"] = {"hierarchy": "geography", "path": [drill]}
        spec["rows"] = ["geography.province"]
    frame = engine.query(spec, scope=EAST)
    inside = engine.query({**spec, "filters": spec["filters"] + [
        {"dim": "geography.region", "op": "eq", "values": ["east"]}]})
    total = frame[frame["_row_depth"] == 0]
    expected = inside[inside["_row_depth"] == 0]["written_premium"].iloc[0]
    assert total["written_premium"].iloc[0] == pytest.approx(expected, rel=1e-12)
    if not drill:
        assert set(frame.loc[frame["_row_depth"] == 1, "geography.region"]) <= {"east"}


def test_row_scope_holds_for_drill_through_members_and_contribution(engine, tables):  # noqa: F811
    spec = {"cube": "policies", "rows": ["geography.region"], "measures": ["policies"]}
    records = engine.drill_through(spec, {"geography.region": "north"}, scope=EAST)
    assert records.attrs["total_rows"] == 0
    east_branches = set(engine.members("policies", "geography.branch", scope=EAST)["key"])
    everything = engine.drill_through(spec, {}, scope=EAST, limit=10_000)
    assert set(everything["branch_id"]) <= east_branches
    assert list(engine.members("policies", "geography.region", scope=EAST)["key"]) == ["east"]
    customers = engine.query({"cube": "contribution", "rows": ["geography.region"], "measures": ["customers"]},
                             scope=EAST)
    assert list(customers["geography.region"]) == ["east"]


def test_empty_or_unknown_scope_shows_nothing(engine):  # noqa: F811
    frame = engine.query({"cube": "policies", "measures": ["policies"]}, scope=Scope.of(region=[]))
    assert frame["policies"].iloc[0] == 0
    with pytest.raises(SpecError, match="cannot apply a row scope on 'team'"):
        engine.query({"cube": "policies", "measures": ["policies"]}, scope=Scope.of(team=["T1"]))


@pytest.mark.parametrize("cube_name, level", [
    (c.name, ref) for c in (cube_by_name(n) for n in ("policies", "contribution", "service", "agents"))
    for ref in c.level_names if not c.hierarchy(ref.split(".")[0]).filter_only])
def test_every_level_accounts_for_every_row(engine, cube_name, level):  # noqa: F811
    measure = next(m.name for m in cube_by_name(cube_name).measures if m.additive)
    whole = engine.query({"cube": cube_name, "measures": [measure]})[measure].iloc[0]
    frame = engine.query({"cube": cube_name, "rows": [level], "measures": [measure], "totals": True})
    total, parts = total_and_parts(frame)
    assert total[measure] == pytest.approx(whole) and parts[measure].sum() == pytest.approx(whole)
    assert parts[f"{level}|zh"].notna().all() and (total[f"{level}|en"] == "Total")
    assert not parts[level].duplicated().any()
