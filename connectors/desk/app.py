"""The desk's pages on the web app: log-in, mediator desk, operator assist, dashboard.

    add_desk(app, settings, kit, taxonomy)   # called by connectors.web.create_app

- ``/login``, ``/logout``: per-person log-ins (``python -m connectors.desk users ...``).
- ``/desk`` (mediator): the queue, claiming, transcripts and replies, live over
  ``/desk/ws`` (``connectors.desk.mediator``).
- ``/assist`` (operator): suggested answers side by side, feedback, a mediator
  in one click, topics by domain (``connectors.desk.assist``).
- ``/dashboard`` (admin): figures per period, charts and CSV
  (``connectors.desk.dashboard``).
- ``/editor`` (editor): the authoring page of the welcome kit
  (``connectors.desk.editor``), and its local offices at ``/editor/offices``
  (``connectors.desk.offices``).
- ``/widget/``: the chat widget and an example host page; the photos and PDFs
  it sends a mediator (``connectors.desk.uploads``).

In the background it deletes conversations people asked to be forgotten, and
runs the retention job at start-up and every hour (``connectors.privacy``).

Pages are Jinja templates with autoescaping; scripts insert people's words
with ``textContent`` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
import jinja2
import sqlalchemy as sa
from aiohttp import web

from connectors.desk import auth, i18n
from connectors.desk.connector import DeskConnector
from connectors.desk.throttle import LOCK_MINUTES, LOCKED_MESSAGE, LoginThrottle
from connectors.handoff import load_connector
from connectors.privacy import Privacy, keep_private
from knowledge.entries import Kit
from knowledge.language import LANGUAGE_NAMES
from knowledge.settings import Settings
from knowledge.taxonomy import Taxonomy

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
WIDGET_DIR = HERE.parent / "widget"

CONNECTOR_KEY = web.AppKey("connector", DeskConnector)
STORE_KEY = web.AppKey("store", object)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
DESK_SETTINGS_KEY = web.AppKey("desk_settings", Settings)
CLIENT_KEY = web.AppKey("desk_client", aiohttp.ClientSession)
THROTTLE_KEY = web.AppKey("login_throttle", LoginThrottle)
HASHING_KEY = web.AppKey("hashing", asyncio.Semaphore)
# Password hashes at once: each takes 64 MiB and a core, and guessing must not
# fill the thread pool the desk's database calls share (the rest wait here).
HASHING_AT_ONCE = 2

HOME = {"mediator": "/desk", "operator": "/assist", "editor": "/editor", "admin": "/dashboard"}


def render(request: web.Request, template: str, **context: Any) -> web.Response:
    page = request.app[TEMPLATES_KEY].get_template(template)
    user = request.get(auth.USER_KEY)
    language = page_language(request)
    html = page.render(
        user=user,
        csrf=request.get(auth.CSRF_KEY) or "",
        settings=request.app[DESK_SETTINGS_KEY],
        names=LANGUAGE_NAMES,
        page_language=language,
        page_languages=i18n.LANGUAGE_NAMES,
        script_text=i18n.script_text(language),
        here=_safe_next(request.path),
        **context,
    )
    return web.Response(text=html, content_type="text/html", headers=SECURITY_HEADERS)


def page_language(request: web.Request) -> str:
    """The language this request's staff page is shown in (``connectors.desk.i18n``)."""
    cookie = auth.cookie_name(request, i18n.COOKIE)
    return i18n.page_language(request, request.get(auth.USER_KEY), cookie)


def text(request: web.Request, message: str) -> str:
    """`message` in the language of the request's page, for texts made in Python."""
    return i18n.translate(page_language(request), message)


async def choose_page_language(request: web.Request) -> web.Response:
    """POST /page-language: the switch on every page (language, next, csrf).

    Logged in, the choice is kept for the user (session CSRF token); before
    log-in only in a cookie (the log-in form's double-submit token).
    """
    form = await request.post()
    language = i18n.chosen(str(form.get("language", "")))
    if language is None:
        raise web.HTTPBadRequest(text="Choose one of: " + ", ".join(i18n.LANGUAGES) + ".")
    user = await auth.current_user(request.app[STORE_KEY], request)
    if user is not None:
        if not auth.csrf_ok(request, form.get("csrf")):
            raise web.HTTPForbidden(text="Reload the page: the form has expired (CSRF).")
        await asyncio.to_thread(request.app[STORE_KEY].set_page_language, user.id, language)
    else:
        cookie = request.cookies.get(auth.cookie_name(request, auth.LOGIN_CSRF_COOKIE), "")
        if not cookie or not secrets.compare_digest(str(form.get("csrf", "")), cookie):
            raise web.HTTPForbidden(text="Reload the log-in page: the form has expired (CSRF).")
    home = HOME[user.role] if user is not None else "/login"
    response = redirect(_safe_next(str(form.get("next", ""))) or home)
    _remember_language(request, response, language)
    return response


def _remember_language(request: web.Request, response: web.StreamResponse, language: str) -> None:
    # A year: the log-in page greets the same person in the same language.
    auth.set_cookie(request, response, i18n.COOKIE, language, max_age=365 * 24 * 3600)


# Scripts only from this origin: an injected <script> would not run anyway.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def login_page(request: web.Request) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", login_csrf=token, next=_safe_next(request.query.get("next"))
    )
    auth.set_cookie(request, response, auth.LOGIN_CSRF_COOKIE, token)
    return response


def client_address(request: web.Request) -> str:
    """The person's address; behind the proxy in deploy/, the one nginx saw."""
    if request.app[DESK_SETTINGS_KEY].desk.behind_proxy:
        return request.headers.get("X-Real-IP", "").strip() or str(request.remote)
    return str(request.remote)


async def login(request: web.Request) -> web.Response:
    try:
        form = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="Send the log-in form as UTF-8 text.") from None
    cookie = request.cookies.get(auth.cookie_name(request, auth.LOGIN_CSRF_COOKIE), "")
    if not cookie or not secrets.compare_digest(str(form.get("csrf", "")), cookie):
        raise web.HTTPForbidden(text="Reload the log-in page: the form has expired (CSRF).")
    store = request.app[STORE_KEY]
    username, address = str(form.get("username", "")), client_address(request)
    next_page = _safe_next(str(form.get("next", "")))
    throttle = request.app[THROTTLE_KEY]
    if throttle.locked(username, address):
        response = render(
            request,
            "login.html",
            login_csrf=cookie,
            next=next_page,
            error=text(request, LOCKED_MESSAGE),
        )
        response.set_status(429)
        response.headers["Retry-After"] = str(LOCK_MINUTES * 60)
        return response
    async with request.app[HASHING_KEY]:
        user = await asyncio.to_thread(
            auth.check_credentials, store, username, str(form.get("password", ""))
        )
    if user is None:
        throttle.failed(username, address)
        response = render(
            request,
            "login.html",
            login_csrf=cookie,
            next=next_page,
            error=text(request, "Wrong username or password."),
        )
        response.set_status(401)
        return response
    response = redirect(next_page or HOME[user.role])
    # The log-in page after this one greets the user in their language.
    language = await asyncio.to_thread(store.page_language, user.id)
    _remember_language(request, response, i18n.chosen(language) or i18n.DEFAULT)
    await asyncio.to_thread(
        auth.start_session,
        store,
        user,
        request,
        response,
        request.app[DESK_SETTINGS_KEY].desk.session_hours,
    )
    response.del_cookie(
        auth.cookie_name(request, auth.LOGIN_CSRF_COOKIE),
        path="/",
        secure=request.app.get(auth.SECURE_KEY, False),
    )
    return response


async def logout(request: web.Request) -> web.Response:
    user = await auth.current_user(request.app[STORE_KEY], request)
    form = await request.post()
    if user and not auth.csrf_ok(request, form.get("csrf")):
        raise web.HTTPForbidden(text="Reload the page: the form has expired (CSRF).")
    response = redirect("/login")
    auth.end_session(request.app[STORE_KEY], request, response)
    return response


async def json_body(request: web.Request) -> dict:
    """The request's JSON object; 400 for anything else."""
    try:
        body = json.loads(await request.read())
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="Send a JSON object.") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="Send a JSON object.")
    return body


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _safe_next(target: str | None) -> str:
    """A path on this site, or "": never a redirect to another host.

    Browsers read ``/\\host`` as ``//host``, skip tabs and line breaks, and
    some proxies decode ``%5c`` and ``%2f``; so any backslash, control
    character, scheme or host, plain or percent-encoded, refuses the target.
    """
    if not target:
        return ""
    decoded = [target, unquote(target), unquote(unquote(target))]
    for text in decoded:
        if not text.startswith("/") or text.startswith("//") or "\\" in text:
            return ""
        if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
            return ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return ""
    return parts.path


async def widget_example(request: web.Request) -> web.Response:
    html = (WIDGET_DIR / "example.html").read_text(encoding="utf-8")
    html = html.replace("http://localhost:5005", request.app[DESK_SETTINGS_KEY].services.rasa_url)
    return web.Response(text=html, content_type="text/html")


@web.middleware
async def database_trouble(request: web.Request, handler) -> web.StreamResponse:
    """A locked or full database: 503 and nothing half-saved (each write is one transaction)."""
    try:
        return await handler(request)
    except sa.exc.OperationalError as exc:
        log.error("The desk's database refused %s %s: %s", request.method, request.path, exc.orig)
        return web.json_response(
            {
                "error": "The desk cannot save right now (database busy or full). "
                "Nothing was saved; try again in a minute."
            },
            status=503,
            headers={"Retry-After": "30"},
        )


async def _lifecycle(app: web.Application):
    # The action server refuses callers without the shared secret.
    app[CLIENT_KEY] = aiohttp.ClientSession(
        headers=app[DESK_SETTINGS_KEY].services.action_server_headers()
    )
    connector = app[CONNECTOR_KEY]
    await connector.start()
    # Requests to be forgotten, and the retention job (connectors.privacy).
    privacy = Privacy.open(app[DESK_SETTINGS_KEY], connector.store)
    forgetting = asyncio.create_task(keep_private(privacy, connector.notify))
    yield
    forgetting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await forgetting
    await connector.stop()
    await app[CLIENT_KEY].close()


def add_desk(app: web.Application, settings: Settings, kit: Kit, taxonomy: Taxonomy) -> None:
    from connectors.desk import assist, dashboard, editor, mediator, offices, uploads

    connector = load_connector(settings)
    if not isinstance(connector, DeskConnector):
        raise TypeError("The desk pages need the built-in DeskConnector in endpoints.yml")
    app[CONNECTOR_KEY] = connector
    app[STORE_KEY] = connector.store
    app[DESK_SETTINGS_KEY] = settings
    app[auth.SECURE_KEY] = settings.desk.behind_proxy
    app[THROTTLE_KEY] = LoginThrottle(settings.desk.redis_url)
    app[HASHING_KEY] = asyncio.Semaphore(HASHING_AT_ONCE)
    app[TEMPLATES_KEY] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    i18n.install(app[TEMPLATES_KEY])
    app.cleanup_ctx.append(_lifecycle)
    app.middlewares.append(database_trouble)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_post("/page-language", choose_page_language)
    app.router.add_get("/widget/example.html", widget_example)
    app.router.add_static("/widget/", WIDGET_DIR)
    app.router.add_static("/static/", HERE / "static")
    mediator.add_routes(app)
    uploads.add_routes(app)
    assist.add_routes(app, kit, taxonomy)
    dashboard.add_routes(app)
    editor.add_routes(app)
    offices.add_routes(app)


def requires(role: str):
    return auth.requires(role, STORE_KEY)


async def knowledge(request: web.Request, path: str, body: dict) -> tuple[int, dict]:
    """POST to the action server's knowledge routes; (503, {}) when it is down."""
    url = f"{request.app[DESK_SETTINGS_KEY].services.action_server_url}{path}"
    try:
        async with request.app[CLIENT_KEY].post(
            url, json=body, timeout=aiohttp.ClientTimeout(total=30)
        ) as response:
            return response.status, await response.json()
    except (TimeoutError, aiohttp.ClientError, ValueError):
        return 503, {}
