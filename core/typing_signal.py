"""The "is typing" signal of a hand-off: how often it may pass, and its payload.

Only the fact travels, never text. Each side sends at most one signal per
``TYPING_EVERY`` seconds per conversation; the other side shows "typing…"
until a message arrives or ``TYPING_SHOWN`` seconds pass without a signal
(the pages clear it themselves: a signal has no "stopped").
"""

from __future__ import annotations

import time
from collections import OrderedDict

TYPING_EVERY = 3.0
TYPING_SHOWN = 6.0
# What the desk sends to the person's channel while their mediator types.
MEDIATOR_TYPING = {"from": "desk", "event": "typing"}


class Throttle:
    """At most one pass per `every` seconds for each key; remembers `size` keys."""

    def __init__(self, every: float = TYPING_EVERY, size: int = 10_000) -> None:
        self.every = every
        self.size = size
        self._last: OrderedDict[str, float] = OrderedDict()

    def allow(self, key: str, at: float | None = None) -> bool:
        at = time.monotonic() if at is None else at
        last = self._last.get(key)
        if last is not None and at - last < self.every:
            return False
        self._last[key] = at
        self._last.move_to_end(key)
        while len(self._last) > self.size:
            self._last.popitem(last=False)
        return True
