"""Member lists built at load give the members the raw rows give: every level of every cube,
unscoped and under a region or branch scope; the engine reads them only while they are fresh."""
from __future__ import annotations

import duckdb
import pytest
from pandas.testing import assert_frame_equal

from cubes import member_lists
from cubes.catalog import all_cubes
from cubes.engine import Engine
from cubes.scope import Scope
from tests.test_cubes_fixtures import small_warehouse_path

CASES = [(name, ref) for name, cube in all_cubes().items() for ref in member_lists.listed_levels(cube)]


@pytest.fixture(scope="module")
def raw() -> Engine:
    return Engine(small_warehouse_path(), rollups=False)


@pytest.fixture(scope="module")
def listed() -> Engine:
    engine = Engine(small_warehouse_path(), rollups=True)
    assert engine._listed_cubes() == set(all_cubes()), "a cube's member list was not built at load"
    return engine


def scopes(raw: Engine) -> list[Scope | None]:
    branches = raw._run("SELECT branch_id FROM dim_branch ORDER BY branch_id LIMIT 3", {})["branch_id"].tolist()
    return [None, Scope.of(region=["east", "north"]), Scope.of(branch=branches)]


@pytest.mark.parametrize(("cube", "level"), CASES, ids=[f"{c}-{lv}" for c, lv in CASES])
def test_every_level_lists_the_raw_members(raw, listed, cube, level):
    for scope in scopes(raw):
        if scope is not None and not member_lists.answers(all_cubes()[cube], level, scope):
            continue
        assert_frame_equal(listed.members(cube, level, scope), raw.members(cube, level, scope), obj=f"{scope}")


def test_channels_are_those_policies_and_applications_were_sold_through(listed):
    """An oracle apart from the engine: the channels the policies cube's events carry."""
    con = duckdb.connect(str(small_warehouse_path()), read_only=True)
    try:
        expected = {r[0] for r in con.execute(
            "SELECT CAST(channel_code AS VARCHAR) FROM fact_policy UNION "
            "SELECT CAST(channel_code AS VARCHAR) FROM fact_underwriting").fetchall()}
    finally:
        con.close()
    assert set(listed.members("policies", "channel")["key"].astype(str)) == expected


def test_a_stale_list_is_not_read(tmp_path, raw):
    """After a definition change (here: a fingerprint that no longer matches) the raw rows answer."""
    path = tmp_path / "w.duckdb"
    path.write_bytes(small_warehouse_path().read_bytes())
    con = duckdb.connect(str(path))
    try:
        con.execute("UPDATE rollup_meta SET fingerprint = 'old' WHERE table_name = 'members_policies'")
        con.execute("DELETE FROM members_policies WHERE __level = 'channel'")  # what a stale table may lack
    finally:
        con.close()
    engine = Engine(path, rollups=True)
    assert "policies" not in engine._listed_cubes()
    assert_frame_equal(engine.members("policies", "channel"), raw.members("policies", "channel"))
