"""The desk's parts on their own: hours, redaction, passwords, the store, the event relay."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.desk import __main__ as cli
from connectors.desk.auth import hash_password, verify_password
from connectors.desk.connector import DeskConnector
from connectors.desk.figures import Figures
from connectors.desk.store import Store
from connectors.handoff import DeliveryError, RasaConversations
from core.hours import OpeningHours
from core.protocol import TOO_LONG
from core.redact import redact
from knowledge.settings import SettingsError, load_settings


@pytest.fixture(scope="module")
def postgres():
    from tests.postgres import running_postgres

    with running_postgres() as server:
        yield server


# The desk's store and relay run on both databases it supports.
@pytest.fixture(params=["sqlite", "postgresql"])
def desk_settings(request, tmp_path):
    environ = {"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_DESK_HOURS": "always"}
    if request.param == "postgresql":
        environ["HELPDESK_DATABASE_URL"] = request.getfixturevalue("postgres").new_database()
    return load_settings(environ=environ)


@pytest.fixture
def store(desk_settings):
    return Store.open(desk_settings.desk.database_url)


# -- opening hours --------------------------------------------------------------


def test_opening_hours_say_when_mediators_are_back():
    hours = OpeningHours.parse("mon-fri 09:00-13:00,14:00-17:00; sat 09:00-12:00", "Europe/Rome")
    rome = hours.zone
    assert hours.is_open(datetime(2026, 12, 1, 10, 0, tzinfo=rome))  # Tuesday
    assert not hours.is_open(datetime(2026, 12, 1, 13, 30, tzinfo=rome))  # lunch
    assert hours.next_opening(datetime(2026, 12, 1, 13, 30, tzinfo=rome)) == datetime(
        2026, 12, 1, 14, 0, tzinfo=rome
    )
    # Saturday afternoon: back on Monday morning.
    assert hours.next_opening(datetime(2026, 12, 5, 12, 30, tzinfo=rome)) == datetime(
        2026, 12, 7, 9, 0, tzinfo=rome
    )
    assert OpeningHours.parse("always", "Europe/Rome").is_open(datetime.now(UTC))


@pytest.mark.parametrize(
    "hours", ["mon 9-", "funday 09:00-10:00", "mon 13:00-09:00", "mon 25:00-26:00"]
)
def test_wrong_opening_hours_name_the_setting(tmp_path, hours):
    with pytest.raises(SettingsError, match="desk.hours.*HELPDESK_DESK_HOURS"):
        load_settings(environ={"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_DESK_HOURS": hours})


# -- redaction ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kept", "removed"),
    [
        ("chiamami al +39 333 123 4567 grazie", "chiamami al", "333"),
        ("my mail is amina.k@example.org", "my mail is", "amina"),
        ("IBAN IT60 X054 2811 1010 0000 0123 456 ok", "ok", "X054"),
        ("codice fiscale RSSMRA85T10A562S", "codice fiscale", "RSSMRA85T10A562S"),
        ("passport YA1234567 expired", "expired", "YA1234567"),
        ("permesso numero 1234567", "permesso numero", "1234567"),
        ("رقمي 3331234567 من فضلك", "من فضلك", "3331234567"),
    ],
)
def test_personal_data_is_redacted(text, kept, removed):
    cleaned = redact(text)
    assert kept in cleaned and removed not in cleaned


def test_redaction_keeps_ordinary_numbers():
    assert redact("call 112 or 1522; the fee is 16 euro in 2026") == (
        "call 112 or 1522; the fee is 16 euro in 2026"
    )


# -- passwords and the users command -------------------------------------------


def test_passwords_are_hashed_and_checked():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("anything", "not-a-hash")


def test_users_command_adds_lists_and_resets(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    cli.get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("first-password-1\n"))
        cli.main(
            [
                "users",
                "add",
                "amal",
                "--role",
                "mediator",
                "--languages",
                "ar,fr",
                "--password-stdin",
            ]
        )
        cli.main(["users", "list"])
        assert "amal\tmediator\tar fr" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        with pytest.raises(SystemExit, match="at least 10"):
            cli.main(["users", "reset-password", "amal", "--password-stdin"])
        monkeypatch.setattr("sys.stdin", io.StringIO("second-password-2\n"))
        cli.main(["users", "reset-password", "amal", "--password-stdin"])
        store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
        user, stored = store.credentials("amal")
        assert verify_password("second-password-2", stored)
        assert not verify_password("first-password-1", stored)
        monkeypatch.setattr("sys.stdin", io.StringIO("another-password\n"))
        with pytest.raises(SystemExit, match="exists already"):
            cli.main(["users", "add", "amal", "--role", "admin", "--password-stdin"])
    finally:
        cli.get_settings.cache_clear()


# -- claiming -------------------------------------------------------------------


def test_two_mediators_claiming_at_once_exactly_one_wins(store):
    a = store.add_user("a", hash_password("x" * 12), "mediator", "ar")
    b = store.add_user("b", hash_password("x" * 12), "mediator", "ar")
    for _ in range(20):
        with store.transaction() as db:
            handoff_id = store.open_handoff(
                db,
                sender_id=f"s-{datetime.now().timestamp()}",
                channel="rest",
                language="ar",
                topic=None,
                reason="request",
            )
        start = threading.Barrier(2)
        results: dict[int, bool] = {}
        threads = [
            threading.Thread(target=_claim, args=(store, handoff_id, u.id, start, results))
            for u in (a, b)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results.values()) == [False, True]
        winner = next(user for user, won in results.items() if won)
        assert store.handoff(handoff_id)["mediator_id"] == winner


def test_a_handoff_is_released_or_transferred_only_by_its_holder_and_recorded(store):
    a, b, c = (
        store.add_user(name, "h", "mediator", languages)
        for name, languages in (("a", "ar"), ("b", "ar it"), ("c", "uk"))
    )
    admin = store.add_user("boss", "h", "admin", "it")
    with store.transaction() as db:
        handoff_id = store.open_handoff(
            db, sender_id="p-1", channel="rest", language="ar", topic=None, reason="request"
        )
    assert store.colleagues("ar", a.id) == ["b"]
    assert store.colleagues("ta", None) == ["a", "b", "c"]  # nobody speaks it: anyone
    assert not store.release(handoff_id, a.id, a)  # waiting: nobody holds it
    assert store.claim(handoff_id, a.id)
    assert not store.transfer(handoff_id, b.id, c, b)  # b does not hold it
    assert store.transfer(handoff_id, a.id, b, a)
    assert not store.release(handoff_id, a.id, a)  # no longer a's
    assert store.handoff(handoff_id)["mediator_name"] == "b"
    assert store.release(handoff_id, b.id, admin)
    assert store.handoff(handoff_id)["status"] == "waiting"
    assert [(m["author"], m["text"]) for m in store.handoff_transcript(handoff_id)] == [
        ("desk", "Transferred from a to b."),
        ("desk", "Put back in the queue by boss."),
    ]
    # The desk's lines are about the person: "forget me" takes them too.
    store.forget("p-1")
    assert store.handoff_transcript(handoff_id) == [] and store.handoff(handoff_id) is None


def test_closed_handoffs_are_found_by_their_mediator_language_and_day(store):
    a = store.add_user("a", "h", "mediator", "ar fr")
    b = store.add_user("b", "h", "mediator", "ar")
    ids = {}
    for sender, language, mediator in (("p-ar", "ar", a), ("p-fr", "fr", a), ("p-b", "ar", b)):
        with store.transaction() as db:
            ids[sender] = store.open_handoff(
                db, sender_id=sender, channel="rest", language=language, topic=None, reason="x"
            )
        assert store.claim(ids[sender], mediator.id)
        assert store.close(ids[sender], mediator.id, "done")
    with store.transaction() as db:
        still_open = store.open_handoff(
            db, sender_id="p-open", channel="rest", language="ar", topic=None, reason="x"
        )
    assert store.claim(still_open, a.id)

    def found(mediator_id, **filters):
        return [h["id"] for h in store.closed(mediator_id, **filters)]

    assert found(a.id) == [ids["p-fr"], ids["p-ar"]]  # newest first, only a's, only closed
    assert found(a.id, language="ar") == [ids["p-ar"]]
    assert found(None) == [ids["p-b"], ids["p-fr"], ids["p-ar"]]
    today = datetime.now(UTC).replace(tzinfo=None)
    assert found(a.id, since=today - timedelta(hours=1)) == [ids["p-fr"], ids["p-ar"]]
    assert found(a.id, before=today - timedelta(hours=1)) == []
    store.forget("p-ar")  # what "forget me" or retention deleted is not found either
    assert found(a.id) == [ids["p-fr"]]


def test_saved_replies_are_kept_per_language_and_outlive_forget_me(store):
    amal = store.add_user("amal", "h", "mediator", "ar fr")
    arabic = "أحضر جواز سفرك والإيصال إلى الكويستورا يوم الاثنين"
    first = store.add_saved_reply("ar", arabic, amal.id)
    store.add_saved_reply("fr", "Apportez votre passeport lundi.", amal.id)
    assert [(r["text"], r["author_name"]) for r in store.saved_replies("ar")] == [(arabic, "amal")]
    assert store.count_saved_replies("fr") == 1 and store.saved_replies("uk") == []
    assert store.edit_saved_reply(first, arabic + " 9:00")
    assert store.saved_reply(first)["text"].endswith("9:00")
    # About no person: forgetting someone leaves them.
    with store.transaction() as db:
        store.open_handoff(
            db, sender_id="p-1", channel="rest", language="ar", topic=None, reason="x"
        )
    store.forget("p-1")
    assert store.count_saved_replies("ar") == 1
    assert store.delete_saved_reply(first) and not store.delete_saved_reply(first)
    assert store.saved_reply(first) is None and not store.edit_saved_reply(first, "x")


def _claim(store, handoff_id, user_id, start, results) -> None:
    start.wait()
    results[user_id] = store.claim(handoff_id, user_id)


# -- following Rasa's events ------------------------------------------------------


class FakeRasaEvents:
    """Rasa's SQL event broker table, written as Rasa writes it."""

    SCHEMA = "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"

    def __init__(self, path):
        self.url = f"sqlite:///{path}"
        self.engine = sa.create_engine(self.url)
        with self.engine.begin() as db:
            db.execute(sa.text(self.SCHEMA))

    def publish(self, sender: str, event: dict) -> None:
        event = {"sender_id": sender, "timestamp": datetime.now(UTC).timestamp(), **event}
        with self.engine.begin() as db:
            db.execute(
                sa.text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"),
                {"s": sender, "d": json.dumps(event)},
            )


async def _run_until(connector: DeskConnector, condition, timeout: float = 10) -> None:
    await connector.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.05)
    finally:
        await connector.stop()


async def test_relay_resumes_after_a_desk_restart_without_loss_or_double(desk_settings, tmp_path):
    rasa = FakeRasaEvents(tmp_path / "events.db")
    sender = "person-1"
    rasa.publish(sender, {"event": "user", "text": "أريد التحدث مع شخص"})
    rasa.publish(sender, {"event": "bot", "text": "سأصلك بوسيط ثقافي."})
    rasa.publish(
        sender,
        {
            "event": "slot",
            "name": "handoff_request",
            "value": {
                "reason": "request",
                "language": "ar",
                "channel": "socketio",
                "urgent": False,
            },
        },
    )
    rasa.publish(sender, {"event": "user", "text": "مرحبا؟"})

    first = DeskConnector(desk_settings, events_url=rasa.url)
    notices: list[dict] = []

    async def listen(notice):
        notices.append(notice)

    first.listeners.add(listen)
    # The turn that asked for the hand-off, and what came after it.
    await _run_until(first, lambda: len(first.store.transcript(sender)) == 3)
    handoff = first.store.queue()[0]
    assert handoff["language"] == "ar" and handoff["channel"] == "socketio"
    assert {"type": "queue"} in notices
    assert any(n.get("type") == "message" and n["handoff_id"] == handoff["id"] for n in notices)

    # Said while the desk was down.
    rasa.publish(sender, {"event": "user", "text": "هل من أحد؟"})
    rasa.publish(
        sender,
        {
            "event": "slot",
            "name": "answer_record",
            "value": {"question": "mail me at a@b.it", "language": "en", "confident": False},
        },
    )
    second = DeskConnector(desk_settings, events_url=rasa.url)
    await _run_until(second, lambda: len(second.store.transcript(sender)) == 4)
    transcript = second.store.transcript(sender)
    assert [m["author"] for m in transcript] == ["migrant", "bot", "migrant", "migrant"]
    assert all(m["handoff_id"] == handoff["id"] for m in transcript)
    assert len(second.store.queue()) == 1
    figures = Figures.compute(
        second.store, datetime(2000, 1, 1), datetime.now() + timedelta(days=1)
    )
    assert figures.questions == 1 and figures.unanswered == [("mail me at [email]", 1)]


# -- what the desk sends the person through Rasa ---------------------------------


class FakeRasaApi:
    """Rasa's /conversations/<id>/execute, refusing the first `busy` calls (a held lock)."""

    def __init__(self, busy: int = 0) -> None:
        self.busy = busy
        self.executed: list[tuple[str, str]] = []
        self.app = web.Application()
        self.app.router.add_post("/conversations/{sender}/execute", self.execute)

    async def execute(self, request: web.Request) -> web.Response:
        if self.busy:
            self.busy -= 1
            return web.json_response({"error": "conversation locked"}, status=500)
        body = await request.json()
        self.executed.append((request.match_info["sender"], body["name"]))
        return web.json_response({})


async def test_a_response_for_the_person_is_tried_again_while_rasa_is_busy():
    rasa = FakeRasaApi(busy=2)
    async with TestServer(rasa.app) as server, aiohttp.ClientSession() as session:
        conversations = RasaConversations(str(server.make_url("")).rstrip("/"), "t", session)
        await conversations.utter("p-1", "utter_emergency_violence", attempts=3, pause_seconds=0)
        assert rasa.executed == [("p-1", "utter_emergency_violence")]

        rasa.busy = 2
        with pytest.raises(DeliveryError, match="500"):
            await conversations.utter("p-2", "utter_emergency_fire", attempts=2, pause_seconds=0)
        assert rasa.executed == [("p-1", "utter_emergency_violence")]


async def test_a_too_long_message_in_a_handoff_shows_its_start_and_the_person_is_told(tmp_path):
    rasa = FakeRasaApi()
    events = FakeRasaEvents(tmp_path / "events.db")
    sender = "person-long"
    events.publish(sender, {"event": "user", "text": "voglio parlare con una persona"})
    events.publish(
        sender,
        {"event": "slot", "name": "handoff_request", "value": {"reason": "request"}},
    )
    excerpt = "Buongiorno, vi scrivo la mia storia. " * 13
    events.publish(
        sender,
        {
            "event": "user",
            "text": TOO_LONG,
            "metadata": {"refused": {"chars": 9000, "excerpt": excerpt}},
        },
    )
    async with TestServer(rasa.app) as server:
        settings = load_settings(
            environ={
                "HELPDESK_DATA_DIR": str(tmp_path),
                "HELPDESK_DESK_HOURS": "always",
                "HELPDESK_RASA_URL": str(server.make_url("")).rstrip("/"),
            }
        )
        desk = DeskConnector(settings, events_url=events.url)
        await _run_until(
            desk,
            lambda: len(desk.store.transcript(sender)) == 2 and rasa.executed,
        )
    said = desk.store.transcript(sender)[-1]
    assert said["author"] == "migrant" and said["handoff_id"] is not None
    assert said["text"].startswith(excerpt.strip()) and "9000 characters" in said["text"]
    assert rasa.executed == [(sender, "utter_message_too_long")]
