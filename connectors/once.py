"""A message a client sends again is handled once (runs inside Rasa, Python 3.10).

A client that lost its connection before the answer came cannot know whether
its message arrived: the widget sends it again after reconnecting, a REST
integration after a 502 from the load balancer (a Rasa process died). Each
message carries the client's own id, and ``resent`` when it went out before:

    {"sender": "...", "message": "...", "message_id": "c-3f2a9", "resent": true}

The channel gives Rasa that id as the message's id, and a resent message whose
id the conversation already holds is not handled again
(``handle_each_message_once`` in bot/rasa_run.py, inside Rasa's lock of the
conversation, so two processes cannot both take it).
"""

from __future__ import annotations

import re
from typing import Any

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
RESENT = "resent"


def client_message_id(body: dict[str, Any]) -> str | None:
    """The client's id for its message, when it gave a usable one."""
    value = body.get("message_id")
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def with_resent_mark(metadata: dict[str, Any] | None, body: dict[str, Any]) -> dict[str, Any]:
    """The message's metadata, saying whether the client sent it before; never
    taken from the client's own metadata, which could claim either."""
    marked = {key: value for key, value in (metadata or {}).items() if key != RESENT}
    if body.get(RESENT) is True and client_message_id(body):
        marked[RESENT] = True
    return marked


def already_handled(events: list[Any], message_id: str) -> bool:
    """Whether a user message with this id is among a conversation's events."""
    return any(
        getattr(event, "type_name", "") == "user"
        and getattr(event, "message_id", None) == message_id
        for event in events
    )
