"""The hand-off relay every channel of ours shares, kept out of the dialogue engine.

``DeskRelay`` is mixed into an input channel (connectors/socketio.py,
telegram.py, twilio.py):

- ``read_relay_credentials(credentials)``: ``desk_url``, ``token`` and the
  size and rate limits (``connectors.limits``) from credentials.yml;
- ``desk_or_bot(on_new_message)``: the limits first, then one message of a
  sender at a time (``connectors.turns``); then, while a person is
  in a hand-off, what they write goes straight to the desk
  (``POST {desk_url}/desk/api/inbound``); when
  the desk says no hand-off is open, or cannot be reached, the message goes to
  Rasa as usual (a paused conversation records it, and the desk reads it from
  the event broker later, so a desk restart loses nothing);
- ``add_relay_route(blueprint, deliver)``: ``POST .../relay``
  ``{"sender_id", "message"}`` with ``Authorization: Bearer <token>`` hands a
  mediator's message to ``deliver``, with the namespaced sender id Rasa
  knows (``telegram:<chat>``, ``socketio:<session>``: the outputs map it back
  to the platform's id, connectors/identity.py); when the platform does not take it
  (``PlatformError``, after retrying) it answers 502 with the reason, and the
  desk keeps the message as "not delivered yet" and tries again;
- ``take_turn(handle, incoming, output)``: a messaging platform's message
  (connectors/messaging.py ``Incoming``) to the desk or the bot.

``PlatformInput`` and ``PlatformOutput`` are what Telegram's and Twilio's
channels (connectors/telegram.py, twilio.py) share: credentials read by name;
the routes ``GET /`` (on or off), ``POST /webhook`` (503 while off, 403 when
the platform's check fails, else the message to the desk or the bot) and
``POST /relay``; and the desk's mediator messages sent as text. A platform
implements ``is_on``, ``authentic(request)`` and ``incoming(request)``.

This module runs inside Rasa (Python 3.10): it imports nothing from the
knowledge side.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.lock_store import LockError
from sanic import Blueprint, response
from sanic.request import Request

from connectors.identity import bearer_ok, log_id
from connectors.limits import MessageLimits, limits_from
from connectors.messaging import Incoming, PlatformError, mediator_text
from connectors.turns import TurnQueue

log = logging.getLogger(__name__)

# The desk answers from memory and one small transaction; longer means it is stuck.
DESK_TIMEOUT = aiohttp.ClientTimeout(total=3)


class DeskRelay:
    """Hand-off relay for an input channel: to the desk, and the mediator's replies back."""

    desk_url = ""
    token = ""
    limits = MessageLimits()
    turns = TurnQueue(retry_on=(LockError,))
    _desk_session: aiohttp.ClientSession | None = None

    def read_relay_credentials(self, credentials: dict[str, Any]) -> None:
        self.desk_url = str(credentials.get("desk_url") or "").rstrip("/")
        self.token = str(credentials.get("token") or "")
        self.limits = limits_from(credentials)

    def desk_or_bot(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[UserMessage], Awaitable[None]]:
        """`on_new_message`, for messages within the limits that the desk does not take."""

        async def to_desk_or_bot(message: UserMessage) -> None:
            if not await self.taken_by_desk(message):
                await on_new_message(message)

        return self.limits.guard(self.turns.in_order(to_desk_or_bot))

    def has_token(self, request: Request) -> bool:
        """The request carries the bearer token shared with the desk."""
        return bearer_ok(request.headers.get("Authorization"), self.token)

    def add_relay_route(
        self, blueprint: Blueprint, deliver: Callable[[str, dict], Awaitable[None]]
    ) -> None:
        """``POST /relay``: the desk pushes a mediator's message to the person."""

        @blueprint.route("/relay", methods=["POST"])
        async def relay(request: Request) -> response.HTTPResponse:
            if not self.has_token(request):
                return response.json({"error": "Wrong or missing token."}, status=401)
            body = request.json if isinstance(request.json, dict) else {}
            sender_id, message = body.get("sender_id"), body.get("message")
            if not isinstance(sender_id, str) or not isinstance(message, dict):
                return response.json({"error": "Send sender_id and message."}, status=400)
            try:
                await deliver(sender_id, message)
            except PlatformError as exc:
                log.warning(
                    "A mediator's message to %s was not delivered: %s", log_id(sender_id), exc
                )
                return response.json({"error": str(exc)}, status=502)
            return response.json({"sent": True})

    async def take_turn(
        self,
        handle: Callable[[UserMessage], Awaitable[None]],
        incoming: Incoming,
        output: OutputChannel,
    ) -> None:
        """Pass a platform's message on (``handle`` from ``desk_or_bot``)."""
        message = UserMessage(
            incoming.text,
            output,
            incoming.sender_id,
            input_channel=self.name(),
            metadata=incoming.metadata,
        )
        try:
            await handle(message)
        except PlatformError as exc:
            # The platform's webhook is answered all the same: it would send the
            # message again and the person would get the turn twice.
            log.error(
                "%s did not take the reply to %s: %s", self.name(), log_id(incoming.sender_id), exc
            )

    async def taken_by_desk(self, message: UserMessage) -> bool:
        """True when the desk stored the message for an open hand-off."""
        text = message.text or ""
        if not self.desk_url or not text.strip() or text.startswith("/"):
            return False
        body = {"sender_id": message.sender_id, "text": text, "at": time.time()}
        answer = await self.ask_desk("inbound", body)
        if answer is None:
            # Rasa records it; the desk reads it from the event broker when back.
            log.warning("The desk did not take a message; Rasa records it")
        taken = answer is not None and answer.get("taken") is True
        if taken:
            await self.desk_took(message, answer or {})
        return taken

    async def desk_took(self, message: UserMessage, answer: dict) -> None:
        """The desk stored `message` (`answer`: its ``position`` in the queue, or None)."""

    async def ask_desk(self, route: str, body: dict) -> dict | None:
        """``POST {desk_url}/desk/api/<route>`` with the token; its JSON, or None."""
        if not self.desk_url:
            return None
        if self._desk_session is None:
            self._desk_session = aiohttp.ClientSession(timeout=DESK_TIMEOUT)
        try:
            async with self._desk_session.post(
                f"{self.desk_url}/desk/api/{route}",
                json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            ) as answer:
                if answer.status != 200:
                    log.warning("The desk answered %s to %s", answer.status, route)
                    return None
                found = await answer.json()
                return found if isinstance(found, dict) else None
        # asyncio.TimeoutError: on Rasa's Python 3.10 it is not the built-in one,
        # and an uncaught timeout would lose the message.
        except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as exc:  # noqa: UP041
            log.warning("The desk did not answer %s (%s)", route, exc)
            return None


class PlatformInput(DeskRelay):
    """A messaging platform's input channel: credentials by name, on or off."""

    # The constructor's arguments, in order, as named in credentials.yml.
    CREDENTIALS: tuple[str, ...] = ()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> Any:
        credentials = credentials or {}
        channel = cls(*(str(credentials.get(key) or "") for key in cls.CREDENTIALS))
        channel.read_relay_credentials(credentials)
        return channel

    @property
    def is_on(self) -> bool:
        """Set up: a channel that is off answers 503 and never calls its platform."""
        raise NotImplementedError

    def authentic(self, request: Request) -> bool:
        """The request passes the platform's check (secret header, signature)."""
        raise NotImplementedError

    async def incoming(self, request: Request) -> Incoming | None:
        """The webhook's message; None for what is not one (nothing to do)."""
        raise NotImplementedError

    def webhook_answer(self) -> response.HTTPResponse:
        return response.json({"ok": True})

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"{self.name()}_webhook", __name__)
        handle = self.desk_or_bot(on_new_message)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> response.HTTPResponse:
            return response.json({"status": "ok" if self.is_on else "off"})

        @blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> response.HTTPResponse:
            if not self.is_on:
                return response.json({"error": f"{self.name()} is not set up."}, status=503)
            if not self.authentic(request):
                return response.json({"error": "Not from the platform."}, status=403)
            incoming = await self.incoming(request)
            if incoming is not None:
                await self.take_turn(handle, incoming, self.get_output_channel())
            return self.webhook_answer()

        self.add_relay_route(blueprint, self.get_output_channel().send_custom_json)
        return blueprint


class PlatformOutput(OutputChannel):
    """Sends text only; images as their address, the desk's messages as text."""

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, image)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # The desk's mediator messages; nothing else of ours sends custom payloads.
        text = mediator_text(json_message)
        if text.strip():
            await self.send_text_message(recipient_id, text)
