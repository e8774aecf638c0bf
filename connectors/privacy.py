"""Forget a person everywhere, on request or after the retention period.

    privacy = Privacy.open(settings)            # or Privacy.open(settings, store)
    privacy.forget("abc")                       # {"tracker": 12, "events": 30, "messages": 2, ...}
    privacy.request_forget("abc")               # forget now, and again until the turn is written
    privacy.follow_requests()                   # the web app calls it every second
    privacy.apply_retention()                   # how many conversations were deleted

A person's words are kept in three places: Rasa's SQL tracker store and SQL
event broker (both in endpoints.yml), and the desk's store (hand-offs, their
messages, questions counted for the dashboard). Forgetting deletes their rows
in all three.

When the person asks from inside the conversation, Rasa writes the rest of
that turn (the reply, the next action) after our action has run, and the
event broker writes a moment later still. So the request is kept in the
desk's store and the web app deletes again every second until, some seconds
after the request, a pass finds nothing left.

Retention: a conversation with no message for ``privacy.retention_days`` is
forgotten, and one whose person chose "don't keep" in the privacy notice
after ``privacy.declined_retention_hours``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.desk.store import Store, now
from connectors.handoff import events_database_url, tracker_database_url
from knowledge.settings import Settings

log = logging.getLogger(__name__)

# How long after a request passes go on; Rasa writes a turn within a second.
SETTLE = timedelta(seconds=10)
PRIVACY_SLOT = "privacy"
DECLINED = "declined"


class RasaEventsTable:
    """Rasa's `events` table, by sender: the tracker store's (`timed`: it has
    timestamps) or the event broker's (read in order by the desk)."""

    def __init__(self, url: str, timed: bool) -> None:
        options: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # Rasa writes to the same file; wait for its lock rather than fail.
            options["connect_args"] = {"timeout": 30}
        self.engine = sa.create_engine(url, **options)
        self.timed = timed
        columns = [
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("sender_id", sa.String(255)),
            sa.Column("data", sa.Text),
        ]
        if timed:
            columns += [sa.Column("type_name", sa.String(255)), sa.Column("timestamp", sa.Float)]
        self.table = sa.Table("events", sa.MetaData(), *columns)

    def delete(self, sender_id: str) -> int:
        """Delete a sender's rows; how many there were."""
        try:
            with self.engine.begin() as db:
                if self.timed:
                    return db.execute(
                        self.table.delete().where(self.table.c.sender_id == sender_id)
                    ).rowcount
                return self._blank(db, sender_id)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            return 0  # Rasa has not created the table yet: nothing to delete

    def _blank(self, db: Connection, sender_id: str) -> int:
        """The event broker's rows: emptied, and deleted except the newest.

        The desk follows this table by id. SQLite gives a new row the highest
        id plus one, so deleting the newest rows would hand their ids out
        again, and the desk, already past them, would never read those events.
        An empty newest row keeps the ids moving forward.
        """
        table = self.table
        blanked = db.execute(
            table.update().where(table.c.sender_id == sender_id).values(sender_id=None, data="{}")
        ).rowcount
        newest = sa.select(sa.func.max(table.c.id)).scalar_subquery()
        db.execute(table.delete().where(table.c.sender_id.is_(None), table.c.id < newest))
        return blanked

    def last_activity(self) -> dict[str, datetime]:
        """Each sender's latest event (tracker store only: it has timestamps)."""
        column = self.table.c.timestamp
        query = sa.select(self.table.c.sender_id, sa.func.max(column)).group_by(
            self.table.c.sender_id
        )
        return {
            sender: datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
            for sender, at in self._rows(query)
            if at is not None
        }

    def declined(self) -> set[str]:
        """Senders whose latest privacy choice is "don't keep"."""
        query = (
            sa.select(self.table.c.sender_id, self.table.c.data)
            .where(
                self.table.c.type_name == "slot",
                self.table.c.data.like(f'%"{PRIVACY_SLOT}"%'),
            )
            .order_by(self.table.c.id)
        )
        choices: dict[str, Any] = {}
        for sender, data in self._rows(query):
            event = json.loads(data)
            if event.get("name") == PRIVACY_SLOT:
                choices[sender] = event.get("value")
        return {sender for sender, choice in choices.items() if choice == DECLINED}

    def _rows(self, query: sa.Select) -> list[Any]:
        try:
            with self.engine.connect() as db:
                return db.execute(query).all()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            return []


class Privacy:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        tracker: RasaEventsTable,
        events: RasaEventsTable,
    ) -> None:
        self.settings = settings
        self.store = store
        self.tracker = tracker
        self.events = events

    @classmethod
    def open(cls, settings: Settings, store: Store | None = None) -> Privacy:
        """The stores named in helpdesk.yml and endpoints.yml."""
        data, endpoints = settings.data_dir, settings.services.endpoints
        return cls(
            settings,
            store or Store.open(settings.desk.database_url),
            RasaEventsTable(tracker_database_url(data / "tracker.db", endpoints), timed=True),
            RasaEventsTable(events_database_url(data / "events.db", endpoints), timed=False),
        )

    def forget(self, sender_id: str) -> dict[str, int]:
        """Delete every row about one person; the number deleted per place."""
        deleted = {
            "tracker": self.tracker.delete(sender_id),
            "events": self.events.delete(sender_id),
            **self.store.forget(sender_id),
        }
        if any(deleted.values()):
            log.info("Forgot a conversation: %s", deleted)
        return deleted

    def request_forget(self, sender_id: str) -> dict[str, int]:
        """Forget now, and have the web app forget again until nothing is left.

        Forgetting comes first, so the counts returned are this pass's: once
        the request is stored, the web app's loop may delete at the same time.
        """
        deleted = self.forget(sender_id)
        self.store.request_forget(sender_id)
        return deleted

    def follow_requests(self, at: datetime | None = None) -> list[dict[str, int]]:
        """One pass over pending requests; what each deleted."""
        at = at or now()
        passes = []
        for sender_id, requested_at in self.store.forget_requests():
            deleted = self.forget(sender_id)
            passes.append(deleted)
            if at - requested_at > SETTLE and not any(deleted.values()):
                self.store.drop_forget_request(sender_id, requested_at)
        return passes

    def expired(self, at: datetime | None = None) -> list[str]:
        """Senders past the retention period, or past the shorter one they chose."""
        at = at or now()
        latest = self.tracker.last_activity()
        for sender, moment in self.store.last_activity().items():
            latest[sender] = max(moment, latest.get(sender, moment))
        kept = at - timedelta(days=self.settings.privacy.retention_days)
        declined_kept = at - timedelta(hours=self.settings.privacy.declined_retention_hours)
        declined = self.tracker.declined()
        return sorted(
            sender
            for sender, moment in latest.items()
            if moment < kept or (sender in declined and moment < declined_kept)
        )

    def apply_retention(self, at: datetime | None = None) -> int:
        """Forget every expired conversation; how many there were."""
        senders = self.expired(at)
        for sender_id in senders:
            self.forget(sender_id)
        if senders:
            log.info("Retention: %d conversations deleted", len(senders))
        return len(senders)


async def keep_private(
    privacy: Privacy,
    notify: Callable[[dict], Awaitable[None]],
    interval: float = 1.0,
    retention_every: float = 3600.0,
) -> None:
    """The web app's loop: pending requests every `interval` seconds, and the
    retention job at start-up and every `retention_every` seconds."""
    next_retention = 0.0
    while True:
        try:
            changed = False
            if time.monotonic() >= next_retention:
                next_retention = time.monotonic() + retention_every
                changed = await asyncio.to_thread(privacy.apply_retention) > 0
            # While requests are pending (10 s each) the desk's pages reload their
            # queue: a hand-off may have gone, also one the admin command deleted.
            if await asyncio.to_thread(privacy.follow_requests) or changed:
                await notify({"type": "queue"})
        except Exception:  # a locked database: try again next time
            log.exception("Deleting conversations failed; retrying")
        await asyncio.sleep(interval)
