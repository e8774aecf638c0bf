"""What Telegram and WhatsApp (Twilio) need from us, with no Rasa import.

Pure helpers shared by ``connectors/telegram.py`` and ``connectors/twilio.py``
(inside Rasa) and unit-tested from the knowledge side's tests:

- ``split_text(text, limit)``: a reply cut to a platform's message limit, at
  line, sentence or word ends, never inside a word, with left-to-right runs
  in right-to-left text isolated (``connectors/bidi.py``) and directional
  runs closed and reopened across the cut;
- ``telegram_keyboard(buttons)`` / ``button_payload(data)``: quick replies as
  Telegram's inline keyboard, and the payload a button press stands for;
- ``numbered_options(text, buttons)`` and ``Choices``: quick replies as
  numbered lines for WhatsApp, and a reply of just a number mapped back;
- ``mediator_text(message)``: a mediator's message (the desk's custom
  payload) as one plain text;
- ``telegram_incoming(update)`` / ``twilio_incoming(form)``: a webhook
  payload read into an ``Incoming`` (text or ``/non_text``, language hint),
  its sender id in the channel's namespace (``telegram:<chat>``,
  ``whatsapp:+<number>``; connectors/identity.py);
- ``twilio_signature(...)``: Twilio's webhook signature (compared with
  ``connectors.identity.same_secret``), and ``basic_auth(...)`` for Twilio's API;
- ``post_with_retry(...)`` and ``PlatformError``: one call to a platform's
  API, retried with backoff on timeouts, 429 and 5xx.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from connectors.bidi import isolate_ltr_runs
from connectors.identity import namespaced

log = logging.getLogger(__name__)

# Telegram: 4096 characters per message (counted in UTF-16 units).
TELEGRAM_LIMIT = 4096
# Twilio: 1600 characters per message body, WhatsApp included.
WHATSAPP_LIMIT = 1600
# Sent to Rasa for a sticker, photo, voice note: the intent of domain.yml.
NON_TEXT = "/non_text"

# Directional embeddings and isolates, and what closes each.
_OPENERS = {"\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068"}
_PDF, _PDI = "\u202c", "\u2069"
_SENTENCE_END = re.compile(r"[.!?\u061f\u06d4\u0964\u3002](?=\s)")


def units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units); Twilio's count is never larger."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """Cut a reply into messages of at most `limit` units.

    Blank lines separate messages, as in Rasa's own channels. A longer
    paragraph is cut at its last line break, sentence end or space before the
    limit; only a single word longer than the limit is cut inside, and then
    never between a letter and its marks (Arabic vowel signs, accents).
    """
    parts: list[str] = []
    # Numbers, phone numbers and URLs keep their order in Arabic text (bidi.py).
    for paragraph in re.split(r"\n\s*\n", isolate_ltr_runs(text.strip())):
        paragraph = paragraph.strip()
        while paragraph:
            if units(paragraph) <= limit:
                parts.append(paragraph)
                break
            # Room for closing the directional runs a cut may leave open.
            room = max(1, limit - sum(paragraph.count(opener) for opener in _OPENERS))
            cut = _cut_at(paragraph, room)
            head, paragraph = paragraph[:cut].rstrip(), paragraph[cut:].lstrip()
            runs = _open_runs(head)
            closers = "".join(_PDI if r in "\u2066\u2067\u2068" else _PDF for r in reversed(runs))
            parts.append(head + closers)
            paragraph = "".join(runs) + paragraph
    return [part for part in parts if part.strip()]


def _cut_at(text: str, room: int) -> int:
    """Index to cut `text` at: the best boundary within `room` units."""
    end, used = 0, 0
    for index, char in enumerate(text):
        used += units(char)
        if used > room:
            break
        end = index + 1
    window = text[:end]
    for boundary in (window.rfind("\n"), _last_sentence_end(window), window.rfind(" ")):
        if boundary > room // 3:
            return boundary + 1
    # One very long word: never leave a combining mark at the start of the next part.
    while 1 < end < len(text) and unicodedata.combining(text[end]):
        end -= 1
    return max(end, 1)


def _last_sentence_end(text: str) -> int:
    found = [m.start() for m in _SENTENCE_END.finditer(text)]
    return found[-1] if found else -1


def _open_runs(text: str) -> list[str]:
    """Directional embeddings or isolates opened in `text` and not closed."""
    stack: list[str] = []
    for char in text:
        if char in _OPENERS:
            stack.append(char)
        elif char in (_PDF, _PDI) and stack:
            stack.pop()
    return stack


def telegram_keyboard(buttons: Iterable[Mapping[str, Any]]) -> dict:
    """An inline keyboard, one button a row (titles in some languages are long)."""
    return {
        "inline_keyboard": [
            [{"text": str(b.get("title") or ""), "callback_data": _callback_data(b)}]
            for b in buttons
        ]
    }


# Telegram allows 1-64 bytes of callback_data; longer payloads travel as a key.
_LONG_PAYLOADS: OrderedDict[str, str] = OrderedDict()
_LONG_PAYLOADS_KEPT = 4096


def _callback_data(button: Mapping[str, Any]) -> str:
    payload = str(button.get("payload") or button.get("title") or "")
    if len(payload.encode()) <= 64:
        return payload
    key = "#" + hashlib.sha256(payload.encode()).hexdigest()[:32]
    _LONG_PAYLOADS[key] = payload
    _LONG_PAYLOADS.move_to_end(key)
    while len(_LONG_PAYLOADS) > _LONG_PAYLOADS_KEPT:
        _LONG_PAYLOADS.popitem(last=False)
    return key


def button_payload(callback_data: str) -> str:
    """The payload a pressed inline button stands for."""
    return _LONG_PAYLOADS.get(callback_data, callback_data)


def numbered_options(text: str, buttons: Iterable[Mapping[str, Any]]) -> str:
    """Quick replies for WhatsApp, which has no free-form buttons: numbered lines."""
    lines = [f"{number}. {b.get('title') or ''}" for number, b in enumerate(buttons, 1)]
    # One line break: a blank line would send the options as a separate message.
    return "\n".join([text.rstrip(), *lines]) if text.strip() else "\n".join(lines)


class Choices:
    """The numbered options last offered to each person, to read "2" as its payload."""

    def __init__(self, kept: int = 10_000) -> None:
        self._offered: OrderedDict[str, list[str]] = OrderedDict()
        self._kept = kept

    def offer(self, recipient: str, buttons: Iterable[Mapping[str, Any]]) -> None:
        self._offered[recipient] = [str(b.get("payload") or b.get("title")) for b in buttons]
        self._offered.move_to_end(recipient)
        while len(self._offered) > self._kept:
            self._offered.popitem(last=False)

    def answer(self, recipient: str, text: str) -> str:
        """The payload when `text` is just an offered number (any script's digits), else `text`.

        The options are forgotten after any reply: a number later is a number.
        """
        offered = self._offered.pop(recipient, None)
        reply = text.strip().rstrip(".)")
        if offered and reply.isdecimal() and 1 <= int(reply) <= len(offered):
            return offered[int(reply) - 1]
        return text


def mediator_text(message: Mapping[str, Any]) -> str:
    """The desk's message for a person as plain text: who writes, then what.

    The name has its own line, so a Latin name never reorders an Arabic text.
    """
    text = str(message.get("text") or "")
    if message.get("from") != "mediator":
        return text
    name = str(message.get("name") or "").strip()
    marker = " 🌐" if message.get("machine_translated") else ""
    return f"👤 {name}{marker}\n{text}" if name else text


def language_hint(code: Any) -> str | None:
    """ "pt-BR" -> "pt": Telegram's IETF tag as the assistant's language code."""
    if not isinstance(code, str) or not code.strip():
        return None
    return code.strip().lower().replace("_", "-").split("-")[0]


@dataclass(frozen=True)
class Incoming:
    """One message from a platform, ready for Rasa."""

    sender_id: str
    text: str
    # Telegram's from.language_code; Twilio gives none.
    language_hint: str | None = None
    # Telegram: a button press to acknowledge with answerCallbackQuery.
    callback_query_id: str | None = None

    @property
    def metadata(self) -> dict:
        return {"language_hint": self.language_hint} if self.language_hint else {}


def telegram_incoming(update: Mapping[str, Any]) -> Incoming | None:
    """A Telegram update (message, edited message or button press); None when it is none of them.

    An edited message is answered as a new one. A sticker, photo, voice note
    or other message without text becomes ``/non_text``.
    """
    query = update.get("callback_query")
    if isinstance(query, Mapping):
        chat = (query.get("message") or {}).get("chat") or query.get("from") or {}
        if "id" not in chat:
            return None
        return Incoming(
            namespaced("telegram", str(chat["id"])),
            button_payload(str(query.get("data") or "")),
            language_hint((query.get("from") or {}).get("language_code")),
            str(query.get("id")),
        )
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, Mapping) or "id" not in (message.get("chat") or {}):
        return None
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        # A caption is what the person wrote with a photo: answer that.
        caption = message.get("caption")
        text = caption if isinstance(caption, str) and caption.strip() else NON_TEXT
    return Incoming(
        namespaced("telegram", str(message["chat"]["id"])),
        text,
        language_hint((message.get("from") or {}).get("language_code")),
    )


def twilio_incoming(form: Mapping[str, str]) -> Incoming | None:
    """A Twilio webhook's form fields; media without a Body becomes ``/non_text``.

    The sender id is ``whatsapp:+<number>`` as Twilio gives it, or ``sms:+<number>``.
    """
    sender = form.get("From")
    if not sender:
        return None
    if not sender.startswith("whatsapp:"):
        sender = namespaced("sms", sender)
    body = form.get("Body") or ""
    if not body.strip():
        body = NON_TEXT
    return Incoming(sender, body)


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted POST fields."""
    data = url + "".join(key + value for key, value in sorted(params, key=lambda kv: kv[0]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def basic_auth(login: str, password: str) -> str:
    """An Authorization header's value (aiohttp's own helper differs across its versions)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


class PlatformError(RuntimeError):
    """The platform did not take a message, after retrying."""


# Longest wait for a 429's retry_after here; longer, the desk's own retry takes over.
MAX_RETRY_AFTER = 5.0


async def post_with_retry(
    session: aiohttp.ClientSession,
    url: str,
    *,
    attempts: int = 3,
    backoff: float = 0.5,
    timeout: float = 10,
    **request: Any,
) -> dict:
    """POST once, retrying timeouts, 429 (after retry_after / Retry-After) and 5xx.

    Other answers (400, 401, 403) are final. Returns the answer's JSON;
    raises ``PlatformError`` saying what went wrong last.
    """
    problem = ""
    for attempt in range(attempts):
        wait = backoff * 2**attempt
        try:
            async with session.post(
                url, timeout=aiohttp.ClientTimeout(total=timeout), **request
            ) as answer:
                body = await _json_or_empty(answer)
                if answer.status < 300:
                    return body
                problem = f"{answer.status} {body.get('description') or body.get('message') or ''}"
                if answer.status == 429:
                    wait = _retry_after(answer.headers, body, wait)
                    if wait > MAX_RETRY_AFTER:
                        break
                elif answer.status < 500:
                    break
        # asyncio.TimeoutError: on Rasa's Python 3.10 it is not the built-in one.
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:  # noqa: UP041
            problem = f"no answer ({type(exc).__name__})"
        if attempt + 1 < attempts:
            await asyncio.sleep(wait)
    raise PlatformError(f"Not delivered: {problem.strip()}")


async def _json_or_empty(answer: aiohttp.ClientResponse) -> dict:
    try:
        body = await answer.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(headers: Mapping[str, str], body: Mapping[str, Any], default: float) -> float:
    # Telegram: {"parameters": {"retry_after": 3}}; Twilio and HTTP: Retry-After.
    for value in ((body.get("parameters") or {}).get("retry_after"), headers.get("Retry-After")):
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            continue
    return default
