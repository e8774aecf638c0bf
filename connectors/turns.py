"""One turn at a time per person, so that no message is lost while an earlier one is answered.

    from rasa.core.lock_store import LockError
    turns = TurnQueue(retry_on=(LockError,))
    on_new_message = turns.in_order(on_new_message)   # in an input channel's blueprint()

Rasa takes a conversation's messages one at a time with a ticket lock that
lives 60 seconds (``TICKET_LOCK_LIFETIME``). The widget shows the first reply
before the turn is over, so people write again while Rasa is still working;
under load a message could wait for the lock longer than its ticket lived,
and Rasa dropped it with a ``LockError``: the person never got an answer and
the tracker never held the message. Here each message waits its turn in
memory, in arrival order, and reaches Rasa only when the sender's previous
turn has ended, so the ticket lock is free. When it is not (another Rasa
instance holds it, with the Redis lock store), the message is tried again
after a pause, ``attempts`` times in all.

This module runs inside Rasa (Python 3.10) and imports nothing from Rasa, so
the knowledge side's tests can use it too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.identity import log_id

log = logging.getLogger(__name__)

OnNewMessage = Callable[[Any], Awaitable[Any]]


class _Turns:
    """One sender's lock, and how many messages hold or wait for it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.waiting = 0


class TurnQueue:
    def __init__(
        self,
        retry_on: tuple[type[BaseException], ...] = (),
        attempts: int = 5,
        pause_seconds: float = 2.0,
    ) -> None:
        self.retry_on = retry_on
        self.attempts = attempts
        self.pause_seconds = pause_seconds
        self._senders: dict[str, _Turns] = {}

    def in_order(self, on_new_message: OnNewMessage) -> Callable[[Any], Awaitable[None]]:
        """`on_new_message`, called for one message of a sender at a time."""

        async def one_at_a_time(message: Any) -> None:
            sender = str(message.sender_id)
            turns = self._senders.setdefault(sender, _Turns())
            turns.waiting += 1
            try:
                async with turns.lock:  # asyncio's lock wakes waiters first come, first served
                    await self._with_retries(on_new_message, message)
            finally:
                turns.waiting -= 1
                if not turns.waiting:  # keeps memory to the senders with a turn going
                    del self._senders[sender]

        return one_at_a_time

    def waiting(self, sender_id: str) -> int:
        """Messages of this sender being answered or waiting to be."""
        turns = self._senders.get(sender_id)
        return turns.waiting if turns else 0

    async def _with_retries(self, on_new_message: OnNewMessage, message: Any) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                await on_new_message(message)
                return
            except self.retry_on as exc:
                if attempt == self.attempts:
                    log.error(
                        "A message of %s was not taken after %d tries: %s",
                        log_id(message.sender_id),
                        attempt,
                        exc,
                    )
                    raise
                log.warning(
                    "Conversation %s is busy (%s); trying again", log_id(message.sender_id), exc
                )
                await asyncio.sleep(self.pause_seconds * attempt)
