"""The issue-7 benchmark: `make bench` (or `.venv/bin/python -m scripts.bench`).

1. Builds or reuses the warehouse at BENCH_SCALE (default 10: data/warehouse/bench_x10.duckdb).
2. Times the floor (hand-written SQL), the engine with its cache off on the same specs (checking
   both give the same numbers) and the pandas alternative, in this process, with no server running.
3. Starts the real server (gunicorn, 2 workers) with a shared FileSystemCache, signs in when the app
   has sign-in, records each scripted interaction's callback requests in headless Chromium, then
   replays them over HTTP: cached (after one warm-up hit).
4. Starts a new server and replays them uncached: the cache directory emptied before every run;
   downloads a ~1M-row records CSV.
5. Writes artifacts/bench/latest.json and latest.md and prints the table with PASS/FAIL per target.

Environment: BENCH_SCALE (10), BENCH_REPEATS (uncached runs, 10), BENCH_CACHED_REPEATS (20),
BENCH_BUDGET (seconds per measured item before repeats stop early, 20), BENCH_WORKERS (2),
BENCH_THREADS (4), BENCH_EXPORT_ROWS (1,000,000 x scale / 10), BENCH_USER/BENCH_PASSWORD.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import requests

from data.warehouse import refresh_rollups
from scripts import bench_floor, bench_report, bench_server
from scripts.bench_auth import sign_in
from scripts.bench_export import download, export_url
from scripts.bench_interactions import INTERACTIONS
from scripts.bench_record import browser, record, share_session
from scripts.bench_replay import measure, replay, summary

PROJECT_ROOT = bench_server.PROJECT_ROOT
ARTIFACTS = PROJECT_ROOT / "artifacts" / "bench"


def settings() -> dict:
    scale = float(os.environ.get("BENCH_SCALE", "10"))
    return {
        "scale": scale,
        "repeats": int(os.environ.get("BENCH_REPEATS", "10")),
        "cached_repeats": int(os.environ.get("BENCH_CACHED_REPEATS", "20")),
        "budget_s": float(os.environ.get("BENCH_BUDGET", "20")),
        "workers": int(os.environ.get("BENCH_WORKERS", "2")),
        "threads": int(os.environ.get("BENCH_THREADS", "4")),
        "export_rows": int(os.environ.get("BENCH_EXPORT_ROWS", str(round(1_000_000 * scale / 10)))),
    }


def warehouse_for(scale: float) -> Path:
    name = f"bench_x{scale:g}.duckdb"
    return PROJECT_ROOT / "data" / "warehouse" / name


def ensure_warehouse(path: Path, scale: float) -> float | None:
    """Reuse the warehouse (rebuilding its rollups if the definitions changed), or generate it
    (seconds taken; None when reused as it was)."""
    if path.exists():
        started = time.perf_counter()
        return time.perf_counter() - started if refresh_rollups(path) else None
    print(f"bench: generating the scale-{scale:g} warehouse at {path} (about {max(scale, 1) * 9:.0f} s)", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "data.generate", "--scale", f"{scale:g}", "--out", str(path)],
                   cwd=PROJECT_ROOT, check=True)
    return time.perf_counter() - started


def describe_warehouse(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        count = lambda table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: E731
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {"path": str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path),
                "mb": round(path.stat().st_size / 1e6), "customers": count("dim_customer"),
                "policies": count("fact_policy"), "premiums": count("fact_premium"),
                "rollup_tables": sorted(t for t in tables if t.startswith("rollup_"))}
    finally:
        con.close()


def log(message: str) -> None:
    print(f"bench {time.strftime('%H:%M:%S')}: {message}", flush=True)


def signed_in_session(server) -> tuple[requests.Session, str | None]:
    session = requests.Session()
    return session, sign_in(session, server.url)


def replay_all(server, session, recordings: dict, repeats: int, budget_s: float, cold: bool) -> dict:
    """Each recorded interaction, `repeats` times after a warm-up. `cold`: the result cache is emptied
    before every run, so each run computes everything the first visitor after a reload would (within
    one run, later callbacks may reuse what earlier ones computed, as they do in the browser)."""
    out = {}
    for name, recording in recordings.items():
        if recording is None:
            continue
        log(f"  {name}: {len(recording.calls)} callback requests")

        def run():
            if cold:
                server.clear_cache()
            return replay(session, server.url, recording.calls)

        trips = measure(run, repeats, budget_s, warm_up_is_sample=cold)
        out[name] = {"round_trip_ms": summary([t.total_ms for t in trips]),
                     "server_ms": summary([t.server_ms for t in trips]),
                     "slowest_callback_ms": summary([t.slowest_ms for t in trips]),
                     "slowest_callback": trips[-1].slowest_output[:200],
                     "response_kb": trips[-1].bytes / 1000}
    return out


def _stop_on_sigterm(_signum, _frame):
    raise SystemExit(143)  # run the finally blocks: servers and browsers stop with the bench


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    cfg = settings()
    path = warehouse_for(cfg["scale"])
    started = time.perf_counter()
    chosen = " ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))
    results = {"command": f"{chosen} make bench".strip(),
               "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "load_average_at_start": os.getloadavg()},
               "settings": cfg}
    results["generated_s"] = ensure_warehouse(path, cfg["scale"])
    results["warehouse"] = describe_warehouse(path)
    log(f"warehouse {results['warehouse']}")

    con = bench_floor.connect(path)
    members = bench_floor.pick_members(con)
    start, end, expected_rows = bench_floor.export_period(con, cfg["export_rows"])
    con.close()
    results["members"] = members
    log("floor SQL and engine (result cache off), same specs")
    results["floor"] = bench_floor.run_floor(path, members, cfg["repeats"], cfg["budget_s"])
    log("pandas alternative")
    results["pandas"] = bench_floor.run_pandas(path, min(cfg["repeats"], 3), cfg["budget_s"])

    server_args = dict(workers=cfg["workers"], threads=cfg["threads"])
    log("cached server: start, record in Chromium, replay")
    server = bench_server.start(path, "FileSystemCache", **server_args)
    recordings = {}
    try:
        results["startup_s"] = {"cached": server.started_s}
        session, account = signed_in_session(server)
        results["signed_in_as"] = account
        driver = browser()
        try:
            share_session(driver, server.url, session)
            status = {}
            for interaction in INTERACTIONS:
                log(f"  recording {interaction.name}")
                got = record(driver, server.url, interaction, members)
                if not got.has(interaction.needs):  # a first page load can settle before Dash starts: once more
                    log(f"  recording {interaction.name} again: {len(got.calls)} requests, none of its page's")
                    got = record(driver, server.url, interaction, members)
                ready = got.has(interaction.needs)
                recordings[interaction.name] = got if ready else None
                status[interaction.name] = "measured" if ready else "pending (page has no data callback yet)"
        finally:
            driver.quit()
        results["status"] = status
        results["recorded_requests"] = {name: len(r.calls) for name, r in recordings.items() if r}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the requests replayed, to replay one by hand
        (ARTIFACTS / "recordings.json").write_text(json.dumps(
            {name: r.calls for name, r in recordings.items() if r}, ensure_ascii=False, indent=1))
        results["cached"] = replay_all(server, session, recordings, cfg["cached_repeats"], cfg["budget_s"], cold=False)
    finally:
        results.setdefault("peak_mb", {})["cached"] = server.peak_mb()
        server.stop()

    log("uncached: a new server, its result cache emptied before every run; 1M-row CSV export")
    server = bench_server.start(path, "FileSystemCache", **server_args)
    try:
        results["startup_s"]["uncached"] = server.started_s
        session, _account = signed_in_session(server)
        results["uncached"] = replay_all(server, session, recordings, cfg["repeats"], cfg["budget_s"], cold=True)
        from layouts.pivot_state import PivotState

        spec = PivotState().spec([{"dim": "time.month", "op": "between", "values": [start, end]}])
        log(f"  CSV export of the pivot's records {start}..{end} (expect {expected_rows} rows)")
        results["export"] = {"spec": spec, "expected_rows": expected_rows,
                             **download(session, server, export_url("pivot", spec))}
    finally:
        results["peak_mb"]["uncached"] = server.peak_mb()
        server.stop()

    results["elapsed_s"] = time.perf_counter() - started
    results["targets"] = bench_report.targets(results)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    table = bench_report.markdown(results)
    (ARTIFACTS / "latest.md").write_text(table)
    print(table)
    log(f"done in {results['elapsed_s'] / 60:.1f} min; artifacts/bench/latest.json and latest.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
