"""Operator assist: what the person at the counter said, and the best answers side by side.

    GET  /assist                       the page (role operator)
    POST /assist/suggest               {"text", "language"|null} -> answers in both languages
    POST /assist/feedback              {"entry_id", "topic", "language", "useful", "question"}
    POST /assist/handoff               {"question", "language", "topic"} -> a mediator is called
    GET  /assist/handoffs              the hand-offs this operator opened, with mediators' replies
    GET  /assist/topics                topics by domain, with their entries
    GET  /assist/entry/{id}?language=  one entry in both languages

Every question asked here is counted on the dashboard (redacted), and so is
every one the assistant could not answer with confidence.
"""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web

from connectors.desk import app as desk
from connectors.desk import auth
from connectors.desk.store import now, public
from knowledge.answers import MAX_QUESTION_CHARS
from knowledge.entries import Kit
from knowledge.taxonomy import Taxonomy

TAXONOMY_KEY = web.AppKey("taxonomy", Taxonomy)
KIT_KEY = web.AppKey("kit", Kit)


@desk.requires("operator")
async def page(request: web.Request) -> web.Response:
    return desk.render(request, "assist.html", languages=_languages(request))


def _languages(request: web.Request) -> tuple[str, ...]:
    return request.app[desk.DESK_SETTINGS_KEY].languages.supported


def _language(request: web.Request, value: object) -> str | None:
    if value in (None, "", "auto"):
        return None
    if value not in _languages(request):
        raise web.HTTPBadRequest(text=f"Unknown language {value!r}.")
    return str(value)


@desk.requires("operator")
async def suggest(request: web.Request) -> web.Response:
    user = request[auth.USER_KEY]
    body = await desk.json_body(request)
    text = str(body.get("text") or "").strip()
    if not text or len(text) > MAX_QUESTION_CHARS:
        raise web.HTTPBadRequest(text=f"Write 1 to {MAX_QUESTION_CHARS} characters.")
    language = _language(request, body.get("language"))
    status, result = await desk.knowledge(
        request,
        "/knowledge/suggest",
        {"text": text, "language": language, "top_k": 3, "also_in": user.language},
    )
    if status != 200:
        return web.json_response(
            {"error": desk.text(request, "The knowledge service is not ready; try again shortly.")},
            status=503,
        )
    best = result["answers"][0] if result["answers"] else None
    store = request.app[desk.STORE_KEY]

    def record() -> None:
        with store.transaction() as db:
            store.add_question(
                db,
                sender_id=f"counter-{user.username}",
                asked_at=now(),
                source="counter",
                language=result["language"],
                topic=best["topic"] if best and result["confident"] else None,
                entry_id=best["id"] if best else None,  # the answer or the best guess
                confident=result["confident"],
                score=best["score"] if best else None,
                text=text,
            )

    await asyncio.to_thread(record)
    return web.json_response({**result, "operator_language": user.language})


@desk.requires("operator")
async def feedback(request: web.Request) -> web.Response:
    user = request[auth.USER_KEY]
    body = await desk.json_body(request)
    entry_id = str(body.get("entry_id") or "")
    if not entry_id or not isinstance(body.get("useful"), bool):
        raise web.HTTPBadRequest(text="Send entry_id and useful (true or false).")
    await asyncio.to_thread(
        request.app[desk.STORE_KEY].add_feedback,
        user_id=user.id,
        entry_id=entry_id[:64],
        topic=str(body.get("topic") or "")[:64] or None,
        language=_language(request, body.get("language")),
        useful=body["useful"],
        question=str(body.get("question") or "")[:MAX_QUESTION_CHARS],
    )
    return web.json_response({"stored": True}, status=201)


@desk.requires("operator")
async def handoff(request: web.Request) -> web.Response:
    """One click: the person at the counter goes into the mediators' queue."""
    user = request[auth.USER_KEY]
    body = await desk.json_body(request)
    question = str(body.get("question") or "").strip()[:MAX_QUESTION_CHARS]
    language = _language(request, body.get("language")) or user.language
    store = request.app[desk.STORE_KEY]
    sender = f"counter-{secrets.token_hex(6)}"

    def open_it() -> int:
        with store.transaction() as db:
            handoff_id = store.open_handoff(
                db,
                sender_id=sender,
                channel="counter",
                language=language,
                topic=str(body.get("topic") or "")[:64] or None,
                reason="operator",
                opened_by=user.id,
            )
            if question:
                store.add_message(
                    db, sender_id=sender, handoff_id=handoff_id, author="migrant", text=question
                )
            return handoff_id

    handoff_id = await asyncio.to_thread(open_it)
    await request.app[desk.CONNECTOR_KEY].notify({"type": "queue"})
    return web.json_response({"handoff_id": handoff_id}, status=201)


@desk.requires("operator")
async def my_handoffs(request: web.Request) -> web.Response:
    user = request[auth.USER_KEY]
    store = request.app[desk.STORE_KEY]

    def load() -> list[dict]:
        handoffs = store.handoffs_opened_by(user.id)
        for item in handoffs:
            item["replies"] = [
                public(m) for m in store.handoff_transcript(item["id"]) if m["author"] == "mediator"
            ]
        return [public(item) for item in handoffs]

    return web.json_response({"handoffs": await asyncio.to_thread(load)})


@desk.requires("operator")
async def topics(request: web.Request) -> web.Response:
    kit = request.app[KIT_KEY]
    language = _language(request, request.query.get("language")) or request[auth.USER_KEY].language
    titles: dict[str, list[dict]] = {}
    for entry_id in kit.ids():
        found = kit.entry(entry_id, language) or kit.entry(entry_id, "en")
        if found:
            titles.setdefault(found.topic, []).append({"id": entry_id, "title": found.title})
    return desk.render(
        request,
        "topics.html",
        grouped=request.app[TAXONOMY_KEY].by_domain(),
        titles=titles,
        language=language,
        languages=_languages(request),
    )


@desk.requires("operator")
async def entry(request: web.Request) -> web.Response:
    user = request[auth.USER_KEY]
    language = _language(request, request.query.get("language")) or user.language
    status, body = await desk.knowledge(
        request,
        "/knowledge/entry",
        {"id": request.match_info["id"], "language": language, "also_in": user.language},
    )
    if status != 200:
        raise web.HTTPNotFound(text="No such entry.")
    return web.json_response(body)


def add_routes(app: web.Application, kit: Kit, taxonomy: Taxonomy) -> None:
    # The web app has loaded both already, for /api/topics.
    app[KIT_KEY] = kit
    app[TAXONOMY_KEY] = taxonomy
    app.router.add_get("/assist", page)
    app.router.add_post("/assist/suggest", suggest)
    app.router.add_post("/assist/feedback", feedback)
    app.router.add_post("/assist/handoff", handoff)
    app.router.add_get("/assist/handoffs", my_handoffs)
    app.router.add_get("/assist/topics", topics)
    app.router.add_get("/assist/entry/{id}", entry)
