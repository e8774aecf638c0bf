"""The web app on :8080: health of the whole assistant and the operator API.

    python -m connectors.web

- ``GET /healthz`` answers 200 only once Rasa (with its model) and the action
  server (with its knowledge index) answer, and 503 with the parts that are not
  ready otherwise.
- ``POST /api/suggest`` (``Authorization: Bearer $HELPDESK_API_TOKEN``): the best
  answers for what a person said, for operators at a counter. The contract is
  in ``knowledge/api.py``; the action server, which holds the knowledge base,
  computes them.
- ``GET /api/topics``: the taxonomy with the entries and languages of each topic.
- The mediator desk, operator assist, dashboard and chat widget
  (``connectors.desk.app``).
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
from aiohttp import web

from connectors.desk.app import add_desk
from connectors.desk.auth import bearer_ok
from core.redact import configure_logging
from knowledge.api import BadRequest, SuggestRequest, topic_coverage
from knowledge.entries import load_kit
from knowledge.settings import Settings, get_settings
from knowledge.taxonomy import load_taxonomy

log = logging.getLogger(__name__)

SETTINGS_KEY = web.AppKey("settings", Settings)
SESSION_KEY = web.AppKey("session", aiohttp.ClientSession)
TOPICS_KEY = web.AppKey("topics", dict)


async def _answers(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
            return response.status == 200
    except (TimeoutError, aiohttp.ClientError):
        return False


async def healthz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    session = request.app[SESSION_KEY]
    checks = {
        "rasa": f"{settings.services.rasa_url}/",
        "action_server": f"{settings.services.action_server_url}/health",
    }
    results = await asyncio.gather(*(_answers(session, url) for url in checks.values()))
    parts = {name: "ready" if ok else "not ready" for name, ok in zip(checks, results)}
    parts["web"] = "ready"
    ready = all(results)
    return web.json_response(
        {"status": "ok" if ready else "starting", "parts": parts}, status=200 if ready else 503
    )


async def suggest(request: web.Request) -> web.Response:
    if not bearer_ok(request, request.app[SETTINGS_KEY].api.token):
        return web.json_response(
            {"error": "Send 'Authorization: Bearer <token>' with the operator API token."},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        query = SuggestRequest.parse(await _json_body(request), request.app[SETTINGS_KEY])
    except BadRequest as exc:
        return web.json_response(exc.as_json(), status=400)
    url = f"{request.app[SETTINGS_KEY].services.action_server_url}/knowledge/suggest"
    try:
        async with request.app[SESSION_KEY].post(
            url, json=query.as_json(), timeout=aiohttp.ClientTimeout(total=30)
        ) as answer:
            body = await answer.json()
            return web.json_response(body, status=answer.status)
    except (TimeoutError, aiohttp.ClientError, ValueError):
        log.exception("The action server did not answer %s", url)
        return web.json_response(
            {"error": "The knowledge service is not ready; try again shortly.", "field": "service"},
            status=503,
        )


async def _json_body(request: web.Request) -> object:
    try:
        return json.loads(await request.read())
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("body", "The body is not valid JSON.") from None


async def topics(request: web.Request) -> web.Response:
    return web.json_response(request.app[TOPICS_KEY])


async def _client(app: web.Application):
    # The action server refuses callers without the shared secret.
    app[SESSION_KEY] = aiohttp.ClientSession(
        headers=app[SETTINGS_KEY].services.action_server_headers()
    )
    yield
    await app[SESSION_KEY].close()


def create_app(settings: Settings) -> web.Application:
    # 1 MiB: room for an over-long question, which then gets a clear 400.
    app = web.Application(client_max_size=1024 * 1024)
    app[SETTINGS_KEY] = settings
    kit = load_kit(settings.content.dir, settings.content.municipality)
    taxonomy = load_taxonomy(settings.content.taxonomy)
    app[TOPICS_KEY] = topic_coverage(kit, taxonomy)
    app.cleanup_ctx.append(_client)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/suggest", suggest)
    app.router.add_get("/api/topics", topics)
    app.router.add_get("/", home)
    add_desk(app, settings, kit, taxonomy)
    return app


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/widget/example.html")


def main() -> None:
    configure_logging()
    settings = get_settings()
    web.run_app(
        create_app(settings),
        host=settings.services.bind_host,
        port=settings.services.web_port,
        print=None,
    )


if __name__ == "__main__":
    main()
