"""Load and fault test: N demo users on the production server, optionally a worker killed mid-export.

    python -m scripts.load --users 50 --duration 120 [--kill-worker-at 30]     (or `make load`)

Starts scripts/serve.sh (gunicorn with scripts/gunicorn_conf.py) on a free loopback port against the
demo warehouse, with its own empty result cache and access database (so the run's sign-ins and audit
rows are its own); records the pages' callback requests once in headless Chromium; then the users
(the demo roles in turn: executive, regional manager, branch manager, agent, analyst) sign in and
browse (scripts/load_user.py). With --kill-worker-at S, one more executive session starts a large
records CSV at S seconds and the worker streaming it is SIGKILLed (scripts/load_fault.py).
Prints a JSON report (throughput, p50/p95/p99 per request kind, errors, each worker's peak memory,
recovery) and the checks of scripts/load_checks.py; exit code 1 when any check fails.
Loopback only: the server is started here and stopped at the end; its log is deleted unless --keep-log.
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import requests

from data.users import DEMO_PASSWORD
from data.warehouse import ensure_warehouse
from layouts.pivot_state import PivotState
from scripts import bench_floor, bench_server, load_checks
from scripts.bench_auth import DEMO_EXECUTIVE, sign_in
from scripts.bench_export import export_url
from scripts.bench_interactions import INTERACTIONS
from scripts.bench_record import browser, record, share_session
from scripts.bench_replay import percentile
from scripts.load_fault import Kill, kill_streaming_worker, watch_recovery
from scripts.load_user import Browser, Export, Journal, Plan, browse

ROLES = ("demo-exec", "demo-region", "demo-branch", "demo-agent", "demo-analyst")
# one view of each page, from the bench's scripted interactions
NAVIGATIONS = ("overview_load", "explore_drill_1", "pivot_swap", "whale_curve", "agent_league", "customer_view")
USER_EXPORT_ROWS = 50_000  # a user's records CSV: the latest months holding about this many paid premiums
FAULT_EXPORT_ROWS = 400_000  # the download the kill cuts: long enough to be streaming at the signal
SAMPLE_EVERY_S = 0.25


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def records_export(con, rows: int) -> Export:
    start, end, _n = bench_floor.export_period(con, rows)
    spec = PivotState().spec([{"dim": "time.month", "op": "between", "values": [start, end]}])
    return Export(export_url("pivot", spec), "export_records_csv", "pivot/records", "csv")


def plan_exports(con) -> tuple[tuple[Export, ...], Export]:
    table = export_url("pivot", PivotState().spec([]), kind="table")
    return ((records_export(con, USER_EXPORT_ROWS),
             Export(table, "export_table_csv", "pivot/table", "csv"),
             Export(table.replace(".csv?", ".xlsx?", 1), "export_table_xlsx", "pivot/table", "xlsx")),
            records_export(con, FAULT_EXPORT_ROWS))


def record_navigations(server, members: dict) -> dict[str, list[tuple[str, str]]]:
    session = requests.Session()
    sign_in(session, server.url)
    driver = browser()
    try:
        share_session(driver, server.url, session)
        wanted = [i for i in INTERACTIONS if i.name in NAVIGATIONS]
        return {i.name: record(driver, server.url, i, members, timeout_s=120).calls for i in wanted}
    finally:
        driver.quit()


class PeakMemory:
    """Each server process's peak resident memory (VmHWM), sampled, so a killed worker's is kept."""

    def __init__(self, server):
        self.server, self.peak_mb, self.done = server, {}, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.is_set():
            for pid in (self.server.process.pid, *bench_server.children(self.server.process.pid)):
                name = "master" if pid == self.server.process.pid else f"worker {pid}"
                mb = bench_server._status_kb(pid, "VmHWM") / 1024
                self.peak_mb[name] = max(self.peak_mb.get(name, 0.0), mb)
            time.sleep(SAMPLE_EVERY_S)

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        return {name: round(mb, 1) for name, mb in self.peak_mb.items()}


def audit_rows(path: Path) -> list[dict]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT actor, action, target, detail, rows FROM audit_log "
                                             "WHERE action IN ('export_started', 'export') ORDER BY id")]
    finally:
        con.close()


def figures(journal: Journal, duration_s: float) -> dict:
    kinds = sorted({o.kind for o in journal.outcomes})
    by_kind = {}
    for kind in kinds:
        ok = [o.seconds * 1000 for o in journal.outcomes if o.kind == kind and o.ok]
        by_kind[kind] = {"n": len(ok), "errors": sum(1 for o in journal.outcomes if o.kind == kind and not o.ok),
                         **{f"p{q}_ms": round(percentile(ok, q), 1) for q in (50, 95, 99)}}
    requests_ok = sum(1 for o in journal.outcomes if o.ok and o.kind != "navigation")
    return {"throughput_rps": round(requests_ok / duration_s, 2), "requests": requests_ok,
            "errors": [f"{o.user} {o.kind} at {o.started_s:.1f} s: {o.error}" for o in journal.outcomes if not o.ok],
            "by_kind": by_kind,
            "downloads": {"finished": sum(d.complete for d in journal.downloads),
                          "cut": sum(not d.complete for d in journal.downloads),
                          "rows": sum(d.rows for d in journal.downloads if d.complete)}}


def run(users: int, duration_s: float, kill_at: float | None, workers: int, threads: int, seed: int,
        keep_log: bool) -> dict:
    warehouse = ensure_warehouse()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        members = bench_floor.pick_members(con)
        exports, fault_export = plan_exports(con)
    scratch = tempfile.TemporaryDirectory(prefix="policycube-load-")
    access_db = Path(scratch.name) / "access.sqlite"
    server = bench_server.start(warehouse, "FileSystemCache", workers, threads, production=True,
                                extra_env={"POLICYCUBE_ACCESS_DB": str(access_db)})
    report: dict = {"users": users, "duration_s": duration_s, "kill_worker_at_s": kill_at, "workers": workers,
                    "threads": threads, "server_start_s": round(server.started_s, 2)}
    try:
        recorded = time.perf_counter()
        plan = Plan(record_navigations(server, members), exports)
        report["recording_s"] = round(time.perf_counter() - recorded, 1)
        log(f"recorded {sum(map(len, plan.navigations.values()))} callback requests of {len(plan.navigations)} "
            f"views in {report['recording_s']} s; {users} users for {duration_s:.0f} s")
        memory = PeakMemory(server)
        journal = Journal()
        kill = Kill() if kill_at is not None else None
        rng = random.Random(seed)
        threads_ = [threading.Thread(target=_user, daemon=True,
                                     args=(server.url, ROLES[i % len(ROLES)], journal, plan, duration_s,
                                           random.Random(rng.random())))
                    for i in range(users)]
        if kill is not None:
            threads_.append(threading.Thread(target=_fault, daemon=True,
                                             args=(server, journal, fault_export, kill, kill_at)))
        for thread in threads_:
            thread.start()
        for thread in threads_:
            thread.join(timeout=duration_s + 180)
        time.sleep(1)  # an export's end row is written as its stream closes
        report["peak_rss_mb"] = memory.stop()
        report.update(figures(journal, journal.now()))
        report["kill"] = kill.__dict__ | {"workers_before": sorted(kill.workers_before)} if kill else None
        audit = audit_rows(access_db)
    finally:
        server.stop()
        log_text = server.log_path.read_text(errors="replace")
        if keep_log:
            report["server_log"] = str(server.log_path)
        else:
            server.log_path.unlink(missing_ok=True)
        scratch.cleanup()
    report["checks"] = {
        "server_log": load_checks.server_log(log_text),
        "failed_requests": load_checks.failed_requests(journal.outcomes, kill),
        "exports_audited": load_checks.exports_audited(audit, journal.downloads),
        "recovery": load_checks.recovery(kill),
    }
    report["passed"] = not any(report["checks"].values())
    return report


def _user(base_url: str, account: str, journal: Journal, plan: Plan, until_s: float, rng: random.Random) -> None:
    try:
        user = Browser(base_url, account, DEMO_PASSWORD, journal)
    except Exception:  # noqa: BLE001  the failed sign-in is journaled; the checks report it
        return
    browse(user, plan, until_s, rng)


def _fault(server, journal: Journal, export: Export, kill: Kill, at_s: float) -> None:
    try:
        user = Browser(server.url, DEMO_EXECUTIVE[0], DEMO_EXECUTIVE[1], journal)
    except Exception:  # noqa: BLE001  journaled; the recovery check reports the kill that did not happen
        return
    time.sleep(max(at_s - journal.now(), 0))

    def on_first_chunk(answer):
        if kill.at_s is None:  # the first try only: its retry must run to the end
            kill_streaming_worker(server, answer, kill, journal.now)
            threading.Thread(target=watch_recovery, args=(server, user.session.cookies, kill, journal.now),
                             daemon=True).start()

    try:
        user.download(export, on_first_chunk)
    except Exception:  # noqa: BLE001  a failed retry is journaled; the checks report it
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120, help="seconds of browsing")
    parser.add_argument("--kill-worker-at", type=float, default=None, metavar="S",
                        help="SIGKILL the worker streaming an export S seconds into the run")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--keep-log", action="store_true", help="keep the server log (its path is reported)")
    args = parser.parse_args(argv)
    if min(args.users, args.workers, args.threads) < 1 or args.duration <= 0:
        parser.error("--users, --workers and --threads must be at least 1, --duration positive")
    if args.kill_worker_at is not None and not 0 <= args.kill_worker_at < args.duration:
        parser.error("--kill-worker-at must be within the run: 0 <= S < --duration")
    report = run(args.users, args.duration, args.kill_worker_at, args.workers, args.threads, args.seed, args.keep_log)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    for name, problems in report["checks"].items():
        log(f"{'ok  ' if not problems else 'FAIL'} {name}" + "".join(f"\n     {p}" for p in problems[:20]))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
