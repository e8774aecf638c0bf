"""The mediator desk: queue, claim, transcript with translations, suggestions, reply, close.

    GET  /desk                               the page (role mediator)
    GET  /desk/api/queue                     open hand-offs in the mediator's languages,
                                             urgent first, each with a redacted preview,
                                             "unspoken" (no mediator speaks it) and
                                             "after_hours" (asked outside desk.hours)
    GET  /desk/api/handoffs/{id}             hand-off, transcript, suggested answers
                                             (waiting: a preview only; claimed: only
                                             for its mediator and admins, else 403)
    GET  /desk/api/closed                    closed hand-offs the mediator held when they
                                             were closed (admins: all), newest first;
                                             ?language=ar&from=2026-12-01&to=2026-12-03
                                             (days, both included); read with the route above
    GET  /desk/api/views                     admins: who opened which transcript, when
    POST /desk/api/handoffs/{id}/claim       409 when another mediator was first
    POST /desk/api/handoffs/{id}/reply       {"text", "language"}
    POST /desk/api/handoffs/{id}/close       {"note"}
    POST /desk/api/handoffs/{id}/typing      {}: its mediator is writing; the widget shows
                                             "The mediator is writing…" (no text is sent)
    POST /desk/api/handoffs/{id}/notes       {"text"}: a private note (its mediator or an
                                             admin); notes come with the transcript, to
                                             those who may read it, never to the person
    POST /desk/api/handoffs/{id}/release     back to the queue (its mediator or an admin)
    GET  /desk/api/handoffs/{id}/colleagues  mediators it may go to: {"colleagues": [names]}
    POST /desk/api/handoffs/{id}/transfer    {"to": username}: a mediator who works in
                                             its language (its mediator or an admin)
    GET  /desk/api/saved-replies?language=ar saved replies in that language, and the
                                             languages this user may change them in
    POST /desk/api/saved-replies             {"language", "text"}: a new one (mediators in
                                             their languages, admins in all)
    POST /desk/api/saved-replies/{id}        {"text"}: changed (the same rule)
    POST /desk/api/saved-replies/{id}/delete deleted (the same rule)
    GET  /desk/ws                            live notices: {"type": "queue" | "message"
                                             | "typing"}; "typing" to the holder only
    POST /desk/api/inbound                   from Rasa's channels: {"sender_id", "text", "at"}
                                             -> {"taken", "position": in the queue, or null}
    POST /desk/api/history                   from Rasa's socket.io channel: {"sender_id", "after",
                                             "since"} -> the person's mediator replies after
                                                `after` (each with `at`, when it was written),
                                                and "<name> joined" for claims after Unix
                                                time `since` (none when it is null)
    POST /desk/api/seen                      from Rasa's socket.io channel: {"sender_id", "up_to"}
    POST /desk/api/typing                    from Rasa's socket.io channel: {"sender_id"}: the
                                             person is typing (the fact only, never text)

POSTs are JSON with the ``X-CSRF-Token`` header of the page, except
``/desk/api/inbound``: Rasa's socket.io channel (``connectors/socketio.py``)
sends what a person in a hand-off writes there, with ``Authorization: Bearer``
and Rasa's token. It answers ``{"taken": true}`` when a hand-off is open and
the message is stored, else ``{"taken": false}`` and the bot gets it. So do
``history``, ``seen`` and ``typing``, which come from Rasa's channels too.

No page or JSON shows a person's raw sender id: hand-offs are named by their
id. Every transcript shown is recorded (``Store.record_view``). The live
sockets accept only pages of this site (Origin checked against Host), and each
user gets notices only about hand-offs they may open.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from connectors.desk import app as desk
from connectors.desk import auth
from connectors.desk.connector import for_person, joined_notice
from connectors.desk.i18n import staff_text
from connectors.desk.store import public
from core.hours import OpeningHours

MAX_REPLY_CHARS = 4000
MAX_NOTE_CHARS = 2000
MAX_SAVED_REPLY_CHARS = 2000
# Per language: a list a mediator can still scan while the person waits.
MAX_SAVED_REPLIES = 100


@desk.requires("mediator")
async def page(request: web.Request) -> web.Response:
    return desk.render(request, "desk.html")


def after_hours(request: web.Request, handoff: dict) -> bool:
    """The request was left outside the desk's opening hours (desk.hours, at its creation)."""
    desk_settings = request.app[desk.DESK_SETTINGS_KEY].desk
    hours = OpeningHours.parse(desk_settings.hours, desk_settings.timezone)
    return not hours.is_open(datetime.fromisoformat(handoff["created_at"]))


def _languages(user) -> tuple[str, ...] | None:
    """The hand-off languages a user works in; None (all) for admins."""
    return None if user.role == "admin" else user.languages


@desk.requires("mediator")
async def queue(request: web.Request) -> web.Response:
    store = request.app[desk.STORE_KEY]
    user = request[auth.USER_KEY]

    def load() -> list[dict]:
        found = store.queue(_languages(user))
        previews = store.previews([item["id"] for item in found if item["status"] == "waiting"])
        spoken = store.mediators_speak()
        for item in found:
            item["preview"] = previews.get(item["id"], [])
            # No mediator speaks it: every mediator's queue shows it, and so does
            # the desk's "my languages" filter.
            item["unspoken"] = item["language"] not in spoken
            item["after_hours"] = after_hours(request, item)
        return [public(item) for item in found]

    return web.json_response({"handoffs": await asyncio.to_thread(load)})


def may_read(handoff: dict, user) -> bool:
    """The whole transcript: the mediator who claimed the hand-off, and admins."""
    return user.role == "admin" or (
        handoff["status"] != "waiting" and handoff["mediator_id"] == user.id
    )


async def _handoff_or_404(request: web.Request) -> dict:
    try:
        handoff_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound(text=desk.text(request, "No such hand-off.")) from None
    handoff = await asyncio.to_thread(request.app[desk.STORE_KEY].handoff, handoff_id)
    if handoff is None:
        raise web.HTTPNotFound(text=desk.text(request, "No such hand-off."))
    return handoff


@desk.requires("mediator")
async def show(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    store = request.app[desk.STORE_KEY]
    if not await asyncio.to_thread(store.works_in, handoff["language"], _languages(user)):
        raise web.HTTPForbidden(
            text=staff_text(user, "This conversation is in a language you do not work in.")
        )
    handoff["after_hours"] = after_hours(request, handoff)
    if handoff["status"] == "waiting" and not may_read(handoff, user):
        # Enough to choose it; the conversation itself once claimed.
        preview = await asyncio.to_thread(store.preview, handoff["id"])
        return web.json_response(
            {"handoff": public(handoff), "preview": preview, "transcript": None, "suggestions": []}
        )
    if not may_read(handoff, user):
        raise web.HTTPForbidden(
            text=staff_text(user, "Only the mediator who took this conversation can read it.")
        )
    await asyncio.to_thread(store.record_view, user.id, handoff["id"])
    kept = await asyncio.to_thread(store.handoff_transcript, handoff["id"])
    transcript = [public(m) for m in kept]
    # A photo or PDF the person sent: its line in the transcript names it.
    files = await asyncio.to_thread(store.handoff_attachments, handoff["id"])
    for message in transcript:
        message["attachment"] = files.get(message["id"])
        if message["attachment"]:
            continue
        if message["author"] in ("migrant", "bot") and not message["translated_text"]:
            message["translated_text"] = await translate(
                request, message["text"], handoff["language"], user.language
            )
            message["translated_language"] = user.language if message["translated_text"] else None
    last_question = next(
        (m["text"] for m in reversed(transcript) if m["author"] == "migrant"), None
    )
    suggestions = []
    if last_question:
        status, body = await desk.knowledge(
            request,
            "/knowledge/suggest",
            {
                "text": last_question[:1000],
                "language": handoff["language"],
                "top_k": 3,
                "also_in": user.language,
            },
        )
        suggestions = body.get("answers", []) if status == 200 else []
    notes = await asyncio.to_thread(store.notes, handoff["id"])
    return web.json_response(
        {
            "handoff": public(handoff),
            "transcript": transcript,
            "suggestions": suggestions,
            "notes": notes,
        }
    )


def _day(request: web.Request, name: str) -> date | None:
    value = request.query.get(name, "")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a day: YYYY-MM-DD.") from None


@desk.requires("mediator")
async def closed(request: web.Request) -> web.Response:
    """A mediator's own closed conversations (admins: everyone's), to read again."""
    user = request[auth.USER_KEY]
    since, until = _day(request, "from"), _day(request, "to")
    language = request.query.get("language", "")[:8] or None
    found = await asyncio.to_thread(
        request.app[desk.STORE_KEY].closed,
        None if user.role == "admin" else user.id,
        language,
        datetime.combine(since, datetime.min.time()) if since else None,
        datetime.combine(until + timedelta(days=1), datetime.min.time()) if until else None,
    )
    return web.json_response({"handoffs": [public(item) for item in found]})


@desk.requires("admin")
async def views(request: web.Request) -> web.Response:
    """The record of transcript views, newest first (``?handoff=<id>`` for one)."""
    try:
        handoff_id = int(request.query["handoff"]) if "handoff" in request.query else None
    except ValueError:
        raise web.HTTPBadRequest(text="handoff must be a hand-off id (a number).") from None
    found = await asyncio.to_thread(request.app[desk.STORE_KEY].views, handoff_id)
    return web.json_response({"views": found})


async def translate(request: web.Request, text: str, source: str, target: str) -> str | None:
    """A machine translation when the pair is installed, else None."""
    if source == target:
        return None
    status, body = await desk.knowledge(
        request, "/knowledge/translate", {"text": text, "source": source, "target": target}
    )
    return body.get("text") if status == 200 else None


@desk.requires("mediator")
async def claim(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    won = await asyncio.to_thread(request.app[desk.STORE_KEY].claim, handoff["id"], user.id)
    if not won:
        return web.json_response(
            {"error": staff_text(user, "Another mediator has already taken this conversation.")},
            status=409,
        )
    await request.app[desk.CONNECTOR_KEY].notify({"type": "queue"})
    claimed = await asyncio.to_thread(request.app[desk.STORE_KEY].handoff, handoff["id"])
    if claimed is not None and claimed["claimed_at"]:
        request.app[desk.CONNECTOR_KEY].tell_joined(claimed)
    return web.json_response({"claimed": True})


def _held_by(handoff: dict, user) -> None:
    if handoff["status"] != "claimed" or handoff["mediator_id"] != user.id:
        raise web.HTTPConflict(
            text=staff_text(user, "Claim this conversation first; only its mediator can answer.")
        )


@desk.requires("mediator")
async def reply(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    _held_by(handoff, user)
    body = await desk.json_body(request)
    text = str(body.get("text") or "").strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        raise web.HTTPBadRequest(text=f"Write a reply of 1 to {MAX_REPLY_CHARS} characters.")
    language = str(body.get("language") or handoff["language"])
    translated = await translate(request, text, language, handoff["language"])
    message_id = await request.app[desk.CONNECTOR_KEY].reply(
        handoff,
        user.id,
        text=text,
        language=language,
        translated_text=translated,
        translated_language=handoff["language"] if translated else None,
    )
    return web.json_response({"id": message_id, "machine_translated": bool(translated)}, status=201)


def _held_or_admin(handoff: dict, user) -> None:
    """Only the mediator holding a hand-off, or an admin, may hand it on or add notes."""
    if handoff["status"] != "claimed" or (
        handoff["mediator_id"] != user.id and user.role != "admin"
    ):
        raise web.HTTPConflict(
            text=staff_text(user, "Only the mediator who holds this conversation can do this.")
        )


async def _handed_on(request: web.Request, handoff: dict, done: bool) -> web.Response:
    if not done:
        raise web.HTTPConflict(
            text=desk.text(request, "This conversation changed meanwhile; reload the queue.")
        )
    # Nothing is sent to the person: they hear from whoever answers next.
    connector = request.app[desk.CONNECTOR_KEY]
    await connector.notify({"type": "queue"})
    await connector.notify({"type": "message", "handoff_id": handoff["id"]})
    return web.json_response({"handed_on": True})


@desk.requires("mediator")
async def add_note(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    _held_or_admin(handoff, user)
    text = str((await desk.json_body(request)).get("text") or "").strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise web.HTTPBadRequest(text=f"Write a note of 1 to {MAX_NOTE_CHARS} characters.")
    store = request.app[desk.STORE_KEY]
    note_id = await asyncio.to_thread(store.add_note, handoff["id"], user.id, text)
    # Only those who may open the hand-off get the notice (``_concerns``).
    await request.app[desk.CONNECTOR_KEY].notify({"type": "message", "handoff_id": handoff["id"]})
    return web.json_response({"id": note_id}, status=201)


@desk.requires("mediator")
async def release(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    _held_or_admin(handoff, user)
    store = request.app[desk.STORE_KEY]
    done = await asyncio.to_thread(store.release, handoff["id"], handoff["mediator_id"], user)
    return await _handed_on(request, handoff, done)


@desk.requires("mediator")
async def colleagues(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    _held_or_admin(handoff, user)
    store = request.app[desk.STORE_KEY]
    names = await asyncio.to_thread(store.colleagues, handoff["language"], handoff["mediator_id"])
    return web.json_response({"colleagues": names})


@desk.requires("mediator")
async def transfer(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    _held_or_admin(handoff, user)
    name = str((await desk.json_body(request)).get("to") or "")
    store = request.app[desk.STORE_KEY]
    if name not in await asyncio.to_thread(
        store.colleagues, handoff["language"], handoff["mediator_id"]
    ):
        raise web.HTTPBadRequest(
            text=staff_text(user, "Choose a mediator who works in this conversation's language.")
        )
    to = (await asyncio.to_thread(store.credentials, name))[0]
    done = await asyncio.to_thread(store.transfer, handoff["id"], handoff["mediator_id"], to, user)
    return await _handed_on(request, handoff, done)


@desk.requires("mediator")
async def mediator_typing(request: web.Request) -> web.Response:
    """The mediator is writing a reply: the person's widget says so (no text)."""
    handoff = await _handoff_or_404(request)
    _held_by(handoff, request[auth.USER_KEY])
    sent = request.app[desk.CONNECTOR_KEY].mediator_typing(handoff)
    return web.json_response({"sent": sent})


@desk.requires("mediator")
async def close(request: web.Request) -> web.Response:
    handoff = await _handoff_or_404(request)
    user = request[auth.USER_KEY]
    _held_by(handoff, user)
    note = str((await desk.json_body(request)).get("note") or "").strip()[:MAX_NOTE_CHARS]
    if not await request.app[desk.CONNECTOR_KEY].close(handoff["id"], user.id, note):
        raise web.HTTPConflict(text=staff_text(user, "This conversation is not yours to close."))
    return web.json_response({"closed": True})


# -- saved replies ---------------------------------------------------------------


def _may_change_saved(user, language: str) -> bool:
    """Mediators change saved replies in the languages they work in; admins in all."""
    return user.role == "admin" or language in user.languages


def _saved_language(request: web.Request, value: object) -> str:
    supported = request.app[desk.DESK_SETTINGS_KEY].languages.supported
    if not isinstance(value, str) or value not in supported:
        raise web.HTTPBadRequest(text="Choose one of the languages the assistant speaks.")
    return value


def _saved_text(body: dict) -> str:
    text = str(body.get("text") or "").strip()
    if not text or len(text) > MAX_SAVED_REPLY_CHARS:
        raise web.HTTPBadRequest(
            text=f"A saved reply has 1 to {MAX_SAVED_REPLY_CHARS} characters "
            f"(this one has {len(text)})."
        )
    return text


async def _saved_reply_or_404(request: web.Request) -> dict:
    try:
        reply_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound(text="No such saved reply.") from None
    found = await asyncio.to_thread(request.app[desk.STORE_KEY].saved_reply, reply_id)
    if found is None:
        raise web.HTTPNotFound(text="No such saved reply.")
    if not _may_change_saved(request[auth.USER_KEY], found["language"]):
        raise web.HTTPForbidden(text="You change saved replies only in the languages you work in.")
    return found


@desk.requires("mediator")
async def saved_list(request: web.Request) -> web.Response:
    """Saved replies are the team's, about no person: any mediator may read any language."""
    user = request[auth.USER_KEY]
    language = _saved_language(request, request.query.get("language", user.language))
    found = await asyncio.to_thread(request.app[desk.STORE_KEY].saved_replies, language)
    supported = request.app[desk.DESK_SETTINGS_KEY].languages.supported
    return web.json_response(
        {
            "language": language,
            "replies": found,
            "may_change": _may_change_saved(user, language),
            "languages": [code for code in supported if _may_change_saved(user, code)],
            "max_chars": MAX_SAVED_REPLY_CHARS,
        }
    )


@desk.requires("mediator")
async def saved_add(request: web.Request) -> web.Response:
    user = request[auth.USER_KEY]
    body = await desk.json_body(request)
    language = _saved_language(request, body.get("language"))
    if not _may_change_saved(user, language):
        raise web.HTTPForbidden(text="You add saved replies only in the languages you work in.")
    text = _saved_text(body)
    store = request.app[desk.STORE_KEY]
    if await asyncio.to_thread(store.count_saved_replies, language) >= MAX_SAVED_REPLIES:
        raise web.HTTPBadRequest(
            text=f"There are already {MAX_SAVED_REPLIES} saved replies in this language; "
            "delete one first."
        )
    reply_id = await asyncio.to_thread(store.add_saved_reply, language, text, user.id)
    return web.json_response({"id": reply_id}, status=201)


@desk.requires("mediator")
async def saved_edit(request: web.Request) -> web.Response:
    found = await _saved_reply_or_404(request)
    text = _saved_text(await desk.json_body(request))
    await asyncio.to_thread(request.app[desk.STORE_KEY].edit_saved_reply, found["id"], text)
    return web.json_response({"id": found["id"]})


@desk.requires("mediator")
async def saved_delete(request: web.Request) -> web.Response:
    found = await _saved_reply_or_404(request)
    await asyncio.to_thread(request.app[desk.STORE_KEY].delete_saved_reply, found["id"])
    return web.json_response({"deleted": True})


async def inbound(request: web.Request) -> web.Response:
    if not auth.bearer_ok(request, request.app[desk.DESK_SETTINGS_KEY].services.rasa_token):
        raise web.HTTPUnauthorized(text="Wrong or missing token.")
    body = await desk.json_body(request)
    sender_id, text, at = body.get("sender_id"), body.get("text"), body.get("at")
    if not isinstance(sender_id, str) or not isinstance(text, str) or not sender_id:
        raise web.HTTPBadRequest(text="Send sender_id and text.")
    at = float(at) if isinstance(at, int | float) else None
    taken = await request.app[desk.CONNECTOR_KEY].to_mediator(sender_id, text, at)
    # While no mediator has it, the person's channel tells them where they stand.
    position = (
        await asyncio.to_thread(request.app[desk.STORE_KEY].waiting_position, sender_id)
        if taken
        else None
    )
    return web.json_response({"taken": taken, "position": position})


async def history(request: web.Request) -> web.Response:
    """A person's mediator replies after message `after`, as their channel shows them.

    Rasa's socket.io channel asks for the session a connection proved with its
    signed tag (connectors/socketio.py); no page or person calls this directly.
    """
    if not auth.bearer_ok(request, request.app[desk.DESK_SETTINGS_KEY].services.rasa_token):
        raise web.HTTPUnauthorized(text="Wrong or missing token.")
    body = await desk.json_body(request)
    sender_id, after = body.get("sender_id"), body.get("after", 0)
    if not isinstance(sender_id, str) or not sender_id or not isinstance(after, int):
        raise web.HTTPBadRequest(text="Send sender_id and after.")
    since = body.get("since")
    since = since if isinstance(since, int | float) and not isinstance(since, bool) else None
    store = request.app[desk.STORE_KEY]
    replies = await asyncio.to_thread(store.mediator_replies, sender_id, after)
    seen = await asyncio.to_thread(store.seen_up_to, sender_id)
    # `at`: when it was written, so the channel merges it with the bot's messages in order.
    found = [
        {**for_person(m), "at": datetime.fromisoformat(m["created_at"]).timestamp()}
        for m in replies
    ]
    # A mediator who joined while the page was closed, as the notice said it live.
    claims = (
        await asyncio.to_thread(store.claims_since, sender_id, since) if since is not None else []
    )
    found = sorted(found + [joined_notice(h) for h in claims], key=lambda m: m["at"])
    return web.json_response({"messages": found, "seen_up_to": seen})


async def seen(request: web.Request) -> web.Response:
    """The person had their replies up to `up_to` on screen: the desk shows them as seen."""
    if not auth.bearer_ok(request, request.app[desk.DESK_SETTINGS_KEY].services.rasa_token):
        raise web.HTTPUnauthorized(text="Wrong or missing token.")
    body = await desk.json_body(request)
    sender_id, up_to = body.get("sender_id"), body.get("up_to")
    if not isinstance(sender_id, str) or not sender_id or not isinstance(up_to, int):
        raise web.HTTPBadRequest(text="Send sender_id and up_to.")
    changed = await asyncio.to_thread(request.app[desk.STORE_KEY].mark_seen, sender_id, up_to)
    for handoff_id in changed:
        await request.app[desk.CONNECTOR_KEY].notify({"type": "message", "handoff_id": handoff_id})
    return web.json_response({"seen": bool(changed)})


async def person_typing(request: web.Request) -> web.Response:
    """The person is typing; their mediator's desk shows "typing…".

    Rasa's socket.io channel sends it for the session a connection proved with
    its tag, at most once every few seconds (core/typing_signal.py)."""
    if not auth.bearer_ok(request, request.app[desk.DESK_SETTINGS_KEY].services.rasa_token):
        raise web.HTTPUnauthorized(text="Wrong or missing token.")
    sender_id = (await desk.json_body(request)).get("sender_id")
    if not isinstance(sender_id, str) or not sender_id:
        raise web.HTTPBadRequest(text="Send sender_id.")
    told = await request.app[desk.CONNECTOR_KEY].person_typing(sender_id)
    return web.json_response({"told": told is not None})


@desk.requires("operator")
async def live_operator(request: web.Request) -> web.WebSocketResponse:
    return await _live(request)


@desk.requires("mediator")
async def live(request: web.Request) -> web.WebSocketResponse:
    return await _live(request)


def same_origin(request: web.Request) -> bool:
    """A browser's Origin names this site (the Host it asked); no Origin: not a browser."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    host = request.headers.get("Host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()


async def _concerns(request: web.Request, notice: dict) -> bool:
    """Whether this notice is for this user: queue changes for mediators; a
    hand-off's messages for whoever may open it (operators: theirs only)."""
    user = request[auth.USER_KEY]
    handoff_id = notice.get("handoff_id")
    if notice.get("type") == "typing":
        # "The person is typing": for the mediator who holds it, and no one else.
        handoff = await asyncio.to_thread(request.app[desk.STORE_KEY].handoff, handoff_id)
        if handoff is None or handoff["status"] != "claimed":
            return False
        return handoff["mediator_id"] == user.id
    if user.role == "admin":
        return True
    if handoff_id is None:
        return user.role == "mediator"
    handoff = await asyncio.to_thread(request.app[desk.STORE_KEY].handoff, handoff_id)
    if handoff is None:
        return False
    if user.role == "operator":
        return handoff["opened_by"] == user.id
    store = request.app[desk.STORE_KEY]
    if not await asyncio.to_thread(store.works_in, handoff["language"], user.languages):
        return False
    return handoff["status"] == "waiting" or handoff["mediator_id"] == user.id


async def _live(request: web.Request) -> web.WebSocketResponse:
    if not same_origin(request):
        raise web.HTTPForbidden(text="Live updates only for pages of this site.")
    socket = web.WebSocketResponse(heartbeat=25)
    await socket.prepare(request)
    connector = request.app[desk.CONNECTOR_KEY]

    async def send(notice: dict) -> None:
        if await _concerns(request, notice):
            await socket.send_json(notice)

    connector.listeners.add(send)
    try:
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        connector.listeners.discard(send)
    return socket


def add_routes(app: web.Application) -> None:
    app.router.add_get("/desk", page)
    app.router.add_get("/desk/api/queue", queue)
    app.router.add_get("/desk/api/handoffs/{id}", show)
    app.router.add_post("/desk/api/handoffs/{id}/claim", claim)
    app.router.add_post("/desk/api/handoffs/{id}/reply", reply)
    app.router.add_post("/desk/api/handoffs/{id}/close", close)
    app.router.add_post("/desk/api/handoffs/{id}/typing", mediator_typing)
    app.router.add_post("/desk/api/handoffs/{id}/notes", add_note)
    app.router.add_post("/desk/api/handoffs/{id}/release", release)
    app.router.add_get("/desk/api/handoffs/{id}/colleagues", colleagues)
    app.router.add_post("/desk/api/handoffs/{id}/transfer", transfer)
    app.router.add_get("/desk/api/saved-replies", saved_list)
    app.router.add_post("/desk/api/saved-replies", saved_add)
    app.router.add_post("/desk/api/saved-replies/{id}", saved_edit)
    app.router.add_post("/desk/api/saved-replies/{id}/delete", saved_delete)
    app.router.add_get("/desk/ws", live)
    app.router.add_post("/desk/api/inbound", inbound)
    app.router.add_post("/desk/api/history", history)
    app.router.add_post("/desk/api/seen", seen)
    app.router.add_post("/desk/api/typing", person_typing)
    app.router.add_get("/desk/api/views", views)
    app.router.add_get("/desk/api/closed", closed)
    app.router.add_get("/assist/ws", live_operator)
