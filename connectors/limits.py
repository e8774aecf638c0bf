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
so a flood costs one turn per window. Each refusal is logged with its length
and a keyed hash of the sender (``connectors.identity.log_id``), never the id.

``AddressLimits`` caps the new conversations one source address starts
(socket.io sessions, REST senders): changing the sender id for each message,
to flood the mediators' queue with (urgent) hand-offs, stops at
``per_window`` new conversations per ``window_seconds``. The ``limits``
library would fit, but every release of it needs a ``packaging`` newer than
Rasa 3.6 allows, so these are two small in-memory sliding windows.

With several Rasa processes (``redis_url`` in credentials.yml, from
``HELPDESK_REDIS_URL``) a sender's messages are counted in Redis, in one
window shared by every process (``SharedWindow``), so the limit does not
multiply with the processes. When Redis cannot be reached the process counts
alone, as with one process, rather than refusing or losing messages.

This module runs inside Rasa (Python 3.10) and imports nothing from Rasa, so
the knowledge side's tests can use it too.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from connectors.identity import log_id
from core.protocol import RATE_LIMITED, TOO_LONG

log = logging.getLogger(__name__)

__all__ = ["RATE_LIMITED", "TOO_LONG", "MessageLimits"]
# What the tracker keeps of a refused text: enough for a mediator to see what it was.
EXCERPT_CHARS = 500

OnNewMessage = Callable[[Any], Awaitable[Any]]


class SenderWindow:
    """Sliding-window counter of one sender's messages."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        self.told = False


# One sender's sliding window in Redis, atomically: drop what is older than the
# window, add this message, and tell once per window. Redis's own clock, so
# that processes on several machines agree. Returns 0 (pass), 1 (tell), 2 (quiet).
_WINDOW_SCRIPT = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
if redis.call('ZCARD', KEYS[1]) <= tonumber(ARGV[2]) then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', window) then return 1 end
return 2
"""


class SharedWindow:
    """A sender's message count in Redis, one window for every Rasa process.

    Keys carry the keyed hash of the sender (``log_id``), never the id itself."""

    def __init__(self, url: str, key_prefix: str = "helpdesk:rate:") -> None:
        import redis.asyncio  # only where several processes share the counts

        self.client = redis.asyncio.Redis.from_url(url, socket_timeout=2)
        self.script = self.client.register_script(_WINDOW_SCRIPT)
        self.key_prefix = key_prefix

    async def count(self, sender_id: str, per_window: int, window_seconds: float) -> int:
        key = self.key_prefix + log_id(sender_id)
        return int(
            await self.script(
                keys=[key, key + ":told"],
                args=[int(window_seconds * 1000), per_window, uuid.uuid4().hex],
            )
        )


class MessageLimits:
    def __init__(
        self,
        max_chars: int = 4000,
        per_window: int = 12,
        window_seconds: float = 30.0,
        shared: SharedWindow | None = None,
    ) -> None:
        self.max_chars = max_chars
        self.per_window = per_window
        self.window_seconds = window_seconds
        self.shared = shared
        self._senders: dict[str, SenderWindow] = {}

    async def verdict(self, sender_id: str, text: str) -> str | None:
        """As `check`, counted in the window every process shares when there is one."""
        if self.shared is None:
            return self.check(sender_id, text)
        try:
            counted = await self.shared.count(sender_id, self.per_window, self.window_seconds)
        except Exception as error:  # Redis down or slow: count here, lose nothing
            log.warning("Counting alone, Redis is unavailable (%s)", type(error).__name__)
            return self.check(sender_id, text)
        if counted:
            return RATE_LIMITED if counted == 1 else ""
        return TOO_LONG if len(text) > self.max_chars else None

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
            verdict = await self.verdict(message.sender_id, text)
            if verdict is None:
                await on_new_message(message)
                return
            log.warning(
                "Refused a message of %d characters from %s (%s)",
                len(text),
                log_id(message.sender_id),
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
    max_chars, messages_per_window, window_seconds, redis_url (empty: this process alone)."""
    redis_url = str(credentials.get("redis_url") or "")
    return MessageLimits(
        max_chars=int(credentials.get("max_chars") or 4000),
        per_window=int(credentials.get("messages_per_window") or 12),
        window_seconds=float(credentials.get("window_seconds") or 30),
        shared=SharedWindow(redis_url) if redis_url else None,
    )


class AddressLimits:
    """At most `per_window` new conversations per source address in `window_seconds`.

    A sender seen within the window is not new; memory stays bounded by
    dropping what is older than the window.
    """

    MAX_KEPT = 100_000

    def __init__(self, per_window: int = 30, window_seconds: float = 600.0) -> None:
        self.per_window = per_window
        self.window_seconds = window_seconds
        self._addresses: dict[str, deque[float]] = {}
        self._senders: dict[str, float] = {}

    def admit(self, address: str, sender_id: str | None = None, now: float | None = None) -> bool:
        """True when `sender_id` may write: known, or new and within its address's limit.

        With no `sender_id` every call is a new conversation (a new socket.io session).
        """
        now = time.monotonic() if now is None else now
        if sender_id is not None and sender_id in self._senders:
            self._senders[sender_id] = now
            return True
        self._forget_old(now)
        starts = self._addresses.setdefault(address, deque())
        while starts and starts[0] <= now - self.window_seconds:
            starts.popleft()
        if len(starts) >= self.per_window:
            log.warning(
                "Refused a new conversation from %s: %d in %.0f s",
                log_id(address),
                len(starts),
                self.window_seconds,
            )
            return False
        starts.append(now)
        if sender_id is not None:
            self._senders[sender_id] = now
        return True

    def _forget_old(self, now: float) -> None:
        if len(self._senders) + len(self._addresses) < self.MAX_KEPT:
            return
        old = now - self.window_seconds
        self._senders = {s: t for s, t in self._senders.items() if t > old}
        self._addresses = {a: d for a, d in self._addresses.items() if d and d[-1] > old}


def address_limits_from(credentials: dict[str, Any]) -> AddressLimits:
    """From a channel's credentials.yml block:
    new_conversations_per_address, address_window_seconds."""
    return AddressLimits(
        per_window=int(credentials.get("new_conversations_per_address") or 30),
        window_seconds=float(credentials.get("address_window_seconds") or 600),
    )


def client_address(peer: str | None, forwarded_for: str | None) -> str:
    """The person's address: the peer's, or the proxy's X-Forwarded-For when the
    peer is this machine (the reverse proxy in front of Rasa)."""
    peer = peer or ""
    if forwarded_for and peer in ("127.0.0.1", "::1", "localhost"):
        return forwarded_for.split(",")[-1].strip() or peer
    return peer
