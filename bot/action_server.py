"""The Rasa action server for our custom actions, in a single process.

    python -m bot.action_server --port 5055

This is rasa-sdk's own app (``rasa_sdk.endpoint.create_app``) with the actions
of ``bot.actions``. rasa-sdk's command line would start Sanic's worker
manager, which loads the actions, and so the embedding model, once more in a
worker process; one process keeps one copy in memory and starts sooner.

Because this process holds the knowledge base, it also serves the web app:

- ``POST /knowledge/suggest`` takes the body of ``POST /api/suggest``
  (``knowledge/api.py``), plus an optional ``also_in`` language: each answer
  then carries ``side``, the same entry in that language (the operator's);
- ``POST /knowledge/translate`` ``{"text", "source", "target"}`` machine-translates
  with the installed Argos pairs: 200 ``{"text"}``, or 404 when no pair is installed;
- ``POST /knowledge/entry`` ``{"id", "language", "also_in"}``: one entry, and ``side``;
- ``POST /knowledge/emergency`` ``{"text"}``: ``{"emergency": kind or null}``, for
  the desk, which checks what a person writes during a hand-off;
- ``POST /knowledge/reload-entry`` ``{"id"}``: re-embed one changed entry
  (``bot/knowledge_reload.py``), for the authoring page;
- ``POST /knowledge/reload-municipality`` ``{}``: answer with the saved office
  details at once, then re-embed the entries that name a changed office.

Like ``/webhook``, these are meant for the other parts of the assistant only,
not for the public: every route but ``/health`` answers 403 unless the
request carries ``X-Helpdesk-Action-Token`` with ``services.action_token``
(HELPDESK_ACTION_TOKEN; compared in constant time; Rasa sends it from
endpoints.yml, the web app with every knowledge call). No CORS: browsers
never call it. Bodies are capped at ``MAX_BODY`` bytes, before and after
deflate (a small "deflate bomb" gets 413 without being inflated), and the
text to translate at ``safety.max_message_chars``. It listens on
``services.bind_host`` (127.0.0.1 unless opened).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import json
import sys
import zlib
from collections.abc import Callable
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from bot.actions import domain_file, knowledge_base
from bot.knowledge_reload import reload_entry_route, reload_municipality_route
from connectors.identity import same_secret
from core.protocol import MESSAGE_LANGUAGE
from core.redact import configure_logging
from knowledge.api import BadRequest, SuggestRequest, suggestions
from knowledge.embedding import ModelUnavailable
from knowledge.entries import ContentError
from knowledge.index import IndexMissing
from knowledge.settings import ACTION_TOKEN_HEADER, SettingsError, get_settings

# Largest body, compressed or not: Rasa's action calls carry the tracker, well under it.
MAX_BODY = 1024 * 1024
# Sanic answers 503 to a request still waiting after 60 s, and Rasa turns that
# into the "technical problem" apology: under load a slow answer must be late,
# not replaced. Rasa itself waits 5 minutes for an action (DEFAULT_REQUEST_TIMEOUT).
RESPONSE_TIMEOUT_SECONDS = 300
STARTUP_ERRORS = (ModelUnavailable, IndexMissing, ContentError, SettingsError)


# glibc's mallopt parameters, and the values the action server sets.
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8
MALLOC_ARENAS = 2
MMAP_THRESHOLD = 256 * 1024


def tune_malloc() -> bool:
    """Keep glibc from holding on to what the encoder freed; call before threads start.

    glibc gives each thread that allocates its own arena (up to 8 per core), and
    after a large block is freed it raises the size above which blocks come from
    mmap, so later batches' arrays land in the heap and stay there. Two arenas and
    a fixed 256 KiB threshold took a loaded process's peak from 656 to 562 MiB.
    False where libc is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        return bool(
            libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
            and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        )
    except (OSError, AttributeError, TypeError):
        return False


class Batcher:
    """Answer concurrent requests together: one call, so one encoding, per batch.

    The first request is answered at once; those arriving meanwhile wait for
    it and then go as one batch, so 20 operators at once do not queue 20
    encodings. `handle_many` runs in a thread and answers a list of requests
    in order.
    """

    MAX_BATCH = 32

    def __init__(self, handle_many: Callable[[list[Any]], list[Any]]) -> None:
        self.handle_many = handle_many
        self.pending: list[tuple[Any, asyncio.Future]] = []
        self.draining = False

    async def ask(self, request: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        self.pending.append((request, future))
        if not self.draining:
            self.draining = True
            asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[: self.MAX_BATCH], self.pending[self.MAX_BATCH :]
                try:
                    results = await asyncio.to_thread(self.handle_many, [r for r, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results):
                    future.set_result(result)
        finally:
            self.draining = False


class DomainFileExecutor(ActionExecutor):
    """rasa-sdk's executor, giving the actions domain.yml when Rasa sends no domain.

    With selective domain Rasa 3.6 leaves the domain out of action calls;
    rasa-sdk 3.21 would then wait for a domain digest that only newer Rasa
    sends, and refuse the call. The project's own domain.yml is the same file
    Rasa was trained with.
    """

    def update_and_return_domain(self, payload: dict[str, Any], action_name: str) -> dict:
        return payload.get("domain") or domain_file()

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        """Every message an action returns names the conversation's language."""
        result = await super().run(action_call, *args, **kwargs)
        if result is not None:
            language = reply_language(action_call, result.events)
            for message in result.responses:
                if language and isinstance(message, dict):
                    message.setdefault(MESSAGE_LANGUAGE, language)
        return result


def reply_language(action_call: dict[str, Any], events: list[dict[str, Any]]) -> str | None:
    """The `language` slot after this call: the last one the action set, else the tracker's."""
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == "language" and event.get("value"):
            return str(event["value"])
    slots = (action_call.get("tracker") or {}).get("slots") or {}
    return str(slots["language"]) if slots.get("language") else None


def _suggest_many(queries: list[SuggestRequest]) -> list[dict]:
    top_k = max(query.top_k for query in queries)
    results = knowledge_base().ask_many([(q.text, q.language) for q in queries], top_k)
    for query, result in zip(queries, results):
        result.answers[:] = result.answers[: query.top_k]
    return [suggestions(result) for result in results]


def _emergencies_many(texts: list[str]) -> list[str | None]:
    return [
        alarm.kind if alarm else None for alarm in knowledge_base().emergencies.check_many(texts)
    ]


_SUGGESTIONS = Batcher(_suggest_many)
# The desk checks every message written during a hand-off (50 at once in `make bench`).
_EMERGENCIES = Batcher(_emergencies_many)


async def suggest(request: Request) -> response.HTTPResponse:
    kb = knowledge_base()
    try:
        query = SuggestRequest.parse(request.json, kb.settings)
    except BadRequest as exc:
        return response.json(exc.as_json(), status=400)
    body = await _SUGGESTIONS.ask(query)
    side = (request.json or {}).get("also_in")
    if side in kb.settings.languages.supported:
        for answer in body["answers"]:
            other = kb.answer_entry(answer["id"], side)
            answer["side"] = other.as_json() if other else None
    return response.json(body)


async def translate(request: Request) -> response.HTTPResponse:
    body = request.json if isinstance(request.json, dict) else {}
    text, source, target = body.get("text"), body.get("source"), body.get("target")
    if not all(isinstance(value, str) and value for value in (text, source, target)):
        return response.json({"error": "Send text, source and target."}, status=400)
    longest = knowledge_base().settings.safety.max_message_chars
    if len(text) > longest:
        return response.json(
            {"error": f"The text is longer than {longest} characters.", "field": "text"},
            status=413,
        )
    translator = knowledge_base().translator
    if source == target or not translator.can_translate(source, target):
        return response.json({"error": f"No translation pair {source}->{target}."}, status=404)
    translated = await asyncio.to_thread(translator.translate, text, source, target)
    return response.json({"text": translated})


async def entry(request: Request) -> response.HTTPResponse:
    body = request.json if isinstance(request.json, dict) else {}
    kb = knowledge_base()
    supported = kb.settings.languages.supported
    language, side = body.get("language"), body.get("also_in")
    found = kb.answer_entry(str(body.get("id")), language) if language in supported else None
    if found is None:
        return response.json({"error": "No such entry or language."}, status=404)
    other = kb.answer_entry(found.entry_id, side) if side in supported else None
    return response.json({**found.as_json(), "side": other.as_json() if other else None})


async def emergency(request: Request) -> response.HTTPResponse:
    body = request.json if isinstance(request.json, dict) else {}
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return response.json({"error": "Send text."}, status=400)
    return response.json({"emergency": await _EMERGENCIES.ask(text[:1000])})


# Shapes of Rasa's action call that the actions rely on; anything else is refused.
_CALL_SHAPE = {"next_action": str, "tracker": dict}
_TRACKER_SHAPE = {"sender_id": str, "slots": dict, "latest_message": dict, "events": list}
_MESSAGE_SHAPE = {"text": str, "metadata": dict, "intent": dict, "entities": list}


def action_call_problem(body: Any) -> str | None:
    """Why a /webhook body is not an action call Rasa would send, or None."""
    if not isinstance(body, dict):
        return "The body must be a JSON object."
    problem = _shape_problem("", body, _CALL_SHAPE, ("next_action", "tracker"))
    if problem:
        return problem
    if body.get("domain") is not None and not isinstance(body["domain"], dict):
        return "'domain' must be a JSON object."
    tracker = body["tracker"]
    problem = _shape_problem("tracker.", tracker, _TRACKER_SHAPE, ("sender_id",))
    if problem or tracker.get("latest_message") is None:
        return problem
    return _shape_problem("tracker.latest_message.", tracker["latest_message"], _MESSAGE_SHAPE, ())


def _shape_problem(where: str, value: dict, shape: dict, required: tuple[str, ...]) -> str | None:
    for name, kind in shape.items():
        if value.get(name) is None and name not in required:
            continue
        if not isinstance(value.get(name), kind):
            return f"'{where}{name}' must be a JSON {kind.__name__}."
    return None


class BodyTooLarge(ValueError):
    """A body, or what it inflates to, is larger than MAX_BODY."""


def inflate(body: bytes, limit: int = MAX_BODY) -> bytes:
    """A deflate (zlib) body inflated to at most `limit` bytes; BodyTooLarge beyond,
    without ever holding more than that in memory."""
    inflater = zlib.decompressobj()
    inflated = inflater.decompress(body, limit + 1)
    if len(inflated) > limit or inflater.unconsumed_tail:
        raise BodyTooLarge(f"The body inflates to more than {limit} bytes.")
    inflated += inflater.flush()
    if len(inflated) > limit:
        raise BodyTooLarge(f"The body inflates to more than {limit} bytes.")
    return inflated


def caller_is_trusted(request: Request, token: str) -> bool:
    """The request shows the shared secret of the assistant's parts (constant time)."""
    return same_secret(request.headers.get(ACTION_TOKEN_HEADER), token)


def refuse_strangers(token: str) -> Callable:
    """Middleware: 403 for every route but /health without the shared secret."""

    async def refuse(request: Request) -> response.HTTPResponse | None:
        if request.path == "/health" or caller_is_trusted(request, token):
            return None
        return response.json({"error": f"Send {ACTION_TOKEN_HEADER}."}, status=403)

    return refuse


async def inflate_bounded(request: Request) -> response.HTTPResponse | None:
    """Inflate a deflate body here, within MAX_BODY, so rasa-sdk never inflates it."""
    if request.headers.get("Content-Encoding") != "deflate":
        return None
    try:
        request.body = inflate(request.body)
    except BodyTooLarge as exc:
        return response.json({"error": str(exc)}, status=413)
    except zlib.error:
        return response.json({"error": "The body is not valid deflate data."}, status=400)
    del request.headers["Content-Encoding"]
    return None


async def refuse_malformed_action_calls(request: Request) -> response.HTTPResponse | None:
    """Rasa-sdk answers 500 to bodies Rasa never sends; say 400 and why instead."""
    if request.path != "/webhook" or request.method != "POST":
        return None
    try:
        body = json.loads(request.body)
    except ValueError:
        return response.json({"error": "The body is not JSON."}, status=400)
    problem = action_call_problem(body)
    return response.json({"error": problem}, status=400) if problem else None


def add_knowledge_routes(app: Sanic) -> None:
    app.add_route(suggest, "/knowledge/suggest", methods=["POST"])
    app.add_route(translate, "/knowledge/translate", methods=["POST"])
    app.add_route(entry, "/knowledge/entry", methods=["POST"])
    app.add_route(emergency, "/knowledge/emergency", methods=["POST"])
    app.add_route(reload_entry_route, "/knowledge/reload-entry", methods=["POST"])
    app.add_route(reload_municipality_route, "/knowledge/reload-municipality", methods=["POST"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default=None, help="default: services.bind_host")
    parser.add_argument("--actions", default="bot.actions")
    args = parser.parse_args(argv)
    configure_logging()
    tune_malloc()
    executor = DomainFileExecutor()
    executor.register_package(args.actions)
    # Load entries, index and model now, so that /health means "ready to answer".
    try:
        knowledge_base()
    except STARTUP_ERRORS as exc:
        # These messages name the setting and the fix; a traceback would bury them.
        sys.exit(f"The action server cannot start: {exc}")
    app = create_app(executor, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = MAX_BODY
    app.config.RESPONSE_TIMEOUT = RESPONSE_TIMEOUT_SECONDS
    add_guards(app, get_settings().services.action_token)
    add_knowledge_routes(app)
    host = args.host or get_settings().services.bind_host
    app.run(host=host, port=args.port, single_process=True, access_log=False, motd=False)


async def too_large(request: Request, exception: Exception) -> response.HTTPResponse:
    # rasa-sdk's handler for every exception would make it a 500.
    return response.json({"error": f"The body is larger than {MAX_BODY} bytes."}, status=413)


def add_guards(app: Sanic, token: str) -> None:
    """The shared secret first, then bounded inflation, then the shape of action calls."""
    app.error_handler.add(PayloadTooLarge, too_large)
    app.register_middleware(refuse_strangers(token), "request")
    app.register_middleware(inflate_bounded, "request")
    app.register_middleware(refuse_malformed_action_calls, "request")


if __name__ == "__main__":
    main()
