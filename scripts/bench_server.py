"""Starts and stops the real server for the bench, and reads its processes' memory from /proc.

The server is `gunicorn scripts.bench_wsgi:app` (app:server plus a Server-Timing header), or for the
load test scripts/serve.sh itself, on the warehouse and cache backend the caller chooses. Memory is read from /proc/<pid>/status (VmRSS now,
VmHWM the peak), so no extra package is needed; this is Linux only, like the production target.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kb(pid: int, key: str) -> int:
    """One `Vm*` line of /proc/<pid>/status in kB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


@dataclass
class Server:
    """A running gunicorn; `url` answers, `started_s` is the time from launch to the first 200 on /."""

    process: subprocess.Popen
    url: str
    started_s: float
    log_path: Path
    cache_dir: str | None = None
    _temp: list = field(default_factory=list)

    def pids(self) -> dict[str, int]:
        """The master and each worker."""
        return {"master": self.process.pid,
                **{f"worker{i}": pid for i, pid in enumerate(sorted(children(self.process.pid)), start=1)}}

    def rss_mb(self) -> dict[str, float]:
        return {name: _status_kb(pid, "VmRSS") / 1024 for name, pid in self.pids().items()}

    def peak_mb(self) -> dict[str, float]:
        return {name: _status_kb(pid, "VmHWM") / 1024 for name, pid in self.pids().items()}

    def clear_cache(self) -> None:
        """Empty the shared FileSystemCache (the workers see an empty cache on their next lookup)."""
        if self.cache_dir:
            for entry in Path(self.cache_dir).iterdir():
                entry.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for temp in self._temp:
            temp.cleanup()


def start(warehouse: Path, cache_type: str, workers: int = 2, threads: int = 4, timeout_s: float = 120,
          extra_env: dict | None = None, production: bool = False) -> Server:
    """Launch gunicorn and wait for the first 200 on /. FileSystemCache gets a fresh directory, so
    every worker shares one empty cache. `production`: scripts/serve.sh as `make serve` runs it (its
    gunicorn_conf.py, access log), not the bench's Server-Timing entry point."""
    port = free_port()
    temps = []
    env = dict(os.environ, POLICYCUBE_DATA=str(warehouse), POLICYCUBE_CACHE_TYPE=cache_type, **(extra_env or {}),
               HOST="127.0.0.1", PORT=str(port), WORKERS=str(workers), THREADS=str(threads))
    cache_dir = None
    if cache_type == "FileSystemCache":
        temp = tempfile.TemporaryDirectory(prefix="policycube-bench-cache-")
        temps.append(temp)
        cache_dir = env["POLICYCUBE_CACHE_DIR"] = temp.name
    log_path = Path(tempfile.gettempdir()) / f"policycube-bench-{port}.log"
    log = log_path.open("w")
    launched = time.perf_counter()
    command = (["bash", "scripts/serve.sh"] if production else
               [str(GUNICORN), "scripts.bench_wsgi:app", "--workers", str(workers), "--threads", str(threads),
                "--bind", f"127.0.0.1:{port}", "--timeout", "300"])
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = launched + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early; see {log_path}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(url + "/", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # not listening yet
            pass
        if time.perf_counter() > deadline:
            process.kill()
            raise RuntimeError(f"gunicorn did not answer within {timeout_s:.0f} s; see {log_path}")
        time.sleep(0.05)
    return Server(process, url, time.perf_counter() - launched, log_path, cache_dir, temps)
