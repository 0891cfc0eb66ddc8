"""The load test's fault: SIGKILL the gunicorn worker that is streaming an export, then time recovery.

Which worker serves a connection is read from Linux's /proc: the client's local port names the
server-side socket in /proc/net/tcp (local port = the server's, remote port = the client's), whose
inode is one of the worker's open files (/proc/<pid>/fd -> socket:[inode]). So the kill hits the
process that holds that download, not a worker picked at random.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from scripts.bench_server import Server, children

PROBE_EVERY_S = 0.05


def _server_socket_inodes(server_port: int, client_port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                inodes.add(inode)
    return inodes


def worker_serving(server: Server, client_port: int) -> int | None:
    """The worker pid holding the server end of the client's connection from `client_port`."""
    inodes = {f"socket:[{inode}]" for inode in _server_socket_inodes(urlsplit(server.url).port, client_port)}
    for pid in children(server.process.pid):
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) in inodes:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


def client_port(answer: requests.Response) -> int:
    """The local port of a streamed response's connection (urllib3 keeps it while the body is read)."""
    return answer.raw._connection.sock.getsockname()[1]


@dataclass
class Kill:
    at_s: float | None = None  # run seconds when the signal was sent
    pid: int | None = None
    first_answer_s: float | None = None  # kill to the first answer on a new connection
    replacement_pid: int | None = None
    replacement_s: float | None = None  # kill to the first answer from the new worker
    workers_before: frozenset[int] = frozenset()


def kill_streaming_worker(server: Server, answer: requests.Response, kill: Kill, now) -> None:
    """`on_first_chunk` of the fault's download: SIGKILL the worker streaming it."""
    pid = worker_serving(server, client_port(answer))
    if pid is None:
        raise RuntimeError("no worker holds the export's connection")
    kill.pid, kill.workers_before = pid, frozenset(children(server.process.pid))
    os.kill(pid, signal.SIGKILL)
    kill.at_s = now()


def watch_recovery(server: Server, cookies, kill: Kill, now, give_up_s: float = 30) -> None:
    """After the kill: the first answer on a new connection, then the first from the worker that
    replaced the dead one (a signed-in page request, so its app answers, not only its socket)."""
    while now() - kill.at_s < give_up_s and (kill.first_answer_s is None or kill.replacement_s is None):
        probe = requests.Session()
        probe.cookies.update(cookies)
        try:
            with probe.get(server.url + "/_dash-layout", stream=True, timeout=give_up_s) as answer:
                if answer.status_code == 200:
                    if kill.first_answer_s is None:
                        kill.first_answer_s = now() - kill.at_s
                    pid = worker_serving(server, client_port(answer))
                    if pid is not None and pid not in kill.workers_before:
                        kill.replacement_pid, kill.replacement_s = pid, now() - kill.at_s
        except requests.RequestException:
            pass
        finally:
            probe.close()
        time.sleep(PROBE_EVERY_S)
