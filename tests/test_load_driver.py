"""The load and fault driver (scripts/load.py): each check fails on a hand-made fault, and a small real
run (6 users, 15 s, a worker killed at 5 s) passes every check. No timing asserts beyond the
recovery limits the driver itself enforces."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scripts import load_checks
from scripts.bench_server import PROJECT_ROOT
from scripts.load_fault import Kill
from scripts.load_user import Download, Outcome

ACCESS_200 = '127.0.0.1 - - [06/Dec/2026:21:32:59 +0000] "POST /_dash-update-component HTTP/1.1" 200 512 "-" "x"'


def _access(path: str, status: int) -> str:
    return f'127.0.0.1 - - [06/Dec/2026:21:32:59 +0000] "GET {path} HTTP/1.1" {status} 11 "-" "x"'


def test_server_log_check_finds_500s_tracebacks_and_missing_dash_scripts():
    assert load_checks.server_log(ACCESS_200 + "\n" + _access("/nope", 404)) == []
    assert "HTTP 500" in load_checks.server_log(_access("/explore", 500))[0]
    assert load_checks.server_log("Traceback (most recent call last):\n  File x") == ["a traceback in the server log"]
    assert "404" in load_checks.server_log(_access("/_dash-component-suites/dash/dash_renderer.min.js", 404))[0]


KILL = Kill(at_s=5.0, pid=11, first_answer_s=0.1, replacement_pid=12, replacement_s=2.0)


def _outcome(request_id=1, started=4.9, ended=5.1, status=None, error="cut: ChunkedEncodingError"):
    return Outcome("demo-exec", "export_records_csv", request_id, started, ended, status, error)


def test_failed_request_check_accepts_only_cuts_of_the_kill_retried_with_success():
    cut, retry = _outcome(), _outcome(started=5.2, ended=8.0, status=200, error=None)
    assert load_checks.failed_requests([cut, retry], KILL) == []
    assert "not retried" in load_checks.failed_requests([cut], KILL)[0]
    http_500 = _outcome(2, 4.9, 5.1, 500, "HTTPStatusError: HTTP 500")
    assert "not explained" in load_checks.failed_requests([cut, retry, http_500], KILL)[0]
    reset_before = _outcome(3, 1.0, 1.2)  # a reset with no worker dying (e.g. keep-alive)
    assert "not explained" in load_checks.failed_requests([reset_before], KILL)[0]
    assert "not explained" in load_checks.failed_requests([cut, retry], None)[0]


def _audit(action, export_id, rows=None, complete=None, fmt="csv", actor="demo-exec"):
    detail = {"format": fmt, "export_id": export_id, **({} if complete is None else {"complete": complete})}
    return {"actor": actor, "action": action, "target": "pivot/records", "detail": json.dumps(detail), "rows": rows}


def test_export_audit_check_finds_missing_rows_and_wrong_counts():
    finished = Download("demo-exec", "pivot/records", "csv", 120, True)
    cut = Download("demo-exec", "pivot/records", "csv", 40, False)
    rows = [_audit("export_started", "a"), _audit("export", "a", 120, True), _audit("export_started", "b")]
    assert load_checks.exports_audited(rows, [finished, cut]) == []  # the cut one: started, no end row
    missing_start = load_checks.exports_audited(rows[:2], [finished, cut])
    assert "export_started" in missing_start[0]
    wrong_count = load_checks.exports_audited([rows[0], _audit("export", "a", 119, True)], [finished])
    assert "120 rows" in wrong_count[0]
    not_complete = load_checks.exports_audited([rows[0], _audit("export", "a", 120, False)], [finished])
    assert "complete end rows" in not_complete[0]
    orphan = load_checks.exports_audited([_audit("export_started", "a"), _audit("export", "z", 120, True)], [finished])
    assert "without its export_started" in orphan[0]


def test_recovery_check_holds_the_limits():
    assert load_checks.recovery(KILL) == []
    assert load_checks.recovery(None) == []
    assert "not killed" in load_checks.recovery(Kill())[0]
    slow = load_checks.recovery(Kill(at_s=5.0, pid=11, first_answer_s=3.5, replacement_s=None))
    assert len(slow) == 2 and "3 s" in slow[0] and "10 s" in slow[1]


@pytest.mark.e2e
def test_a_small_run_with_a_killed_worker_passes_every_check(tmp_path):
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "scripts.load", "--users", "6", "--duration", "15",
                           "--kill-worker-at", "5", "--workers", "2", "--json", str(out)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["passed"] and not any(report["checks"].values())
    kill = report["kill"]
    assert kill["pid"] in kill["workers_before"] and kill["replacement_pid"] not in kill["workers_before"]
    assert kill["first_answer_s"] <= 3 and kill["replacement_s"] <= 10
    assert report["downloads"]["cut"] >= 1 and report["downloads"]["finished"] >= 1
    assert report["errors"] and all(": cut: " in error for error in report["errors"])
    for kind in ("sign_in", "callback", "navigation", "export_records_csv"):
        assert report["by_kind"][kind]["n"] >= 1, kind
    assert {"master"} < set(report["peak_rss_mb"]) and all(mb > 0 for mb in report["peak_rss_mb"].values())
    assert report["throughput_rps"] > 0
