"""Record exports (Engine.iter_records, /export/<view>.csv?kind=records): the rows behind a pivot, a
filtered slice, one cell and a row scope are exactly the raw rows a hand-written query over the
tables finds, with the same columns in the same order (by record id, then record type), whether
they are ordered within the export's memory cap or, when even spilling does not fit it, on the
engine's own connection."""
from __future__ import annotations

import io
import json
import re

import duckdb
import pandas as pd
import pytest

from cubes.engine import Engine
from cubes.scope import Scope
from cubes.spec import QuerySpec
from cubes.sql import compile_records
from tests.test_access_serving import export, raw, read_csv, served, sign_in  # noqa: F401

MONTHS = ["2026-10-01", "2026-10-31"]
PIVOT = {"cube": "policies", "rows": ["geography.region", "channel"], "columns": ["product.line"],
         "measures": ["written_premium"], "filters": [{"dim": "time.month", "op": "between", "values": MONTHS}],
         "totals": True}
RECORD = ["kind", "record_id", "d", "customer_id", "product_code", "channel_code", "branch_id", "status"]

# --- the oracle: premium payments and paid claims, with their policy's attributes, from the raw tables
ORACLE = """
WITH records AS (
    SELECT 'premium' AS kind, CAST(payment_id AS VARCHAR) AS record_id, paid_date AS d, policy_id,
           CAST(NULL AS DOUBLE) AS claims_paid, amount AS written_premium
    FROM fact_premium WHERE paid_date IS NOT NULL
    UNION ALL
    SELECT 'claim', claim_id, coalesce(decision_date, report_date), policy_id, amount_paid, NULL
    FROM fact_claim WHERE amount_paid IS NOT NULL
)
SELECT r.kind, r.record_id, strftime(r.d, '%Y-%m-%d') AS d, p.customer_id, p.product_code,
       CAST(p.channel_code AS VARCHAR) AS channel_code, p.branch_id, CAST(p.status AS VARCHAR) AS status,
       {measures}
FROM records r
JOIN fact_policy p ON p.policy_id = r.policy_id
JOIN dim_branch b ON b.branch_id = p.branch_id
JOIN dim_city ci ON ci.city_code = b.city_code
JOIN dim_province pv ON pv.province_code = ci.province_code
JOIN dim_product pd ON pd.product_code = p.product_code
WHERE r.d BETWEEN DATE '2026-10-01' AND DATE '2026-10-31' AND r.kind IN ({kinds}) AND {where}
ORDER BY r.record_id, r.kind
"""

CASES = {
    "pivot": (PIVOT, {}, None, "TRUE"),
    "filter": ({**PIVOT, "filters": PIVOT["filters"] + [{"dim": "channel", "op": "in",
                                                         "values": ["bancassurance", "telesales"]}]},
               {}, None, "CAST(p.channel_code AS VARCHAR) IN ('bancassurance', 'telesales')"),
    "cell": (PIVOT, {"geography.region": "east", "product.line": "life"}, None,
             "CAST(pv.region_code AS VARCHAR) = 'east' AND CAST(pd.line_code AS VARCHAR) = 'life'"),
    "scope": (PIVOT, {}, Scope.of(region=["south"]), "CAST(pv.region_code AS VARCHAR) = 'south'"),
    # a ratio's records are the rows of both its parts: claims interleave with payments by record id
    "ratio cell": ({**PIVOT, "measures": ["loss_ratio"]}, {"channel": "agency"}, None,
                   "CAST(p.channel_code AS VARCHAR) = 'agency'"),
}


@pytest.fixture(scope="module")
def engine(demo_warehouse):
    return Engine(demo_warehouse)


def expected_records(raw, spec: dict, where: str) -> pd.DataFrame:
    ratio = spec["measures"] == ["loss_ratio"]
    sql = ORACLE.format(measures="r.claims_paid, r.written_premium" if ratio else "r.written_premium",
                        kinds="'premium', 'claim'" if ratio else "'premium'", where=where)
    return raw.execute(sql).df()


def as_rows(frame: pd.DataFrame) -> list[tuple]:
    """Each row as plain values, as a CSV reader would compare them (no value is None vs NaN)."""
    return [tuple(None if pd.isna(v) else (v if isinstance(v, float) else str(v)) for v in row)
            for row in frame.itertuples(index=False)]


@pytest.mark.parametrize("case", list(CASES))
def test_exported_records_are_the_raw_rows_in_record_order(engine, raw, case):  # noqa: F811
    spec, cell, scope, where = CASES[case]
    batches = list(engine.iter_records(spec, scope=scope, cell=cell, batch_rows=20_000))
    got = pd.concat(batches, ignore_index=True)
    expected = expected_records(raw, spec, where)
    assert len(expected) > 1_000  # a slice worth checking
    assert list(got.columns) == RECORD + [c for c in ("claims_paid", "written_premium") if c in expected.columns]
    assert list(got.columns) == list(expected.columns)
    assert as_rows(got) == as_rows(expected)
    assert all(len(b) <= 20_000 for b in batches) and len(batches) == -(-len(expected) // 20_000)


def test_records_too_many_to_order_within_the_cap_are_read_on_the_engine(engine, raw, demo_warehouse,  # noqa: F811
                                                                         monkeypatch):
    spec, cell, scope, where = CASES["ratio cell"]
    monkeypatch.setenv("POLICYCUBE_EXPORT_MEMORY", "8MB")
    # the precondition: within 8 MB DuckDB cannot order these records, even spilling
    query = QuerySpec.from_dict(spec)
    sql, params, _count, _count_params = compile_records(query.definition, query, cell, scope, 2**62, 0)
    capped = duckdb.connect(":memory:")
    capped.execute(f"ATTACH '{demo_warehouse}' AS warehouse (READ_ONLY)")
    capped.execute("USE warehouse")
    capped.execute("SET memory_limit = '8MB'")
    with pytest.raises(duckdb.OutOfMemoryException):
        capped.execute(sql, params).fetchmany(1)
    capped.close()
    got = pd.concat(engine.iter_records(spec, scope=scope, cell=cell), ignore_index=True)
    assert as_rows(got) == as_rows(expected_records(raw, spec, where))


def test_a_malformed_export_memory_setting_is_named(engine, monkeypatch):
    monkeypatch.setenv("POLICYCUBE_EXPORT_MEMORY", "lots")
    with pytest.raises(ValueError, match="POLICYCUBE_EXPORT_MEMORY"):
        next(engine.iter_records(PIVOT))


def test_the_records_csv_lists_them_in_record_order_by_their_labels_with_plain_dates(served, raw):  # noqa: F811
    """What a person reads: the record type, product, channel, branch and status by name (product and
    branch codes kept beside them), dates without a time of day, the amount's unit in its header."""
    _line, rows = read_csv(export(sign_in(served, "demo-exec"), PIVOT, "records"))
    expected = expected_records(raw, PIVOT, "TRUE")
    products = dict(raw.execute("SELECT product_code, name_en FROM dim_product").fetchall())
    branches = dict(raw.execute("SELECT branch_id, name_en FROM dim_branch").fetchall())
    channels = dict(raw.execute("SELECT CAST(channel_code AS VARCHAR), name_en FROM dim_channel").fetchall())
    statuses = dict(raw.execute("SELECT code, name_en FROM dim_code WHERE kind = 'policy_status'").fetchall())
    assert list(rows[0]) == ["Record type", "Record id", "Date", "Customer id", "Product", "Product code", "Channel",
                             "Branch", "Branch code", "Policy status", "Written premium (CNY)"]
    assert [tuple(r.values())[:-1] for r in rows] == [
        ("Premium payment", e.record_id, e.d, e.customer_id, products[e.product_code], e.product_code,
         channels[e.channel_code], branches[e.branch_id], e.branch_id, statuses[e.status])
        for e in expected.itertuples()]
    assert [float(r["Written premium (CNY)"]) for r in rows] == list(expected["written_premium"])


def test_a_records_workbook_beyond_a_worksheet_is_refused_in_the_users_language(served, raw, monkeypatch):  # noqa: F811
    import callbacks.downloads
    client = sign_in(served, "demo-exec")
    count = len(expected_records(raw, PIVOT, "TRUE"))
    monkeypatch.setattr(callbacks.downloads, "EXCEL_ROWS", count + 1)  # one row short: the header takes two
    asked = {"spec": json.dumps(PIVOT), "lang": "zh", "kind": "records"}
    refused = client.get("/export/pivot.xlsx", query_string=asked)
    assert refused.status_code == 413 and refused.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert refused.data.decode() == f"明细共 {count:,} 条，超过 Excel 单个工作表的上限（{count - 1:,} 行）：请缩小筛选范围，或导出 CSV。\n"
    monkeypatch.setattr(callbacks.downloads, "EXCEL_ROWS", count + 2)  # exactly full
    sent = client.get("/export/pivot.xlsx", query_string=asked)
    assert sent.status_code == 200
    assert sent.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert len(pd.read_excel(io.BytesIO(sent.data), header=1)) == count
    csv = client.get("/export/pivot.csv", query_string=asked)
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset, not two
    # the page's question before the download (layouts/assets/export_links.js): the same refusal, answered
    monkeypatch.setattr(callbacks.downloads, "EXCEL_ROWS", count + 1)
    asked_first = client.get("/export/pivot.xlsx", query_string={**asked, "check": "1"})
    assert asked_first.status_code == 200 and asked_first.json == {"refused": refused.data.decode().rstrip("\n")}
    monkeypatch.setattr(callbacks.downloads, "EXCEL_ROWS", count + 2)
    assert client.get("/export/pivot.xlsx", query_string={**asked, "check": "1"}).json == {"refused": None}
    bad = client.get("/export/pivot.csv", query_string={**asked, "spec": "{", "check": "1"}).json["refused"]
    assert bad.startswith("导出请求无效")  # the sentence in the asked language, then the detail


CUSTOMERS = """
SELECT customer_id, sum(premium) AS premium, sum(commission) AS commission, sum(contribution) AS contribution
FROM mart_customer_month m
WHERE m.month BETWEEN DATE '2026-10-01' AND DATE '2026-10-31'
GROUP BY customer_id
"""


def test_records_amounts_are_written_to_the_fen_without_float_noise(served, raw):  # noqa: F811
    """A customer's contribution records sum monthly accruals (370196.66000000003 from the engine):
    the CSV writes yuan with at most two decimals, equal to the mart's sums rounded."""
    spec = {"cube": "contribution", "measures": ["premium", "commission", "contribution"],
            "filters": [{"dim": "time.month", "op": "between", "values": MONTHS},
                        {"dim": "geography.region", "op": "in", "values": ["north"]}]}
    _line, rows = read_csv(export(sign_in(served, "demo-exec"), spec, "records", view="contribution"))
    headers = ["Premium (CNY)", "Commission (CNY)", "Contribution (CNY)"]
    assert len(rows) > 100
    cells = [r[h] for r in rows for h in headers if r[h] != ""]
    assert all(re.fullmatch(r"-?\d+(\.\d{1,2})?", c) for c in cells), [c for c in cells if "." in c][:5]
    want = raw.execute(CUSTOMERS).df().set_index("customer_id").loc[[r["Record id"] for r in rows]]
    for header, column in zip(headers, ("premium", "commission", "contribution")):
        assert [float(r[header] or 0) for r in rows] == pytest.approx(want[column].fillna(0).round(2).to_numpy(), abs=0.006)


def test_a_records_workbook_the_cube_cannot_answer_is_refused_before_any_byte(served):  # noqa: F811
    """A spec valid on its own whose drill would group a level twice: a 400 with the sentence, asked
    first or not, never a 500."""
    spec = {"cube": "agents", "rows": ["agent.agent", "agent.team"], "measures": ["visits"],
            "drill": {"hierarchy": "agent", "path": ["B11010001"]}}
    client = sign_in(served, "demo-exec")
    asked = {"spec": json.dumps(spec), "lang": "en", "kind": "records"}
    refused = client.get("/export/agents.xlsx", query_string=asked)
    assert refused.status_code == 400 and refused.data.decode().startswith("This export request is not valid")
    answer = client.get("/export/agents.xlsx", query_string={**asked, "check": "1"}).json["refused"]
    assert answer.startswith("This export request is not valid") and "twice" in answer
