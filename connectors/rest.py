"""Rasa's REST channel, tolerant of bodies that are not clean UTF-8 JSON.

    # credentials.yml
    connectors.rest.TolerantRestInput:
      rest_token: ${HELPDESK_REST_TOKEN}

Same URL and payload as Rasa's own ``rest`` channel
(POST /webhooks/rest/webhook), with the size and rate limits of
``connectors.limits`` (set in its credentials.yml block), and one message of
a sender at a time (``connectors.turns``).

It is for trusted integrations, not the public: every request needs
``Authorization: Bearer <rest_token>`` (compared in constant time), and while
the token is unset the channel answers 403 to everything. The sender id Rasa
sees is ``rest:<sender>``, so a caller never reaches a conversation of another
channel, and ``input_channel`` is always ``rest``, whatever the body says.
New senders from one address are capped (``connectors.limits.AddressLimits``).

Rasa's channel answers 400 to a body with bytes that are not UTF-8, so the
person gets no reply and the message is lost.
Here such bytes become U+FFFD, and the assistant answers that it could not
read the message. This module runs inside Rasa (Python 3.10): it imports
nothing from the knowledge side.
"""

from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.lock_store import LockError
from rasa.utils.endpoints import bool_arg
from sanic import Blueprint, response
from sanic.request import Request

from connectors.identity import bearer_ok, namespaced
from connectors.limits import (
    AddressLimits,
    MessageLimits,
    address_limits_from,
    client_address,
    limits_from,
)
from connectors.once import client_message_id, with_resent_mark
from connectors.turns import TurnQueue

log = logging.getLogger(__name__)


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
    addresses = AddressLimits()
    turns = TurnQueue(retry_on=(LockError,))
    rest_token = ""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = cls()
        channel.limits = limits_from(credentials)
        channel.addresses = address_limits_from(credentials)
        channel.rest_token = str(credentials.get("rest_token") or "")
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's two routes (rasa/core/channels/rest.py), each checking the caller first."""
        handle = self.limits.guard(self.turns.in_order(on_new_message))
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            return await self.refusal(request) or response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Any:
            sender_id = await self._extract_sender(request)
            refused = await self.refusal(request, sender_id)
            if refused:
                return refused
            text = self._extract_message(request)
            input_channel = self._extract_input_channel(request)
            body = request_body(request)
            metadata = with_resent_mark(self.get_metadata(request), body)
            message_id = client_message_id(body)
            if bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(handle, text, sender_id, input_channel, metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await handle(
                    UserMessage(
                        text,
                        collector,
                        sender_id,
                        input_channel=input_channel,
                        message_id=message_id,
                        metadata=metadata,
                    )
                )
            except CancelledError:
                log.error("A REST message timed out")
            except Exception:
                log.exception("A REST message failed")
            return response.json(collector.messages)

        return blueprint

    async def refusal(self, request: Request, sender_id: str | None = None) -> Any:
        """403 without the bearer token (or while it is unset), 429 for an address
        starting too many conversations; None lets the request through."""
        if not bearer_ok(request.headers.get("Authorization"), self.rest_token):
            return response.json(
                {"error": "The REST channel needs 'Authorization: Bearer <token>'."}, status=403
            )
        address = client_address(request.ip, request.headers.get("X-Forwarded-For"))
        if sender_id is not None and not await self.addresses.allow(address, sender_id):
            return response.json(
                {"error": "Too many new conversations from this address; try later."},
                status=429,
            )
        return None

    async def _extract_sender(self, req: Request) -> str | None:
        sender = request_body(req).get("sender")
        return namespaced(self.name(), str(sender) if sender is not None else "default")

    def _extract_message(self, req: Request) -> str | None:
        message = request_body(req).get("message")
        return message if isinstance(message, str) else ""

    def _extract_input_channel(self, req: Request) -> str:
        # Never from the body: a caller could move a hand-off to another channel.
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = request_body(request).get("metadata")
        return metadata if isinstance(metadata, dict) else None
