"""Rasa's socket.io channel, with the hand-off relay kept out of the dialogue engine.

    # credentials.yml
    connectors.socketio.HandoffSocketIOInput:
      session_persistence: true
      desk_url: ${HELPDESK_DESK_URL}
      token: ${HELPDESK_RASA_TOKEN}

Same URL, events and payloads as Rasa's own ``socketio`` channel, and the same
name, so the widget and ``output_channel=socketio`` work unchanged. Two things
are added, because relaying through the dialogue engine (understanding each
message, loading and saving the tracker) made a reply wait for every other
person's turn:

- while a person is in a hand-off, what they write goes straight to the desk
  (``POST {desk_url}/desk/api/inbound``); when the desk says no hand-off is
  open, or cannot be reached, the message goes to Rasa as usual (a paused
  conversation records it, and the desk reads it from the event broker later,
  so a desk restart loses nothing);
- ``POST /webhooks/socketio/relay`` ``{"sender_id", "message"}``, with
  ``Authorization: Bearer <token>``, sends a mediator's message to the
  person's room at once. The desk keeps the hand-off's transcript.

This module runs inside Rasa (Python 3.10): it imports nothing from the
knowledge side.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint, response
from sanic.request import Request

from connectors.desk.redact import install_log_redaction

# Rasa logs in this process too: no phone number or e-mail reaches its log.
install_log_redaction()

log = logging.getLogger(__name__)

# The desk answers from memory and one small transaction; longer means it is stuck.
DESK_TIMEOUT = aiohttp.ClientTimeout(total=3)


class HandoffSocketIOInput(SocketIOInput):
    """socket.io for the widget; hand-off messages bypass the dialogue engine."""

    desk_url = ""
    token = ""
    _session: aiohttp.ClientSession | None = None

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.desk_url = str(credentials.get("desk_url") or "").rstrip("/")
        channel.token = str(credentials.get("token") or "")
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def to_desk_or_bot(message: UserMessage) -> None:
            if not await self.taken_by_desk(message):
                await on_new_message(message)

        blueprint = super().blueprint(to_desk_or_bot)

        @blueprint.route("/relay", methods=["POST"])
        async def relay(request: Request) -> response.HTTPResponse:
            if not self.token or not hmac.compare_digest(
                request.headers.get("Authorization", ""), f"Bearer {self.token}"
            ):
                return response.json({"error": "Wrong or missing token."}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender_id, message = body.get("sender_id"), body.get("message")
            if not isinstance(sender_id, str) or not isinstance(message, dict):
                return response.json({"error": "Send sender_id and message."}, status=400)
            await self.sio.emit(self.bot_message_evt, message, room=sender_id)
            return response.json({"sent": True})

        return blueprint

    async def taken_by_desk(self, message: UserMessage) -> bool:
        """True when the desk stored the message for an open hand-off."""
        text = message.text or ""
        if not self.desk_url or not text.strip() or text.startswith("/"):
            return False
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=DESK_TIMEOUT)
        body = {"sender_id": message.sender_id, "text": text, "at": time.time()}
        try:
            async with self._session.post(
                f"{self.desk_url}/desk/api/inbound",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            ) as answer:
                return answer.status == 200 and (await answer.json()).get("taken") is True
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            # Rasa records it; the desk reads it from the event broker when back.
            log.warning("The desk did not take a message (%s); Rasa records it", exc)
            return False
