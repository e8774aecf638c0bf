"""WhatsApp's 24-hour rule for mediators' replies.

WhatsApp takes free text for a person only within 24 hours of their last
message (the customer-service window); after that a business may send only a
template Meta approved (Twilio's Content API: ``ContentSid``). A mediator's
reply written later is therefore not sent as text: the approved template goes
out once instead (it asks the person to write back), and the reply is refused
with ``WindowClosed``, whose reason the desk shows as "not delivered yet" while
it keeps retrying; the reply goes out as soon as the person writes again.

The window is counted from the messages this process received. After a
restart a person's last message is unknown, and the window is taken as closed:
a template too many is better than a reply WhatsApp drops without a word.

This module runs inside Rasa (Python 3.10): it imports nothing from the
knowledge side.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from connectors.messaging import PlatformError

WINDOW_SECONDS = 24 * 3600

NO_TEMPLATE = (
    "WhatsApp's 24-hour window is closed (the person last wrote more than 24 hours ago) "
    "and no approved template is set (HELPDESK_TWILIO_TEMPLATE_SID): the reply waits "
    "until the person writes again."
)
TEMPLATE_SENT = (
    "WhatsApp's 24-hour window is closed (the person last wrote more than 24 hours ago): "
    "the approved template was sent to ask them to write back; this reply goes out when they do."
)


class WindowClosed(PlatformError):
    """A reply outside WhatsApp's 24-hour window: not sent as text."""


class ServiceWindow:
    """When each WhatsApp number last wrote, and when it last got the template."""

    def __init__(
        self,
        seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
        kept: int = 100_000,
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self.kept = kept
        self.last_heard: OrderedDict[str, float] = OrderedDict()
        self.template_at: dict[str, float] = {}

    @staticmethod
    def applies_to(recipient: str) -> bool:
        """Only WhatsApp has the rule (an SMS number has none)."""
        return recipient.startswith("whatsapp:")

    def heard(self, sender: str, at: float | None = None) -> None:
        """The person wrote: the window is open again for 24 hours."""
        self.last_heard[sender] = self.clock() if at is None else at
        self.last_heard.move_to_end(sender)
        self.template_at.pop(sender, None)
        while len(self.last_heard) > self.kept:
            old, _ = self.last_heard.popitem(last=False)
            self.template_at.pop(old, None)

    def is_open(self, recipient: str) -> bool:
        if not self.applies_to(recipient):
            return True
        heard = self.last_heard.get(recipient)
        return heard is not None and self.clock() - heard < self.seconds

    def template_due(self, recipient: str) -> bool:
        """The template was not sent since the person last wrote (or 24 hours ago)."""
        sent = self.template_at.get(recipient)
        return sent is None or self.clock() - sent >= self.seconds

    def template_sent(self, recipient: str) -> None:
        self.template_at[recipient] = self.clock()
