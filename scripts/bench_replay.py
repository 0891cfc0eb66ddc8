"""Replays recorded Dash callback requests over HTTP and summarises timings.

An interaction is the list of (path, POST body) the browser sent to /_dash-update-component, in the
order it sent them. Replaying sends them one after another (the browser sends some in parallel, so the
sum is an upper bound of what a person waits) and reads the server's own time from the
Server-Timing header that scripts/bench_wsgi.py adds.
"""
from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

CALLBACK_PATH = "/_dash-update-component"
OK_STATUSES = (200, 204)  # 204: the callback chose not to update (no_update / PreventUpdate)
_DUR = re.compile(r"app;dur=([0-9.]+)")


@dataclass(frozen=True)
class RoundTrip:
    total_ms: float  # client-side, sending the first request to reading the last response
    server_ms: float  # sum of the app's own time (Server-Timing)
    slowest_ms: float  # the slowest single callback round trip
    slowest_output: str  # that callback's outputs, to say where the time goes
    bytes: int


def server_ms(headers) -> float:
    match = _DUR.search(headers.get("Server-Timing", ""))
    return float(match.group(1)) if match else math.nan


def post_callback(session: requests.Session, base_url: str, path: str, body: str, timeout: float) -> requests.Response:
    """One recorded callback request, sent as Dash's renderer sends it."""
    return session.post(base_url + path, data=body.encode("utf-8"), timeout=timeout,
                        headers={"Content-Type": "application/json", "Accept": "application/json"})


def replay(session: requests.Session, base_url: str, calls: list[tuple[str, str]], timeout: float = 600) -> RoundTrip:
    total = server = slowest = 0.0
    slowest_output = ""
    size = 0
    for path, body in calls:
        started = time.perf_counter()
        answer = post_callback(session, base_url, path, body, timeout)
        content = answer.content
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code not in OK_STATUSES:
            raise RuntimeError(f"callback answered HTTP {answer.status_code}: {content[:300]!r}")
        total += elapsed
        server += server_ms(answer.headers)
        if elapsed > slowest:
            slowest, slowest_output = elapsed, json.loads(body).get("output", "")
        size += len(content)
    return RoundTrip(total, server, slowest, slowest_output, size)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "min": min(values) if values else math.nan, "max": max(values) if values else math.nan}


def measure(run: Callable[[], object], repeats: int, budget_s: float, warm_up_is_sample: bool = False) -> list:
    """One warm-up run, then up to `repeats` runs within what is left of `budget_s`. When the warm-up
    alone took half the budget there is no time for repeats: if it was a run like the others
    (`warm_up_is_sample`, e.g. the cache emptied before each) it is the one sample, else one more run is."""
    started = time.perf_counter()
    first = run()
    spent = time.perf_counter() - started
    if 2 * spent > budget_s:
        return [first] if warm_up_is_sample else [run()]
    return repeat(run, repeats, budget_s - spent)


def repeat(run: Callable[[], object], repeats: int, budget_s: float, minimum: int = 2) -> list:
    """Up to `repeats` answers of `run`; stops early once `budget_s` is spent (after `minimum` runs),
    so a slow interaction cannot stretch the bench past its time limit. The count is reported."""
    answers = []
    started = time.perf_counter()
    while len(answers) < repeats:
        answers.append(run())
        if len(answers) >= minimum and time.perf_counter() - started > budget_s:
            break
    return answers
