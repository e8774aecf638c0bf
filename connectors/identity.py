"""Who a message is from, kept apart per channel, and never written out raw.

    namespaced("telegram", "4242")        # "telegram:4242": the sender id Rasa sees
    platform_id("telegram:4242")          # "4242": where the platform delivers
    signer = SessionSigner(secret)
    session_id, tag = signer.issue()      # socket.io: the widget keeps both
    signer.valid(session_id, tag)         # True only for a tag this server issued
    log.info("... %s", log_id(sender_id)) # a keyed hash, never the id itself

Every channel stores conversations under its own prefix (``rest:``,
``socketio:``, ``telegram:``, ``whatsapp:`` or ``sms:`` for Twilio), so no
channel can name another channel's conversation: a REST caller who knows a
person's phone number reaches ``rest:whatsapp:+39…``, a conversation of its
own, not theirs.

A raw sender id in a log is a key to someone's conversation (a phone number,
or the widget's session), so logs carry ``log_id``: an HMAC of the id with
``HELPDESK_LOG_KEY`` (bot/serve.py makes one at start when unset), the same
for one id within a run, and useless without the key.

This module imports nothing from Rasa or the knowledge side: both Python
environments use it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

CHANNEL_PREFIXES = ("rest", "socketio", "telegram", "whatsapp", "sms")

_LOG_KEY = (os.environ.get("HELPDESK_LOG_KEY") or secrets.token_hex(16)).encode()


def namespaced(channel: str, platform_sender: str) -> str:
    """The sender id Rasa stores a channel's conversation under."""
    return f"{channel}:{platform_sender}"


def platform_id(sender_id: str) -> str:
    """The platform's own id (chat id, session id) behind a namespaced sender id.

    A WhatsApp number keeps its ``whatsapp:`` prefix: Twilio needs it to deliver.
    """
    channel, separator, rest = sender_id.partition(":")
    if not separator or channel not in CHANNEL_PREFIXES or channel == "whatsapp":
        return sender_id
    return rest


def log_id(sender_id: object) -> str:
    """A keyed hash of a sender id, to tell conversations apart in logs."""
    digest = hmac.new(_LOG_KEY, str(sender_id).encode(), hashlib.sha256).hexdigest()
    return f"conv-{digest[:12]}"


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an unset secret matches nothing."""
    return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


def bearer_ok(authorization: str | None, token: str) -> bool:
    """The ``Authorization`` header is ``Bearer <token>``; an unset token matches nothing."""
    return bool(token) and same_secret(authorization, f"Bearer {token}")


class SessionSigner:
    """socket.io session ids issued with an HMAC tag, so only their holder can use them."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("The socket.io session secret is empty (HELPDESK_SESSION_SECRET).")
        self._key = secret.encode()

    def tag(self, session_id: str) -> str:
        return hmac.new(self._key, f"socketio:{session_id}".encode(), hashlib.sha256).hexdigest()

    def issue(self) -> tuple[str, str]:
        """A new random session id and its tag."""
        session_id = secrets.token_hex(16)
        return session_id, self.tag(session_id)

    def valid(self, session_id: object, tag: object) -> bool:
        """The tag is the one this server issued for this session id."""
        if not isinstance(session_id, str) or not isinstance(tag, str) or not session_id:
            return False
        return hmac.compare_digest(tag.encode(), self.tag(session_id).encode())
