"""Browsers a user has signed in with before, so that a lock cannot shut a person out of their own.

After a successful sign-in the browser gets a signed cookie (the app's secret key) naming the user;
with it, the right password passes the account lock and the address throttle of data/users.py. An
attacker who locks an account from elsewhere has no such cookie, so the lock stops only them (and
new browsers, until it ends or an administrator lifts it). OWASP calls these "device cookies".
"""
from __future__ import annotations

import datetime as dt

from flask import Response, current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer

COOKIE = "policycube_known"
MAX_AGE = dt.timedelta(days=90)
MAX_NAMES = 5  # a shared browser remembers its last few users


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="policycube-known-browser")


def known_names() -> list[str]:
    """The users this browser signed in as (within MAX_AGE); nothing for a forged or old cookie."""
    value = request.cookies.get(COOKIE)
    if not value:
        return []
    try:
        names = _serializer().loads(value, max_age=MAX_AGE.total_seconds())
    except BadData:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def remember(response: Response, username: str) -> Response:
    names = [username, *(n for n in known_names() if n != username)][:MAX_NAMES]
    response.set_cookie(COOKIE, _serializer().dumps(names), max_age=int(MAX_AGE.total_seconds()), path="/login",
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
