"""The messaging channels' pure helpers (connectors/messaging.py), with no Rasa running.

Splitting, buttons, webhook payloads as Telegram and Twilio send them, the
Twilio signature against Twilio's own library, and the retrying sender
against the loopback platforms (tests/fake_platforms.py).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import unicodedata

import aiohttp
import pytest

from connectors.messaging import (
    NON_TEXT,
    TELEGRAM_LIMIT,
    WHATSAPP_LIMIT,
    Choices,
    PlatformError,
    basic_auth,
    button_payload,
    mediator_text,
    numbered_options,
    post_with_retry,
    split_text,
    telegram_incoming,
    telegram_keyboard,
    twilio_incoming,
    twilio_signature,
    units,
)
from tests.conftest import RASA_PYTHON
from tests.fake_platforms import TELEGRAM_TOKEN, TWILIO_SID, TWILIO_TOKEN

ARABIC = "يمكنك التسجيل في البلدية مع جواز السفر وعقد الإيجار، ثم تنتظر زيارة الشرطة المحلية."


def test_short_text_is_one_message_and_blank_lines_separate_messages():
    assert split_text("Ciao!", TELEGRAM_LIMIT) == ["Ciao!"]
    assert split_text("One.\n\nTwo.\nThree.", TELEGRAM_LIMIT) == ["One.", "Two.\nThree."]


@pytest.mark.parametrize("limit", [TELEGRAM_LIMIT, WHATSAPP_LIMIT, 100])
def test_long_text_is_cut_at_sentence_ends_within_the_limit(limit):
    sentence = "The registry office opens on Monday morning at nine o'clock. "
    text = sentence * (3 * limit // len(sentence))
    parts = split_text(text, limit)
    assert len(parts) >= 3
    assert all(units(part) <= limit for part in parts)
    assert all(part.endswith(".") for part in parts[:-1])
    assert " ".join(parts).split() == text.split()


def test_arabic_is_cut_between_words_and_keeps_its_vowel_signs():
    voweled = "مَرْحَبًا بِكُمْ فِي مَكْتَبِ الْمُسَاعَدَةِ "
    text = (voweled * 200).strip()
    parts = split_text(text, 500)
    assert len(parts) > 1 and all(units(p) <= 500 for p in parts)
    words = set(voweled.split())
    for part in parts:
        assert set(part.split()) <= words
        assert not unicodedata.combining(part[0])
    assert " ".join(parts) == text


def test_right_to_left_embeddings_are_closed_and_reopened_across_a_cut():
    rli, pdi = "\u2067", "\u2069"
    text = f"Address: {rli}{ARABIC * 8}{pdi} (Torre Pellice)"
    parts = split_text(text, 300)
    assert len(parts) > 1 and all(units(p) <= 300 for p in parts)
    for part in parts:
        assert part.count(rli) == part.count(pdi)
    assert parts[1].startswith(rli)
    joined = " ".join(parts).replace(rli, "").replace(pdi, "")
    assert joined.split() == text.replace(rli, "").replace(pdi, "").split()


def test_a_word_longer_than_the_limit_is_cut_and_emoji_count_double():
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    # One emoji is two UTF-16 units for Telegram.
    assert units("👋") == 2
    assert all(units(p) <= 10 for p in split_text("👋" * 12, 10))


def test_telegram_keyboard_one_button_a_row_and_long_payloads_by_key():
    short = {"title": "العربية", "payload": '/change_language{"language": "ar"}'}
    long_payload = '/choose_topic{"topic": "' + "residenza-" * 10 + '"}'
    keyboard = telegram_keyboard([short, {"title": "Residenza", "payload": long_payload}])
    rows = keyboard["inline_keyboard"]
    assert rows[0] == [{"text": "العربية", "callback_data": short["payload"]}]
    key = rows[1][0]["callback_data"]
    assert len(key.encode()) <= 64 and key != long_payload
    assert button_payload(key) == long_payload
    assert button_payload(short["payload"]) == short["payload"]


def test_numbered_options_and_the_number_read_back_in_any_digits():
    buttons = [{"title": "Sì", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    assert numbered_options("Ti è stato utile?", buttons) == "Ti è stato utile?\n1. Sì\n2. No"
    choices = Choices()
    choices.offer("whatsapp:+39", buttons)
    assert choices.answer("whatsapp:+39", " 2 ") == "/deny"
    # Forgotten after one reply: a later "1" is just text.
    assert choices.answer("whatsapp:+39", "1") == "1"
    choices.offer("whatsapp:+39", buttons)
    assert choices.answer("whatsapp:+39", "١") == "/affirm"  # Arabic-Indic digit one
    choices.offer("whatsapp:+39", buttons)
    assert choices.answer("whatsapp:+39", "3") == "3"
    assert choices.answer("whatsapp:+44", "1") == "1"


def test_mediator_text_puts_the_name_on_its_own_line():
    message = {"from": "mediator", "name": "amal", "text": "مرحبا", "machine_translated": False}
    assert mediator_text(message) == "👤 amal\nمرحبا"
    assert mediator_text({**message, "machine_translated": True}) == "👤 amal 🌐\nمرحبا"
    assert mediator_text({"text": "plain"}) == "plain"


def _message(**fields) -> dict:
    return {
        "message_id": 17,
        "from": {"id": 42, "is_bot": False, "first_name": "Amina", "language_code": "ar"},
        "chat": {"id": 42, "first_name": "Amina", "type": "private"},
        "date": 1764585600,
        **fields,
    }


def test_telegram_updates_as_telegram_sends_them():
    text = telegram_incoming({"update_id": 1, "message": _message(text="مرحبا")})
    assert (text.sender_id, text.text, text.metadata) == (
        "telegram:42",
        "مرحبا",
        {"language_hint": "ar"},
    )
    edited = telegram_incoming(
        {"update_id": 2, "edited_message": {**_message(text="ciao"), "edit_date": 1764585700}}
    )
    assert edited.text == "ciao"
    sticker = {"file_id": "CAAC", "file_unique_id": "A", "width": 512, "height": 512}
    stuck = telegram_incoming({"update_id": 3, "message": _message(sticker=sticker)})
    assert stuck.text == NON_TEXT
    voice = {"file_id": "AwAC", "file_unique_id": "B", "duration": 3, "mime_type": "audio/ogg"}
    assert telegram_incoming({"update_id": 4, "message": _message(voice=voice)}).text == NON_TEXT
    photo = [{"file_id": "AgAC", "file_unique_id": "C", "width": 90, "height": 90}]
    assert telegram_incoming({"update_id": 5, "message": _message(photo=photo)}).text == NON_TEXT
    captioned = _message(photo=photo, caption="è scaduto?")
    assert telegram_incoming({"update_id": 6, "message": captioned}).text == "è scaduto?"
    query = {
        "id": "4382bfdwdsb323b2d9",
        "from": {"id": 42, "is_bot": False, "first_name": "Amina", "language_code": "pt-BR"},
        "message": _message(text="Choose"),
        "chat_instance": "-1",
        "data": "/affirm",
    }
    button = telegram_incoming({"update_id": 7, "callback_query": query})
    assert (button.text, button.callback_query_id, button.language_hint) == (
        "/affirm",
        "4382bfdwdsb323b2d9",
        "pt",
    )
    assert telegram_incoming({"update_id": 8, "my_chat_member": {}}) is None


def test_twilio_form_as_twilio_sends_it():
    form = {"From": "whatsapp:+393331234567", "Body": "ciao", "NumMedia": "0"}
    assert twilio_incoming(form).text == "ciao"
    media = {
        "From": "whatsapp:+393331234567",
        "Body": "",
        "NumMedia": "1",
        "MediaContentType0": "audio/ogg",
    }
    assert twilio_incoming(media).text == NON_TEXT
    assert twilio_incoming({"Body": "x"}) is None


def test_twilio_signature_matches_twilios_own_library():
    url = "https://help.example.org/webhooks/twilio/webhook?x=1"
    params = {"From": "whatsapp:+393331234567", "Body": "مرحبا é", "NumMedia": "0", "To": "w:+1"}
    reference = subprocess.run(
        [
            str(RASA_PYTHON),
            "-c",
            "import json, sys; from twilio.request_validator import RequestValidator as V; "
            "a = json.loads(sys.argv[1]); print(V(a[0]).compute_signature(a[1], a[2]))",
            json.dumps([TWILIO_TOKEN, url, params]),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert twilio_signature(TWILIO_TOKEN, url, params.items()) == reference
    assert twilio_signature("another-token", url, params.items()) != reference


def _send(url: str, **request) -> dict:
    async def run() -> dict:
        async with aiohttp.ClientSession() as session:
            return await post_with_retry(session, url, backoff=0.05, **request)

    return asyncio.run(run())


def test_sending_retries_5xx_and_honours_retry_after(platforms):
    url = f"{platforms.url}/bot{TELEGRAM_TOKEN}/sendMessage"
    platforms.fail("sendMessage", 502)
    platforms.fail("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    answer = _send(url, json={"chat_id": 7001, "text": "hi"})
    assert answer["ok"] and answer["result"]["text"] == "hi"
    attempts = platforms.calls("sendMessage", chat_id="7001")
    assert len(attempts) == 3 and time.monotonic() - started >= 1.0


def test_sending_gives_up_saying_why(platforms):
    url = f"{platforms.url}/bot{TELEGRAM_TOKEN}/sendMessage"
    platforms.fail("sendMessage", 500, 500, 500)
    with pytest.raises(PlatformError, match="500"):
        _send(url, json={"chat_id": 7002, "text": "hi"})
    assert len(platforms.calls("sendMessage", chat_id="7002")) == 3
    # A refusal is final: no retry.
    with pytest.raises(PlatformError, match="400 Bad Request: message text is empty"):
        _send(url, json={"chat_id": 7003, "text": ""})
    assert len(platforms.calls("sendMessage", chat_id="7003")) == 1
    # Nobody listening: no answer, retried, then given up.
    with pytest.raises(PlatformError, match="no answer"):
        _send("http://127.0.0.1:9/sendMessage", json={})


def test_twilio_429_retry_after_header(platforms):
    url = f"{platforms.url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    form = {"From": "whatsapp:+14155238886", "To": "whatsapp:+391", "Body": "ciao"}
    platforms.fail("Messages", 429, retry_after=0.2)
    answer = _send(url, data=form, headers={"Authorization": basic_auth(TWILIO_SID, TWILIO_TOKEN)})
    assert answer["status"] == "queued" and answer["body"] == "ciao"
    assert len(platforms.calls("Messages", To="whatsapp:+391")) == 2


def test_left_to_right_runs_in_arabic_lines_are_isolated_for_plain_text_channels():
    from connectors.bidi import FSI, PDI, isolate_ltr_runs

    arabic = (
        "اتصل بـ «medico di base» على +39 0121 000007 "
        "أو https://www.aslto3.piemonte.it/ في 02/12 09:00."
    )
    isolated = isolate_ltr_runs(arabic)
    assert f"{FSI}«medico di base»{PDI}" in isolated
    assert f"{FSI}+39 0121 000007{PDI}" in isolated
    assert f"{FSI}https://www.aslto3.piemonte.it/{PDI}" in isolated
    assert f"{FSI}02/12 09:00{PDI}" in isolated
    assert isolated.replace(FSI, "").replace(PDI, "") == arabic
    # An Italian line quoting Arabic is shown left to right already: unchanged.
    italian = "Indirizzo: شارع روما 3, tel. +39 0121 000007"
    assert isolate_ltr_runs(f"{arabic}\n{italian}").split("\n")[1] == italian
    # What Telegram and WhatsApp send goes through split_text.
    assert split_text(arabic, 4096) == [isolated]
