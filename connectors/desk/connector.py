"""The built-in hand-off connector: our own mediator desk.

It follows Rasa's events (``connectors.handoff.RasaEvents``) and, in one
transaction per batch together with its position in the event stream:

- opens a hand-off when the bot sets ``handoff_request``;
- keeps the transcript of hand-offs only: the turn that asked for the hand-off
  (the person's message and the bot's answers) and everything said while it
  is open. A conversation that never reaches a hand-off is not stored here;
- relays the person's messages to the mediators' desk pages while a hand-off
  is open (of a message too long for the bot, its start and length, and the
  person gets the bot's "too long" reply, since the bot is paused);
- records each answered question (``answer_record``) and rating for the dashboard,
  and a "not useful" given in the chat right after an answer (``answer_feedback``),
  and takes a person's questions out again when they decline the privacy notice.

Then it checks each message of a person in a hand-off for danger: the
hand-off becomes urgent, and the person gets the emergency numbers at once.

A desk restart resumes from the saved position, so nothing said is lost or
counted twice. Mediators' replies are stored first, then delivered through
Rasa by a retrying loop; so are hand-backs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from connectors.desk.cluster import Fanout, Leadership, shared
from connectors.desk.store import Store
from connectors.handoff import (
    DeliveryError,
    HandoffConnector,
    HandoffRequest,
    Position,
    RasaConversations,
    RasaEvents,
    events_database_url,
)
from connectors.identity import log_id
from core.protocol import TOO_LONG
from core.typing_signal import MEDIATOR_TYPING, Throttle
from knowledge.settings import Settings

log = logging.getLogger(__name__)

CURSOR = "rasa-events"
# The current turn of at most this many people is kept in memory until it ends
# or opens a hand-off; nothing of it is written unless it does.
TURNS_KEPT = 500
# The bot's reply to "not useful" (bot/actions.py not_useful).
NOT_USEFUL = "utter_not_useful"

Listener = Callable[[dict], Awaitable[None]]
# A notice between web apps, not for pages: the leader delivers what was stored.
WAKE = "deliver"


def _refused_for_size(event: dict) -> dict | None:
    """What Rasa kept of a message too long for the bot (connectors/limits.py), else None."""
    refused = (event.get("metadata") or {}).get("refused")
    too_long = (event.get("text") or "").strip() == TOO_LONG
    return refused if too_long and isinstance(refused, dict) else None


def _words_of(event: dict) -> str:
    """What the person wrote; of a message refused for its size, the start Rasa kept."""
    refused = _refused_for_size(event)
    if refused is None:
        return (event.get("text") or "").strip()
    return (
        f"{refused.get('excerpt', '')} […]\n"
        f"(too long: {refused.get('chars')} characters; only the start is kept)"
    )


def _time(at: float | None) -> datetime:
    moment = datetime.fromtimestamp(at, UTC) if at else datetime.now(UTC)
    return moment.replace(tzinfo=None)


class DeskConnector(HandoffConnector):
    def __init__(self, settings: Settings, events_url: str | None = None) -> None:
        self.settings = settings
        self.store = Store.open(settings.desk.database_url)
        self.events_url = events_url
        self.listeners: set[Listener] = set()
        # sender -> the messages of their current turn (author, text, at), in memory only.
        self._turn: dict[str, list[tuple[str, str, datetime]]] = {}
        # sender -> their last confident answer (entry, question, language), in memory
        # only, so that a "not useful" right after it is kept against that entry.
        self._answered: dict[str, dict] = {}
        self.wake_delivery = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.session: aiohttp.ClientSession | None = None
        self.rasa: RasaConversations | None = None
        self.background: set[asyncio.Task] = set()
        self.events: RasaEvents | None = None
        # Several web apps on one PostgreSQL desk store (connectors/desk/cluster.py).
        self.leadership: Leadership | None = None
        self.fanout: Fanout | None = None
        # Where the desk's store says this web app stands in Rasa's events.
        self.position = Position(0, 0)
        # "The mediator is writing": at most one signal per hand-off every few seconds.
        self.typing = Throttle()

    # -- HandoffConnector ------------------------------------------------------

    def expected_wait_minutes(self, language: str) -> int:
        return self.store.expected_wait_minutes(self.settings.desk.default_wait_minutes)

    async def start(self) -> None:
        # The action server (emergency checks) refuses callers without the shared secret.
        self.session = aiohttp.ClientSession(headers=self.settings.services.action_server_headers())
        self.rasa = RasaConversations(
            self.settings.services.rasa_url, self.settings.services.rasa_token, self.session
        )
        self.events = RasaEvents(
            self.events_url
            or events_database_url(
                self.settings.data_dir / "events.db", self.settings.services.endpoints
            )
        )
        desk = self.settings.desk
        if not shared(desk.database_url):  # SQLite: this web app alone
            self.position = Position(*await asyncio.to_thread(self.store.cursor, CURSOR))
            self.tasks = [
                asyncio.create_task(self.events.follow(self.position, self.handle_events)),
                asyncio.create_task(self._deliver_forever()),
            ]
            return
        self.fanout = Fanout(desk.database_url, self._from_fanout)
        self.leadership = Leadership(desk.database_url, desk.takeover_seconds)
        self.tasks = [
            asyncio.create_task(self.fanout.listen_forever()),
            asyncio.create_task(self.leadership.run_forever(self._lead)),
        ]

    async def _lead(self) -> None:
        """The leader's work: follow Rasa's events, deliver replies; when one
        fails, both stop and the leader lets go (connectors/desk/cluster.py)."""
        assert self.events is not None
        self.position = Position(*await asyncio.to_thread(self.store.cursor, CURSOR))
        self._turn.clear()  # what another leader kept is not ours to add to
        self._answered.clear()
        async with asyncio.TaskGroup() as work:
            work.create_task(self.events.follow(self.position, self.handle_events))
            work.create_task(self._deliver_forever())

    async def stop(self) -> None:
        for task in [*self.tasks, *self.background]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.session:
            await self.session.close()
        if self.fanout:
            await self.fanout.close()

    async def open(self, request: HandoffRequest) -> None:
        with self.store.transaction() as db:
            self._open(db, request)
        await self.notify({"type": "queue"})

    async def to_mediator(self, sender_id: str, text: str, at: float | None) -> bool:
        """Store what a person in a hand-off wrote, straight from their channel."""
        notice = await asyncio.to_thread(self._take, sender_id, text, at)
        if notice:
            await self.notify(notice)
            self._in_background(self._flag_if_danger(notice["handoff_id"], sender_id, text))
        return notice is not None

    def _take(self, sender_id: str, text: str, at: float | None) -> dict | None:
        with self.store.transaction() as db:
            handoff_id = self.store.open_handoff_for(db, sender_id)
            if handoff_id is None:
                return None
            return self._person_said(db, sender_id, text, _time(at), handoff_id)

    async def close(self, handoff_id: int, mediator_id: int, note: str) -> bool:
        closed = await asyncio.to_thread(self.store.close, handoff_id, mediator_id, note)
        if closed:
            await self.wake_deliverer()
            await self.notify({"type": "queue"})
        return closed

    # -- mediators' replies --------------------------------------------------------

    def tell_joined(self, handoff: dict) -> None:
        """The widget says "<name> joined"; sent beside the claim, never holding it up.

        `handoff` as it is once claimed. Only the widget shows it: other channels
        would get an empty message (PlatformOutput sends the desk's messages as
        text). A page closed at the time fetches it again (``joined_notice``)."""
        if handoff["channel"] == "socketio" and self.rasa is not None:
            notice = joined_notice(handoff)
            self._in_background(self._send_notice(handoff["sender_id"], notice))

    async def person_typing(self, sender_id: str) -> int | None:
        """The person is typing: a notice for the mediator holding their hand-off.

        Only the fact, never text; nothing while no mediator holds it. Returns
        the hand-off's id when its mediator was told."""
        handoff = await asyncio.to_thread(self.store.claimed_handoff_for, sender_id)
        if handoff is None:
            return None
        await self.notify({"type": "typing", "handoff_id": handoff["id"]})
        return handoff["id"]

    def mediator_typing(self, handoff: dict) -> bool:
        """The widget shows "The mediator is writing…"; sent beside the request.

        The widget only: the other channels would get an empty message. False
        when throttled (one signal per hand-off every few seconds) or not sent."""
        if handoff["channel"] != "socketio" or self.rasa is None:
            return False
        if not self.typing.allow(str(handoff["id"])):
            return False
        self._in_background(self._send_notice(handoff["sender_id"], dict(MEDIATOR_TYPING)))
        return True

    async def _send_notice(self, sender_id: str, notice: dict) -> None:
        assert self.rasa is not None
        try:
            await self.rasa.send(sender_id, notice, {"desk_notice": notice["event"]}, "socketio")
        except DeliveryError as exc:
            log.info("A desk notice to %s was not delivered: %s", log_id(sender_id), exc)

    async def reply(self, handoff: dict, mediator_id: int, **fields: Any) -> int:
        message_id = await asyncio.to_thread(
            self.store.add_mediator_reply, handoff, mediator_id, **fields
        )
        await self.wake_deliverer()
        await self.notify({"type": "message", "handoff_id": handoff["id"]})
        return message_id

    async def wake_deliverer(self) -> None:
        """Deliver now: here, and on the leading web app when there are several."""
        self.wake_delivery.set()
        if self.fanout is not None:
            await self.fanout.publish({"type": WAKE})

    async def _deliver_forever(self) -> None:
        backoff = 0.0
        while True:
            try:
                await asyncio.wait_for(self.wake_delivery.wait(), timeout=max(backoff, 1.0))
            except TimeoutError:
                pass
            self.wake_delivery.clear()
            try:
                failed = await self.deliver_pending()
            except Exception:  # keep delivering whatever one message did
                log.exception("Delivering mediators' messages failed")
                failed = True
            backoff = min(15.0, backoff * 2 or 1.0) if failed else 0.0

    async def deliver_pending(self) -> bool:
        """Deliver stored replies, then hand-backs; True if something must wait.

        People are served concurrently; each person's messages go in order,
        and a hand-back only after that person's replies.
        """
        assert self.rasa is not None
        per_person: dict[str, list[dict]] = {}
        for message in await asyncio.to_thread(self.store.pending_deliveries):
            per_person.setdefault(message["sender_id"], []).append(message)
        hand_backs = await asyncio.to_thread(self.store.pending_hand_backs)
        for handoff in hand_backs:
            per_person.setdefault(handoff["sender_id"], [])
        waiting = await asyncio.gather(
            *(
                self._deliver_to(
                    sender, messages, [h for h in hand_backs if h["sender_id"] == sender]
                )
                for sender, messages in per_person.items()
            )
        )
        return any(waiting)

    async def _deliver_to(self, sender: str, messages: list[dict], hand_backs: list[dict]) -> bool:
        assert self.rasa is not None
        for message in messages:
            try:
                await self.rasa.send(
                    sender,
                    for_person(message),
                    {"desk_message_id": message["id"]},
                    message["channel"],
                )
            except DeliveryError as exc:
                await asyncio.to_thread(self.store.set_delivery, message["id"], "pending", str(exc))
                await self.notify({"type": "message", "handoff_id": message["handoff_id"]})
                return True
            await asyncio.to_thread(self.store.set_delivery, message["id"], "delivered")
            await self.notify({"type": "message", "handoff_id": message["handoff_id"]})
        for handoff in hand_backs:
            try:
                await self.rasa.hand_back(sender)
            except DeliveryError as exc:
                log.warning("Hand-back of %s must wait: %s", handoff["id"], exc)
                return True
            await asyncio.to_thread(self.store.mark_handed_back, handoff["id"])
        return False

    # -- Rasa's events ------------------------------------------------------------

    async def handle_events(
        self, batch: list[tuple[Position, dict]], move_cursor: bool = True
    ) -> None:
        """Apply a batch, with the position moved in the same transaction;
        ``CursorMoved`` (nothing applied) when another web app applied it first."""
        notices, said = await asyncio.to_thread(self._apply, batch, move_cursor)
        if move_cursor:
            self.position = batch[-1][0]
        for notice in notices:
            await self.notify(notice)
        for handoff_id, sender_id, text, too_long in said:
            self._in_background(self._flag_if_danger(handoff_id, sender_id, text))
            if too_long:  # the bot is paused, so the person would hear nothing
                self._in_background(self._tell(sender_id, "utter_message_too_long"))

    # -- what people in a hand-off write -----------------------------------------

    def _in_background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _tell(self, sender_id: str, response: str) -> None:
        assert self.rasa is not None
        try:
            await self.rasa.utter(sender_id, response, attempts=3)
        except DeliveryError as exc:
            log.warning("%s not sent to %s: %s", response, log_id(sender_id), exc)

    async def _flag_if_danger(self, handoff_id: int, sender_id: str, text: str) -> None:
        """The bot is silent during a hand-off, so the desk checks each message.

        Danger: the hand-off goes to the top of the queue, and the person gets
        the emergency numbers at once (once per hand-off), not only when a
        mediator reads it."""
        assert self.session is not None and self.rasa is not None
        url = f"{self.settings.services.action_server_url}/knowledge/emergency"
        try:
            async with self.session.post(
                url, json={"text": text[:1000]}, timeout=aiohttp.ClientTimeout(total=30)
            ) as answer:
                kind = (await answer.json()).get("emergency") if answer.status == 200 else None
        except (TimeoutError, aiohttp.ClientError, ValueError):
            log.warning("Could not check hand-off %s for an emergency", handoff_id)
            return
        if kind and await asyncio.to_thread(self.store.flag_urgent, handoff_id):
            log.warning("Hand-off %s is now urgent (%s)", handoff_id, kind)
            await self.notify({"type": "queue"})
            try:
                await self.rasa.utter(sender_id, f"utter_emergency_{kind}", attempts=5)
            except DeliveryError as exc:
                log.error("Emergency numbers not sent in hand-off %s: %s", handoff_id, exc)

    def _apply(
        self, batch: list[tuple[Position, dict]], move_cursor: bool
    ) -> tuple[list[dict], list[tuple[int, str, str, bool]]]:
        """Notices for the desk pages, and (hand-off, sender, text, too long) of
        what people in a hand-off said, to check for danger; texts never go to
        the pages."""
        notices: list[dict] = []
        said: list[tuple[int, str, str, bool]] = []
        with self.store.transaction() as db:
            for _, event in batch:
                notice = self._apply_one(db, event)
                if not notice:
                    continue
                notices.append(notice)
                if event.get("event") == "user":
                    too_long = _refused_for_size(event) is not None
                    said.append(
                        (notice["handoff_id"], event["sender_id"], _words_of(event), too_long)
                    )
            if move_cursor:
                self.store.move_cursor(db, CURSOR, self.position, batch[-1][0])
        return notices, said

    def _apply_one(self, db, event: dict) -> dict | None:
        sender = event.get("sender_id") or ""
        kind = event.get("event")
        at = _time(event.get("timestamp"))
        if kind == "user":
            handoff_id = self.store.open_handoff_for(db, sender)
            return self._person_said(db, sender, _words_of(event), at, handoff_id)
        if kind == "bot":
            if (event.get("metadata") or {}).get("utter_action") == NOT_USEFUL:
                self._not_useful(db, sender, at)
            if (event.get("metadata") or {}).get("desk_message_id") or not event.get("text"):
                return None
            handoff_id = self.store.open_handoff_for(db, sender)
            if handoff_id is None:
                self._remember(sender, "bot", event["text"], at)
                return None
            self.store.add_message(
                db,
                sender_id=sender,
                handoff_id=handoff_id,
                author="bot",
                text=event["text"],
                created_at=at,
            )
        if kind == "slot":
            return self._apply_slot(db, sender, event.get("name"), event.get("value"), at, event)
        return None

    def _person_said(
        self, db, sender: str, text: str, at: datetime, handoff_id: int | None
    ) -> dict | None:
        """Keep a person's message; a notice for the pages when a hand-off is open."""
        text = text.strip()
        # A new turn: what the last one said is not needed any more.
        self._turn.pop(sender, None)
        # Button payloads and widget commands ("/greet") are not words of the person.
        if not text or text.startswith("/"):
            return None
        if not handoff_id:
            # Kept only in memory, in case this turn asks for a hand-off.
            self._remember(sender, "migrant", text, at)
            return None
        message_id = self.store.add_message(
            db, sender_id=sender, handoff_id=handoff_id, author="migrant", text=text, created_at=at
        )
        return {"type": "message", "handoff_id": handoff_id, "message_id": message_id}

    def _not_useful(self, db, sender: str, at: datetime) -> None:
        """The person said the answer just given was not useful: keep it against its entry."""
        answered = self._answered.pop(sender, None)
        if answered is None:
            return  # "don't keep" chosen, or the answer came before this desk started
        self.store.add_answer_feedback(
            db,
            sender_id=sender,
            given_at=at,
            entry_id=str(answered["entry_id"])[:64],
            language=str(answered.get("language") or "")[:8] or None,
            question=str(answered.get("question") or ""),
        )

    def _remember(self, sender: str, author: str, text: str, at: datetime) -> None:
        if sender not in self._turn and len(self._turn) >= TURNS_KEPT:
            self._turn.pop(next(iter(self._turn)))
        self._turn.setdefault(sender, []).append((author, text, at))

    def _apply_slot(self, db, sender, name, value, at, event) -> dict | None:
        if name == "handoff_request" and isinstance(value, dict):
            self._open(
                db,
                HandoffRequest(
                    sender_id=sender,
                    channel=str(value.get("channel") or event.get("input_channel") or "rest"),
                    language=str(value.get("language") or self.settings.languages.default),
                    topic=value.get("topic"),
                    reason=str(value.get("reason") or "request"),
                    urgent=bool(value.get("urgent")),
                    at=event.get("timestamp") or 0,
                ),
            )
            return {"type": "queue"}
        if name == "answer_record" and isinstance(value, dict) and value.get("question"):
            self._answered.pop(sender, None)
            if value.get("confident") and value.get("entry_id"):
                if len(self._answered) >= TURNS_KEPT:
                    self._answered.pop(next(iter(self._answered)))
                self._answered[sender] = value
            self.store.add_question(
                db,
                sender_id=sender,
                asked_at=at,
                source="conversation",
                language=str(value.get("language") or ""),
                topic=value.get("topic"),
                entry_id=value.get("entry_id"),
                confident=bool(value.get("confident")),
                score=value.get("score"),
                text=str(value["question"]),
            )
        elif name == "privacy" and value == "declined":
            # "Don't keep": what they asked before choosing leaves the figures too.
            self.store.forget_questions(db, sender)
        elif name == "rating" and value is not None:
            with contextlib.suppress(TypeError, ValueError):
                self.store.rate_latest(db, sender, int(float(value)))
        return None

    def _open(self, db, request: HandoffRequest) -> int:
        handoff_id = self.store.open_handoff(
            db,
            sender_id=request.sender_id,
            channel=request.channel,
            language=request.language,
            topic=request.topic,
            reason=request.reason,
            urgent=request.urgent,
            at=_time(request.at),
        )
        # The turn that asked for the hand-off becomes its first lines.
        for author, text, at in self._turn.pop(request.sender_id, []):
            self.store.add_message(
                db,
                sender_id=request.sender_id,
                handoff_id=handoff_id,
                author=author,
                text=text,
                created_at=at,
            )
        return handoff_id

    # -- live updates for desk pages ----------------------------------------------

    async def notify(self, notice: dict) -> None:
        """Tell the desk pages, those of every web app when there are several."""
        fanout = self.fanout
        if fanout is not None and fanout.listening.is_set() and await fanout.publish(notice):
            return  # back through _from_fanout, here too
        await self._to_pages(notice)

    async def _from_fanout(self, notice: dict) -> None:
        if notice.get("type") == WAKE:
            self.wake_delivery.set()  # only the leader's loop runs
        else:
            await self._to_pages(notice)

    async def _to_pages(self, notice: dict) -> None:
        for listener in list(self.listeners):
            try:
                await listener(notice)
            except Exception:  # a closed page must not stop the others
                self.listeners.discard(listener)


def joined_notice(handoff: dict) -> dict:
    """ "<name> joined", as sent live at the claim and fetched again later.

    The id names the hand-off and the moment of the claim, so the widget shows
    it once, and once more only for a new claim (after a release); `at` puts it
    in order among the other messages fetched again."""
    claimed = datetime.fromisoformat(handoff["claimed_at"]).timestamp()
    return {
        "from": "desk",
        "event": "joined",
        "name": handoff.get("mediator_name") or "",
        "id": f"j{handoff['id']}.{int(claimed)}",
        "at": claimed,
    }


def for_person(message: dict) -> dict:
    """What the person's channel shows: the reply in their language, labelled."""
    translated = message.get("translated_text")
    return {
        "from": "mediator",
        # The widget shows each reply once, live or fetched again (history_request).
        "id": message["id"],
        "name": message.get("mediator_name") or "",
        "text": translated or message["text"],
        "machine_translated": bool(translated),
        "original": message["text"] if translated else None,
        "original_language": message.get("language") if translated else None,
    }
