"""The web app on :8080: health of the whole assistant.

    python -m connectors.web

``GET /healthz`` answers 200 only once Rasa (with its model) and the action
server (with its knowledge index) answer, and 503 with the parts that are not
ready otherwise.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from knowledge.settings import Settings, get_settings

SETTINGS_KEY = web.AppKey("settings", Settings)
SESSION_KEY = web.AppKey("session", aiohttp.ClientSession)


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


async def _client(app: web.Application):
    app[SESSION_KEY] = aiohttp.ClientSession()
    yield
    await app[SESSION_KEY].close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS_KEY] = settings
    app.cleanup_ctx.append(_client)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    settings = get_settings()
    web.run_app(create_app(settings), port=settings.services.web_port, print=None)


if __name__ == "__main__":
    main()
