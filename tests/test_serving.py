"""Production serving: gunicorn with several workers answers every registered page to a signed-in
user (the workers share the session key), and refuses it to anyone else."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from data.users import DEMO_PASSWORD
from data.warehouse import PROJECT_ROOT

GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_url(demo_warehouse, tmp_path_factory):
    port = _free_port()
    access_db = tmp_path_factory.mktemp("access") / "access.sqlite"
    env = dict(os.environ, POLICYCUBE_DATA=str(demo_warehouse), POLICYCUBE_ACCESS_DB=str(access_db))
    server = subprocess.Popen(
        [str(GUNICORN), "app:server", "--workers", "3", "--bind", f"127.0.0.1:{port}", "--timeout", "60"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"gunicorn exited early:\n{server.stdout.read()}")
            try:
                requests.get(url, timeout=2)
                break
            except requests.RequestException:  # not listening yet, or busy starting
                time.sleep(0.3)
        else:
            pytest.fail("gunicorn did not answer within 60 s")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def _page_paths() -> list[str]:
    from layouts.pages import PAGES

    return [path for _module, path, _layout, _name in PAGES]


@pytest.fixture(scope="module")
def signed_in(gunicorn_url):
    session = requests.Session()
    response = session.post(gunicorn_url + "/login", data={"username": "demo-exec", "password": DEMO_PASSWORD},
                            allow_redirects=False, timeout=20)
    assert response.status_code == 302
    return session


@pytest.mark.parametrize("path", _page_paths())
def test_every_page_is_served_by_several_gunicorn_workers(gunicorn_url, signed_in, path):
    assert requests.get(gunicorn_url + path, allow_redirects=False, timeout=10).status_code == 302
    assert requests.get(gunicorn_url + "/_dash-layout", timeout=10).status_code == 401
    for _ in range(6):
        response = signed_in.get(gunicorn_url + path, timeout=10)
        assert response.status_code == 200
        assert "PolicyCube" in response.text
        layout = signed_in.get(gunicorn_url + "/_dash-layout", timeout=10)
        assert layout.status_code == 200 and layout.json()
    dependencies = signed_in.get(gunicorn_url + "/_dash-dependencies", timeout=10)
    assert dependencies.status_code == 200
    assert any("lang-switch" in str(dep) for dep in dependencies.json())


def test_make_run_serves_with_gunicorn_and_stops_cleanly_on_ctrl_c(demo_warehouse, tmp_path):
    """`make run`'s command (scripts/run.sh): the start-up line once it listens, the sign-in page, no
    development-server warning, and Ctrl+C (SIGINT to the terminal's process group) ends it cleanly."""
    port = _free_port()
    env = dict(os.environ, POLICYCUBE_DATA=str(demo_warehouse), POLICYCUBE_ACCESS_DB=str(tmp_path / "access.sqlite"),
               PORT=str(port), HOST="127.0.0.1", PYTHONUNBUFFERED="1")
    server = subprocess.Popen(["bash", "scripts/run.sh"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines: list[str] = []
    try:
        ready = f"PolicyCube: open http://127.0.0.1:{port}/ in your browser (Ctrl+C stops)"
        for line in server.stdout:  # blocks until the server prints; a server that dies ends the loop
            lines.append(line)
            if line.strip() == ready:
                break
        else:
            pytest.fail("make run ended before its start-up line:\n" + "".join(lines))
        login = requests.get(f"http://127.0.0.1:{port}/login", timeout=20)
        assert login.status_code == 200 and "login-username" in login.text
        os.killpg(server.pid, signal.SIGINT)
        rest, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    output = "".join(lines) + rest
    assert server.returncode == 0, output
    assert "development server" not in output.lower()
    assert "Traceback" not in output and "Error" not in output, output


# gunicorn_conf.py preloads the app in the master and forks the workers from it: whatever the import
# opened (a warehouse or access-database connection, a thread) would be shared by every worker.
_IMPORT_PROBE = """
import json, os, threading
def fds():
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # the listing's own descriptor, closed by now
            pass
    return found
before = fds()
import app
opened = sorted(target for fd, target in fds().items() if before.get(fd) != target)
print(json.dumps({"opened": opened, "threads": [t.name for t in threading.enumerate()],
                  "dash_setup": app.app._got_first_request}))
"""


def test_importing_the_app_opens_nothing_a_fork_would_share_and_finishes_dash_setup(demo_warehouse, tmp_path):
    import json

    env = dict(os.environ, POLICYCUBE_DATA=str(demo_warehouse), POLICYCUBE_CACHE_TYPE="FileSystemCache",
               POLICYCUBE_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe["opened"] == [] and probe["threads"] == ["MainThread"]
    # Dash's per-process setup ran at import, so a worker's first visitors get the renderer's scripts
    assert probe["dash_setup"] == {"pages": True, "setup_server": True}
