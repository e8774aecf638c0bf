"""Benchmark of what the messaging channels add to a turn, run by ``make bench``.

The same questions are asked three times, each time in a new conversation:
over Rasa's REST channel (the reply comes back in the answer), as a Telegram
update to our webhook, and as a signed Twilio webhook. A Telegram or WhatsApp
turn is timed until the webhook answers, which our channels do only after
every reply went out to the platform's API (the loopback servers of
tests/fake_platforms.py, which answer at once). The turns are interleaved
(REST, Telegram, WhatsApp for one question, then the next) so that a slower
moment of the machine weighs on all three alike; each question's channel turn
minus its REST turn is the channel's overhead for that message: reading the
webhook and checking it, and sending the replies through the API.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.parse
import urllib.request

from connectors.messaging import twilio_signature
from tests.fake_platforms import TELEGRAM_SECRET, TWILIO_TOKEN, FakePlatforms

# The REST channel answers only trusted integrations: the benchmarks are one.
BENCH_REST_TOKEN = "bench-rest"
REST_AUTH = {"Authorization": f"Bearer {BENCH_REST_TOKEN}"}


def _timed(request: urllib.request.Request) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as answer:
        answer.read()
        if answer.status != 200:
            raise RuntimeError(f"{request.full_url} answered {answer.status}")
    return time.perf_counter() - started


def run(rasa_url: str, platforms: FakePlatforms, texts: list[str]) -> dict[str, list[float]]:
    """Seconds per turn: REST, Telegram, WhatsApp, and the two overheads (paired differences)."""
    numbers = itertools.count(10**8)
    rest, telegram, whatsapp = [], [], []
    for text in texts:
        number = next(numbers)
        body = json.dumps({"sender": f"bench-rest-{number}", "message": text}).encode()
        rest.append(
            _timed(
                urllib.request.Request(
                    f"{rasa_url}/webhooks/rest/webhook",
                    data=body,
                    headers={"Content-Type": "application/json", **REST_AUTH},
                )
            )
        )
        user = {"id": number, "is_bot": False, "first_name": "Bench", "language_code": "it"}
        update = {
            "update_id": number,
            "message": {
                "message_id": 1,
                "from": user,
                "chat": {"id": number, "type": "private"},
                "date": int(time.time()),
                "text": text,
            },
        }
        telegram.append(
            _timed(
                urllib.request.Request(
                    f"{rasa_url}/webhooks/telegram/webhook",
                    data=json.dumps(update).encode(),
                    headers={
                        "Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
                    },
                )
            )
        )
        url = f"{rasa_url}/webhooks/twilio/webhook"
        form = {"From": f"whatsapp:+39{number}", "Body": text, "NumMedia": "0"}
        whatsapp.append(
            _timed(
                urllib.request.Request(
                    url,
                    data=urllib.parse.urlencode(form).encode(),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": twilio_signature(TWILIO_TOKEN, url, form.items()),
                    },
                )
            )
        )
    sent = len(platforms.calls("sendMessage")) + len(platforms.calls("Messages"))
    if sent < 2 * len(texts):
        raise RuntimeError(f"Only {sent} replies reached the platforms for {len(texts)} questions")
    return {
        "rest": rest,
        "telegram": telegram,
        "whatsapp": whatsapp,
        "telegram_overhead": [t - r for t, r in zip(telegram, rest, strict=True)],
        "whatsapp_overhead": [w - r for w, r in zip(whatsapp, rest, strict=True)],
    }
