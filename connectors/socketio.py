"""Rasa's socket.io channel, with the hand-off relay kept out of the dialogue engine.

    # credentials.yml
    connectors.socketio.HandoffSocketIOInput:
      session_persistence: true
      desk_url: ${HELPDESK_DESK_URL}
      token: ${HELPDESK_RASA_TOKEN}

Same URL, events and payloads as Rasa's own ``socketio`` channel, and the same
name, so the widget and ``output_channel=socketio`` work unchanged. The
hand-off relay (connectors/relay.py) is added, because relaying through the
dialogue engine (understanding each message, loading and saving the tracker)
made a reply wait for every other person's turn: while a person is in a
hand-off what they write goes straight to the desk, and
``POST /webhooks/socketio/relay`` sends a mediator's message to the person's
room at once. The relay also applies the size and rate limits
(connectors/limits.py).

Rasa 3.6's socket.io output passes a custom JSON message to ``emit`` as
keyword arguments, so every answer card (``{"entry": ...}``) raised a
TypeError after its text was sent: the rest of the turn, and the turn's
events in the tracker, were lost. ``CustomJsonSocketIOOutput`` sends it as
the event's data, ``{"custom": ...}``.

This module runs inside Rasa (Python 3.10): it imports nothing from the
knowledge side.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from connectors.relay import DeskRelay


class CustomJsonSocketIOOutput(SocketIOOutput):
    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.sio.emit(self.bot_message_evt, {"custom": json_message}, room=recipient_id)


class HandoffSocketIOInput(DeskRelay, SocketIOInput):
    """socket.io for the widget; hand-off messages bypass the dialogue engine."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.read_relay_credentials(credentials)
        return channel

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return CustomJsonSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_custom_json(message: UserMessage) -> None:
            message.output_channel = self.get_output_channel() or message.output_channel
            await on_new_message(message)

        blueprint = super().blueprint(self.desk_or_bot(with_custom_json))

        async def to_room(sender_id: str, message: dict) -> None:
            await self.sio.emit(self.bot_message_evt, message, room=sender_id)

        self.add_relay_route(blueprint, to_room)
        self.read_custom_data()
        return blueprint

    def read_custom_data(self) -> None:
        """Off-the-shelf Rasa web-chat clients send the person's metadata as
        ``customData``: read it when ``metadata`` is absent. Their ``language``
        is the page's hint, not the person's choice, so a message in another
        language still switches the conversation to it."""
        namespace = self.namespace or "/"
        handler = self.sio.handlers.get(namespace, {}).get(self.user_message_evt)
        if handler is None or getattr(handler, "reads_custom_data", False):
            return

        async def with_custom_data(sid: str, data: Any) -> Any:
            custom = data.get("customData") if isinstance(data, dict) else None
            if isinstance(custom, dict) and not data.get(self.metadata_key):
                metadata = dict(custom)
                if "language" in metadata:
                    metadata.setdefault("language_hint", metadata.pop("language"))
                data = {**data, self.metadata_key: metadata}
            return await handler(sid, data)

        with_custom_data.reads_custom_data = True
        self.sio.on(self.user_message_evt, with_custom_data, namespace=namespace)
