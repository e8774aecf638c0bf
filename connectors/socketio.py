"""Rasa's socket.io channel, with the hand-off relay kept out of the dialogue engine.

    # credentials.yml
    connectors.socketio.HandoffSocketIOInput:
      session_persistence: true
      desk_url: ${HELPDESK_DESK_URL}
      token: ${HELPDESK_RASA_TOKEN}
      redis_url: ${HELPDESK_REDIS_URL}    # several Rasa processes; empty: one

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

Sessions are bound to a secret the server issued: ``session_request`` with
no session gets a new random id and its HMAC tag (``session_confirm``
``{"session_id", "session_tag"}``), which the widget keeps and sends back;
one naming a session without its valid tag is refused (``session_refused``,
no room joined), and so is ``user_uttered`` for a session this connection
was not confirmed for. Knowing a person's session id is not enough to join
their room.

What was said while the person's page was closed is fetched again:
``history_request`` ``{"after": <last reply id shown>, "bots_after": <time of
the last bot message shown, or null>}`` on a confirmed connection answers
``history`` ``{"messages": [...], "seen_up_to", "bots_up_to"}``: that
session's mediator replies from the desk (``POST /desk/api/history``) and the
bot's messages from Rasa's tracker store (the hand-back and rating question,
emergency numbers, anything sent while no page was in the room), merged in
the order they were sent. Every bot message carries ``id`` (``b<time>.<n>``:
the bot event's timestamp and its place among the pieces the event was sent
as) and ``ts``, live and fetched alike, so the widget shows each once;
``bots_after: null`` (a transcript from before ids) fetches no bot messages
and only says where they stand. ``replies_seen`` ``{"up_to": <id>}`` tells the
desk the mediator's replies were on screen. Both name no session: they answer
for the one the connection proved with its tag.

``user_uttered`` sent with a Socket.IO ack id is acknowledged
(``{"ok": true}``) once the message was handed on (to the desk, or through
the bot's turn), and ``{"ok": false}`` when it was refused; the widget marks
the person's message sent, or not sent with a retry button.
A message written while waiting for a mediator is answered with
``bot_uttered`` ``{"from": "desk", "event": "waiting", "position": n}``, and
the claim with ``{"from": "desk", "event": "joined", "name", "id", "at"}``
(from the desk). A page closed at the claim gets that notice with its
``history``, in order and with the same id, so the widget shows it once.

``typing`` (no data, or ``{"session_id"}`` of its own session) says the
person is writing: the desk shows "typing…" to the mediator holding their
hand-off (``POST /desk/api/typing``), at most once every 3 s per session. It
carries no text, and a connection signals only for the session it proved;
naming another one is refused like ``user_uttered``. The mediator's writing
comes the other way as ``bot_uttered`` ``{"from": "desk", "event": "typing"}``.

Rasa stores the conversation as ``socketio:<session id>``, which
is also the room's name, so Rasa's replies and the relay reach it directly.
Only pages of ``allowed_origins`` may connect (python-socketio's
``cors_allowed_origins``), and one address gets at most
``new_conversations_per_address`` new sessions per window.

With several Rasa processes behind a load balancer, a person's widget is
connected to one of them, while the desk's relay and Rasa's answers may come
from another. With ``redis_url`` set, every emit goes through Redis
(python-socketio's ``AsyncRedisManager`` on ``redis.asyncio``, as JSON,
never pickle: ``RedisRooms``) and each process hands it to the members of
the room it holds, so it reaches the person wherever they are connected,
once. When Redis cannot be reached, an emit goes to this process's own
clients only (a widget connected elsewhere fetches the message with
``history_request`` when it reconnects), and the process keeps trying to
reconnect; empty (the default), rooms are this process's alone, as with
Rasa's own channel, and nothing depends on Redis.

This module runs inside Rasa (Python 3.10): it imports nothing from the
knowledge side.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.core.events import BotUttered
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncManager, AsyncRedisManager, AsyncServer

from connectors.identity import SessionSigner, log_id, namespaced
from connectors.limits import AddressLimits, address_limits_from, client_address
from connectors.once import client_message_id, with_resent_mark
from connectors.relay import DeskRelay
from core.protocol import MESSAGE_LANGUAGE
from core.typing_signal import Throttle

log = logging.getLogger(__name__)

# The Redis channel every Rasa process of a region publishes its emits on.
ROOMS_CHANNEL = "helpdesk:socketio"
# An emit waits at most this long for Redis before going to this process's clients.
PUBLISH_SECONDS = 2.0


class RedisRooms(AsyncRedisManager):
    """python-socketio's Redis manager, speaking JSON instead of pickle.

    Pickle would run whatever anyone able to publish on the channel sent; our
    emits are JSON anyway. An emit Redis did not take goes to this process's
    own clients; the listener reconnects with a growing pause (the stock one
    spins when Redis is down at start)."""

    def __init__(self, url: str) -> None:
        options = {"socket_connect_timeout": PUBLISH_SECONDS, "health_check_interval": 15}
        super().__init__(url, channel=ROOMS_CHANNEL, redis_options=options)

    async def _publish(self, data: dict) -> None:
        try:
            await asyncio.wait_for(
                self.redis.publish(self.channel, json.dumps(data)), PUBLISH_SECONDS
            )
            return
        except (RedisError, OSError, asyncio.TimeoutError, TypeError, ValueError) as exc:  # noqa: UP041
            # The connection pool connects again for the next one.
            log.warning("socket.io: Redis did not take an emit (%s): clients here only", exc)
        if data.get("method") == "emit":
            await AsyncManager.emit(
                self,
                data["event"],
                data["data"],
                data["namespace"],
                room=data.get("room"),
                skip_sid=data.get("skip_sid"),
            )

    async def _listen(self):  # type: ignore[override]
        pause = 0.5
        while True:
            try:
                await self.pubsub.subscribe(self.channel)
                pause = 0.5
                async for message in self.pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        data = json.loads(message["data"])
                    except (TypeError, ValueError):
                        continue
                    if isinstance(data, dict):
                        yield data
            except (RedisError, OSError) as exc:
                log.warning("socket.io: no Redis (%s); reconnecting in %.1f s", exc, pause)
                with contextlib.suppress(Exception):
                    await self.pubsub.reset()
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)


def room_manager(redis_url: str) -> AsyncManager | None:
    """Rooms shared by every Rasa process through Redis; None (``redis_url``
    empty): this process's own, python-socketio's default."""
    return RedisRooms(redis_url) if redis_url else None


class CustomJsonSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output; each message also names the conversation's language.

    The action server adds ``language`` to every message it returns; Rasa keeps
    it in the bot event's metadata and passes it here among the keyword
    arguments, which Rasa's own output drops. The widget follows it for its
    own labels and direction."""

    language: str | None = None
    # The bot event being sent (its timestamp) and how many pieces of it went out.
    stamp: float | None = None
    pieces = 0

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        language = message.get(MESSAGE_LANGUAGE)
        stamp = message.get("timestamp")
        # One output per turn (get_output_channel), so this is this turn's language.
        self.language = language if isinstance(language, str) and language else None
        self.stamp = float(stamp) if isinstance(stamp, int | float) else None
        self.pieces = 0
        try:
            await super().send_response(recipient_id, message)
        finally:
            self.language = self.stamp = None

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if isinstance(response, dict):
            if self.language:
                response = {**response, MESSAGE_LANGUAGE: self.language}
            if self.stamp is not None:
                # The same id when the message is fetched again (bot_history).
                response = {**response, "id": bot_message_id(self.stamp, self.pieces)}
                response["ts"] = self.stamp
                self.pieces += 1
        await self.sio.emit(self.bot_message_evt, response, room=socket_id)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class HandoffSocketIOInput(DeskRelay, SocketIOInput):
    """socket.io for the widget; hand-off messages bypass the dialogue engine."""

    signer: SessionSigner | None = None
    allowed_origins: list[str] = []
    redis_url = ""
    app: Any = None
    addresses = AddressLimits()
    # "The person is typing": one signal per session every few seconds reaches the desk.
    typing = Throttle()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        channel = super().from_credentials(credentials)
        channel.read_relay_credentials(credentials)
        # bot/serve.py always sets one; alone, sessions last as long as this process.
        secret = str(credentials.get("session_secret") or "") or secrets.token_urlsafe(32)
        channel.signer = SessionSigner(secret)
        channel.allowed_origins = str(credentials.get("allowed_origins") or "").split()
        channel.addresses = address_limits_from(credentials)
        channel.redis_url = str(credentials.get("redis_url") or "")
        return channel

    async def desk_took(self, message: UserMessage, answer: dict) -> None:
        # Written while waiting: the widget says it arrived, and where they stand.
        position = answer.get("position")
        if self.sio is not None and isinstance(position, int):
            notice = {"from": "desk", "event": "waiting", "position": position}
            await self.sio.emit(self.bot_message_evt, notice, room=message.sender_id)

    async def bot_history(
        self, sender_id: str, after: float | None
    ) -> tuple[list[dict], float | None]:
        """The bot's messages to `sender_id` after time `after`, and the newest one's time.

        Read from Rasa's tracker store; `after` None: none, only the time."""
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return [], None
        try:
            tracker = await store.retrieve(sender_id)
        except Exception:  # the fetch is a courtesy; the conversation goes on
            log.exception("Could not read the bot's messages to %s", log_id(sender_id))
            return [], None
        events = tracker.events if tracker is not None else ()
        newest = max((e.timestamp for e in events if isinstance(e, BotUttered)), default=None)
        if after is None:
            return [], newest
        return await bot_messages(tracker, after, self.bot_message_evt), newest

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()
        return CustomJsonSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_custom_json(message: UserMessage) -> None:
            message.output_channel = self.get_output_channel() or message.output_channel
            await on_new_message(message)

        blueprint = self.session_blueprint(self.desk_or_bot(with_custom_json))

        async def to_room(sender_id: str, message: dict) -> None:
            await self.sio.emit(self.bot_message_evt, message, room=sender_id)

        self.add_relay_route(blueprint, to_room)
        return blueprint

    def session_blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Rasa's socket.io blueprint, with issued and checked sessions and an origin check."""
        if self.signer is None:
            raise ValueError("Set session_secret for the socket.io channel (credentials.yml).")
        signer = self.signer
        # None would mean "the same origin only": the widget's page is on another port.
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.allowed_origins or None,
            client_manager=room_manager(self.redis_url),
        )
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        # connection (sid) -> its confirmed session id, and its address
        bound: dict[str, str] = {}
        addresses: dict[str, str] = {}

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            request = environ.get("sanic.request")
            peer = getattr(request, "ip", None) if request is not None else None
            if request is not None and self.app is None:
                self.app = request.app  # Rasa's: its agent reads the tracker store
            addresses[sid] = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"))
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            bound.pop(sid, None)
            addresses.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            session_id, tag = data.get("session_id"), data.get("session_tag")
            if session_id is None:
                if not await self.addresses.allow(addresses.get(sid, "")):
                    await sio.emit("session_refused", {"reason": "busy"}, room=sid)
                    return
                session_id, tag = signer.issue()
            elif not signer.valid(session_id, tag):
                log.warning("Refused a socket.io session without its tag (%s)", log_id(session_id))
                await sio.emit("session_refused", {"reason": "unknown session"}, room=sid)
                return
            previous = bound.get(sid)
            if previous and previous != session_id:
                sio.leave_room(sid, namespaced(self.name(), previous))
            bound[sid] = session_id
            sio.enter_room(sid, namespaced(self.name(), session_id))
            await sio.emit(
                "session_confirm", {"session_id": session_id, "session_tag": tag}, room=sid
            )

        @sio.on("history_request", namespace=self.namespace)
        async def history_request(sid: str, data: Any) -> None:
            # Only for the session this connection proved with its tag: the
            # replies of no one else, whatever id the page names.
            session_id = bound.get(sid)
            if session_id is None:
                await sio.emit("session_refused", {"reason": "unknown session"}, room=sid)
                return
            data = data if isinstance(data, dict) else {}
            after = data.get("after")
            after = after if isinstance(after, int) and not isinstance(after, bool) else 0
            bots_after = data.get("bots_after")
            if isinstance(bots_after, bool) or not isinstance(bots_after, int | float):
                bots_after = None
            sender_id = namespaced(self.name(), session_id)
            asked = {"sender_id": sender_id, "after": max(after, 0), "since": bots_after}
            found = await self.ask_desk("history", asked)
            replies = found.get("messages") if isinstance(found, dict) else None
            bots, bots_up_to = await self.bot_history(sender_id, bots_after)
            answer = {
                **(found or {}),
                "messages": merged(replies if isinstance(replies, list) else [], bots),
                "bots_up_to": bots_up_to,
            }
            if found is not None or bots or bots_up_to is not None:
                await sio.emit("history", answer, room=sid)

        @sio.on("replies_seen", namespace=self.namespace)
        async def replies_seen(sid: str, data: Any) -> None:
            session_id = bound.get(sid)
            up_to = data.get("up_to") if isinstance(data, dict) else None
            if session_id is None or not isinstance(up_to, int) or isinstance(up_to, bool):
                return
            sender_id = namespaced(self.name(), session_id)
            await self.ask_desk("seen", {"sender_id": sender_id, "up_to": up_to})

        @sio.on("typing", namespace=self.namespace)
        async def typing(sid: str, data: Any = None) -> None:
            session_id = bound.get(sid)
            named = data.get("session_id") if isinstance(data, dict) else None
            if session_id is None or (named is not None and named != session_id):
                await sio.emit("session_refused", {"reason": "unknown session"}, room=sid)
                return
            if self.typing.allow(session_id):
                sender_id = namespaced(self.name(), session_id)
                await self.ask_desk("typing", {"sender_id": sender_id})

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> dict:
            data = data if isinstance(data, dict) else {}
            session_id = bound.get(sid)
            named = data.get("session_id")
            if session_id is None or (named is not None and named != session_id):
                log.warning("Refused a socket.io message for a session not confirmed on it")
                await sio.emit("session_refused", {"reason": "unknown session"}, room=sid)
                return {"ok": False}
            metadata = data.get(self.metadata_key) or custom_data(data) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            message = UserMessage(
                data.get("message", "") if isinstance(data.get("message"), str) else "",
                SocketIOOutput(sio, self.bot_message_evt),
                namespaced(self.name(), session_id),
                input_channel=self.name(),
                message_id=client_message_id(data),
                metadata=with_resent_mark(metadata if isinstance(metadata, dict) else {}, data),
            )
            await on_new_message(message)
            # The Socket.IO ack, when the widget asked for one: handed on.
            return {"ok": True}

        return blueprint


def bot_message_id(stamp: float, piece: int) -> str:
    """A bot message's id: its event's timestamp and its place among the event's pieces."""
    return f"b{stamp!r}.{piece}"


def merged(replies: list[dict], bots: list[dict]) -> list[dict]:
    """Mediator replies (``at``) and bot messages (``ts``), in the order they were sent."""

    def sent_at(message: dict) -> float:
        at = message.get("ts", message.get("at"))
        return float(at) if isinstance(at, int | float) else 0.0

    return sorted([*replies, *bots], key=sent_at)


class _Collected:
    """Stands in for the socket.io server: keeps what an output would emit."""

    def __init__(self) -> None:
        self.emitted: list[Any] = []

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.emitted.append(data)


async def bot_messages(tracker: Any, after: float, event_name: str) -> list[dict]:
    """The bot's messages of `tracker` sent after `after`, as the live output sent them."""
    found: list[dict] = []
    for event in tracker.events if tracker is not None else ():
        if not isinstance(event, BotUttered) or event.timestamp <= after:
            continue
        metadata = event.metadata or {}
        if metadata.get("desk_message_id") or metadata.get("desk_notice"):
            continue  # the desk's own, fetched from the desk
        collected = _Collected()
        output = CustomJsonSocketIOOutput(collected, event_name)  # type: ignore[arg-type]
        await output.send_response(tracker.sender_id, event.message())
        found.extend(m for m in collected.emitted if isinstance(m, dict))
    return found


def custom_data(data: dict) -> dict | None:
    """Off-the-shelf Rasa web-chat clients send the person's metadata as
    ``customData``. Its ``language`` is the page's hint, not the person's
    choice, so a message in another language still switches the conversation."""
    custom = data.get("customData")
    if not isinstance(custom, dict):
        return None
    metadata = dict(custom)
    if "language" in metadata:
        metadata.setdefault("language_hint", metadata.pop("language"))
    return metadata
