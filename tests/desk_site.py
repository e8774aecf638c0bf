"""The desk's web app alone, with a long queue: for the desk's browser tests and screenshots.

    settings = queue_settings(tmp / "data")   # a fresh data folder, no Rasa, no action server
    store = Store.open(settings.desk.database_url)
    seed_queue(store)                         # amal, rahim and 60 waiting requests
    site = Site(settings)                     # create_app() on a free port, in a thread
    ...
    site.stop()

Mediators: amal works in ar, fr, it; rahim in bn, ur. Nobody speaks es, so
amal's queue also holds the Spanish requests (the server sends them to everyone).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from connectors.desk import app as desk
from connectors.desk.auth import hash_password
from connectors.desk.store import Store, handoffs, now
from connectors.handoff import HandoffRequest
from knowledge.settings import Settings, load_settings
from tests.conftest import PASSWORD, free_port

AMAL = ("ar", "fr", "it")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}
# language, how many, how many of them urgent
SEED = [("ar", 24, 3), ("fr", 12, 0), ("it", 6, 0), ("es", 8, 0), ("bn", 10, 1)]
SEARCHED = "ho perso il passaporto alla stazione"
ATTACK = '<img src=x onerror="window.__xss=1"><b>bold</b>'
# The widget's sessions are signed with it (its files are sent with one).
SESSION_SECRET = "browser-test-session-secret"


class Site:
    """create_app() served on a free port by an event loop in a thread."""

    def __init__(self, settings) -> None:
        from connectors.web import create_app

        self.app = create_app(settings)
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(self.app)
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.TCPSite(self.runner, "localhost", self.port).start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        assert ready.wait(60), "the web app did not start"

    def call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def new_request(self, sender: str, language: str, urgent: bool) -> None:
        """A hand-off opened as the bot opens one; the desk is told live."""
        request = HandoffRequest(
            sender_id=sender,
            channel="telegram",
            language=language,
            topic=None,
            reason="emergency" if urgent else "request",
            urgent=urgent,
            at=time.time(),
        )
        self.call(self.app[desk.CONNECTOR_KEY].open(request))

    def stop(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


def queue_settings(data_dir: Path) -> Settings:
    """Settings for a desk of its own: the data in `data_dir`, open at all hours."""
    shared = {
        k: v for k, v in os.environ.items() if k in ("HELPDESK_TAXONOMY", "HELPDESK_MODELS_DIR")
    }
    return load_settings(
        environ={
            **shared,
            "HELPDESK_DATA_DIR": str(data_dir),
            "HELPDESK_DESK_HOURS": "always",
            "HELPDESK_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "HELPDESK_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
            "HELPDESK_SESSION_SECRET": SESSION_SECRET,
        }
    )


def seed_queue(store: Store) -> None:
    """amal and rahim (reading the desk in English), and the requests of SEED, waiting."""
    hashed = hash_password(PASSWORD)
    for user in (
        store.add_user("amal", hashed, "mediator", " ".join(AMAL)),
        store.add_user("rahim", hashed, "mediator", "bn ur"),
    ):
        # These tests read the desk in English (Italian is the default).
        store.set_page_language(user.id, "en")
    start = now() - timedelta(hours=3)
    number = 0
    with store.transaction() as db:
        for language, count, urgent in SEED:
            for k in range(count):
                number += 1
                sender = f"telegram:{language}-{k}"
                handoff_id = store.open_handoff(
                    db,
                    sender_id=sender,
                    channel="socketio" if k % 2 else "telegram",
                    language=language,
                    topic="residence_permit",
                    reason="emergency" if k < urgent else "request",
                    urgent=k < urgent,
                    # Interleaved in time, so that the queue's order is not the seed's.
                    at=start + timedelta(minutes=(number * 7) % 150),
                )
                first = f"richiesta {language} numero {k}"
                if (language, k) == ("fr", 5):
                    first = SEARCHED
                if (language, k) == ("ar", 10):
                    first = ATTACK
                if (language, k) == ("it", 2):
                    first = "chiamatemi al +39 333 123 4567"
                for text in (first, "seconda riga"):
                    store.add_message(
                        db, sender_id=sender, handoff_id=handoff_id, author="migrant", text=text
                    )


def seed_figures(store: Store, topics: list[str], questions: int = 300, days: int = 30) -> None:
    """Questions over the last `days` days, about `topics`, in several languages, most answered
    with confidence; and a few hand-offs claimed, closed and rated by amal, for the dashboard."""
    languages = ("ar", "it", "fr", "uk", "bn", "es", "ar", "fa")
    with store.transaction() as db:
        for k in range(questions):
            store.add_question(
                db,
                sender_id=f"figures-{k % 97}",
                # More questions lately, and none on some nights: a trend with some shape.
                asked_at=now() - timedelta(hours=(k * 37) % (days * 24) * (k % 3 + 1) / 3 + 1),
                source="counter" if k % 6 == 0 else "conversation",
                language=languages[k % len(languages)],
                # Some topics far more asked than others (a golden-ratio spread, squared).
                topic=topics[int(len(topics) * ((k * 0.618034) % 1) ** 2)],
                confident=k % 7 != 0,
                text=f"domanda {k}",
            )
    amal = store.credentials("amal")[0]
    waiting = [h for h in store.queue() if h["status"] == "waiting" and h["language"] == "fr"]
    for n, handoff in enumerate(waiting[:6]):
        store.claim(handoff["id"], amal.id)
        store.close(handoff["id"], amal.id, "")
        with store.transaction() as db:
            # Claimed a few minutes after it came, answered for half an hour or so.
            claimed = now() - timedelta(hours=n + 2)
            db.execute(
                handoffs.update()
                .where(handoffs.c.id == handoff["id"])
                .values(
                    created_at=claimed - timedelta(minutes=3 + 2 * n),
                    claimed_at=claimed,
                    closed_at=claimed + timedelta(minutes=20 + 5 * n),
                )
            )
            store.rate_latest(db, handoff["sender_id"], (9, 10, 7, 8, 10, 9)[n])
