"""Exports (cubes/export.py): the workbook reads back as XlsxWriter writes the same cells one by one,
with the filters line above a frozen header; comparison columns are relative changes in % and a
rate's change in points, checked against hand-written SQL, in both the CSV and the workbook."""
from __future__ import annotations

import datetime as dt
import io

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from cubes import export
from cubes.engine import Engine

# --- the workbook against XlsxWriter's own cell-by-cell writing -----------------------------------------
FORMATS = {"Amount (CNY)": "money", "Count": "int", "Rate (%)": "pct", "Change (points)": "points", "Date": "date",
           "None carry it (CNY)": "money"}


def mixed_frame(first: int, rows: int) -> pd.DataFrame:
    """Text with XML's special characters, Chinese and spaces; numbers with gaps; dates as text."""
    i = np.arange(first, first + rows)
    frame = pd.DataFrame({
        "Name": pd.array([f" 华北 <{k}> & 'x' " if k % 7 else None for k in i], dtype="string"),
        "Id": [f"B{k:08d}" for k in i],
        "Amount (CNY)": np.where(i % 5 == 0, np.nan, i * 1234.5678),
        "Count": pd.array([k if k % 3 else None for k in i], dtype="Int64"),
        "Rate (%)": i / 1000,
        "Change (points)": -i / 7,
        "Date": [(dt.date(2021, 9, 11) + dt.timedelta(days=int(k))).isoformat() if k % 4 else None for k in i],
        "Flag": i % 2 == 0,
        "None carry it (CNY)": np.full(len(i), np.nan),  # e.g. claims in a batch of premium records
    })
    frame.attrs["formats"] = FORMATS
    return frame


def reference_workbook(frames: list[pd.DataFrame], line: str) -> bytes:
    """The same cells written one by one through XlsxWriter's public API (the oracle)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    styles = {fmt: book.add_format({"num_format": code}) for fmt, code in export.EXCEL_FORMATS.items()}
    ws = book.add_worksheet()
    ws.write_string(0, 0, line)
    row = 2
    for frame in frames:
        for col, name in enumerate(frame.columns):
            ws.write_string(1, col, name)
        for values in frame.itertuples(index=False):
            for col, (name, value) in enumerate(zip(frame.columns, values)):
                fmt = FORMATS.get(name)
                if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                    continue
                if fmt == "date":
                    ws.write_datetime(row, col, dt.datetime.fromisoformat(value), styles["date"])
                elif fmt:
                    ws.write_number(row, col, float(value), styles[fmt])
                elif isinstance(value, (bool, np.bool_)):
                    ws.write_string(row, col, str(bool(value)))
                else:
                    ws.write_string(row, col, str(value))
            row += 1
    book.close()
    return out.getvalue()


def cells(data: bytes) -> list[list[tuple]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return [[(c.value, c.number_format if c.value is not None else None) for c in row] for row in sheet.iter_rows()]


def test_the_workbook_reads_back_as_xlsxwriter_writes_the_cells_one_by_one():
    frames = [mixed_frame(1, 40), mixed_frame(41, 0), mixed_frame(41, 25)]
    line = "筛选条件: 大区: 华北；月: 2026-01-01 — 2026-10-31"
    written = export.xlsx_file(frames, line, "explore_records").read()
    got, expected = cells(written), cells(reference_workbook([f for f in frames if len(f)], line))
    assert got[0][0] == (line, "General")
    assert [value for value, _ in got[1]] == list(frames[0].columns)
    assert len(got) == 2 + 65
    assert got[2:] == expected[2:]
    # spot checks a person would make: a gap stays empty, a date is a date, text stays text
    assert got[2][0] == (" 华北 <1> & 'x' ", "General") and got[8][0][0] is None
    assert got[3][6] == (dt.datetime(2021, 9, 13), "yyyy-mm-dd") and got[5][6][0] is None
    assert got[2][1] == ("B00000001", "General") and got[2][4] == (0.001, "0.00%")
    sheet = openpyxl.load_workbook(io.BytesIO(written)).worksheets[0]
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:I67"
    assert sheet.dimensions == "A1:I67"


def test_a_workbook_past_a_worksheets_rows_is_refused(monkeypatch):
    monkeypatch.setattr(export, "EXCEL_ROWS", 2 + 50)
    export.xlsx_file([mixed_frame(1, 30), mixed_frame(31, 20)], "line", "ok").close()  # exactly full
    with pytest.raises(export.TooManyRows):
        export.xlsx_file([mixed_frame(1, 30), mixed_frame(31, 21)], "line", "too many")


# --- comparison columns: % for amounts and counts, points for rates, against hand-written SQL -----------
PERIOD, PRIOR = ("2026-01-01", "2026-10-31"), ("2025-01-01", "2025-10-31")
YOY = {"cube": "policies", "rows": ["channel"], "measures": ["policies", "written_premium", "loss_ratio"],
       "compare": "yoy", "filters": [{"dim": "time.month", "op": "between", "values": list(PERIOD)}]}
ORACLE = """
WITH periods AS (SELECT * FROM (VALUES ('now', DATE '{0}', DATE '{1}'), ('before', DATE '{2}', DATE '{3}')) t(p, a, b)),
policies AS (SELECT p, channel_code, count(*) AS n FROM fact_policy, periods WHERE issue_date BETWEEN a AND b GROUP BY ALL),
premium AS (SELECT p, channel_code, sum(amount) AS premium FROM fact_premium JOIN fact_policy USING (policy_id), periods
            WHERE paid_date BETWEEN a AND b GROUP BY ALL),
claims AS (SELECT p, channel_code, sum(amount_paid) AS claims FROM fact_claim JOIN fact_policy USING (policy_id), periods
           WHERE coalesce(decision_date, report_date) BETWEEN a AND b GROUP BY ALL)
SELECT c.name_en AS channel, p, n, premium, claims / premium AS loss_ratio
FROM policies JOIN premium USING (p, channel_code) JOIN claims USING (p, channel_code)
JOIN dim_channel c USING (channel_code)
"""


@pytest.fixture(scope="module")
def oracle(demo_warehouse) -> pd.DataFrame:
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        rows = con.execute(ORACLE.format(*PERIOD, *PRIOR)).df()
    finally:
        con.close()
    wide = rows.pivot(index="channel", columns="p")
    return pd.DataFrame({
        "Policies (change, %)": wide["n"]["now"] / wide["n"]["before"] - 1,
        "Written premium (change, %)": wide["premium"]["now"] / wide["premium"]["before"] - 1,
        "Loss ratio (change, points)": (wide["loss_ratio"]["now"] - wide["loss_ratio"]["before"]) * 100,
        "Loss ratio (%)": wide["loss_ratio"]["now"],
    })


def test_changes_are_relative_in_percent_and_a_rates_in_points(demo_warehouse, oracle):
    shown = export.displayed(Engine(demo_warehouse).query(YOY), "en").set_index("Channel")
    assert list(shown.columns) == [
        "Policies", "Written premium (CNY)", "Loss ratio (%)", "Policies (prior)", "Written premium (prior, CNY)",
        "Loss ratio (prior, %)", "Policies (change, %)", "Written premium (change, %)", "Loss ratio (change, points)"]
    assert shown.attrs["formats"]["Policies (change, %)"] == "pct"
    assert shown.attrs["formats"]["Loss ratio (change, points)"] == "points"
    assert len(oracle) == 6 and (oracle["Policies (change, %)"].abs() > 0.01).all()  # changes worth reading
    for column in oracle.columns:
        assert shown.loc[oracle.index, column].to_numpy() == pytest.approx(oracle[column].to_numpy(), abs=1e-2)

    # the CSV writes percentages as the header says (78.3, not 0.783), the workbook as Excel percentages
    csv = pd.read_csv(io.BytesIO(b"".join(export.csv_chunks([shown.reset_index()], "line"))),
                      encoding="utf-8-sig", skiprows=1).set_index("Channel")
    assert csv.loc[oracle.index, "Policies (change, %)"].to_numpy() == pytest.approx(
        oracle["Policies (change, %)"].to_numpy() * 100, abs=1e-3)
    assert csv.loc[oracle.index, "Loss ratio (change, points)"].to_numpy() == pytest.approx(
        oracle["Loss ratio (change, points)"].to_numpy(), abs=1e-2)
    book = pd.read_excel(export.xlsx_file([shown.reset_index()], "line", "t"), header=1).set_index("Channel")
    assert book.loc[oracle.index, "Policies (change, %)"].to_numpy() == pytest.approx(
        oracle["Policies (change, %)"].to_numpy(), abs=1e-5)
