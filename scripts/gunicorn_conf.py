"""gunicorn settings shared by `make run` (scripts/run.sh) and `make serve` (scripts/serve.sh).

HOST and PORT say where to listen; the start-up line is printed once the server listens, so the URL
it names answers when someone opens it."""
import os
import signal

_host, _port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8050")
bind = f"{_host}:{_port}"
# one control socket per user (~/.gunicorn/gunicorn.ctl) would be taken over by whichever server started last
control_socket_disable = True
timeout = 120  # a records export of a million rows streams for seconds; a first 10x query can take long
# gunicorn's default 2 s keep-alive closes a connection idle for 2 s, the pause a person takes between
# two views: a request sent on it in that instant met a reset (12 in a 50-user run, `make load`).
# Above a browser's own idle limit (Chromium: 60 s), so the browser, not the server, ends the connection.
keepalive = 75
# Workers fork from the app the master imported: a replacement for a dead worker answers in seconds
# instead of re-importing Dash, pandas and DuckDB on a busy machine. Importing app opens no file,
# connection or thread (the warehouse and the access database open on a worker's first request;
# tests/test_serving.py checks), so nothing is shared across the fork.
preload_app = True


def when_ready(_server) -> None:
    print(f"PolicyCube: open http://{_host}:{_port}/ in your browser (Ctrl+C stops)", flush=True)


def post_worker_init(_worker) -> None:
    # Ctrl+C signals the terminal's whole process group: the master then tells each worker to quit.
    # A worker that also took the SIGINT itself quit twice over, and now and then hung until the master
    # killed it 30 s later ("Worker was sent SIGKILL!"): the master's word is enough.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
