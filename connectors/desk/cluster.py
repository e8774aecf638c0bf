"""Several web apps on one desk store (PostgreSQL): one leader, notices for all.

    leader = Leadership(database_url, every_seconds=2)
    await leader.run_forever(work)     # `work()` runs while this web app leads
    fanout = Fanout(database_url, to_pages)
    await fanout.publish({"type": "queue"})   # every web app's to_pages gets it

- ``Leadership``: following Rasa's events (opening hand-offs) and delivering
  mediators' replies must happen in one web app only, or a hand-off would be
  opened twice and a reply sent twice. The leader holds a PostgreSQL advisory
  lock on a connection of its own for as long as it leads; the others try
  for it every ``desk.takeover_seconds``. A leader that dies (its connection
  closes; a vanished host: after about 10 s of TCP keepalives) frees the lock
  and another web app leads within ``takeover_seconds``. A leader that loses
  its connection stops its work at the next check. The position in Rasa's
  events moves in the same transaction as each batch, and only from where
  that leader found it (``Store.move_cursor``), so even two leaders for a
  moment apply no batch twice.
- ``Fanout``: the desk pages' live notices (new hand-off, a person's message,
  a claim, a close) go through PostgreSQL's NOTIFY on the desk's own
  database, and every web app LISTENs and hands them to its pages. Chosen
  over Redis pub/sub because the desk store is PostgreSQL already: nothing
  more must be up for the desk to work, and a notice is published by the
  server that holds the change. When the listening connection drops, the
  pages are told to reload the queue once it is back (notices in between
  are not replayed).

This module is for the web app (Python 3.11, psycopg 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

import psycopg
import sqlalchemy as sa

log = logging.getLogger(__name__)

CHANNEL = "helpdesk_desk"
# pg_advisory_lock's key: "desk" in ASCII, the same in every web app of a region.
LEADER_KEY = 0x6465736B
# NOTIFY's payload is at most 8000 bytes; notices are a few dozen.
MAX_PAYLOAD = 7900
# The leader's connection: PostgreSQL drops a session whose host went silent
# after idle + interval * count seconds, freeing the lock.
KEEPALIVES = ("SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2")
KEEPALIVES_COUNT = "SET tcp_keepalives_count = 2"


def conninfo(database_url: str) -> str:
    """psycopg's connection string for an SQLAlchemy URL (postgresql+psycopg://...)."""
    url = sa.engine.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def shared(database_url: str) -> bool:
    """The desk store is one several web apps can share (PostgreSQL)."""
    return sa.engine.make_url(database_url).get_backend_name() == "postgresql"


class Leadership:
    def __init__(self, database_url: str, every_seconds: float) -> None:
        self.conninfo = conninfo(database_url)
        self.every = every_seconds
        self.leading = asyncio.Event()

    async def run_forever(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work()` whenever this web app holds the lock; stop it when not."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=5
                ) as db:
                    for statement in (*KEEPALIVES, KEEPALIVES_COUNT):
                        await db.execute(statement)
                    while not await self._try(db):
                        await asyncio.sleep(self.every)
                    log.info("This web app leads the desk: it follows Rasa's events")
                    await self._lead(db, work)
            except (psycopg.Error, OSError) as exc:
                log.warning("The desk's leader lock: %s; trying again", exc)
            except Exception:  # work failed (another leader moved first): let go
                log.exception("The desk's leader work stopped; letting go of the lock")
            self.leading.clear()
            await asyncio.sleep(self.every)

    @staticmethod
    async def _try(db: psycopg.AsyncConnection) -> bool:
        found = await db.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_KEY,))
        row = await found.fetchone()
        return bool(row and row[0])

    async def _lead(self, db: psycopg.AsyncConnection, work: Callable[[], Awaitable[None]]) -> None:
        self.leading.set()
        task = asyncio.ensure_future(work())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=self.every)
                if not task.done():
                    # The lock lives as long as this connection answers.
                    await asyncio.wait_for(db.execute("SELECT 1"), self.every)
            task.result()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Fanout:
    def __init__(self, database_url: str, deliver: Callable[[dict], Awaitable[None]]) -> None:
        self.conninfo = conninfo(database_url)
        self.deliver = deliver
        self.listening = asyncio.Event()
        self._publisher: psycopg.AsyncConnection | None = None
        self._publishing = asyncio.Lock()

    async def publish(self, notice: dict) -> bool:
        """NOTIFY every web app (this one too); False when PostgreSQL did not take it."""
        payload = json.dumps(notice)
        if len(payload.encode()) > MAX_PAYLOAD:
            raise ValueError("A desk notice is too long for NOTIFY")
        async with self._publishing:
            try:
                if self._publisher is None or self._publisher.closed:
                    self._publisher = await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True, connect_timeout=5
                    )
                await self._publisher.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                return True
            except (psycopg.Error, OSError) as exc:
                log.warning("Desk notice not shared with the other web apps: %s", exc)
                if self._publisher is not None:
                    await self._publisher.close()
                self._publisher = None
                return False

    async def listen_forever(self) -> None:
        pause, resync = 0.5, False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=5
                ) as db:
                    await db.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    pause = 0.5
                    if resync:  # notices may have been missed: pages reload the queue
                        await self.deliver({"type": "queue"})
                    async for message in db.notifies():
                        with contextlib.suppress(ValueError):
                            notice = json.loads(message.payload)
                            if isinstance(notice, dict):
                                await self.deliver(notice)
            except (psycopg.Error, OSError) as exc:
                log.warning("Desk notices from other web apps: %s; again in %.1f s", exc, pause)
            self.listening.clear()
            resync = True
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)

    async def close(self) -> None:
        if self._publisher is not None:
            await self._publisher.close()
