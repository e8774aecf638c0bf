"""Hand-off to people: the interface between the assistant and a help-desk platform.

The bot side is the same for every platform:

- a custom action opens a hand-off by setting the slot ``handoff_request`` and
  pausing the conversation (Rasa then stops answering, but still records what
  the person writes);
- Rasa's event broker (``event_broker`` in endpoints.yml) records every event;
  ``RasaEvents`` reads them in order and hands them to the connector, which
  relays the person's messages to the mediators;
- the mediator's replies and the hand-back go through Rasa's HTTP API
  (``RasaConversations``), over the channel the person uses.

The platform is chosen in endpoints.yml::

    handoff:
      type: connectors.desk.connector.DeskConnector

Another platform (Chatwoot, Rocket.Chat) implements ``HandoffConnector``: open
a conversation there in ``open``, post each message in ``to_mediator``, and from
the platform's webhook call ``RasaConversations.send`` for replies and
``RasaConversations.hand_back`` when its agent resolves the conversation.
"""

from __future__ import annotations

import abc
import asyncio
import importlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp
import sqlalchemy as sa
import yaml

from knowledge.settings import Settings, SettingsError


@dataclass(frozen=True)
class HandoffRequest:
    """What the bot knows when it asks for a person."""

    sender_id: str
    channel: str
    language: str
    topic: str | None
    # request | unsure | emergency | operator
    reason: str
    urgent: bool
    at: float  # Unix time


class HandoffConnector(abc.ABC):
    """A help-desk platform where people answer."""

    @abc.abstractmethod
    def expected_wait_minutes(self, language: str) -> int:
        """Roughly how long someone asking now will wait (called by the action server)."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Start relaying (called by the web app)."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def open(self, request: HandoffRequest) -> None:
        """Put the person in the mediators' queue (urgent ones first)."""

    @abc.abstractmethod
    async def to_mediator(self, sender_id: str, text: str, at: float | None) -> bool:
        """Relay what the person wrote; False when they have no open hand-off."""

    @abc.abstractmethod
    async def close(self, handoff_id: int, mediator_id: int, note: str) -> bool:
        """The mediator is done; the bot takes the conversation back."""


# Channels with a /relay route for the desk's messages (connectors/relay.py).
RELAYED_CHANNELS = ("socketio", "telegram", "twilio")


class DeliveryError(RuntimeError):
    """Rasa did not accept a message for the person; try again later."""


class RasaConversations:
    """Reach a person through Rasa's HTTP API, over the channel they last used."""

    def __init__(self, rasa_url: str, token: str, session: aiohttp.ClientSession) -> None:
        self.rasa_url = rasa_url
        self.token = token
        self.session = session

    async def send(self, sender_id: str, message: dict, tag: dict, channel: str = "") -> None:
        """Send a mediator's message; `tag` goes into the event's metadata.

        On our own channels (the widget's socket.io, Telegram, WhatsApp through
        Twilio; connectors/relay.py) it goes straight to the person, the
        platform's API retried a few times; elsewhere it is added to the
        conversation and sent over the channel the person used last. A message
        the platform did not take raises ``DeliveryError``.
        """
        if channel in RELAYED_CHANNELS:
            url = f"{self.rasa_url}/webhooks/{channel}/relay"
            body = {"sender_id": sender_id, "message": message}
            headers = {"Authorization": f"Bearer {self.token}"}
            await self._request(url, body, headers=headers)
            return
        event = {"event": "bot", "text": None, "data": {"custom": {"data": message}}}
        await self._post(
            sender_id,
            "tracker/events",
            [{**event, "metadata": tag}],
            execute_side_effects="true",
        )

    async def utter(
        self, sender_id: str, response: str, attempts: int = 1, pause_seconds: float = 2.0
    ) -> None:
        """Send one of the bot's responses (domain.yml), also while the bot is paused.

        Rasa refuses or keeps it waiting while the person's turn holds the
        conversation's lock, so it is tried `attempts` times, the pause doubling.
        """
        for attempt in range(1, attempts + 1):
            try:
                await self._post(sender_id, "execute", {"name": response})
                return
            except DeliveryError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(pause_seconds * 2 ** (attempt - 1))

    async def hand_back(self, sender_id: str) -> None:
        """Resume the bot and let it ask for a rating (intent handoff_closed)."""
        # action_listen: Rasa's rules expect it before a user turn, and the pause
        # came right after action_handoff.
        resume = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        await self._post(sender_id, "tracker/events", resume)
        await self._post(sender_id, "trigger_intent", {"name": "handoff_closed"})

    async def _post(self, sender_id: str, path: str, body: Any, **params: str) -> None:
        url = f"{self.rasa_url}/conversations/{quote(sender_id, safe='')}/{path}"
        await self._request(
            url, body, params={"output_channel": "latest", "token": self.token, **params}
        )

    async def _request(self, url: str, body: Any, **options: Any) -> None:
        try:
            async with self.session.post(
                url, json=body, timeout=aiohttp.ClientTimeout(total=10), **options
            ) as response:
                if response.status >= 300:
                    raise DeliveryError(f"Rasa answered {response.status}: {await response.text()}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DeliveryError(f"Rasa did not answer: {exc}") from exc


class Position(NamedTuple):
    """Where a reader of Rasa's events stands: after row `id` of transaction `tx`.

    On SQLite (one writer) rows are read by id and `tx` stays 0. On PostgreSQL,
    several Rasa processes write at once and ids commit out of order (id 7 may
    be visible while id 6 is still in its writer's open transaction), so rows
    are read in the order of their writing transaction's id, then their own."""

    tx: int
    id: int


# PostgreSQL: each row of Rasa's events table keeps the id of the transaction
# that wrote it (the column's default, whoever writes), so it never changes
# afterwards (connectors/privacy.py blanks rows; their system `xmin` would).
EVENTS_TX_COLUMN = (
    "ALTER TABLE events ADD COLUMN IF NOT EXISTS tx xid8 NOT NULL DEFAULT pg_current_xact_id()",
    "CREATE INDEX IF NOT EXISTS events_tx_id ON events (tx, id)",
)
# Only rows of transactions older than every one still in flight: a row read
# later can never sort before one read now, so "after the cursor" skips none.
EVENTS_AFTER = sa.text(
    "SELECT id, data, tx::text AS tx FROM events"
    " WHERE (tx, id) > (CAST(:tx AS text)::xid8, :id)"
    " AND tx < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY tx, id LIMIT :limit"
)


class RasaEvents:
    """Read Rasa's event broker table (SQL) in order, from a saved position,
    every row exactly once, also with several Rasa processes writing (PostgreSQL).

    A transaction left open anywhere on the PostgreSQL server holds reading
    back (not losing anything) until it ends."""

    def __init__(self, database_url: str) -> None:
        self.engine = sa.create_engine(database_url)
        self.by_transaction = self.engine.dialect.name == "postgresql"
        self._ready = False
        self.events = sa.Table(
            "events",
            sa.MetaData(),
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("sender_id", sa.String(255)),
            sa.Column("data", sa.Text),
        )

    def after(self, position: Position | int, limit: int = 500) -> list[tuple[Position, dict]]:
        if not isinstance(position, Position):
            position = Position(0, position)
        try:
            with self.engine.connect() as db:
                if not self.by_transaction:
                    rows = db.execute(
                        sa.select(self.events.c.id, self.events.c.data)
                        .where(self.events.c.id > position.id)
                        .order_by(self.events.c.id)
                        .limit(limit)
                    ).all()
                    return [(Position(0, row.id), json.loads(row.data)) for row in rows]
                position = self._prepare(db, position)
                if position is None:
                    return []
                rows = db.execute(
                    EVENTS_AFTER, {"tx": str(position.tx), "id": position.id, "limit": limit}
                ).all()
        except (sa.exc.OperationalError, sa.exc.ProgrammingError):
            # Rasa has not created the table yet, or holds a write lock: next time.
            return []
        return [(Position(int(row.tx), row.id), json.loads(row.data)) for row in rows]

    def _prepare(self, db: sa.Connection, position: Position) -> Position | None:
        """The transaction column (once), and a position saved before it
        (transaction 0) placed at its row; None while Rasa has no table."""
        if not self._ready:
            has_column = db.execute(
                sa.text(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema ="
                    " current_schema() AND table_name = 'events' AND column_name = 'tx'"
                )
            ).first()
            if not has_column:
                if not sa.inspect(db).has_table("events"):
                    return None
                for statement in EVENTS_TX_COLUMN:
                    db.execute(sa.text(statement))
                db.commit()
            self._ready = True
        if position.tx == 0 and position.id > 0:
            tx = db.execute(
                sa.text("SELECT tx::text FROM events WHERE id <= :id ORDER BY id DESC LIMIT 1"),
                {"id": position.id},
            ).scalar()
            return Position(int(tx or 0), position.id)
        return position

    async def follow(self, position: Position, handle, interval: float = 0.1) -> None:
        """Call `await handle(batch)` for each batch of new events, forever."""
        while True:
            batch = await asyncio.to_thread(self.after, position)
            if batch:
                await handle(batch)
                position = batch[-1][0]
            else:
                await asyncio.sleep(interval)


def events_database_url(default_db: Path, endpoints: Path) -> str:
    """The SQL event broker's database, as configured for Rasa in endpoints.yml.

    `default_db` stands in for an unset ``${HELPDESK_EVENTS_DB}`` (``bot.serve`` sets it).
    """
    broker = _sql_section(
        endpoints,
        "event_broker",
        "SQLEventBroker",
        "the hand-off reads the person's messages from it",
    )
    return _sql_url(broker, default_db)


def tracker_database_url(default_db: Path, endpoints: Path) -> str:
    """Rasa's SQL tracker store database (endpoints.yml), for deleting conversations.

    `default_db` stands in for an unset ``${HELPDESK_TRACKER_DB}``.
    """
    store = _sql_section(
        endpoints,
        "tracker_store",
        "SQLTrackerStore",
        "conversations are deleted from it on request and after privacy.retention_days",
    )
    return _sql_url(store, default_db)


def _sql_section(endpoints: Path, key: str, rasa_class: str, why: str) -> dict:
    """endpoints.yml's `key`, which must be Rasa's SQL kind or a subclass of its
    `rasa_class` (ours: connectors.rasa_broker, connectors.rasa_tracker)."""
    section = _read_endpoints(endpoints).get(key) or {}
    kind = str(section.get("type", ""))
    if kind.lower() != "sql" and not kind.endswith(rasa_class):
        raise SettingsError(f"{key} in {endpoints.name} must be of type SQL: {why}")
    return section


def _sql_url(config: dict, default_db: Path) -> str:
    dialect, db = config.get("dialect", "sqlite"), config.get("db") or str(default_db)
    if dialect == "sqlite":
        return f"sqlite:///{db}"
    credentials = f"{config.get('username', '')}:{config.get('password', '')}@"
    port = f":{config['port']}" if config.get("port") else ""
    # Rasa reads the host from `url` (or `host`).
    host = config.get("url") or config.get("host") or "localhost"
    # Rasa's environment reaches PostgreSQL through psycopg2, ours through psycopg 3.
    driver = "postgresql+psycopg" if dialect in ("postgresql", "postgres") else dialect
    return f"{driver}://{credentials}{host}{port}/{db}"


def load_connector(settings: Settings, endpoints: Path | None = None) -> HandoffConnector:
    """The connector named under `handoff:` in endpoints.yml (``services.endpoints``)."""
    endpoints = endpoints or settings.services.endpoints
    config = _read_endpoints(endpoints).get("handoff") or {}
    dotted = config.get("type") or "connectors.desk.connector.DeskConnector"
    module, _, name = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise SettingsError(
            f"handoff.type in {endpoints.name} is {dotted!r}, which cannot be imported: "
            "name a class implementing connectors.handoff.HandoffConnector"
        ) from None
    options = {key: value for key, value in config.items() if key != "type"}
    return cls(settings, **options)


def _read_endpoints(path: Path) -> dict:
    # ${VAR} as Rasa expands it; unset variables are left empty here.
    text = re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), path.read_text())
    return yaml.safe_load(text) or {}
