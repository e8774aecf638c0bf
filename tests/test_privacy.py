"""Privacy: the notice and the person's choice, "delete my data", the admin
command, the retention job, and personal data kept out of logs.

The first tests run the parts on their own (the desk's store on SQLite and
PostgreSQL); the others go through the real Rasa, action server and web app
and read the databases afterwards.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions as actions
from connectors.desk.store import (
    Store,
    attachments,
    forget_requests,
    handoff_notes,
    handoffs,
    messages,
    questions,
)
from connectors.handoff import RasaEvents
from connectors.privacy import SETTLE, Privacy, RasaEventsTable
from core.redact import install_log_redaction, redact
from knowledge.settings import PROJECT_ROOT, SettingsError, load_settings
from tests.conftest import Assistant, rest_id, wait_for

# The desk's store on SQLite and on a real PostgreSQL server, as in test_desk.py.
from tests.test_desk import FakeRasaEvents, desk_settings, postgres  # noqa: F401

# -- settings ---------------------------------------------------------------------


def test_retention_settings_default_and_override(tmp_path):
    defaults = load_settings(environ={"HELPDESK_DATA_DIR": str(tmp_path)})
    assert defaults.privacy.retention_days == 90
    assert defaults.privacy.declined_retention_hours == 24
    changed = load_settings(
        environ={"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_RETENTION_DAYS": "30"}
    )
    assert changed.privacy.retention_days == 30
    with pytest.raises(SettingsError, match="privacy.retention_days.*HELPDESK_RETENTION_DAYS"):
        load_settings(environ={"HELPDESK_DATA_DIR": str(tmp_path), "HELPDESK_RETENTION_DAYS": "0"})


# -- redaction, in figures and logs ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "removed"),
    [
        ("chiamami allo 011 1234567", "1234567"),
        ("IBAN IT60X0542811101000000123456", "0542811101"),
        ("il mio codice fiscale è RSSMRA85T10A56NS", "RSSMRA85T10A56NS"),  # a duplicate's code
        ("numero permesso I00012345", "I00012345"),
        ("passaporto AA1234567 e mail x_y@posta.it", "AA1234567"),
    ],
)
def test_more_personal_data_is_redacted(text, removed):
    assert removed not in redact(text) and "[" in redact(text)


def test_no_ordinary_long_word_is_taken_for_a_tax_code():
    assert redact("internationalisms ABCDEFGHIJKLMNOP") == "internationalisms ABCDEFGHIJKLMNOP"


@pytest.fixture
def log_records():
    """What a handler writes, with the redaction installed as our processes install it."""
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test-privacy")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)
    logging.setLogRecordFactory(factory)


def test_log_records_are_redacted_with_their_arguments_and_exceptions(log_records):
    logger, stream = log_records
    logger.info("Message from %s: %s", "+39 333 123 4567", "mail amina.k@example.org")
    try:
        raise ValueError("codice fiscale RSSMRA85T10A562S not valid")
    except ValueError:
        logger.exception("Could not read IBAN IT60 X054 2811 1010 0000 0123 456")
    written = stream.getvalue()
    for secret in ("333 123 4567", "amina", "RSSMRA85T10A562S", "X054"):
        assert secret not in written
    assert "[phone]" in written and "[email]" in written and "ValueError" in written


# -- forgetting and retention, on the stores themselves ----------------------------


class FakeRasaTracker(FakeRasaEvents):
    """Rasa's SQL tracker store table, as Rasa 3.6 creates it."""

    SCHEMA = (
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
        " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
        " action_name VARCHAR(255), data TEXT)"
    )

    def add(self, sender: str, event: dict, at: datetime) -> None:
        event = {"timestamp": at.replace(tzinfo=UTC).timestamp(), **event}
        with self.engine.begin() as db:
            db.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data)"
                    " VALUES (:s, :t, :at, :d)"
                ),
                {"s": sender, "t": event["event"], "at": event["timestamp"]}
                | {"d": json.dumps(event)},
            )

    def count(self, sender: str) -> int:
        with self.engine.connect() as db:
            return db.execute(
                sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
            ).scalar()


@pytest.fixture
def places(desk_settings, tmp_path):  # noqa: F811 (the fixture imported above)
    chosen = desk_settings
    store = Store.open(chosen.desk.database_url)
    tracker, broker = FakeRasaTracker(tmp_path / "tracker.db"), FakeRasaEvents(tmp_path / "ev.db")
    privacy = Privacy(
        chosen,
        store,
        RasaEventsTable(tracker.url, timed=True),
        RasaEventsTable(broker.url, timed=False),
    )
    return privacy, store, tracker, broker


def said(places, sender: str, at: datetime, handoff_open: bool = False) -> None:
    """A person's message, as it ends up in every store."""
    _, store, tracker, broker = places
    tracker.add(sender, {"event": "user", "text": "my phone is 3331234567"}, at)
    broker.publish(sender, {"event": "user", "text": "my phone is 3331234567"})
    with store.transaction() as db:
        handoff_id = None
        if handoff_open:
            handoff_id = store.open_handoff(
                db,
                sender_id=sender,
                channel="rest",
                language="it",
                topic=None,
                reason="request",
                at=at,
            )
        store.add_message(
            db, sender_id=sender, handoff_id=handoff_id, author="migrant", text="hi", created_at=at
        )
        store.add_question(
            db,
            sender_id=sender,
            asked_at=at,
            source="conversation",
            language="it",
            confident=True,
            text="dove si fa la residenza",
        )
    if handoff_id is not None:
        # A photo of their letter, sent during the hand-off (connectors/desk/uploads.py).
        assert store.add_attachment(sender, "image/png", b"\x89PNG letter", "📎 Photo", at)
        # A mediator's private note is about the person too.
        with store.transaction() as db:
            db.execute(
                handoff_notes.insert().values(
                    sender_id=sender,
                    handoff_id=handoff_id,
                    text="lives with her sister in via Roma",
                    created_at=at,
                )
            )


def rows(places, sender: str) -> dict[str, int]:
    _, store, tracker, broker = places
    with store.engine.connect() as db:
        counts = {
            table.name: db.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.sender_id == sender)
            ).scalar()
            for table in (messages, questions, handoffs, handoff_notes, attachments)
        }
    with broker.engine.connect() as db:
        counts["events"] = db.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalar()
    counts["tracker"] = tracker.count(sender)
    return counts


def test_forget_deletes_every_trace_of_one_person_only(places):
    privacy, store, *_ = places
    at = datetime.now(UTC).replace(tzinfo=None)
    said(places, "amina", at, handoff_open=True)
    said(places, "other", at)
    assert rows(places, "amina")["handoff_notes"] == 1
    assert rows(places, "amina")["attachments"] == 1
    deleted = privacy.forget("amina")
    assert (
        deleted["open handoffs"] == 1
        and deleted["handoff_notes"] == 1
        and deleted["attachments"] == 1
        and deleted["tracker"] == 1
        and deleted["events"] == 1
    )
    assert set(rows(places, "amina").values()) == {0}
    assert rows(places, "other") == {
        "messages": 1,
        "questions": 1,
        "handoffs": 0,
        "handoff_notes": 0,
        "attachments": 0,
        "events": 1,
        "tracker": 1,
    }
    assert store.queue() == []  # the open hand-off left the mediators' queue


def test_forgetting_the_newest_events_keeps_the_desks_position_valid(places):
    """The desk reads the event broker after its last id: ids must not be given out again."""
    privacy, _, _, broker = places
    broker.publish("other", {"event": "user", "text": "ciao"})
    broker.publish("amina", {"event": "user", "text": "my number is 3331234567"})
    broker.publish("amina", {"event": "bot", "text": "ok"})
    read = RasaEvents(broker.url).after(0)
    assert len(read) == 3
    privacy.forget("amina")
    broker.publish("next", {"event": "user", "text": "buongiorno"})
    after = RasaEvents(broker.url).after(read[-1][0])
    assert [event.get("text") for _, event in after] == ["buongiorno"]
    everything = [event for _, event in RasaEvents(broker.url).after(0)]
    assert "3331234567" not in json.dumps(everything) and len(everything) <= 3


def test_a_request_is_repeated_until_the_turn_is_written_and_nothing_is_left(places):
    privacy, store, tracker, _ = places
    at = datetime.now(UTC).replace(tzinfo=None)
    said(places, "amina", at)
    privacy.request_forget("amina")
    # Rasa writes the rest of the turn after the action ran.
    said(places, "amina", at)
    assert rows(places, "amina")["tracker"] == 1
    privacy.follow_requests()
    assert set(rows(places, "amina").values()) == {0}
    assert store.forget_requests(), "kept for a while: Rasa may still write"
    privacy.follow_requests(at=datetime.now(UTC).replace(tzinfo=None) + SETTLE * 2)
    assert store.forget_requests() == []


def test_retention_deletes_old_and_declined_conversations_only(places):
    privacy, store, tracker, _ = places
    now = datetime.now(UTC).replace(tzinfo=None)
    said(places, "old", now - timedelta(days=91), handoff_open=True)
    said(places, "recent", now - timedelta(days=89))
    # Old in the desk's store, but they wrote to the bot yesterday.
    said(places, "came-back", now - timedelta(days=100))
    tracker.add("came-back", {"event": "user", "text": "ciao"}, now - timedelta(days=1))
    for sender, hours in (("declined-old", 25), ("declined-new", 2)):
        said(places, sender, now - timedelta(hours=hours))
        tracker.add(
            sender,
            {"event": "slot", "name": "privacy", "value": "declined"},
            now - timedelta(hours=hours),
        )
    # Counter hand-offs are only in the desk's store.
    with store.transaction() as db:
        store.add_message(
            db,
            sender_id="counter-1",
            author="migrant",
            text="x",
            created_at=now - timedelta(days=95),
        )
    assert privacy.expired(now) == ["counter-1", "declined-old", "old"]
    assert rows(places, "old")["handoff_notes"] == 1
    assert rows(places, "old")["attachments"] == 1
    assert privacy.apply_retention(now) == 3
    assert set(rows(places, "old").values()) == {0}
    assert set(rows(places, "declined-old").values()) == {0}
    for kept in ("recent", "came-back", "declined-new"):
        assert rows(places, kept)["tracker"] >= 1 and rows(places, kept)["questions"] == 1


# -- the privacy notice, as the action server sends it ------------------------------


def test_the_notice_is_in_the_persons_language_once(kb, monkeypatch):
    monkeypatch.setattr(actions, "_KB", kb)
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))

    def first_turn(slots):
        tracker = Tracker(
            "unit",
            slots,
            {"text": "كيف أسجل عند طبيب العائلة؟", "intent": {"name": "ask_service"}},
            [],
            False,
            None,
            {},
            "action_listen",
        )
        dispatcher = CollectingDispatcher()
        events = actions.ActionDetectLanguage().run(dispatcher, tracker, domain)
        return dispatcher.messages, {e["name"]: e["value"] for e in events}

    shown, slots = first_turn({})
    assert slots == {"language": "ar", "privacy": "notified"}
    (notice,) = shown
    assert "احذف بياناتي" in notice["text"] and "90" in notice["text"]
    # With who is answering (not a greeting), and a person one tap away.
    assert notice["text"].startswith("مرحبًا! أنا مساعد آلي")
    assert [b["payload"] for b in notice["buttons"]] == [
        "/privacy_ok",
        "/privacy_decline",
        "/ask_human",
    ]
    assert first_turn({"language": "ar", "privacy": "notified"}) == ([], {})


# -- through the running assistant ---------------------------------------------------


def new_sender() -> str:
    return f"privacy-{uuid.uuid4().hex[:10]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def payloads(replies: list[dict]) -> list[str]:
    return [button["payload"] for reply in replies for button in reply.get("buttons", [])]


def traces(settings, sender: str) -> dict[str, int]:
    """Rows about `sender` in every database, read from the files."""
    found = {}
    for name, tables in (
        ("tracker.db", ["events"]),
        ("events.db", ["events"]),
        ("desk.db", ["messages", "questions", "handoffs", "forget_requests"]),
    ):
        with sqlite3.connect(settings.data_dir / name) as db:
            for table in tables:
                found[f"{name}:{table}"] = db.execute(
                    f"SELECT count(*) FROM {table} WHERE sender_id = ?",  # noqa: S608
                    (Assistant.rasa_id(sender),),
                ).fetchone()[0]
    return found


def desk_caught_up(assistant, sender: str) -> bool:
    """The desk has read every event of `sender` that the event broker holds.

    Only hand-offs keep messages in the desk, so its event cursor tells, not a count."""
    data = assistant.settings.data_dir
    with sqlite3.connect(data / "events.db") as db:
        (last,) = db.execute(
            "SELECT max(id) FROM events WHERE sender_id = ?", (Assistant.rasa_id(sender),)
        ).fetchone()
    with sqlite3.connect(data / "desk.db") as db:
        row = db.execute(
            "SELECT row_id FROM stream_positions WHERE name = 'rasa-events'"
        ).fetchone()
    return last is not None and row is not None and row[0] >= last


def nothing_left(settings, sender: str) -> bool:
    return not any(traces(settings, sender).values())


@pytest.mark.integration
def test_first_reply_has_the_notice_and_the_answer_without_a_click(assistant):
    sender = new_sender()
    replies = assistant.say(sender, "ciao")
    body = texts(replies)
    # The greeting keeps what it said, and the notice comes with it.
    assert "assistente automatico" in body and "consulenza legale" in body
    assert "cancella i miei dati" in body and "90 giorni" in body
    assert {"/privacy_ok", "/privacy_decline", "/ask_human"} <= set(payloads(replies))
    assert assistant.slot(sender, "privacy") == "notified"
    # A question straight after: answered, and the notice is not repeated.
    replies = assistant.say(sender, "dove si fa la residenza?")
    assert any("custom" in r for r in replies) and "cancella i miei dati" not in texts(replies)

    # A question as first message is answered at once too.
    other = new_sender()
    replies = assistant.say(other, "як записати дитину до школи")
    assert any("custom" in r for r in replies) and "видали мої дані" in texts(replies)


@pytest.mark.integration
def test_the_choice_is_stored_and_declining_keeps_the_person_out_of_the_figures(
    assistant, settings
):
    sender = new_sender()
    assistant.say(sender, "where do I register my residence?")
    wait_for(lambda: traces(settings, sender)["desk.db:questions"] == 1)
    replies = assistant.say(sender, "/privacy_decline")
    assert "24 hours" in texts(replies)
    assert assistant.slot(sender, "privacy") == "declined"
    # What they asked before choosing leaves the figures, and nothing new is counted.
    wait_for(lambda: traces(settings, sender)["desk.db:questions"] == 0)
    assistant.say(sender, "how do I get the tessera sanitaria")
    wait_for(lambda: desk_caught_up(assistant, sender))
    assert traces(settings, sender)["desk.db:questions"] == 0

    accepting = new_sender()
    assistant.say(accepting, "ciao")
    assert texts(assistant.say(accepting, "/privacy_ok")).strip()
    assert assistant.slot(accepting, "privacy") == "accepted"


# Not the training examples: other words, other spellings, mixed languages.
DELETE_REQUESTS = [
    "pls delete all my data",
    "cancellate tutti i miei dati",
    "احذف كل بياناتي",
    "supprimez toutes mes données",
    "видаліть усі мої дані",
    "borren todos mis datos",
    "همه اطلاعاتم را پاک کنید",
    "mera sara data delete kar do",
    "আমার সব তথ্য মুছে দিন",
    "удалите все мои данные",
    "stergeti toate datele mele",
    "fshini të gjitha të dhënat e mia",
    "tüm verilerimi silin",
    "please cancella my data",
]


def test_delete_my_data_is_understood_in_every_language(kb, settings):
    from knowledge.understanding import Understanding

    reader = Understanding.open(kb.retriever.embedder, settings.index_dir)

    def kind(text):
        vector = kb.embed(text)
        top = kb.ask(text, vector=vector).answers[0].score
        return reader.read(text, vector, top, kb.retriever.threshold).kind

    understood = [text for text in DELETE_REQUESTS if kind(text) == "forget"]
    assert understood == DELETE_REQUESTS
    # ... and is not what ordinary questions about cancelling things are.
    assert kind("come faccio la cancellazione della residenza?") != "forget"


@pytest.mark.integration
def test_delete_my_data_asks_first_then_leaves_nothing_behind(assistant, settings):
    sender = new_sender()
    assistant.say(sender, "як записати дитину до школи")
    wait_for(lambda: traces(settings, sender)["desk.db:questions"] == 1)

    asked = assistant.say(sender, "видали мої дані")
    assert "Видалити цю розмову" in texts(asked)
    assert payloads(asked) == ["/forget_confirm", "/forget_cancel"]
    # "No": nothing is deleted.
    assert "нічого не видалив" in texts(assistant.say(sender, "/forget_cancel"))
    assert traces(settings, sender)["tracker.db:events"] > 0

    assistant.say(sender, "видали мої дані")
    done = assistant.say(sender, "/forget_confirm")
    assert "Готово" in texts(done)
    started = time.monotonic()
    # Every row, including this last turn, and the request itself once settled.
    wait_for(lambda: nothing_left(settings, sender), timeout=60)
    assert time.monotonic() - started < 60
    time.sleep(2)
    assert nothing_left(settings, sender), traces(settings, sender)
    # Writing again starts a new conversation, with the notice.
    again = assistant.say(sender, "привіт")
    assert "видали мої дані" in texts(again)


def desk_command(assistant, *args: str) -> subprocess.CompletedProcess:
    """`python -m connectors.desk ...` as an admin runs it beside the running assistant."""
    result = subprocess.run(
        [sys.executable, "-m", "connectors.desk", *args],
        cwd=PROJECT_ROOT,
        env=assistant.supervisor.environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.integration
def test_admin_command_forgets_a_person_and_their_open_handoff(assistant, settings, desk_as):
    sender = new_sender()
    ada = desk_as("ada")
    assistant.say(sender, "dove si fa la residenza?")
    assistant.say(sender, "voglio parlare con una persona")
    wait_for(lambda: ada.queued(rest_id(sender)))
    result = desk_command(assistant, "forget", rest_id(sender))
    assert f"Deleted everything about {rest_id(sender)}" in result.stdout
    assert "open handoffs: 1" in result.stdout
    wait_for(lambda: nothing_left(settings, sender), timeout=60)
    assert ada.queued(rest_id(sender)) is None
    # The bot is no longer paused for them: a new conversation.
    replies = assistant.say(sender, "dove si fa la residenza?")
    assert any("custom" in r for r in replies)


@pytest.mark.integration
def test_retention_command_runs_on_the_real_stores(assistant, settings):
    sender = new_sender()
    assistant.say(sender, "dove si fa la residenza?")
    wait_for(lambda: desk_caught_up(assistant, sender))
    assert traces(settings, sender)["desk.db:questions"] == 1
    # Make the conversation 91 days old in every store that keeps a time.
    old = (datetime.now(UTC) - timedelta(days=91)).timestamp()
    with sqlite3.connect(settings.data_dir / "tracker.db") as db:
        db.execute("UPDATE events SET timestamp = ? WHERE sender_id = ?", (old, rest_id(sender)))
    old_naive = datetime.fromtimestamp(old, UTC).replace(tzinfo=None)
    store = Store.open(settings.desk.database_url)
    with store.transaction() as db:
        db.execute(
            messages.update()
            .where(messages.c.sender_id == rest_id(sender))
            .values(created_at=old_naive)
        )
        db.execute(
            questions.update()
            .where(questions.c.sender_id == rest_id(sender))
            .values(asked_at=old_naive)
        )
    result = desk_command(assistant, "retention")
    assert "Deleted" in result.stdout
    assert nothing_left(settings, sender)
    with store.engine.connect() as db:
        pending = db.execute(sa.select(forget_requests.c.sender_id)).scalars().all()
        assert rest_id(sender) not in pending


@pytest.mark.integration
def test_a_phone_number_as_sender_id_stays_out_of_the_logs(assistant):
    # WhatsApp-like channels use the phone number as the sender id.
    sender = f"39333{uuid.uuid4().int % 10**7:07d}"
    assistant.say(sender, "زوجي يضربني الآن وأنا خائفة")
    log = (assistant.supervisor.log_dir / "action-server.log").read_text(errors="replace")
    # Logs name a conversation by a keyed hash, never by its id.
    assert "Emergency (violence) in conversation conv-" in log
    assert sender not in log
