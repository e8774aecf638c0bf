"""The patient tracker store (connectors/rasa_tracker.py), inside Rasa's own environment."""

from __future__ import annotations

from tests.conftest import run_in_rasa

# Runs in Python 3.10 with Rasa installed.
CHECK = """
import asyncio, sqlite3, sys
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from connectors.rasa_tracker import PatientSQLTrackerStore

class Collecting(EventBroker):
    def __init__(self):
        self.published = []
    def publish(self, event):
        self.published.append(event)

async def main(db):
    broker = Collecting()
    store = PatientSQLTrackerStore(Domain.empty(), dialect="sqlite", db=db, event_broker=broker)
    reads = []
    real = store.retrieve
    async def counting(sender_id):
        reads.append(sender_id)
        return await real(sender_id)
    store.retrieve = counting
    tracker = DialogueStateTracker("person", [])
    for turn in range(3):
        tracker.update(UserUttered(f"question {turn}"))
        tracker.update(ActionExecuted("action_understand"))
        tracker.update(BotUttered(f"answer {turn}"))
        await store.save(tracker)
    # Each event published once, in order, without reading the conversation back.
    texts = [e.get("text") for e in broker.published if e["event"] in ("user", "bot")]
    assert texts == [x for t in range(3) for x in (f"question {t}", f"answer {t}")], texts
    assert reads == [], reads
    assert all(e["sender_id"] == "person" for e in broker.published)
    stored = await store.retrieve_full_tracker("person")
    assert [e.text for e in stored.events if isinstance(e, UserUttered)] == [
        "question 0", "question 1", "question 2"
    ]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = connection.execute("SELECT count(*) FROM events WHERE sender_id='person'")
        assert rows.fetchone()[0] == len(tracker.events)

asyncio.run(main(sys.argv[1]))
print("ok")
"""


def test_each_event_is_written_and_published_once_without_reading_the_tracker_back(tmp_path):
    run_in_rasa(CHECK, str(tmp_path / "tracker.db"))
