"""Desk log-ins: hashed passwords, server-side sessions, roles and CSRF protection.

    hash_password("s3cret")            # "scrypt$16384$8$1$<salt>$<hash>"
    verify_password("s3cret", stored)  # True / False, in constant time
    @requires("mediator")              # aiohttp handler: 303 to /login, 403 for other roles

A session is a random cookie (HttpOnly, SameSite=Strict); the database keeps
only its SHA-256, the user and a CSRF token. Every POST must carry that token
(form field ``csrf`` or header ``X-CSRF-Token``); the log-in form, which has no
session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from connectors.desk.store import Store, User

COOKIE = "helpdesk_session"
LOGIN_CSRF_COOKIE = "helpdesk_login_csrf"
USER_KEY = "user"
CSRF_KEY = "csrf"

_N, _R, _P = 2**14, 8, 1

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        given = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(given, _unb64(digest))


def check_credentials(store: Store, username: str, password: str) -> User | None:
    found = store.credentials(username)
    if found is None:
        # Same work as for a real user: timing must not tell which usernames exist.
        verify_password(password, _DUMMY_HASH)
        return None
    user, stored = found
    return user if verify_password(password, stored) else None


def start_session(store: Store, user: User, response: web.StreamResponse, hours: int) -> None:
    token = secrets.token_urlsafe(32)
    store.add_session(_digest(token), user.id, secrets.token_urlsafe(32), hours)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Strict", max_age=hours * 3600, path="/"
    )


def end_session(store: Store, request: web.Request, response: web.StreamResponse) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        store.end_session(_digest(token))
    response.del_cookie(COOKIE, path="/")


async def current_user(store: Store, request: web.Request) -> User | None:
    """The logged-in user, also kept on the request with its CSRF token."""
    if USER_KEY in request:
        return request[USER_KEY]
    token = request.cookies.get(COOKIE)
    found = await asyncio.to_thread(store.session, _digest(token)) if token else None
    request[USER_KEY], request[CSRF_KEY] = found if found else (None, None)
    return request[USER_KEY]


def bearer_ok(request: web.Request, token: str) -> bool:
    """`Authorization: Bearer <token>`; never with an empty token."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Constant-time comparison, so the token cannot be guessed by timing.
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def csrf_ok(request: web.Request, sent: str | None) -> bool:
    expected = request.get(CSRF_KEY)
    return bool(expected and sent) and hmac.compare_digest(str(sent), expected)


def requires(role: str, store_key: web.AppKey) -> Callable[[Handler], Handler]:
    """Let in users with `role` (or admins); check CSRF on every POST."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            user = await current_user(request.app[store_key], request)
            if user is None:
                # Pages send people to the log-in; scripts and sockets get 401.
                wants_page = "text/html" in request.headers.get("Accept", "")
                if request.method == "GET" and wants_page and not _is_websocket(request):
                    raise web.HTTPSeeOther(f"/login?next={request.path}")
                raise web.HTTPUnauthorized(text="Log in first.")
            if not user.may(role):
                raise web.HTTPForbidden(text=f"This page is for the {role} role.")
            if request.method == "POST":
                sent = request.headers.get("X-CSRF-Token")
                if sent is None and request.content_type.startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")
                ):
                    sent = (await request.post()).get("csrf")
                if not csrf_ok(request, sent):
                    raise web.HTTPForbidden(text="Reload the page: the form has expired (CSRF).")
            return await handler(request)

        return wrapper

    return decorate


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


_DUMMY_HASH = hash_password(secrets.token_hex(8))
