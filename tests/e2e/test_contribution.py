"""Contribution & cost to serve in a real browser: the whale curve's top-20 % share, the loss-making
list and its CSV export, and the waterfall equal hand-written SQL over the raw tables; a loss-making
row opens that customer's view."""
from __future__ import annotations

import io

import duckdb
import pandas as pd
import pytest

from layouts.i18n import t
from tests.e2e.conftest import WHOLE_HISTORY, console_errors, screenshot

pytestmark = pytest.mark.e2e

PER_CUSTOMER = """
    SELECT customer_id, sum(premium) AS premium, sum(claims_paid) AS claims,
           sum(commission) + sum(acquisition_cost) AS acquisition, sum(cost_to_serve) AS service,
           sum(reserve_increase) AS reserve, -sum(investment_spread) AS spread, sum(contribution) AS contribution
    FROM mart_customer_month GROUP BY customer_id
"""
TOP20 = f"""
    WITH c AS ({PER_CUSTOMER}),
    ranked AS (SELECT contribution, row_number() OVER (ORDER BY contribution DESC) AS rank, count(*) OVER () AS n FROM c)
    SELECT sum(contribution) FILTER (WHERE rank <= ceil(n * 0.2)) / sum(contribution) FROM ranked
"""
# The page's rule, written again in SQL: the drain furthest above the company rate for the customer's
# premium; an acquisition excess is an early lapse when a policy lapsed in its first two policy years.
LOSS_REASONS = f"""
    WITH c AS ({PER_CUSTOMER}),
    rate AS (SELECT sum(claims) / sum(premium) AS claims, sum(service) / sum(premium) AS service,
                    sum(acquisition) / sum(premium) AS acquisition, sum(reserve) / sum(premium) AS reserve,
                    sum(spread) / sum(premium) AS spread FROM c),
    early AS (SELECT DISTINCT customer_id FROM fact_policy
              WHERE status IN ('lapsed', 'surrendered') AND status_date < issue_date + INTERVAL 24 MONTH),
    x AS (SELECT c.customer_id, c.contribution, e.customer_id IS NOT NULL AS lapsed,
                 c.claims - r.claims * c.premium AS e1, c.service - r.service * c.premium AS e2,
                 c.acquisition - r.acquisition * c.premium AS e3, c.reserve - r.reserve * c.premium AS e4,
                 c.spread - r.spread * c.premium AS e5
          FROM c CROSS JOIN rate r LEFT JOIN early e ON e.customer_id = c.customer_id WHERE c.contribution < 0)
    SELECT customer_id, contribution,
           CASE greatest(e1, e2, e3, e4, e5) WHEN e1 THEN 'high_claims' WHEN e2 THEN 'high_service_cost'
                WHEN e3 THEN CASE WHEN lapsed THEN 'early_lapse' ELSE 'acquisition_unrecovered' END
                WHEN e4 THEN 'reserve_not_covered' ELSE 'negative_spread' END AS reason
    FROM x ORDER BY contribution, customer_id
"""


def _sql(path, sql: str, params=()) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).df()


def _wait_for_text(duo, selector: str, timeout: int = 60) -> str:
    duo._wait_for(lambda _d: duo.find_element(selector).text not in ("", "—"), timeout=timeout,
                  msg=f"{selector} stayed empty")
    return duo.find_element(selector).text


def _grid_rows(duo, grid_id: str, timeout: int = 60) -> list[dict]:
    script = (f"let api; try {{ api = dash_ag_grid.getApi('{grid_id}'); }} catch (e) {{ return []; }}"
              "const rows = []; api.forEachNodeAfterFilterAndSort(n => rows.push(n.data)); return rows;")
    duo._wait_for(lambda _d: len(duo.driver.execute_script(script)) > 0, timeout=timeout, msg=f"{grid_id} is empty")
    return duo.driver.execute_script(script)


def _download(download, selector: str) -> pd.DataFrame:
    """The CSV the browser saves when the export link is clicked, without its filters line."""
    content = download(selector).read_bytes()
    assert content.startswith("\ufeff".encode())
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("筛选条件:")
    return pd.read_csv(io.StringIO("\n".join(lines[1:])), dtype={"客户号": str})


def test_whale_share_and_loss_making_export_equal_the_raw_tables(dashboard, downloads, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/contribution?{WHOLE_HISTORY}")
    top20 = float(_sql(demo_warehouse, TOP20).iloc[0, 0])
    assert _wait_for_text(dashboard, "#contribution-kpi-top20") == f"{top20 * 100:.1f}%"
    marks = dashboard.driver.execute_script(
        "const d = document.querySelector('#contribution-whale .js-plotly-plot')._fullData"
        ".find(t => t.customdata && Array.from(t.customdata).includes('top20'));"
        "return {keys: Array.from(d.customdata), y: Array.from(d.y), x: Array.from(d.x)};")
    point = marks["keys"].index("top20")
    assert (marks["x"][point], marks["y"][point]) == (20.0, pytest.approx(top20 * 100, rel=1e-9))

    expected = _sql(demo_warehouse, LOSS_REASONS)
    rows = _grid_rows(dashboard, "contribution-losses")
    assert [r["customer_id"] for r in rows[:50]] == list(expected["customer_id"][:50])   # worst first
    exported = _download(downloads, "#contribution-losses-export-table")
    assert list(exported["客户号"]) == list(expected["customer_id"])
    reasons = {r: t(f"contribution.reason.{r}", "zh") for r in expected["reason"].unique()}
    assert list(exported["主要原因"]) == [reasons[r] for r in expected["reason"]]
    assert exported["贡献（元）"].to_numpy() == pytest.approx(expected["contribution"].round(2).to_numpy(), abs=0.011)
    _grid_rows(dashboard, "contribution-policy")   # the last view to arrive: then the page is whole
    screenshot(dashboard, "contribution_zh")
    assert console_errors(dashboard) == []


def test_a_loss_making_row_opens_the_customer_view(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/contribution?reason=early_lapse&{WHOLE_HISTORY}")
    expected = _sql(demo_warehouse, LOSS_REASONS)
    worst = expected[expected["reason"] == "early_lapse"]["customer_id"].iloc[0]
    assert _grid_rows(dashboard, "contribution-losses")[0]["customer_id"] == worst
    link = dashboard.find_element('#contribution-losses .ag-row[row-index="0"] a')
    assert link.text == worst
    link.click()
    dashboard._wait_for(lambda d: "/customer?" in d.current_url, timeout=30, msg="the customer view did not open")
    assert dashboard.driver.current_url.endswith(f"/customer?id={worst}&lang=zh")


def test_segment_waterfall_and_tiers_in_english(dashboard, demo_warehouse):
    dashboard.driver.get(dashboard.server_url + f"/contribution?lang=en&dim=vip_tier&wdim=vip_tier&wmember=gold_vip&{WHOLE_HISTORY}")
    dashboard.wait_for_contains_text("#contribution-waterfall-title", "Gold VIP", timeout=60)
    gold = _sql(demo_warehouse, """
        SELECT sum(premium), -sum(claims_paid), -sum(commission), -sum(acquisition_cost), -sum(cost_to_serve),
               -sum(reserve_increase), sum(investment_spread), sum(contribution)
        FROM mart_customer_month JOIN dim_customer USING (customer_id) WHERE vip_tier = 'gold_vip'""").iloc[0]
    dashboard._wait_for(lambda d: d.execute_script(
        "const g = document.querySelector('#contribution-waterfall .js-plotly-plot');"
        "return g && g._fullData && g._fullData.length && g._fullData[0].type === 'waterfall';"), timeout=60,
        msg="no waterfall drawn")
    bars = dashboard.driver.execute_script(
        "return Array.from(document.querySelector('#contribution-waterfall .js-plotly-plot')._fullData[0].x);")
    largest = max(abs(v) for v in gold)
    size, unit = next((s, u) for s, u in ((1e9, "B CNY"), (1e6, "M CNY"), (1e3, "K CNY"), (1, "CNY")) if largest >= s)
    assert bars == pytest.approx([v / size for v in gold], rel=1e-9)   # one unit for every step, named on the axis
    assert dashboard.find_element("#contribution-waterfall .xtitle").text == f"Amount ({unit})"

    tiers = _sql(demo_warehouse, "SELECT vip_tier::VARCHAR AS tier, count(DISTINCT customer_id) AS n "
                                 "FROM mart_customer_month JOIN dim_customer USING (customer_id) GROUP BY 1")
    shown = {r["tier"]: r["customers"] for r in _grid_rows(dashboard, "contribution-tiers")}
    names = {"regular": "Regular", "vip": "VIP", "gold_vip": "Gold VIP"}
    assert shown == {names[k]: n for k, n in zip(tiers["tier"], tiers["n"])}
    _grid_rows(dashboard, "contribution-policy")
    screenshot(dashboard, "contribution_en")

    dashboard.driver.execute_script("document.getElementById('theme-switch').click()")
    dashboard._wait_for(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-mantine-color-scheme')") == "dark", timeout=10,
        msg="the page did not switch to the dark scheme")
    dashboard.driver.set_window_size(390, 900)   # a phone: the charts redraw to the narrow width
    dashboard._wait_for(lambda d: d.execute_script(
        "return document.querySelector('#contribution-whale .main-svg').getBoundingClientRect().width") < 390,
        timeout=10, msg="the whale curve did not fit the narrow screen")
    screenshot(dashboard, "contribution_dark_narrow_en", width=390)
    assert console_errors(dashboard) == []


def _boxes(duo, selector: str) -> list[dict]:
    """The on-screen boxes of the non-empty texts `selector` finds."""
    return duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).filter(e => e.textContent.trim())"
        ".map(e => { const r = e.getBoundingClientRect();"
        " return {text: e.textContent, l: r.left, r: r.right, t: r.top, b: r.bottom}; });", selector)


def _box(duo, selector: str) -> dict:
    """The on-screen box of the first element `selector` finds, named by the selector."""
    return duo.driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {text: arguments[0], l: r.left, r: r.right, t: r.top, b: r.bottom};", selector)


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["text"], b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["l"] < b["r"] - 0.5 and b["l"] < a["r"] - 0.5 and a["t"] < b["b"] - 0.5 and b["t"] < a["b"] - 0.5]


@pytest.mark.parametrize("width", [1280, 390])
def test_labels_do_not_overlap_and_the_whale_axis_reaches_100(dashboard, demo_warehouse, width):
    dashboard.driver.set_window_size(width, 1000)
    dashboard.driver.get(dashboard.server_url + f"/contribution?{WHOLE_HISTORY}")
    for graph in ("whale", "waterfall", "quadrant"):
        dashboard.wait_for_element(f"#contribution-{graph} .main-svg", timeout=60)
    dashboard._wait_for(lambda d: _boxes(dashboard, "#contribution-quadrant .textpoint"), timeout=60,
                        msg="the quadrant has no labels")
    labels = _boxes(dashboard, "#contribution-quadrant .textpoint")
    assert _overlaps(labels) == []
    # every name whole inside the plot (past its edge it is cut off) and clear of the mode bar
    plot, modebar = (_box(dashboard, f"#contribution-quadrant {part}") for part in (".nsewdrag", ".modebar"))
    assert [b["text"] for b in labels if b["l"] < plot["l"] - 0.5 or b["r"] > plot["r"] + 0.5
            or b["t"] < plot["t"] - 0.5 or b["b"] > plot["b"] + 0.5] == []
    assert _overlaps([modebar, *labels]) == []
    # the biggest bubble (the most customers) is one a reader looks for by name: it has one, on or by it
    bubble = max(dashboard.driver.execute_script(
        "return Array.from(document.querySelectorAll('#contribution-quadrant .scatterlayer .point'), p => {"
        " const r = p.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom}; });"),
        key=lambda b: b["r"] - b["l"])
    near = {**bubble, "text": "bubble", "l": bubble["l"] - 4, "r": bubble["r"] + 4, "t": bubble["t"] - 4, "b": bubble["b"] + 4}
    assert [pair for pair in _overlaps([near, *labels]) if "bubble" in pair], labels
    provinces = _sql(demo_warehouse, "SELECT count(DISTINCT province_code) AS n FROM dim_province").iloc[0, 0]
    assert 3 <= len(labels) <= provinces   # the biggest provinces are named; the rest on hover
    contribution, cost = _sql(demo_warehouse, "SELECT sum(contribution) / count(DISTINCT customer_id), "
                                              "sum(cost_to_serve) / count(DISTINCT customer_id) FROM mart_customer_month").iloc[0]
    assert 1e3 <= contribution < 1e8 and cost < 1e4   # per customer: thousands of 元 (万元 from 10,000) and 元
    written = f"{contribution / 1e4:,.2f}万元" if contribution >= 1e4 else f"{contribution:,.0f}元"
    assert dashboard.find_element("#contribution-quadrant-averages").text == (
        f"公司平均：人均贡献 {written}，人均服务成本 {cost:,.0f}元。")
    waterfall = _boxes(dashboard, "#contribution-waterfall .bartext") + _boxes(dashboard, "#contribution-waterfall .ytick text")
    assert len(waterfall) == 16 and _overlaps(waterfall) == []   # eight steps, each a name and an amount
    ticks = [b["text"] for b in _boxes(dashboard, "#contribution-whale .xtick text")]
    assert ticks[-1] == "100%"
    last = dashboard.driver.execute_script(
        "const d = document.querySelector('#contribution-whale .js-plotly-plot')._fullData[0]; return d.x[d.x.length - 1];")
    assert last == pytest.approx(100.0)
    screenshot(dashboard, f"contribution_labels_{width}", width=width)


# Each header word's width in the header's own font, against the room its header has.
BROKEN_HEADER_WORDS = """
const canvas = document.createElement('canvas').getContext('2d');
const broken = [];
for (const el of document.querySelectorAll('.ag-header-cell-text')) {
    canvas.font = getComputedStyle(el).font;
    for (const word of el.textContent.split(/\\s+/)) {
        if (word && canvas.measureText(word).width > el.clientWidth + 0.5) broken.push(el.textContent);
    }
}
return broken;"""


@pytest.mark.parametrize("width", [1280, 390])
def test_english_grid_headers_break_between_words_not_inside_them(dashboard, width):
    """A narrow column wraps its header between words: "Contribution margin", never "Contributi / on"."""
    dashboard.driver.set_window_size(width, 900)
    dashboard.driver.get(f"{dashboard.server_url}/contribution?lang=en")
    dashboard.wait_for_element("#contribution-tiers .ag-header-cell-text", timeout=60)
    dashboard.wait_for_element("#contribution-losses .ag-row", timeout=60)
    assert dashboard.driver.execute_script(BROKEN_HEADER_WORDS) == []
    dashboard.driver.set_window_size(1280, 900)
