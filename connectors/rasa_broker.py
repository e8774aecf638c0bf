"""Rasa's SQL event broker, writing in the background (runs inside Rasa, Python 3.10).

    event_broker:                                   # endpoints.yml
      type: connectors.rasa_broker.BufferedSQLEventBroker
      dialect: sqlite
      db: ${HELPDESK_EVENTS_DB}

Rasa's own ``SQLEventBroker`` commits each event on its own, on Rasa's event
loop: about 17 commits per turn, which every turn waited for. This one queues
the events and a thread commits them together, in order, a moment later. The
conversation itself is still saved by the tracker store before Rasa answers;
on shutdown (Rasa calls ``close``) the queue is written out. Same table, same
rows: the desk reads it as it reads Rasa's (``connectors.handoff.RasaEvents``).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from rasa.core.brokers.sql import SQLEventBroker

log = logging.getLogger(__name__)


class BufferedSQLEventBroker(SQLEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._writer = threading.Thread(target=self._write_forever, daemon=True)
        self._writer.start()

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(event)
        self._wake.set()

    async def close(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Write every queued event now, in the order they were published."""
        # Under the lock: publish() waits at most one commit, and a failed
        # commit leaves the events queued for the next try.
        with self._lock:
            if not self._pending:
                return
            with self.session_scope() as session:
                session.add_all(
                    [
                        self.SQLBrokerEvent(sender_id=e.get("sender_id"), data=json.dumps(e))
                        for e in self._pending
                    ]
                )
                session.commit()
            self._pending = []

    def _write_forever(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database was locked or full: keep the events, retry
                log.exception("Writing events failed; retrying")
                self._wake.set()
                threading.Event().wait(0.5)
