"""``POST /knowledge/reload-entry`` ``{"id"}``: answer from one changed entry at once.

The authoring page calls it after every save, review or undo. Only that entry's
texts are embedded again (``knowledge.live_index``); 200 ``{"id", "languages",
"passages", "seconds"}``, 422 when a file of the entry cannot be read (the
assistant keeps the old version). Like every knowledge route it needs the
action server's shared secret.
"""

from __future__ import annotations

import asyncio

from sanic import response
from sanic.request import Request

from bot.actions import knowledge_base
from knowledge.editing import EditError, entry_path
from knowledge.entries import ContentError
from knowledge.live_index import reload_entry


async def reload_entry_route(request: Request) -> response.HTTPResponse:
    body = request.json if isinstance(request.json, dict) else {}
    kb = knowledge_base()
    entry_id = str(body.get("id") or "")
    try:
        entry_path(kb.settings.content.dir, entry_id, "it")
    except EditError as exc:
        return response.json({"error": str(exc)}, status=400)
    try:
        result = await asyncio.to_thread(reload_entry, kb, entry_id)
    except ContentError as exc:
        return response.json({"error": str(exc)}, status=422)
    return response.json(result.as_json())
