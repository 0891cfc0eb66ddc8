"""The bench's verdict: each issue-7 target as PASS/FAIL from the measured figures, and the Markdown
table the README's performance section shows. Pure functions of the results dict (latest.json)."""
from __future__ import annotations

import math

from scripts.bench_interactions import INTERACTIONS
from scripts.bench_replay import summary


def _p(results: dict, phase: str, name: str, what: str, q: str = "p95") -> float:
    return results.get(phase, {}).get(name, {}).get(what, {}).get(q, math.nan)


def _floor(results: dict, case: str, key: str, q: str = "p50") -> float:
    values = results.get("floor", {}).get(case, {}).get(key)
    return summary(values)[q] if values else math.nan


def _worst(results: dict, phase: str, what: str, names: list[str]) -> tuple[float, str]:
    measured = [(_p(results, phase, n, what), n) for n in names if n in results.get(phase, {})]
    return max(measured) if measured else (math.nan, "")


def _target(text: str, value: float, limit: float, unit: str, detail: str = "", higher_is_better: bool = False) -> dict:
    if value is None or math.isnan(value):
        return {"target": text, "measured": "n/a", "pass": None, "detail": detail or "not measured"}
    ok = value >= limit if higher_is_better else value < limit
    shown = f"{value:,.0f} {unit}" if unit == "ms" else _ratio(value) if unit == "x" else f"{value:,.2f}{unit}"
    return {"target": text, "measured": shown, "pass": bool(ok), "detail": detail}


def targets(results: dict) -> list[dict]:
    measured = [i for i in INTERACTIONS if i.name in results.get("cached", {})]
    by_class = lambda target: [i.name for i in measured if i.target == target]  # noqa: E731
    all_names = [i.name for i in measured]
    out = []
    value, name = _worst(results, "cached", "server_ms", all_names)
    out.append(_target("cached p95 server < 50 ms", value, 50, "ms", f"worst: {name}"))
    value, name = _worst(results, "cached", "round_trip_ms", all_names)
    out.append(_target("cached p95 round trip < 150 ms", value, 150, "ms", f"worst: {name}"))
    value, name = _worst(results, "uncached", "server_ms", by_class("rollup"))
    out.append(_target("uncached rollup-answerable p95 < 50 ms", value, 50, "ms", f"worst: {name}"))
    value, name = _worst(results, "uncached", "server_ms", by_class("raw"))
    out.append(_target("uncached raw-row p95 < 1 s", value, 1000, "ms", f"worst: {name}"))
    if "whale_curve" in results.get("uncached", {}):
        out.append(_target("whale curve < 1.5 s", _p(results, "uncached", "whale_curve", "server_ms"), 1500, "ms",
                           "uncached p95, /contribution callbacks"))
    else:
        out.append(_target("whale curve < 1.5 s", _floor(results, "whale", "engine_ms", "p95"), 1500, "ms",
                           "engine.whale_curve in-process (page not measured)"))
    ratios = [(_floor(results, c, "engine_ms") / _floor(results, c, "floor_ms"), c)
              for c, r in results.get("floor", {}).items() if r.get("same_answer")]
    value, name = max(ratios) if ratios else (math.nan, "")
    out.append(_target("engine <= 1.3x floor", value, 1.3 + 1e-9, "x", f"worst: {name} (p50 / p50, same answer)"))
    for case, engine_case in (("pivot", "pivot"), ("whale", "whale")):
        pandas = results.get("pandas", {}).get(case, {})
        compute = summary(pandas.get("compute_ms", []))["p50"]
        engine = _floor(results, engine_case, "engine_ms")
        out.append(_target(f">= 10x faster than pandas ({case})", compute / engine, 10, "x",
                           "pandas compute p50 / engine p50 (load excluded)", higher_is_better=True))
    export = results.get("export", {})
    rows = export.get("rows", 0)
    out.append(_target("CSV 1M rows < 5 s", export.get("seconds", math.nan), 5, " s",
                       f"{rows:,} rows, first byte after {export.get('first_byte_s') or math.nan:.2f} s"))
    out.append(_target("CSV memory growth < 300 MB", export.get("growth_mb", math.nan), 300, " MB"))
    startups = results.get("startup_s", {})
    out.append(_target("server start < 3 s", max(startups.values()) if startups else math.nan, 3, " s",
                       "launch to first 200 on /, worst of the two starts"))
    peaks = [sum(p.values()) for p in results.get("peak_mb", {}).values() if p]
    out.append(_target("server peak < 2 GB", max(peaks) / 1024 if peaks else math.nan, 2, " GB",
                       "sum of VmHWM over master and workers"))
    return out


def _ms(value: float) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 1 else f"{value:,.1f}x"


def _pair(results: dict, phase: str, name: str, what: str) -> str:
    return f"{_ms(_p(results, phase, name, what, 'p50'))} / {_ms(_p(results, phase, name, what))}"


def markdown(results: dict) -> str:
    w = results["warehouse"]
    s = results["settings"]
    lines = [
        f"`{results['command']}` on {results['date']}: {w['customers']:,} customers, {w['policies']:,} policies, "
        f"{w['premiums']:,} premium instalments, {len(w['rollup_tables'])} rollup tables; "
        f"{results['machine']['cpus']} CPUs (load average at start {results['machine']['load_average_at_start'][0]:.1f}); "
        f"gunicorn {s['workers']} workers x {s['threads']} threads; up to {s['repeats']} uncached and "
        f"{s['cached_repeats']} cached runs per interaction; signed in as {results.get('signed_in_as') or '(no sign-in)'}; "
        f"took {results['elapsed_s'] / 60:.1f} min.",
        "",
        "Milliseconds, p50 / p95. Server = the app's own time (Server-Timing), round trip = the client's, "
        "summed over the interaction's callback requests replayed in order. Floor = hand-written DuckDB SQL "
        "for the same numbers.",
        "",
        "| interaction | class | callbacks | uncached server | uncached round trip | cached server "
        "| cached round trip | floor p50 | server ÷ floor | runs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i in INTERACTIONS:
        if i.name not in results.get("cached", {}):
            lines.append(f"| {i.name} | {i.target} | | {results.get('status', {}).get(i.name, 'not run')} | | | | | | |")
            continue
        floor = _floor(results, i.floor, "floor_ms") if i.floor else math.nan
        server = _p(results, "uncached", i.name, "server_ms", "p50")
        ratio = _ratio(server / floor) if floor == floor else "–"
        runs = f"{results['uncached'][i.name]['server_ms']['n']}/{results['cached'][i.name]['server_ms']['n']}"
        calls = results.get("recorded_requests", {}).get(i.name, "")
        lines.append(f"| {i.name} | {i.target} | {calls} | {_pair(results, 'uncached', i.name, 'server_ms')} "
                     f"| {_pair(results, 'uncached', i.name, 'round_trip_ms')} "
                     f"| {_pair(results, 'cached', i.name, 'server_ms')} "
                     f"| {_pair(results, 'cached', i.name, 'round_trip_ms')} | {_ms(floor)} | {ratio} | {runs} |")
    lines += ["", "Engine (result cache off, in-process) against the floor on the pages' own specs:", "",
              "| case | floor p50 | engine p50 | engine ÷ floor | same numbers |", "|---|---:|---:|---:|---|"]
    for case, r in results.get("floor", {}).items():
        if "engine_ms" not in r:
            continue
        floor, engine = _floor(results, case, "floor_ms"), _floor(results, case, "engine_ms")
        same = {True: "yes", False: "NO"}.get(r.get("same_answer"), "(wide form; see pivot_long)")
        lines.append(f"| {case} | {_ms(floor)} | {_ms(engine)} | {_ratio(engine / floor)} | {same} |")
    lines += ["", "| pandas alternative | load p50 | compute p50 | engine p50 | engine faster (compute) "
              "| engine faster (load + compute) |", "|---|---:|---:|---:|---:|---:|"]
    for case, r in results.get("pandas", {}).items():
        load, compute = summary(r["load_ms"])["p50"], summary(r["compute_ms"])["p50"]
        engine = _floor(results, case, "engine_ms")
        lines.append(f"| {case} | {_ms(load)} | {_ms(compute)} | {_ms(engine)} | {_ratio(compute / engine)} "
                     f"| {_ratio((load + compute) / engine)} |")
    export = results.get("export", {})
    peaks = results.get("peak_mb", {})
    lines += ["",
              f"Start-up (launch to first 200 on /): "
              + ", ".join(f"{k} {v:.2f} s" for k, v in results.get("startup_s", {}).items()) + ". "
              f"Peak memory (VmHWM, MB): "
              + "; ".join(f"{k}: " + ", ".join(f"{n} {v:,.0f}" for n, v in p.items()) for k, p in peaks.items()) + ". "
              f"CSV export of {export.get('rows', 0):,} records ({export.get('mb', 0):,.0f} MB; expected "
              f"{export.get('expected_rows', 0):,}): {export.get('seconds', math.nan):.1f} s, first byte "
              f"{export.get('first_byte_s') or math.nan:.2f} s, worker memory growth {export.get('growth_mb', math.nan):,.0f} MB.",
              "", "| target | measured | result | note |", "|---|---:|---|---|"]
    for t in results.get("targets", []):
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["pass"]]
        lines.append(f"| {t['target']} | {t['measured']} | {verdict} | {t['detail']} |")
    return "\n".join(lines) + "\n"
