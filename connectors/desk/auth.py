"""Desk log-ins: hashed passwords, server-side sessions, roles and CSRF protection.

    hash_password("s3cret")            # "$argon2id$v=19$m=65536,t=3,p=4$..."
    verify_password("s3cret", stored)  # True / False
    @requires("mediator")              # aiohttp handler: 303 to /login, 403 for other roles

Passwords are hashed with Argon2id (argon2-cffi, RFC 9106 parameters). Hashes
of the older scrypt scheme still log in, and are replaced by an Argon2id hash
at that log-in (``check_credentials``).

A session is a random cookie (HttpOnly, SameSite=Strict; Secure with the
``__Host-`` prefix when ``desk.behind_proxy`` says the desk is served over
HTTPS); the database keeps only its SHA-256, the user and a CSRF token. Every
POST must carry that token (form field ``csrf`` or header ``X-CSRF-Token``);
the log-in form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable

import argon2
from aiohttp import web

from connectors.desk.store import Store, User

COOKIE = "helpdesk_session"
LOGIN_CSRF_COOKIE = "helpdesk_login_csrf"
# Over HTTPS the cookies carry this prefix: the browser then insists on
# Secure, Path=/ and no Domain, so no sibling site can plant or read them.
SECURE_PREFIX = "__Host-"
SECURE_KEY = web.AppKey("secure_cookies", bool)
USER_KEY = "user"
CSRF_KEY = "csrf"

_HASHER = argon2.PasswordHasher()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """An older scheme (scrypt) or weaker Argon2 parameters than today's."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except argon2.exceptions.InvalidHashError:
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    # The scheme before Argon2id: "scrypt$N$r$p$<salt>$<hash>".
    try:
        _, n, r, p, salt, digest = stored.split("$")
        given = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(given, _unb64(digest))


def check_credentials(store: Store, username: str, password: str) -> User | None:
    """The user when the password is right; an old hash is replaced by Argon2id then."""
    found = store.credentials(username)
    if found is None:
        # Same work as for a real user: timing must not tell which usernames exist.
        verify_password(password, _DUMMY_HASH)
        return None
    user, stored = found
    if not verify_password(password, stored):
        return None
    if needs_rehash(stored):
        store.replace_hash(user.id, stored, hash_password(password))
    return user


def cookie_name(request: web.Request, name: str) -> str:
    return SECURE_PREFIX + name if request.app.get(SECURE_KEY, False) else name


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, **kw):
    """HttpOnly, SameSite=Strict, Path=/; Secure and __Host- when served over HTTPS."""
    secure = request.app.get(SECURE_KEY, False)
    response.set_cookie(
        cookie_name(request, name),
        value,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
        **kw,
    )


def start_session(
    store: Store, user: User, request: web.Request, response: web.StreamResponse, hours: int
) -> None:
    token = secrets.token_urlsafe(32)
    store.add_session(_digest(token), user.id, secrets.token_urlsafe(32), hours)
    set_cookie(request, response, COOKIE, token, max_age=hours * 3600)


def end_session(store: Store, request: web.Request, response: web.StreamResponse) -> None:
    token = request.cookies.get(cookie_name(request, COOKIE))
    if token:
        store.end_session(_digest(token))
    response.del_cookie(
        cookie_name(request, COOKIE), path="/", secure=request.app.get(SECURE_KEY, False)
    )


async def current_user(store: Store, request: web.Request) -> User | None:
    """The logged-in user, also kept on the request with its CSRF token."""
    if USER_KEY in request:
        return request[USER_KEY]
    token = request.cookies.get(cookie_name(request, COOKIE))
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
