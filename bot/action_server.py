"""The Rasa action server for our custom actions, in a single process.

    python -m bot.action_server --port 5055

This is rasa-sdk's own app (``rasa_sdk.endpoint.create_app``) with the actions
of ``bot.actions``. rasa-sdk's command line would start Sanic's worker
manager, which loads the actions, and so the embedding model, once more in a
worker process; one process keeps one copy in memory and starts sooner.

Because this process holds the knowledge base, it also computes the operators'
suggested answers for the web app: ``POST /knowledge/suggest`` takes the body of
``POST /api/suggest`` (``knowledge/api.py``). Like ``/webhook``, it is meant for
the other parts of the assistant only, not for the public.
"""

from __future__ import annotations

import argparse
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request

from bot.actions import knowledge_base
from knowledge.api import BadRequest, SuggestRequest, suggestions


async def suggest(request: Request) -> response.HTTPResponse:
    kb = knowledge_base()
    try:
        query = SuggestRequest.parse(request.json, kb.settings)
    except BadRequest as exc:
        return response.json(exc.as_json(), status=400)
    return response.json(suggestions(kb, query))


def add_knowledge_routes(app: Sanic) -> None:
    app.add_route(suggest, "/knowledge/suggest", methods=["POST"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--actions", default="bot.actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    executor = ActionExecutor()
    executor.register_package(args.actions)
    # Load entries, index and model now, so that /health means "ready to answer".
    knowledge_base()
    app = create_app(executor)
    add_knowledge_routes(app)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
