"""Rasa's SQL tracker store, waiting out a locked database (runs inside Rasa, Python 3.10).

    tracker_store:                                  # endpoints.yml
      type: connectors.rasa_tracker.PatientSQLTrackerStore
      dialect: sqlite
      db: ${HELPDESK_TRACKER_DB}
      patience_seconds: 30

Rasa wraps every tracker store in a ``FailSafeTrackerStore``. When the
database cannot be read (SQLite locked by a deletion, the retention job or a
backup for longer than its 5 s busy timeout), it starts the conversation
afresh, forgetting its language and a hand-off's pause; when it cannot be
written, it keeps the turn in memory only: the person has had the answer, but
the message never reaches the database and is gone at the next restart. This
store tries again, with growing pauses, for up to ``patience_seconds``, so a
locked database delays a turn instead; keep it well under the 60 s that
Rasa's conversation lock tickets live, or the person's next message could be
taken while this turn still waits. A write still failing after that (a full
disk) goes to Rasa's fallback as before; the event broker
(connectors/rasa_broker.py) keeps its own copy of the events and retries.

Two costs of Rasa's own store are left out (under load the tracker store took
47% of Rasa's CPU): Rasa's ``save`` reads the whole conversation back to find
the new events for the broker, then counts the stored ones to write them;
here they are counted once and used for both. On SQLite the file is in WAL
mode with ``synchronous=NORMAL``: a commit no longer waits for the disk, and a
crash of any process loses nothing committed (a power cut may lose the last
commits; PostgreSQL is the choice where that matters).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

log = logging.getLogger(__name__)

T = TypeVar("T")


class PatientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, patience_seconds: float = 30, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patience_seconds = float(patience_seconds)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        return await self._patiently(super().retrieve, sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        return await self._patiently(super().retrieve_full_tracker, conversation_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        new_events = await self._patiently(self._new_events, tracker)
        # Published once, before the write: trying the write again must not publish twice.
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        await self._patiently(self._write, tracker, new_events)

    async def _new_events(self, tracker: DialogueStateTracker) -> list[Event]:
        """The events the database does not hold yet (one turn of a sender at a time)."""
        with self.session_scope() as session:
            return list(self._additional_events(session, tracker))

    async def _write(self, tracker: DialogueStateTracker, events: list[Event]) -> None:
        """`events`, as Rasa's SQLTrackerStore writes them."""
        with self.session_scope() as session:
            for event in events:
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()

    async def _patiently(self, attempt: Callable[..., Awaitable[T]], *args: Any) -> T:
        give_up = time.monotonic() + self.patience_seconds
        pause = 0.5
        while True:
            try:
                return await attempt(*args)
            except sa.exc.OperationalError as exc:
                if time.monotonic() + pause > give_up:
                    raise
                log.warning("The tracker store is busy (%s); trying again", exc.orig)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 8.0)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
