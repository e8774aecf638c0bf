"""Rasa's REST channel, tolerant of bodies that are not clean UTF-8 JSON.

    # credentials.yml
    connectors.rest.TolerantRestInput:

Same URL and payload as Rasa's own ``rest`` channel
(POST /webhooks/rest/webhook), with the size and rate limits of
``connectors.limits`` (set in its credentials.yml block), and one message of
a sender at a time (``connectors.turns``).

Rasa's channel answers 400 to a body with bytes that are not UTF-8, so the
person gets no reply and the message is lost.
Here such bytes become U+FFFD, and the assistant answers that it could not
read the message. This module runs inside Rasa (Python 3.10): it imports
nothing from the knowledge side.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from sanic import Blueprint
from sanic.request import Request

from connectors.limits import MessageLimits, limits_from
from connectors.turns import TurnQueue


def request_body(request: Request) -> dict[str, Any]:
    """The JSON body as a dict; undecodable bytes replaced, anything unreadable as {}."""
    if "helpdesk_body" not in request.ctx.__dict__:
        try:
            body = json.loads(request.body.decode("utf-8", errors="replace") or "{}")
        except ValueError:
            body = {}
        request.ctx.helpdesk_body = body if isinstance(body, dict) else {}
    return request.ctx.helpdesk_body


class TolerantRestInput(RestInput):
    limits = MessageLimits()
    turns = TurnQueue(retry_on=(LockError,))

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = cls()
        channel.limits = limits_from(credentials or {})
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return super().blueprint(self.limits.guard(self.turns.in_order(on_new_message)))

    async def _extract_sender(self, req: Request) -> str | None:
        sender = request_body(req).get("sender")
        return str(sender) if sender is not None else None

    def _extract_message(self, req: Request) -> str | None:
        message = request_body(req).get("message")
        return message if isinstance(message, str) else ""

    def _extract_input_channel(self, req: Request) -> str:
        return request_body(req).get("input_channel") or self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = request_body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None
