"""Single customer view in a real browser: a demo customer's policies, payments, claims, underwriting,
events and visits are exactly the raw tables' rows; search suggests and opens customers; an unknown
id says so."""
from __future__ import annotations

import json
import re

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from cubes.rules import load_rules
from layouts import numbers
from tests.e2e.conftest import click_label, console_errors, screenshot
from tests.e2e.test_dates import _caption, _day, _open_picker, _step
from tests.test_periods_days import FLOWS_SQL, contribution_of

pytestmark = pytest.mark.e2e

AS_OF, GRACE_DAYS = "2026-10-31", 60  # data/params.toml

# A customer with several policies, a claim, a missed instalment, service events and agent visits.
KNOWN_CUSTOMER = f"""
    WITH pol AS (SELECT customer_id FROM fact_policy GROUP BY 1 HAVING count(*) >= 3),
    claimed AS (SELECT DISTINCT p.customer_id FROM fact_claim c JOIN fact_policy p USING (policy_id)),
    missed AS (SELECT DISTINCT p.customer_id FROM fact_premium f JOIN fact_policy p USING (policy_id)
               WHERE f.paid_date IS NULL AND f.due_date + {GRACE_DAYS} < DATE '{AS_OF}'),
    served AS (SELECT customer_id FROM fact_service_event GROUP BY 1 HAVING count(*) >= 3),
    visited AS (SELECT DISTINCT customer_id FROM fact_visit WHERE customer_id IS NOT NULL),
    -- the premium chart's legend is read: first-year and renewal premium both paid
    renewed AS (SELECT DISTINCT p.customer_id FROM fact_premium f JOIN fact_policy p USING (policy_id)
                WHERE f.policy_year >= 2 AND f.paid_date IS NOT NULL AND p.payment_frequency <> 'single')
    SELECT customer_id FROM pol JOIN claimed USING (customer_id) JOIN missed USING (customer_id)
    JOIN served USING (customer_id) JOIN visited USING (customer_id) JOIN renewed USING (customer_id)
    ORDER BY customer_id LIMIT 1"""


def _rows(path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _same(rows) -> list[tuple]:
    """Rows in one order with numbers as rounded floats (the browser gives 41 for 41.0)."""
    return sorted((tuple(round(float(v), 2) if isinstance(v, (int, float)) else v for v in r) for r in rows), key=repr)


def _grid(duo, name: str, fields: list[str]) -> list[tuple]:
    grid_id = json.dumps({"grid": name, "role": "customer-grid"}, separators=(",", ":"))
    rows = duo.driver.execute_script(
        f"let api; try {{ api = dash_ag_grid.getApi({grid_id!r}); }} catch (e) {{ return null; }}"
        "const out = []; api.forEachNode(n => out.push(n.data)); return out;")
    assert rows is not None, f"grid {name} not found"
    return _same(tuple(row.get(f) for f in fields) for row in rows)


def _texts(duo, selector: str) -> list[str]:
    """The text a person reads in each element, top to bottom, spaces collapsed (SVG keeps them)."""
    return [" ".join(text.split()) for text in duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(e => [e.getBoundingClientRect().top, e.textContent]).sort((a, b) => a[0] - b[0]).map(p => p[1]);",
        selector)]


def _cut_texts(duo) -> list[str]:
    """Grid cells and headers whose text does not fit and is shown cut to "…"."""
    return duo.driver.execute_script("""
        return Array.from(document.querySelectorAll(
            '#customer-content .ag-cell, #customer-content .ag-cell-value, #customer-content .ag-header-cell-text'))
          .filter(e => e.textContent && e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);""")


def _reads_right(duo, lang: str, premium: float, contribution: float) -> None:
    """The waterfall's rows, axis and the premium chart's legend and axis, as they read on screen."""
    names = {"zh": ("保费", "贡献", "金额（元）", ["首年保费", "续期保费"]),
             "en": ("Premium", "Contribution", "Amount (CNY)", ["First-year premium", "Renewal premium"])}[lang]
    duo.wait_for_contains_text("#customer-waterfall .xtitle", names[2], timeout=30)
    rows = _texts(duo, "#customer-waterfall .ytick text")
    minus = f"{contribution:,.0f}".replace("-", "\u2212")   # a loss with the typographic minus
    assert rows[0] == f"{names[0]} {premium:,.0f}" and rows[-1] == f"{names[1]} {minus}", rows
    # the mode bar sits above the bars, not over the premium's
    covered = duo.driver.execute_script("""
        const m = document.querySelector('#customer-waterfall .modebar').getBoundingClientRect();
        return Array.from(document.querySelectorAll('#customer-waterfall .point path')).map(p => p.getBoundingClientRect())
            .filter(b => b.width > 0 && b.left < m.right && m.left < b.right && b.top < m.bottom && m.top < b.bottom).length;""")
    assert covered == 0
    assert _texts(duo, "#customer-payments-chart .ytitle") == [names[2]]
    legend = _texts(duo, "#customer-payments-chart .legendtext")
    assert legend[:2] == names[3], legend
    content = duo.find_element("#customer-content").text
    assert not re.search(r"\b(nan|None|NaN|undefined)\b", content)
    assert _cut_texts(duo) == []


def test_known_customer_lists_exactly_their_records(dashboard, demo_warehouse):
    [(cid,)] = _rows(demo_warehouse, KNOWN_CUSTOMER)
    dashboard.driver.get(f"{dashboard.server_url}/customer?id={cid}")
    dashboard.wait_for_contains_text("#customer-profile", cid, timeout=40)
    path = demo_warehouse

    policies = _rows(path, "SELECT policy_id, CAST(issue_date AS VARCHAR) FROM fact_policy WHERE customer_id = ?", [cid])
    assert _grid(dashboard, "policies", ["policy_id", "issue_date"]) == _same(policies)
    payments = _rows(path, """
        SELECT f.policy_id, CAST(f.due_date AS VARCHAR), CAST(f.paid_date AS VARCHAR), f.amount, f.policy_year
        FROM fact_premium f JOIN fact_policy p USING (policy_id) WHERE p.customer_id = ?""", [cid])
    assert _grid(dashboard, "premiums", ["policy_id", "due_date", "paid_date", "amount", "policy_year"]) == _same(payments)
    missed = _rows(path, f"""
        SELECT f.policy_id, CAST(f.due_date AS VARCHAR) FROM fact_premium f JOIN fact_policy p USING (policy_id)
        WHERE p.customer_id = ? AND f.paid_date IS NULL AND f.due_date + {GRACE_DAYS} < DATE '{AS_OF}'""", [cid])
    assert [r[:2] for r in _grid(dashboard, "premiums", ["policy_id", "due_date", "state"]) if r[2] == "missed"] \
        == _same(missed)
    gaps = dashboard.find_element("#customer-gaps").text
    assert all(policy in gaps for policy, _ in missed)
    claims = _rows(path, """SELECT c.claim_id, CAST(c.decision AS VARCHAR), c.amount_paid FROM fact_claim c
                            JOIN fact_policy p USING (policy_id) WHERE p.customer_id = ?""", [cid])
    assert _grid(dashboard, "claims", ["claim_id", "decision", "amount_paid"]) == _same(claims)
    applications = _rows(path, "SELECT application_id, CAST(decision AS VARCHAR) FROM fact_underwriting WHERE customer_id = ?", [cid])
    assert _grid(dashboard, "underwriting", ["application_id", "decision"]) == _same(applications)
    visits = _rows(path, "SELECT CAST(visit_date AS VARCHAR), minutes FROM fact_visit WHERE customer_id = ?", [cid])
    assert _grid(dashboard, "visits", ["visit_date", "minutes"]) == _same(visits)
    events = _rows(path, "SELECT event_id FROM fact_service_event WHERE customer_id = ?", [cid])
    details = dashboard.driver.execute_script(  # every item, scrolled out of view or not
        "return Array.from(document.querySelectorAll('#customer-events .customer-event-detail'), e => e.textContent);")
    shown = [int(re.search(r"#(\d+)$", d).group(1)) for d in details]
    assert sorted(shown) == sorted(e for (e,) in events)

    # the waterfall ends at the customer's contribution, its first bar is the premium they paid
    [(premium, contribution)] = _rows(path, """
        SELECT (SELECT sum(f.amount) FROM fact_premium f JOIN fact_policy p USING (policy_id)
                WHERE p.customer_id = $1 AND f.paid_date IS NOT NULL),
               (SELECT sum(contribution) FROM mart_customer_month WHERE customer_id = $1)""", [cid])
    bars = dashboard.driver.execute_script(
        "const g = document.querySelector('#customer-waterfall .js-plotly-plot'); return Array.from(g._fullData[0].x);")
    assert bars[0] == pytest.approx(premium, abs=0.01) and bars[-1] == pytest.approx(contribution, abs=0.01)
    _reads_right(dashboard, "zh", premium, contribution)

    # labels, not codes: each policy's status and each event's type as dim_code names them
    statuses = _rows(path, """SELECT d.name_zh FROM fact_policy p JOIN dim_code d
                              ON d.kind = 'policy_status' AND d.code = CAST(p.status AS VARCHAR) WHERE p.customer_id = ?""", [cid])
    assert sorted(_texts(dashboard, "#customer-content .ag-cell[col-id=status_label]")) == sorted(s for (s,) in statuses)
    kinds = {k for (k,) in _rows(path, """SELECT d.name_zh FROM fact_service_event e JOIN dim_code d
                                          ON d.kind = 'event_type' AND d.code = CAST(e.event_type AS VARCHAR)
                                          WHERE e.customer_id = ?""", [cid])}
    titles = _texts(dashboard, "#customer-events .mantine-Timeline-itemTitle")
    assert len(titles) == len(events) and {title.split(" ", 1)[1] for title in titles} == kinds
    assert not console_errors(dashboard)
    screenshot(dashboard, "customer_zh")
    dashboard.driver.set_window_size(390, 844)
    dashboard.wait_for_contains_text("#customer-waterfall .xtitle", "金额（元）")
    assert _cut_texts(dashboard) == []  # a phone scrolls a grid sideways rather than cutting an id
    assert dashboard.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(dashboard, "customer_narrow_zh", width=390)
    dashboard.driver.set_window_size(1280, 900)

    click_label(dashboard, "English")
    dashboard.wait_for_contains_text("#customer-rank", "Contribution rank", timeout=30)
    assert f"id={cid}" in dashboard.driver.current_url and "lang=en" in dashboard.driver.current_url
    _reads_right(dashboard, "en", premium, contribution)
    screenshot(dashboard, "customer_en")
    dashboard.driver.set_window_size(390, 844)
    dashboard.wait_for_contains_text("#customer-waterfall .xtitle", "Amount (CNY)")
    assert _cut_texts(dashboard) == []
    screenshot(dashboard, "customer_narrow_en", width=390)


def test_two_days_picked_that_cut_months_give_the_contribution_pages_numbers(dashboard, demo_warehouse):
    """May 15 to June 15 cuts both months: the waterfall and the rank count the flows of those days
    and a share of each month's spread by its days, as the contribution page does (FLOWS_SQL)."""
    low, high = "2026-05-15", "2026-06-15"
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        flows = con.execute(FLOWS_SQL, {"low": low, "high": high}).df().set_index("customer_id")
    flows["contribution"] = contribution_of(flows)
    # a customer with premium and a spread in the range whose contribution no other customer's comes
    # within a cent of (the rank on screen is then exact)
    values = flows["contribution"].sort_values()
    alone = (values.diff().abs() > 0.01) & (values.diff(-1).abs() > 0.01)
    candidates = flows[(flows["premium"] > 0) & (flows["investment_spread"] != 0)].index
    cid = sorted(set(candidates) & set(alone[alone].index))[0]
    premium, contribution = flows.loc[cid, "premium"], flows.loc[cid, "contribution"]
    rank = 1 + int((flows["contribution"] > contribution).sum())

    dashboard.driver.get(f"{dashboard.server_url}/customer?id={cid}")
    dashboard.wait_for_contains_text("#customer-profile", cid, timeout=40)
    # until a range is picked the view holds the whole history, and the period chip says so
    as_of = load_rules().as_of.isoformat()
    dashboard.wait_for_text_to_equal("#filter-period-chip", f"期间：全部历史（截至 {as_of}）", timeout=30)
    _open_picker(dashboard)
    while _caption(dashboard) != "2026年5月":
        _step(dashboard, "previous")
    _day(dashboard, 15)
    _step(dashboard, "next")
    _day(dashboard, 15)
    dashboard.find_element("#filter-apply").click()
    dashboard.wait_for_contains_text("#customer-period", f"{low} 至 {high}", timeout=30)
    dashboard.wait_for_text_to_equal("#filter-period-chip", f"期间：{low} — {high}", timeout=30)
    dashboard.wait_for_contains_text(
        "#customer-rank", f"第 {numbers.integer(rank)} 位 / 共 {numbers.integer(len(flows))} 位客户", timeout=40)
    rows = _texts(dashboard, "#customer-waterfall .ytick text")  # the premium chart's legend may hold one kind
    assert rows[0] == f"保费 {numbers.decimal(premium, 0)}" and rows[-1] == f"贡献 {numbers.decimal(contribution, 0)}", rows
    ticks = _texts(dashboard, "#customer-payments-chart .xtick text")  # a month or two: one tick a month
    assert ticks and len(set(ticks)) == len(ticks), ticks
    screenshot(dashboard, "customer_cut_months_zh")
    assert not console_errors(dashboard)


def test_search_suggests_and_opens_a_customer_and_unknown_ids_say_so(dashboard, demo_warehouse):
    [(cid, name)] = _rows(demo_warehouse, """
        SELECT customer_id, name FROM dim_customer WHERE customer_type = 'individual'
        ORDER BY customer_id LIMIT 1 OFFSET 4242""")
    matches = _rows(demo_warehouse, "SELECT count(*) FROM dim_customer WHERE name LIKE ?", [f"%{name}%"])[0][0]
    dashboard.driver.get(f"{dashboard.server_url}/customer")
    dashboard.wait_for_contains_text("#customer-notice", "输入客户编号或姓名", timeout=30)
    box = dashboard.find_element("#customer-search")
    box.click()
    box.send_keys(name)
    dashboard.wait_for_element(f"[role=option][value='{cid}']", timeout=30)
    options = dashboard.driver.find_elements(By.CSS_SELECTOR, "[role=option]")
    assert 1 <= len(options) <= 20 and len(options) == min(matches, 20)
    assert all(name in o.text for o in options)
    dashboard.find_element(f"[role=option][value='{cid}']").click()
    dashboard.wait_for_contains_text("#customer-profile", cid, timeout=30)
    assert f"id={cid}" in dashboard.driver.current_url

    # an id prefix suggests the customers whose ids start with it
    prefix = cid[:-1]
    expected = [r[0] for r in _rows(demo_warehouse, "SELECT customer_id FROM dim_customer WHERE customer_id LIKE ? "
                                                    "ORDER BY customer_id LIMIT 20", [prefix + "%"])]
    box = dashboard.find_element("#customer-search")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(prefix)
    WebDriverWait(dashboard.driver, 30).until(
        lambda d: [o.get_attribute("value") for o in d.find_elements(By.CSS_SELECTOR, "[role=option]")] == expected)

    dashboard.driver.get(f"{dashboard.server_url}/customer?id=NO_SUCH_ID&lang=en")
    dashboard.wait_for_contains_text("#customer-notice", "No customer with the id NO_SUCH_ID in your view", timeout=30)
    assert not dashboard.find_element("#customer-content").is_displayed()
    assert not console_errors(dashboard)


def test_a_regional_manager_sees_only_their_region_and_masked_names(dashboard_as, demo_warehouse):
    """demo-region manages the east region and may not see personal data."""
    rows = _rows(demo_warehouse, """
        SELECT CAST(v.region_code AS VARCHAR) = 'east', min(c.customer_id), arg_min(c.name, c.customer_id) FROM dim_customer c
        JOIN dim_branch b ON b.branch_id = c.branch_id JOIN dim_city ci ON ci.city_code = b.city_code
        JOIN dim_province v ON v.province_code = ci.province_code
        WHERE c.customer_type = 'individual' GROUP BY 1""")
    inside = next((cid, name) for east, cid, name in rows if east)
    outside = next(cid for east, cid, _ in rows if not east)
    duo = dashboard_as("demo-region")
    duo.driver.get(f"{duo.server_url}/customer?id={outside}")
    duo.wait_for_contains_text("#customer-notice", f"您的查看范围内没有编号为 {outside} 的客户", timeout=30)
    assert not duo.find_element("#customer-content").is_displayed()
    duo.driver.get(f"{duo.server_url}/customer?id={inside[0]}")
    duo.wait_for_contains_text("#customer-profile", inside[0], timeout=30)
    assert duo.find_element("#customer-name").text == inside[1][0] + "*" * (len(inside[1]) - 1)
    assert inside[1] not in duo.find_element("#customer-profile").text
