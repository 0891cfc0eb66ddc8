"""The contribution page over HTTP, as the browser asks for it: a page drawn before is answered
without reading the warehouse again, and each caller's views are their own (a regional manager is
never handed the list drawn for an executive)."""
from __future__ import annotations

import duckdb
import pytest

from callbacks.engine import RESULT_CACHE
from cubes.engine import Engine
from tests.test_access_serving import served, sign_in  # noqa: F401
from tests.test_cubes_fixtures import default_period

QUERY = {"lang": "en"}
# the east region's customers losing money over all months, worst first (hand-written over raw tables)
EAST_LOSERS = """
    SELECT m.customer_id, sum(m.contribution) AS contribution
    FROM mart_customer_month m
    JOIN dim_customer c USING (customer_id)
    JOIN dim_branch b ON b.branch_id = c.branch_id
    JOIN dim_city ci ON ci.city_code = b.city_code
    JOIN dim_province v ON v.province_code = ci.province_code
    WHERE v.region_code = 'east' AND m.month BETWEEN ? AND ?  -- the page's default period: the year to date
    GROUP BY m.customer_id HAVING sum(m.contribution) < 0
    ORDER BY contribution, customer_id
"""


def page_callbacks(client) -> list[dict]:
    """Every callback the page fires on load, as the browser posts it (from /_dash-dependencies)."""
    payloads = []
    for d in client.get("/_dash-dependencies").get_json():
        if [i["id"] for i in d["inputs"]] != ["contribution-query"]:
            continue
        outputs = [o.rsplit(".", 1) for o in d["output"].strip(".").split("...")]
        payloads.append({"output": d["output"], "outputs": [{"id": i, "property": p} for i, p in outputs],
                         "inputs": [{"id": "contribution-query", "property": "data", "value": QUERY}],
                         "changedPropIds": [], "state": []})
    return payloads


def draw(client) -> list[dict]:
    answers = [client.post("/_dash-update-component", json=p) for p in page_callbacks(client)]
    assert all(a.status_code == 200 for a in answers)
    return [a.get_json()["response"] for a in answers]


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """One entry per cursor the engine opens on the warehouse from now on (every read opens one)."""
    cursor, seen = Engine._cursor, []

    def counted(self):
        seen.append(1)
        return cursor(self)

    monkeypatch.setattr(Engine, "_cursor", counted)
    return seen


def test_a_page_drawn_before_is_answered_without_reading_the_warehouse(served, reads):  # noqa: F811
    client = sign_in(served, "demo-exec")
    RESULT_CACHE.clear()  # other tests of this session may have drawn the page already
    first = draw(client)
    assert len(first) == 5 and reads   # whale, waterfall, segments, tiers, loss-makers
    reads.clear()
    assert draw(client) == first
    assert reads == []


def test_each_caller_is_drawn_their_own_loss_makers(served, demo_warehouse):  # noqa: F811
    def loss_rows(username):
        [losses] = [r for r in draw(sign_in(served, username)) if "contribution-losses" in r]
        return [row["customer_id"] for row in losses["contribution-losses"]["rowData"]]

    everyone = loss_rows("demo-exec")
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        east = con.execute(EAST_LOSERS, [default_period().start, default_period().end]).df()["customer_id"].tolist()
    assert set(everyone) - set(east)   # the executive's list reaches beyond the east
    assert loss_rows("demo-region") == east[:len(everyone)]
