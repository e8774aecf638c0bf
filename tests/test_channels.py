"""Telegram and WhatsApp (Twilio) through the real Rasa, action server and desk.

The platforms are the loopback servers of tests/fake_platforms.py; the
webhook payloads have the shapes Telegram and Twilio send. Each test asserts
on what our channels sent to the platform and on what reached Rasa and the
desk.
"""

from __future__ import annotations

import json
import random
import re
import urllib.error
import urllib.parse
import urllib.request
from functools import cache

import pytest
import yaml

from connectors.messaging import twilio_signature
from knowledge.settings import PROJECT_ROOT
from tests.conftest import RASA_TOKEN, wait_for
from tests.fake_platforms import TELEGRAM_SECRET, TWILIO_TOKEN, WHATSAPP_NUMBER
from tests.test_handoff import queued

pytestmark = pytest.mark.integration

ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff]")


@cache
def response_text(name: str, language: str) -> str:
    """A response of domain.yml in one language, as the bot says it."""
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    for variant in domain["responses"][name]:
        if any(c.get("value") == language for c in variant.get("condition", [])):
            return variant["text"]
    raise KeyError((name, language))


def post(url: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Telegram:
    """A Telegram user: sends updates to our webhook as Telegram would."""

    def __init__(self, assistant, language_code: str = "it") -> None:
        self.url = f"{assistant.settings.services.rasa_url}/webhooks/telegram/webhook"
        self.chat_id = random.randint(10**8, 10**9)
        self.language_code = language_code
        self.update_id = random.randint(10**5, 10**6)

    @property
    def sender_id(self) -> str:
        """Rasa's sender id for this chat: Telegram's own namespace."""
        return f"telegram:{self.chat_id}"

    def _user(self) -> dict:
        return {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": "Amina",
            "language_code": self.language_code,
        }

    def message(self, key: str = "message", **content) -> dict:
        self.update_id += 1
        return {
            "update_id": self.update_id,
            key: {
                "message_id": self.update_id,
                "from": self._user(),
                "chat": {"id": self.chat_id, "first_name": "Amina", "type": "private"},
                "date": 1764585600,
                **content,
            },
        }

    def press(self, data: str, query_id: str) -> dict:
        self.update_id += 1
        return {
            "update_id": self.update_id,
            "callback_query": {
                "id": query_id,
                "from": self._user(),
                "message": self.message(text="…")["message"],
                "chat_instance": "-4556",
                "data": data,
            },
        }

    def send(self, update: dict, secret: str | None = TELEGRAM_SECRET) -> int:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return post(self.url, json.dumps(update).encode(), headers)[0]

    def say(self, text: str) -> int:
        return self.send(self.message(text=text))


class WhatsApp:
    """A WhatsApp user writing through Twilio: signed form posts to our webhook."""

    def __init__(self, assistant) -> None:
        self.url = f"{assistant.settings.services.rasa_url}/webhooks/twilio/webhook"
        self.number = f"whatsapp:+39{random.randint(10**9, 10**10 - 1)}"

    def form(self, body: str, **extra: str) -> dict:
        return {
            "SmsMessageSid": "SM" + "1" * 32,
            "NumMedia": "0",
            "ProfileName": "Amina",
            "WaId": self.number.removeprefix("whatsapp:+"),
            "SmsStatus": "received",
            "Body": body,
            "To": WHATSAPP_NUMBER,
            "NumSegments": "1",
            "MessageSid": "SM" + "1" * 32,
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def send(self, form: dict, signature: str | None = None) -> int:
        signature = signature or twilio_signature(TWILIO_TOKEN, self.url, form.items())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        return post(self.url, urllib.parse.urlencode(form).encode(), headers)[0]

    def say(self, text: str) -> int:
        return self.send(self.form(text))


def test_set_webhook_checks_the_bot_and_registers_url_and_secret(assistant, platforms):
    url = f"{assistant.settings.services.rasa_url}/webhooks/telegram/set_webhook"
    assert post(url, b"", {})[0] == 401
    status, body = post(url, b"", {"Authorization": f"Bearer {RASA_TOKEN}"})
    assert status == 200
    assert json.loads(body) == {
        "bot": "sportello_test_bot",
        "webhook": f"{assistant.settings.services.rasa_url}/webhooks/telegram/webhook",
    }
    assert platforms.calls("getMe")
    registered = platforms.calls("setWebhook")[-1]
    assert registered["url"].endswith("/webhooks/telegram/webhook")
    assert registered["secret_token"] == TELEGRAM_SECRET
    assert "callback_query" in registered["allowed_updates"]


def test_telegram_text_message(assistant, platforms):
    person = Telegram(assistant, "it")
    assert person.say("dove si fa la residenza?") == 200
    sent = platforms.texts_to(person.chat_id)
    assert sent and "residen" in "\n".join(sent).lower()
    assert all(len(text) <= 4096 for text in sent)
    assert assistant.user_texts(person.sender_id) == ["dove si fa la residenza?"]


def test_arabic_message_is_answered_in_arabic_and_kept_intact(assistant, platforms):
    person = Telegram(assistant, "ar")
    assert person.say("مرحبا، أريد أن أسأل عن الإقامة") == 200
    sent = "\n".join(platforms.texts_to(person.chat_id))
    assert ARABIC_LETTERS.search(sent)
    assert assistant.slot(person.sender_id, "language") == "ar"
    assert assistant.user_texts(person.sender_id) == ["مرحبا، أريد أن أسأل عن الإقامة"]


@pytest.mark.parametrize(
    ("language_code", "content"),
    [
        (
            "fr",
            {
                "sticker": {
                    "file_id": "CAACAgI",
                    "file_unique_id": "AgADxx",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                    "emoji": "👍",
                }
            },
        ),  # fmt: skip
        (
            "uk",
            {
                "photo": [
                    {
                        "file_id": "AgACAgQ",
                        "file_unique_id": "AQADyy",
                        "file_size": 1200,
                        "width": 90,
                        "height": 67,
                    }
                ]
            },
        ),  # fmt: skip
        (
            "ar",
            {
                "voice": {
                    "duration": 2,
                    "mime_type": "audio/ogg",
                    "file_id": "AwACAgQ",
                    "file_unique_id": "AgADzz",
                    "file_size": 5023,
                }
            },
        ),  # fmt: skip
    ],
)
def test_sticker_photo_voice_get_a_polite_reply_in_the_language_code(
    assistant, platforms, language_code, content
):
    person = Telegram(assistant, language_code)
    assert person.send(person.message(**content)) == 200
    # Nothing to detect a language from: Telegram's language_code decides,
    # for the first reply's notice (who answers, privacy) and for the reply.
    sent = platforms.texts_to(person.chat_id)
    assert sent[0].startswith(response_text("utter_greet", language_code))
    assert sent[-1] == response_text("utter_non_text", language_code)


def test_edited_message_is_answered_as_a_new_one(assistant, platforms):
    person = Telegram(assistant, "en")
    assert person.say("hello") == 200
    before = len(platforms.texts_to(person.chat_id))
    edited = person.message("edited_message", text="thank you", edit_date=1764585700)
    assert person.send(edited) == 200
    assert len(platforms.texts_to(person.chat_id)) > before
    assert assistant.user_texts(person.sender_id) == ["hello", "thank you"]


def test_quick_replies_are_inline_buttons_and_a_press_is_acknowledged(assistant, platforms):
    person = Telegram(assistant, "it")
    assert person.say("/choose_language") == 200
    with_keyboard = [
        call
        for call in platforms.calls("sendMessage", chat_id=person.chat_id)
        if "reply_markup" in call
    ]
    rows = with_keyboard[-1]["reply_markup"]["inline_keyboard"]
    assert len(rows) == 13 and all(len(row) == 1 for row in rows)
    french = next(row[0] for row in rows if row[0]["text"] == "Français")
    assert french["callback_data"] == '/change_language{"language": "fr"}'

    assert person.send(person.press(french["callback_data"], "4382bfdwdsb323b2d9")) == 200
    assert platforms.calls("answerCallbackQuery", callback_query_id="4382bfdwdsb323b2d9")
    # Said in French, then the greeting and the privacy notice again, in French.
    texts = platforms.texts_to(person.chat_id)
    after = texts[texts.index(response_text("utter_language_changed", "fr")) :]
    notice_opening = response_text("utter_privacy_notice", "fr").split("{")[0]
    assert len(after) >= 2 and notice_opening in after[-1]
    assert assistant.slot(person.sender_id, "language") == "fr"


@pytest.mark.parametrize("secret", [None, "", "guessed-secret", TELEGRAM_SECRET + "x"])
def test_telegram_request_without_the_secret_gets_403_and_changes_nothing(
    assistant, platforms, secret
):
    person = Telegram(assistant, "it")
    assert person.send(person.message(text="ciao"), secret=secret) == 403
    assert platforms.calls("sendMessage", chat_id=person.chat_id) == []
    assert assistant.user_texts(person.sender_id) == []


def test_whatsapp_text_numbered_options_and_the_number_as_the_button(assistant, platforms):
    person = WhatsApp(assistant)
    assert person.say("/choose_language") == 200
    offered = platforms.bodies_to(person.number)[-1]
    lines = offered.splitlines()
    assert "1. Italiano" in lines and "4. Français" in lines and len(lines) == 14
    before = len(platforms.bodies_to(person.number))
    assert person.say("4") == 200
    # Said in French, then the greeting and the privacy notice again, in French.
    after = platforms.bodies_to(person.number)[before:]
    assert after[0] == response_text("utter_language_changed", "fr")
    assert response_text("utter_privacy_notice", "fr").split("{")[0] in after[-1]
    assert assistant.slot(person.number, "language") == "fr"
    # Sent as Twilio expects: from our WhatsApp number.
    assert {c["From"] for c in platforms.calls("Messages", To=person.number)} == {WHATSAPP_NUMBER}


def test_whatsapp_voice_note_gets_a_polite_reply(assistant, platforms):
    person = WhatsApp(assistant)
    form = person.form(
        "",
        NumMedia="1",
        MediaContentType0="audio/ogg",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0",
    )
    assert person.send(form) == 200
    # No text, no hint: the default language.
    default = assistant.settings.languages.default
    sent = platforms.bodies_to(person.number)
    assert sent[0].startswith(response_text("utter_greet", default))
    assert sent[-1] == response_text("utter_non_text", default)


def test_twilio_signature_valid_and_forged(assistant, platforms):
    person = WhatsApp(assistant)
    form = person.form("ciao")
    forged = [
        twilio_signature("not-the-auth-token", person.url, form.items()),
        # Signed for other fields than those sent.
        twilio_signature(TWILIO_TOKEN, person.url, person.form("something else").items()),
        # Signed for another URL.
        twilio_signature(TWILIO_TOKEN, person.url + "?x=1", form.items()),
        "",
    ]
    for signature in forged:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature:
            headers["X-Twilio-Signature"] = signature
        status, _ = post(person.url, urllib.parse.urlencode(form).encode(), headers)
        assert status == 403
    assert platforms.calls("Messages", To=person.number) == []
    assert assistant.user_texts(person.number) == []
    assert person.send(form) == 200
    assert platforms.bodies_to(person.number)
    assert assistant.user_texts(person.number) == ["ciao"]


def claimed_handoff(desk, sender: str) -> dict:
    handoff = wait_for(lambda: queued(desk, sender))
    assert desk.post(f"/desk/api/handoffs/{handoff['id']}/claim")[0] == 200
    return handoff


def transcript(desk, handoff: dict) -> list[dict]:
    status, shown = desk.get(f"/desk/api/handoffs/{handoff['id']}")
    assert status == 200
    return shown["transcript"]


def test_full_handoff_through_telegram(assistant, platforms, desk_as, desk_store):
    person = Telegram(assistant, "ar")
    chat = str(person.chat_id)
    amal = desk_as("amal")

    assert person.say("أريد التحدث مع شخص") == 200
    assert "وسيط" in "\n".join(platforms.texts_to(chat))
    handoff = claimed_handoff(amal, person.sender_id)
    assert handoff["channel"] == "telegram" and handoff["language"] == "ar"

    # While the mediator holds it, the person's words reach the desk and the bot is silent.
    sent_before = len(platforms.texts_to(chat))
    assert person.say("هل يوجد أحد هنا؟") == 200
    wait_for(
        lambda: (
            [m["text"] for m in transcript(amal, handoff) if m["author"] == "migrant"][-1]
            == "هل يوجد أحد هنا؟"
        )
    )
    assert len(platforms.texts_to(chat)) == sent_before

    # The mediator's reply goes out through sendMessage, the name on its own line.
    status, _ = amal.post(
        f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "مرحبا، أنا أمل. كيف أساعدك؟"}
    )
    assert status == 201
    wait_for(lambda: "👤 amal\nمرحبا، أنا أمل. كيف أساعدك؟" in platforms.texts_to(chat))
    wait_for(
        lambda: (
            [m["delivery"] for m in transcript(amal, handoff) if m["author"] == "mediator"]
            == ["delivered"]
        )
    )

    # Hand-back: the bot asks for a rating with inline buttons, the person presses one.
    assert amal.post(f"/desk/api/handoffs/{handoff['id']}/close", {"note": "ok"})[0] == 200
    rating = wait_for(
        lambda: [
            c
            for c in platforms.calls("sendMessage", chat_id=chat)
            if "/rate" in json.dumps(c.get("reply_markup"))
        ]
    )
    buttons = [row[0] for row in rating[-1]["reply_markup"]["inline_keyboard"]]
    nine = next(b for b in buttons if b["callback_data"] == '/rate{"rating": "9"}')
    assert person.send(person.press(nine["callback_data"], "rate-9-query")) == 200
    assert platforms.calls("answerCallbackQuery", callback_query_id="rate-9-query")
    assert "شكر" in platforms.texts_to(chat)[-1]
    assert wait_for(lambda: desk_store.handoff(handoff["id"])["rating"] == 9)
    closed = desk_store.handoff(handoff["id"])
    assert closed["status"] == "closed" and closed["handed_back"]


def test_platform_failure_shows_not_delivered_then_delivers(
    assistant, platforms, desk_as, desk_store
):
    person = Telegram(assistant, "it")
    chat = str(person.chat_id)
    amal = desk_as("amal")
    assert person.say("voglio parlare con una persona") == 200
    handoff = claimed_handoff(amal, person.sender_id)

    # Telegram is down for longer than our quick retries.
    platforms.fail("sendMessage", *[500] * 6)
    status, sent = amal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "Eccomi."})
    assert status == 201
    pending = wait_for(
        lambda: [
            m
            for m in transcript(amal, handoff)
            if m["id"] == sent["id"] and m["delivery"] == "pending" and m["delivery_error"]
        ]
    )
    assert "500" in pending[0]["delivery_error"]
    # The desk's own retry delivers it once Telegram is back, exactly once.
    wait_for(
        lambda: (
            [m["delivery"] for m in transcript(amal, handoff) if m["id"] == sent["id"]]
            == ["delivered"]
        ),
        timeout=40,
    )
    assert platforms.texts_to(chat).count("👤 amal\nEccomi.") == 1
    # A 429 with retry_after is waited out within the same delivery.
    platforms.fail("sendMessage", 429, retry_after=1)
    status, _ = amal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "Ci sei?"})
    assert status == 201
    wait_for(lambda: "👤 amal\nCi sei?" in platforms.texts_to(chat))
    tries = [c for c in platforms.received if c.params.get("text") == "👤 amal\nCi sei?"]
    assert len(tries) == 2 and tries[1].at - tries[0].at >= 1.0
    assert amal.post(f"/desk/api/handoffs/{handoff['id']}/close", {"note": ""})[0] == 200


def test_handoff_through_whatsapp_with_a_long_reply(assistant, platforms, desk_as):
    person = WhatsApp(assistant)
    amal = desk_as("amal")
    assert person.say("voglio parlare con una persona") == 200
    handoff = claimed_handoff(amal, person.number)
    assert handoff["channel"] == "twilio"

    assert person.say("sono qui") == 200
    wait_for(
        lambda: (
            [m["text"] for m in transcript(amal, handoff) if m["author"] == "migrant"][-1]
            == "sono qui"
        )
    )
    long_reply = " ".join(["Per la residenza serve il passaporto e il contratto d'affitto."] * 60)
    assert len(long_reply) > 3000
    assert amal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": long_reply})[0] == 201

    def reply_parts() -> list[str] | None:
        parts = [b for b in platforms.bodies_to(person.number) if "affitto" in b]
        return parts if sum(map(len, parts)) >= len(long_reply) else None

    parts = wait_for(reply_parts)
    assert len(parts) >= 3 and all(len(part) <= 1600 for part in parts)
    assert " ".join(parts).removeprefix("👤 amal\n").split() == long_reply.split()
    assert amal.post(f"/desk/api/handoffs/{handoff['id']}/close", {"note": ""})[0] == 200


def test_whatsapp_reply_outside_the_24_hour_window_sends_the_template(assistant, platforms):
    # Nobody at this number wrote in the last 24 hours: not free text, but the
    # approved template, and the desk gets the reason (502: "not delivered yet").
    from tests.fake_platforms import TWILIO_TEMPLATE_SID

    number = "whatsapp:+393330024099"
    url = f"{assistant.settings.services.rasa_url}/webhooks/twilio/relay"
    body = {"sender_id": number, "message": {"from": "mediator", "name": "amal", "text": "Ciao"}}
    headers = {"Authorization": f"Bearer {RASA_TOKEN}", "Content-Type": "application/json"}
    status, answer = post(url, json.dumps(body).encode(), headers)
    assert status == 502 and "24-hour" in json.loads(answer)["error"]
    sent = [c for c in platforms.calls("Messages", To=number) if c.get("_ok")]
    assert [c.get("ContentSid") for c in sent] == [TWILIO_TEMPLATE_SID]
    assert not any(c.get("Body") for c in sent)


# -- A message sent again after a lost connection is handled once (connectors/once.py)


def test_a_rest_message_sent_again_with_its_id_is_handled_once(assistant):
    sender = f"resent-{random.randrange(10**9)}"
    body = {"sender": sender, "message": "Come rinnovo il permesso di soggiorno?"}
    first = assistant.post(json.dumps({**body, "message_id": "m-1"}).encode())
    again = assistant.post(json.dumps({**body, "message_id": "m-1", "resent": True}).encode())
    assert first[0] == 200 and first[1], "the first sending is answered"
    # The conversation already holds m-1: no second answer, no second message.
    assert again == (200, [])
    assert assistant.user_texts(sender) == [body["message"]]
    # A new id is a new message, even with the same words.
    third = assistant.post(json.dumps({**body, "message_id": "m-2", "resent": True}).encode())
    assert third[1] and assistant.user_texts(sender) == [body["message"]] * 2


def test_resent_is_ignored_without_an_id_or_from_metadata(assistant):
    sender = f"resent-{random.randrange(10**9)}"
    text = "Come rinnovo il permesso di soggiorno?"
    assistant.post(json.dumps({"sender": sender, "message": text, "resent": True}).encode())
    # Only the body's own mark counts: metadata is the client's and cannot claim it.
    marked = {"sender": sender, "message": text, "metadata": {"resent": True}}
    assert assistant.post(json.dumps(marked).encode())[1]
    assert assistant.user_texts(sender) == [text, text]


def test_a_widget_message_sent_again_after_reconnecting_is_handled_once(assistant):
    import asyncio

    from tests.socketio_client import SocketIOClient

    text = "Come rinnovo il permesso di soggiorno?"

    async def scenario() -> str:
        async with SocketIOClient(assistant.settings.services.rasa_url) as first:
            await first.say(text, message_id="c-once-1")
            await first.next_message(timeout=60)
            session, tag = first.session_id, first.session_tag
        # The connection was lost before the ack: the widget sends it again.
        async with SocketIOClient(assistant.settings.services.rasa_url, session, tag) as again:
            await again.say(text, message_id="c-once-1", resent=True)
            await again.say("Dove trovo un medico di famiglia?", message_id="c-once-2")
            await again.next_message(timeout=60)
        return f"socketio:{session}"

    sender = asyncio.run(scenario())
    # The tracker is saved when the turn ends, a moment after its first reply.
    wait_for(lambda: len(assistant.user_texts(sender)) >= 2, timeout=60)
    assert assistant.user_texts(sender) == [text, "Dove trovo un medico di famiglia?"]
