"""Smoke tests of the benchmark's pieces at tiny scale: the replay client against a real Dash app,
the statistics, the floor SQL against the engine, the Server-Timing wrapper. No timing asserts."""
from __future__ import annotations

import json
import threading

import pytest
import requests
from werkzeug.serving import make_server

from scripts import bench_floor
from scripts.bench_replay import measure, percentile, replay, server_ms, summary


def test_percentiles_interpolate_between_ranks():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 95) == 7.0
    stats = summary(values)
    assert (stats["n"], stats["min"], stats["max"]) == (5, 1.0, 5.0)


def test_measure_discards_the_warm_up_and_stops_at_the_budget():
    calls = []
    answers = measure(lambda: calls.append(1) or len(calls), repeats=4, budget_s=60)
    assert answers == [2, 3, 4, 5]  # call 1 was the warm-up


def test_measure_over_budget_keeps_one_sample():
    counter = iter(range(1, 10))
    assert measure(lambda: next(counter), repeats=5, budget_s=0, warm_up_is_sample=True) == [1]
    assert measure(lambda: next(counter), repeats=5, budget_s=0) == [3]  # 2 was the warm-up


def test_server_timing_header_is_read():
    assert server_ms({"Server-Timing": "app;dur=12.50"}) == 12.5
    assert server_ms({}) != server_ms({})  # NaN: not reported


@pytest.fixture(scope="module")
def tiny_app_url():
    """A two-callback Dash app behind the bench's Server-Timing wrapper idea, served by werkzeug."""
    from dash import Dash, Input, Output, html

    app = Dash(__name__)
    app.layout = html.Div([html.Div(id="a", children="1"), html.Div(id="b")])

    @app.callback(Output("b", "children"), Input("a", "children"))
    def double(value):
        return str(int(value) * 2)

    def wrapped(environ, start_response):
        return app.server(environ, lambda s, h, e=None: start_response(s, [*h, ("Server-Timing", "app;dur=1.5")], e))

    server = make_server("127.0.0.1", 0, wrapped, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_replay_posts_recorded_bodies_and_sums_their_times(tiny_app_url):
    body = json.dumps({"output": "b.children", "outputs": {"id": "b", "property": "children"},
                       "inputs": [{"id": "a", "property": "children", "value": "21"}], "changedPropIds": [],
                       "state": []})
    session = requests.Session()
    answer = session.post(tiny_app_url + "/_dash-update-component", data=body,
                          headers={"Content-Type": "application/json"})
    assert answer.json()["response"]["b"]["children"] == "42"
    path = "/_dash-update-component"
    trip = replay(session, tiny_app_url, [(path, body), (path + "?endId=x", body)])
    assert trip.server_ms == pytest.approx(3.0)
    assert trip.total_ms >= trip.slowest_ms > 0 and trip.bytes == 2 * len(answer.content)


def test_replay_refuses_a_failed_callback(tiny_app_url):
    with pytest.raises(RuntimeError, match="HTTP"):
        replay(requests.Session(), tiny_app_url, [("/_dash-update-component", '{"output": "nope.children"}')])


def test_floor_sql_gives_the_engine_numbers(demo_warehouse):
    """Each floor case the engine also answers must be the same numbers, or it is no floor."""
    con = bench_floor.connect(demo_warehouse)
    members = bench_floor.pick_members(con)
    cases = ("explore_top", "explore_drill_3", "pivot_long", "whale")
    results = bench_floor.run_floor(demo_warehouse, members, repeats=1, budget_s=0, only=cases)
    con.close()
    checked = {name: r.get("same_answer") for name, r in results.items()}
    assert checked == dict.fromkeys(cases, True)


def test_export_period_reaches_the_wanted_rows(demo_warehouse):
    con = bench_floor.connect(demo_warehouse)
    start, end, rows = bench_floor.export_period(con, 50_000)
    direct = con.execute("SELECT count(*) FROM fact_premium WHERE paid_date BETWEEN $1 AND $2",
                         [start, end]).fetchall()[0][0]
    con.close()
    assert rows == direct >= 50_000 and start <= end
