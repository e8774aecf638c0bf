"""Files people send the mediator holding their hand-off, and the desk showing them.

    GET  /widget/api/attachments          the widget's session: {"open": a hand-off is
                                          open, so a file may be sent; "max_bytes"}
    POST /widget/api/attachments          the file's bytes as the body; the widget's
                                          session in X-Session-Id and X-Session-Tag
                                          -> 201 {"id"}, or 400/409/413/415 {"error"}
    GET  /desk/api/attachments/{id}       the file, for the mediator holding its
                                          hand-off and admins (others: 403)

The widget proves its socket.io session the way it does on the socket: the id
with the HMAC tag the server issued for it (``connectors.identity.SessionSigner``),
in headers, never in the URL. So a person can only add a file to their own
open hand-off, and nobody can name another's. Files are checked and cleaned in
``connectors.desk.attachments``; nothing is kept when one is refused.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from connectors.desk import app as desk
from connectors.desk import auth
from connectors.desk.attachments import (
    EXTENSIONS,
    AttachmentRefused,
    clean,
    too_large_message,
)
from connectors.desk.mediator import may_read
from connectors.identity import SessionSigner, namespaced

CHUNK = 64 * 1024
NO_HANDOFF = "A file can be sent only while you talk with a mediator."
CORS_HEADERS = "Content-Type, X-Session-Id, X-Session-Tag"


def _refused(request: web.Request, message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=_cors(request))


def _cors(request: web.Request) -> dict[str, str]:
    """The widget on a configured site (services.allowed_origins) may call these routes."""
    origin = request.headers.get("Origin", "")
    if origin and origin in request.app[desk.DESK_SETTINGS_KEY].services.allowed_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": CORS_HEADERS,
            "Access-Control-Allow-Methods": "GET, POST",
            "Vary": "Origin",
        }
    return {}


def _sender(request: web.Request) -> str:
    """The person's sender id, from the session their widget proved; 403 otherwise."""
    secret = request.app[desk.DESK_SETTINGS_KEY].services.session_secret
    session_id = request.headers.get("X-Session-Id", "")
    tag = request.headers.get("X-Session-Tag", "")
    if not secret or not SessionSigner(secret).valid(session_id, tag):
        raise web.HTTPForbidden(
            text='{"error": "This conversation could not be confirmed; reload the page."}',
            content_type="application/json",
            headers=_cors(request),
        )
    return namespaced("socketio", session_id)


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=_cors(request))


async def state(request: web.Request) -> web.Response:
    sender_id = _sender(request)
    store = request.app[desk.STORE_KEY]
    return web.json_response(
        {
            "open": await asyncio.to_thread(store.has_open_handoff, sender_id),
            "max_bytes": request.app[desk.DESK_SETTINGS_KEY].desk.attachment_max_bytes,
        },
        headers=_cors(request),
    )


async def _body(request: web.Request, max_bytes: int) -> bytes:
    """The request's bytes, read no further than one past the limit."""
    if (request.content_length or 0) > max_bytes:
        raise AttachmentRefused(too_large_message(max_bytes), 413)
    data = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        data += chunk
        if len(data) > max_bytes:
            raise AttachmentRefused(too_large_message(max_bytes), 413)
    return bytes(data)


def transcript_line(content_type: str, size: int) -> str:
    """What the transcript says beside the file."""
    what = "PDF" if content_type == "application/pdf" else "Photo"
    kind = EXTENSIONS[content_type].upper()
    return f"📎 {what} ({kind}, {max(1, round(size / 1024))} KB)"


async def upload(request: web.Request) -> web.Response:
    sender_id = _sender(request)
    settings = request.app[desk.DESK_SETTINGS_KEY]
    store = request.app[desk.STORE_KEY]
    try:
        raw = await _body(request, settings.desk.attachment_max_bytes)
        # Decoding a photo takes a core for a moment: off the event loop.
        content_type, data = await asyncio.to_thread(clean, raw, settings.desk.attachment_max_bytes)
    except AttachmentRefused as refused:
        return _refused(request, str(refused), refused.status)
    kept = await asyncio.to_thread(
        store.add_attachment,
        sender_id,
        content_type,
        data,
        transcript_line(content_type, len(data)),
    )
    if kept is None:
        return _refused(request, NO_HANDOFF, 409)
    await request.app[desk.CONNECTOR_KEY].notify(
        {"type": "message", "handoff_id": kept["handoff_id"]}
    )
    return web.json_response({"id": kept["id"]}, status=201, headers=_cors(request))


@desk.requires("mediator")
async def show(request: web.Request) -> web.Response:
    store = request.app[desk.STORE_KEY]
    try:
        attachment_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound(text="No such file.") from None
    found = await asyncio.to_thread(store.attachment, attachment_id)
    handoff = found and await asyncio.to_thread(store.handoff, found["handoff_id"])
    if not handoff:
        raise web.HTTPNotFound(text="No such file.")
    if not may_read(handoff, request[auth.USER_KEY]):
        raise web.HTTPForbidden(text="Only the mediator who took this conversation can see it.")
    kind = found["content_type"]
    name = f"attachment-{found['id']}.{EXTENSIONS[kind]}"
    # Photos show in the transcript; a PDF is only ever downloaded, never opened here.
    disposition = "attachment" if kind == "application/pdf" else "inline"
    return web.Response(
        body=found["data"],
        content_type=kind,
        headers={
            "Content-Disposition": f'{disposition}; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "same-origin",
        },
    )


def add_routes(app: web.Application) -> None:
    app.router.add_route("OPTIONS", "/widget/api/attachments", preflight)
    app.router.add_get("/widget/api/attachments", state)
    app.router.add_post("/widget/api/attachments", upload)
    app.router.add_get("/desk/api/attachments/{id}", show)
