"""``POST /knowledge/reload-entry`` ``{"id"}``: answer from one changed entry at once.
``POST /knowledge/reload-municipality`` ``{}``: answer with the saved office details.

The authoring page calls it after every save, review or undo. Only that entry's
texts are embedded again (``knowledge.live_index``); 200 ``{"id", "languages",
"passages", "seconds"}``, 422 when a file of the entry cannot be read (the
assistant keeps the old version). Like every knowledge route it needs the
action server's shared secret.
"""

from __future__ import annotations

import asyncio

import yaml
from sanic import response
from sanic.request import Request

from bot.actions import knowledge_base
from knowledge.editing import EditError, entry_path
from knowledge.entries import ContentError
from knowledge.live_index import reembed, reload_entry, reload_municipality

# Background re-embedding jobs, kept so that they are not collected while running.
_BACKGROUND: set[asyncio.Task] = set()


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


async def reload_municipality_route(request: Request) -> response.HTTPResponse:
    """``POST /knowledge/reload-municipality`` ``{}``: answer with the saved office details.

    The next answer fills its offices from the file as saved now. The passages
    of the entries that name a changed office are embedded again in the
    background (the index stays usable meanwhile); 200 ``{"offices",
    "entries", "seconds"}``, 422 when the file cannot be read (the old one stays).
    """
    kb = knowledge_base()
    try:
        result = await asyncio.to_thread(reload_municipality, kb)
    except (OSError, yaml.YAMLError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return response.json({"error": f"The municipality file cannot be read: {exc}"}, status=422)
    task = asyncio.get_running_loop().create_task(asyncio.to_thread(reembed, kb, result.entries))
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return response.json(result.as_json())
