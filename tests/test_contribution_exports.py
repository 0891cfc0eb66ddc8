"""The contribution page's own exports (/export/contribution.csv|xlsx?kind=whale|losses|policy) are
written as every other export: each header names its unit (元 / CNY, %), shares in percent in the
CSV and as percentages in a % format in the workbook, amounts in a money format, reasons by name.
The whale curve and the loss-making list equal hand-written SQL over the warehouse's customer mart."""
from __future__ import annotations

import io
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from layouts.i18n import t
from tests.test_access_serving import raw, read_csv, served, sign_in  # noqa: F401

PER_CUSTOMER = """
    SELECT customer_id, sum(premium) AS premium, sum(claims_paid) AS claims, sum(contribution) AS contribution
    FROM mart_customer_month GROUP BY customer_id
"""
WHOLE = {"cube": "contribution", "measures": ["contribution"], "filters": []}
HEADERS = {
    "whale": {"zh": ["客户占比（按贡献从高到低）（%）", "客户数", "累计贡献占总贡献（%）", "贡献（元）"],
              "en": ["Share of customers (highest contribution first) (%)", "Customers",
                     "Cumulative share of total contribution (%)", "Contribution (CNY)"]},
}


def get(client, kind: str, lang: str, fmt: str = "csv", spec: dict = WHOLE, **extra):
    return client.get(f"/export/contribution.{fmt}",
                      query_string={"spec": json.dumps(spec), "lang": lang, "kind": kind, **extra})


def workbook(response) -> tuple[pd.DataFrame, openpyxl.worksheet.worksheet.Worksheet]:
    assert response.status_code == 200, response.data[:300]
    data = io.BytesIO(response.data)
    return pd.read_excel(data, header=1), openpyxl.load_workbook(data).worksheets[0]


@pytest.fixture(scope="module")
def customers(raw) -> pd.DataFrame:  # noqa: F811
    return raw.execute(PER_CUSTOMER).df()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_whale_export_is_the_ranked_customers_cumulative_contribution(served, customers, lang):  # noqa: F811
    client = sign_in(served, "demo-exec")
    _line, rows = read_csv(get(client, "whale", lang))
    frame = pd.DataFrame(rows).astype(float)
    assert list(frame.columns) == HEADERS["whale"][lang]
    x, n, y, amount = frame.columns
    ranked = np.sort(customers["contribution"].to_numpy())[::-1]
    cumulative = np.cumsum(ranked)
    k = frame[n].astype(int).to_numpy()
    assert len(frame) > 100 and k[-1] == len(ranked)
    assert frame[amount].to_numpy() == pytest.approx(cumulative[k - 1], abs=0.01)
    # shares in percent, as the headers say
    assert frame[x].to_numpy() == pytest.approx(k / len(ranked) * 100, abs=1e-4)
    assert frame[y].to_numpy() == pytest.approx(cumulative[k - 1] / cumulative[-1] * 100, abs=1e-4)

    book, sheet = workbook(get(client, "whale", lang, "xlsx"))
    assert list(book.columns) == HEADERS["whale"][lang]
    assert book[y].to_numpy() == pytest.approx(cumulative[k - 1] / cumulative[-1], abs=1e-6)  # a percentage
    assert sheet["A3"].number_format == "0.00%" and sheet["C3"].number_format == "0.00%"
    assert sheet["B3"].number_format == "#,##0" and sheet["D3"].number_format == "#,##0.00"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_loss_makers_export_names_units_and_reasons_and_equals_the_mart(served, customers, lang):  # noqa: F811
    client = sign_in(served, "demo-exec")
    _line, rows = read_csv(get(client, "losses", lang, reason="high_claims"))
    frame = pd.DataFrame(rows)
    yuan = "（元）" if lang == "zh" else " (CNY)"
    contribution, premium, claims = (t(f"contribution.col.{c}", lang) + yuan for c in ("contribution", "premium", "claims"))
    ident, reason = t("contribution.col.customer", lang), t("contribution.col.reason", lang)
    assert all(c.endswith(yuan) for c in frame.columns[2:])
    assert len(frame) > 10 and set(frame[reason]) == {t("contribution.reason.high_claims", lang)}
    want = customers.set_index("customer_id").loc[frame[ident]]
    for column, oracle in ((contribution, "contribution"), (premium, "premium"), (claims, "claims")):
        assert frame[column].astype(float).to_numpy() == pytest.approx(want[oracle].to_numpy(), abs=0.01)
    assert (frame[contribution].astype(float) < 0).all()

    book, sheet = workbook(get(client, "losses", lang, "xlsx", reason="high_claims"))
    assert list(book.columns) == list(frame.columns)
    assert sheet["C3"].data_type == "n" and sheet["C3"].value < 0 and sheet["C3"].number_format == "#,##0.00"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_service_policy_export_writes_its_saving_share_in_percent(served, lang):  # noqa: F811
    client = sign_in(served, "demo-exec")
    spec = {"cube": "contribution", "rows": ["geography.region"], "measures": ["contribution"], "filters": []}
    _line, rows = read_csv(get(client, "policy", lang, spec=spec, adopt="50"))
    frame = pd.DataFrame(rows)
    share = t("contribution.col.saving_share", lang) + ("（%）" if lang == "zh" else " (%)")
    saving = t("contribution.col.saving", lang) + ("（元）" if lang == "zh" else " (CNY)")
    assert {share, saving, t("contribution.col.segment", lang)} <= set(frame.columns)
    shares = pd.to_numeric(frame[share], errors="coerce").dropna()
    assert len(shares) and (shares > 1).any() and (shares < 100).all()  # percent, not a fraction

    book, sheet = workbook(get(client, "policy", lang, "xlsx", spec=spec, adopt="50"))
    column = list(book.columns).index(share)
    cells = [row[column] for row in sheet.iter_rows(min_row=3) if row[column].value is not None]
    assert cells and all(c.number_format == "0.00%" and c.value < 1 for c in cells)
    assert pd.to_numeric(book[share], errors="coerce").dropna().to_numpy() == pytest.approx(shares.to_numpy() / 100,
                                                                                             abs=1e-6)
