"""Times a large CSV export as a client downloads it, while watching the server's memory.

The download is read in chunks as it arrives (time to first byte and to the last byte); a thread
samples every server process's resident memory from /proc every 50 ms, so the growth is what the
export made the serving worker hold, not a guess from the start and end.
"""
from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlencode

import requests

from scripts.bench_server import Server

HEADER_LINES = 2  # the line naming the filters, then the column headers


def export_url(view: str, spec: dict, kind: str = "records", lang: str = "zh") -> str:
    return f"/export/{view}.csv?" + urlencode({"spec": json.dumps(spec, ensure_ascii=False), "lang": lang,
                                               "kind": kind})


def download(session: requests.Session, server: Server, path: str) -> dict:
    before = server.rss_mb()
    highest = dict(before)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for name, mb in server.rss_mb().items():
                highest[name] = max(highest.get(name, 0.0), mb)
            time.sleep(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    started = time.perf_counter()
    first_byte = None
    lines = size = 0
    try:
        with session.get(server.url + path, stream=True, timeout=600) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"export answered HTTP {answer.status_code}: {answer.text[:300]}")
            for chunk in answer.iter_content(chunk_size=1 << 16):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                lines += chunk.count(b"\n")
                size += len(chunk)
    finally:
        done.set()
        watcher.join()
    growth = {name: highest.get(name, 0.0) - mb for name, mb in before.items()}
    return {"seconds": time.perf_counter() - started, "first_byte_s": first_byte, "rows": lines - HEADER_LINES,
            "mb": size / 1e6, "growth_mb": max(growth.values()), "growth_by_process_mb": growth}
