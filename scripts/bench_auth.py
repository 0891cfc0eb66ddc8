"""The bench's one sign-in step: when the app has a /login route (issue 8), sign in as a demo
executive (all rows, like the numbers the floor computes) and let the session cookie ride along.

BENCH_USER / BENCH_PASSWORD override the account (e.g. on a warehouse with loaded data, where the
demo accounts are refused). Without a /login route this does nothing.
"""
from __future__ import annotations

import os

import requests

DEMO_EXECUTIVE = ("demo-exec", "policycube-demo")  # listed in the README's access section


def sign_in(session: requests.Session, base_url: str) -> str | None:
    """Sign `session` in; returns the account name, or None when the app has no sign-in."""
    if session.get(base_url + "/login", allow_redirects=False, timeout=30).status_code == 404:
        return None
    username = os.environ.get("BENCH_USER", DEMO_EXECUTIVE[0])
    password = os.environ.get("BENCH_PASSWORD", DEMO_EXECUTIVE[1])
    answer = session.post(base_url + "/login", data={"username": username, "password": password},
                          allow_redirects=False, timeout=30)
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"sign-in as {username} failed (HTTP {answer.status_code}); "
                           "set BENCH_USER and BENCH_PASSWORD to an executive account")
    return username
