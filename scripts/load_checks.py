"""The load test's pass/fail checks, as functions of what the run left: each returns its problems.

No check reads the clock or the network: scripts/load.py gathers the server log, the journal of
requests, the downloads and the audit rows, and tests/test_load_driver.py feeds each check a
hand-made fault.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable

from scripts.load_fault import Kill
from scripts.load_user import Download, Outcome

FIRST_ANSWER_LIMIT_S = 3.0
REPLACEMENT_LIMIT_S = 10.0
CUT_WINDOW_S = 2.0  # a request the kill cut fails within this long after the signal
# gunicorn's access log line: ... "GET /path HTTP/1.1" 500 ...
_ACCESS_STATUS = re.compile(r'"[A-Z]+ [^"]*" (\d{3}) ')


def server_log(text: str) -> list[str]:
    """No 5xx answered, no traceback written, none of Dash's own scripts missing (a 404 there is an
    empty page: Dash's per-process setup not done when the first visitor came, see app.py)."""
    problems = []
    for line in text.splitlines():
        if not (m := _ACCESS_STATUS.search(line)):
            continue
        if m.group(1).startswith("5"):
            problems.append(f"HTTP {m.group(1)} in the access log: {line.strip()[:200]}")
        elif m.group(1) == "404" and "/_dash-" in line:
            problems.append(f"one of Dash's own requests answered 404: {line.strip()[:200]}")
    if "Traceback (most recent call last)" in text:
        problems.append("a traceback in the server log")
    return problems


def failed_requests(outcomes: Iterable[Outcome], kill: Kill | None) -> list[str]:
    """Every failure is a cut the kill explains (a connection cut failing within CUT_WINDOW_S after
    the signal: a request the dead worker was serving, or one sent on a kept-alive connection it held
    in the instant before the client saw it closed) and was retried with success."""
    outcomes = list(outcomes)
    succeeded = {o.request_id for o in outcomes if o.ok}
    problems = []
    for o in outcomes:
        if o.ok:
            continue
        explained = (kill is not None and kill.at_s is not None and o.status is None
                     and kill.at_s <= o.ended_s <= kill.at_s + CUT_WINDOW_S)
        what = f"{o.user} {o.kind} at {o.started_s:.1f} s: {o.error}"
        if not explained:
            problems.append(f"failed request not explained by the kill: {what}")
        elif o.request_id not in succeeded:
            problems.append(f"a request the kill cut was not retried with success: {what}")
    return problems


def exports_audited(audit_rows: Iterable[dict], downloads: Iterable[Download]) -> list[str]:
    """Each download attempt has its export_started row; every finished export an end row (the same
    export_id, complete) with the rows that arrived. Matched per account, view/kind and format."""
    started, ended = Counter(), Counter()
    started_ids = set()
    problems = []
    for row in audit_rows:
        detail = json.loads(row["detail"] or "{}")
        key = (row["actor"], row["target"], detail.get("format"))
        if row["action"] == "export_started":
            started[key] += 1
            started_ids.add(detail.get("export_id"))
        elif row["action"] == "export":
            if detail.get("export_id") not in started_ids:
                problems.append(f"an end row without its export_started row: {key} export_id {detail.get('export_id')}")
            if detail.get("complete"):
                ended[(*key, row["rows"])] += 1
    downloads = list(downloads)
    tried = Counter((d.account, d.view_kind, d.fmt) for d in downloads)
    for key, n in tried.items():
        if started[key] < n:
            problems.append(f"{n} downloads of {key} but {started[key]} export_started rows")
    finished = Counter((d.account, d.view_kind, d.fmt, d.rows) for d in downloads if d.complete)
    for key, n in finished.items():
        if ended[key] < n:
            problems.append(f"{n} finished downloads of {key[:3]} with {key[3]} rows but {ended[key]} complete "
                            "end rows with that row count")
    return problems


def recovery(kill: Kill | None) -> list[str]:
    """A new connection answered within FIRST_ANSWER_LIMIT_S of the kill, a replacement worker
    within REPLACEMENT_LIMIT_S."""
    if kill is None:
        return []
    if kill.at_s is None:
        return ["the worker was not killed (no export was streaming)"]
    problems = []
    if kill.first_answer_s is None or kill.first_answer_s > FIRST_ANSWER_LIMIT_S:
        problems.append(f"no new connection answered within {FIRST_ANSWER_LIMIT_S:.0f} s of the kill "
                        f"({kill.first_answer_s})")
    if kill.replacement_s is None or kill.replacement_s > REPLACEMENT_LIMIT_S:
        problems.append(f"no replacement worker answered within {REPLACEMENT_LIMIT_S:.0f} s of the kill "
                        f"({kill.replacement_s})")
    return problems
