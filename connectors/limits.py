"""Limits on message size and on how fast one sender writes, for every input channel.

    limits = MessageLimits(max_chars=4000, per_window=12, window_seconds=30)
    on_new_message = limits.guard(on_new_message)   # in an input channel's blueprint()

A message longer than ``max_chars`` never reaches language understanding (a
huge text costs seconds of work): Rasa gets the intent ``/message_too_long``
instead, keeps the first characters and the length in the message's metadata,
and answers in the person's language (``utter_message_too_long``).

A sender who writes more than ``per_window`` messages in ``window_seconds``
gets ``/rate_limited`` once (``utter_rate_limited``: wait a moment, then write
again); the messages after it in the same window are refused without a turn,
so a flood costs one turn per window. Each refusal is logged with its length.

This module runs inside Rasa (Python 3.10) and imports nothing from Rasa, so
the knowledge side's tests can use it too.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

TOO_LONG = "/message_too_long"
RATE_LIMITED = "/rate_limited"
# What the tracker keeps of a refused text: enough for a mediator to see what it was.
EXCERPT_CHARS = 500

OnNewMessage = Callable[[Any], Awaitable[Any]]


class SenderWindow:
    """Sliding-window counter of one sender's messages."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.told = False


class MessageLimits:
    def __init__(
        self, max_chars: int = 4000, per_window: int = 12, window_seconds: float = 30.0
    ) -> None:
        self.max_chars = max_chars
        self.per_window = per_window
        self.window_seconds = window_seconds
        self._senders: dict[str, SenderWindow] = {}

    def check(self, sender_id: str, text: str, now: float | None = None) -> str | None:
        """None when the message may pass, else RATE_LIMITED, TOO_LONG or "" (refuse quietly)."""
        now = time.monotonic() if now is None else now
        window = self._senders.setdefault(sender_id, SenderWindow())
        while window.times and window.times[0] <= now - self.window_seconds:
            window.times.popleft()
        if not window.times:
            window.told = False
        window.times.append(now)
        self._forget_idle(now)
        if len(window.times) > self.per_window:
            if window.told:
                return ""
            window.told = True
            return RATE_LIMITED
        if len(text) > self.max_chars:
            return TOO_LONG
        return None

    def _forget_idle(self, now: float) -> None:
        # Keep memory bounded: drop senders silent for a whole window.
        if len(self._senders) < 10_000:
            return
        idle = now - self.window_seconds
        for sender in [s for s, w in self._senders.items() if w.times[-1] <= idle]:
            del self._senders[sender]

    def guard(self, on_new_message: OnNewMessage) -> OnNewMessage:
        """Wrap a channel's on_new_message(UserMessage) with these limits."""

        async def limited(message: Any) -> None:
            text = message.text or ""
            verdict = self.check(message.sender_id, text)
            if verdict is None:
                await on_new_message(message)
                return
            log.warning(
                "Refused a message of %d characters from %s (%s)",
                len(text),
                message.sender_id,
                verdict or "rate limited, already told",
            )
            if not verdict:
                return
            message.metadata = {
                **(message.metadata or {}),
                "refused": {"chars": len(text), "excerpt": text[:EXCERPT_CHARS]},
            }
            message.text = verdict
            await on_new_message(message)

        return limited


def limits_from(credentials: dict[str, Any]) -> MessageLimits:
    """Limits from a channel's credentials.yml block:
    max_chars, messages_per_window, window_seconds."""
    return MessageLimits(
        max_chars=int(credentials.get("max_chars") or 4000),
        per_window=int(credentials.get("messages_per_window") or 12),
        window_seconds=float(credentials.get("window_seconds") or 30),
    )
