"""The company a measure compares with is aggregated once per statement: every index of the agents
league reads the league's own grand total, or one row of company values when a drill narrows the
league, instead of aggregating the company's rows again in a subquery of its own (at 10x that
repetition ran out of memory). The values themselves are checked against pandas in
tests/test_agents_page_measures.py and tests/test_cubes_agents_company.py (with and without a
drill), and against the raw source in tests/test_rollups.py."""
from __future__ import annotations

from cubes.catalog import cube_by_name
from cubes.spec import QuerySpec
from cubes.sql import CompanyValues, company_parts, compile_query

MONTHS = [{"dim": "time.month", "op": "between", "values": ["2025-01-01", "2025-10-31"]}]


def league(**extra) -> str:
    cube = cube_by_name("agents")
    indices = [m for m in cube.measure_names if m.endswith("_index") and m != "conversion_index"]
    spec = QuerySpec.from_dict({"cube": "agents", "rows": ["agent.agent"], "measures": ["fyp_sold", *indices],
                                "filters": MONTHS, "totals": True, **extra})
    return compile_query(cube, spec, None)[0]


def test_the_league_reads_the_company_from_its_own_grand_total():
    """Nothing singled out: the company's rows are the league's rows, its total row is the company."""
    sql = league()
    assert "FROM co_cur" not in sql and "cv_cur" not in sql
    assert sql.count("THEN (") == 9 and sql.count("END) OVER ()") == 9  # one window per index


def test_a_drilled_league_aggregates_the_company_once_for_all_its_indices():
    """A team singled out: the company (without the drill path) is aggregated once, in one row."""
    sql = league(drill={"hierarchy": "agent", "path": ["B0101", "T010101"]})
    assert sql.count("FROM co_cur") == 1 and sql.count("FROM cv_cur)") == 9


def test_a_company_narrowed_per_cell_keeps_its_own_subquery():
    """conversion_index follows the cell's lead source: its company differs from cell to cell."""
    sql = league(rows=["lead_source"], measures=["conversion_index", "fyp_sold_index"], totals=False)
    assert sql.count("FROM cv_cur)") == 1
    assert sql.count("FROM co_cur WHERE (__cell.__k0 IS NULL OR") == 1  # the cell's lead source (__k0)


def test_company_parts_are_found_with_nested_parentheses_and_other_subqueries_left_alone():
    sql = ("(100.0 * (sum(a) / (count(*) + 1)) / NULLIF((SELECT (sum(a) / (count(*) + 1)) FROM {slice}), 0))"
           " + (SELECT max(b) FROM elsewhere)")
    [(start, end, expr)] = company_parts(sql)
    assert expr == "(sum(a) / (count(*) + 1))" and sql[start:end] == f"(SELECT {expr} FROM {{slice}})"
    row = CompanyValues("cv_cur", "co_cur")
    filled = row.fill(sql + " + (SELECT sum(a) FROM {slice})")
    assert "{slice}" not in filled and "(SELECT max(b) FROM elsewhere)" in filled
    assert row.columns == {"(sum(a) / (count(*) + 1))": "__c0", "sum(a)": "__c1"}
    assert row.cte() == ("cv_cur AS MATERIALIZED (SELECT (sum(a) / (count(*) + 1)) AS __c0, sum(a) AS __c1 "
                         "FROM co_cur)")
