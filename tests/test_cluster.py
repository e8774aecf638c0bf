"""Several Rasa processes on shared servers (issue 23): Redis and PostgreSQL, started for real.

- messages are counted in one window for every process (connectors/limits.py);
- Redis gone, each process counts alone and loses nothing;
- Rasa's Redis lock store, built from deploy/cluster/endpoints.yml, lets one
  process at a time handle a conversation;
- Rasa's tracker store on PostgreSQL, from the same file, keeps a conversation.
"""

import asyncio
import json
import os
import random
import re
import subprocess
import textwrap
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import psycopg
import pytest
import redis
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from connectors.limits import MessageLimits, SharedWindow
from core.protocol import RATE_LIMITED
from tests.conftest import PROJECT_ROOT, RASA_PYTHON, RASA_TOKEN
from tests.postgres import running_postgres
from tests.redis_server import running_redis
from tests.socketio_client import SocketIOClient

pytestmark = pytest.mark.integration

CLUSTER_ENDPOINTS = PROJECT_ROOT / "deploy" / "cluster" / "endpoints.yml"


@pytest.fixture(scope="module")
def redis_url():
    with running_redis() as url:
        yield url


def two_processes(url: str, per_window: int = 3) -> list[MessageLimits]:
    """Two channels' limits, each with its own Redis connection, as two processes have."""
    return [
        MessageLimits(per_window=per_window, window_seconds=30, shared=SharedWindow(url))
        for _ in range(2)
    ]


def test_two_processes_count_one_window(redis_url):
    first, second = two_processes(redis_url)

    async def send() -> list:
        alternating = [first if n % 2 == 0 else second for n in range(6)]
        said = [await limits.verdict("socketio:person-a", "hello") for limits in alternating]
        other = await second.verdict("socketio:person-b", "hello")
        return [*said, other]

    *person_a, person_b = asyncio.run(send())
    # Three pass, the fourth is told once (whichever process gets it), then quiet.
    assert person_a == [None, None, None, RATE_LIMITED, "", ""]
    assert person_b is None  # another sender is not held up


def test_redis_keeps_no_sender_id(redis_url):
    first, _ = two_processes(redis_url)
    asyncio.run(first.verdict("whatsapp:+393331234567", "ciao"))
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("*")]
    assert keys and not [k for k in keys if "3331234567" in k]


def test_without_redis_each_process_counts_alone():
    with running_redis() as url:
        limits, _ = two_processes(url, per_window=2)
    # The server has stopped: messages still pass, counted here.
    said = asyncio.run(_three(limits))
    assert said == [None, None, RATE_LIMITED]


async def _three(limits: MessageLimits) -> list:
    return [await limits.verdict("rest:someone", "hi") for _ in range(3)]


def rasa(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", textwrap.dedent(code)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


CLUSTER_ENV = {
    "HELPDESK_ACTION_ENDPOINT": "http://127.0.0.1:1/webhook",
    "HELPDESK_ACTION_TOKEN": "x",
    "HELPDESK_REDIS_LOCK_DB": "1",
    "HELPDESK_PG_USER": "helpdesk",
    "HELPDESK_PG_PASSWORD": "",
    "HELPDESK_REDIS_PASSWORD": "",
}


def test_rasas_lock_store_from_the_cluster_endpoints_serialises_a_conversation(redis_url):
    address = urlparse(redis_url)
    env = {
        **CLUSTER_ENV,
        "HELPDESK_REDIS_HOST": address.hostname,
        "HELPDESK_REDIS_PORT": str(address.port),
        "HELPDESK_PG_HOST": "127.0.0.1",
        "HELPDESK_PG_PORT": "1",
        "HELPDESK_PG_TRACKER_DB": "unused",
        "HELPDESK_PG_EVENTS_DB": "unused",
    }
    code = f"""
        import asyncio, time
        from rasa.core.lock_store import LockStore, RedisLockStore
        from rasa.utils.endpoints import read_endpoint_config

        config = read_endpoint_config({str(CLUSTER_ENDPOINTS)!r}, "lock_store")
        first, second = LockStore.create(config), LockStore.create(config)  # two processes
        assert isinstance(first, RedisLockStore)
        order = []

        async def hold():
            async with first.lock("conv-1", wait_time_in_seconds=0.01):
                order.append("first in")
                await asyncio.sleep(0.5)
                order.append("first out")

        async def wait():
            await asyncio.sleep(0.1)
            async with second.lock("conv-1", wait_time_in_seconds=0.01):
                order.append("second in")

        async def main():
            await asyncio.gather(hold(), wait())

        asyncio.run(main())
        print(",".join(order))
    """
    assert rasa(code, env) == "first in,first out,second in"


def test_rasas_tracker_store_on_postgresql_from_the_cluster_endpoints():
    with running_postgres() as server:
        database = urlparse(server.new_database())
        env = {
            **CLUSTER_ENV,
            "HELPDESK_REDIS_HOST": "127.0.0.1",
            "HELPDESK_REDIS_PORT": "1",
            "HELPDESK_PG_HOST": database.hostname,
            "HELPDESK_PG_PORT": str(database.port),
            "HELPDESK_PG_TRACKER_DB": database.path.lstrip("/"),
            "HELPDESK_PG_EVENTS_DB": "unused",
        }
        code = f"""
            import asyncio
            from rasa.core.tracker_store import TrackerStore
            from rasa.shared.core.domain import Domain
            from rasa.shared.core.events import UserUttered
            from rasa.shared.core.trackers import DialogueStateTracker
            from rasa.utils.endpoints import read_endpoint_config

            config = read_endpoint_config({str(CLUSTER_ENDPOINTS)!r}, "tracker_store")
            domain = Domain.empty()

            async def main():
                writer = TrackerStore.create(config, domain)
                tracker = DialogueStateTracker("socketio:abc", domain.slots)
                tracker.update(UserUttered("ciao"))
                await writer.save(tracker)
                reader = TrackerStore.create(config, domain)  # another process
                kept = await reader.retrieve("socketio:abc")
                print(type(writer).__name__, kept.latest_message.text)

            asyncio.run(main())
        """
        assert rasa(code, env) == "PatientSQLTrackerStore ciao"


def test_two_web_apps_share_the_log_in_throttle(redis_url):
    from connectors.desk.throttle import MAX_FAILURES, LoginThrottle

    first, second = LoginThrottle(redis_url), LoginThrottle(redis_url)
    for attempt in range(MAX_FAILURES):
        (first if attempt % 2 else second).failed("amal", "203.0.113.7")
    assert first.locked("amal", "198.51.100.1") and second.locked("amal", "198.51.100.1")
    assert not LoginThrottle().locked("amal", "198.51.100.1")  # in memory: its own counts


def test_a_redis_url_that_is_not_one_names_the_setting():
    from knowledge.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=r"desk.redis_url \(environment: HELPDESK_REDIS_URL\)"):
        load_settings(environ={"HELPDESK_REDIS_URL": "localhost:6379"})
    assert load_settings(environ={}).desk.redis_url == ""


def test_two_processes_admit_an_addresss_new_conversations_once(redis_url):
    from connectors.limits import AddressLimits

    first, second = (
        AddressLimits(per_window=3, window_seconds=600, shared=SharedWindow(redis_url))
        for _ in range(2)
    )

    async def start() -> list[bool]:
        new = [
            await (first if n % 2 else second).allow("203.0.113.9", f"flood-{n}") for n in range(5)
        ]
        known = await first.allow("203.0.113.9", "flood-1")  # seen by the other process
        elsewhere = await second.allow("198.51.100.1", "someone")
        return [*new, known, elsewhere]

    assert asyncio.run(start()) == [True, True, True, False, False, True, True]
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("helpdesk:s*")]
    assert keys and not [k for k in keys if "203.0.113" in k or "flood" in k]


# -- socket.io across Rasa processes (connectors/socketio.py RedisRooms) -----------------


def relay(url: str, sender_id: str, message: dict) -> int:
    request = urllib.request.Request(
        f"{url}/webhooks/socketio/relay",
        data=json.dumps({"sender_id": sender_id, "message": message}).encode(),
        headers={"Authorization": f"Bearer {RASA_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def test_a_mediators_reply_reaches_a_widget_connected_to_the_other_rasa_process(tmp_path):
    from tests.test_security_channels import channel_server

    with running_redis() as url, ThreadPoolExecutor(2) as pool:
        extra = {"HELPDESK_REDIS_URL": url, "HELPDESK_RASA_TOKEN": RASA_TOKEN}
        started = [
            pool.submit(
                channel_server, tmp_path, "rest-secret", {**extra, "HELPDESK_DATA_DIR": str(data)}
            )
            for data in (tmp_path / "a", tmp_path / "b")
        ]
        (first, url_a, _), (second, url_b, _) = (s.result() for s in started)
        try:

            async def story() -> list:
                async with SocketIOClient(url_b) as person:  # the widget is on process B
                    reply = {"from": "mediator", "id": 1, "text": "Sono Amal, ti aiuto io."}
                    assert relay(url_a, person.sender_id, reply) == 200  # the desk reached A
                    got = (await person.next_message(10))["text"]
                    await asyncio.sleep(0.5)
                    once = person.messages.empty()
                    # A conversation on B goes on as before (its answers reach it once).
                    await person.say("ciao")
                    echoed = (await person.next_message(10))["text"]
                    return [got, once, echoed.endswith("|socketio|ciao")]

            assert asyncio.run(asyncio.wait_for(story(), 60)) == [
                "Sono Amal, ti aiuto io.",
                True,
                True,
            ]
        except BaseException:
            for server in (first, second):
                server.terminate()
            raise
        # Redis gone: B's own clients still get what B emits; A's relay reaches no one on B.
        servers = (first, second)

    async def without_redis() -> list:
        async with SocketIOClient(url_b) as person:
            assert relay(url_b, person.sender_id, {"from": "mediator", "text": "qui B"}) == 200
            here = (await person.next_message(10))["text"]
            assert relay(url_a, person.sender_id, {"from": "mediator", "text": "da A"}) == 200
            await asyncio.sleep(1)
            return [here, person.messages.empty()]

    try:
        assert asyncio.run(asyncio.wait_for(without_redis(), 60)) == ["qui B", True]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


# -- the desk reads Rasa's events exactly once with several writers (connectors/handoff.py) --

RASAS_EVENTS_TABLE = (
    "CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"
)


@pytest.fixture(scope="module")
def postgres_server():
    with running_postgres() as server:
        yield server


def events_table(server) -> tuple[str, str]:
    """A new database with Rasa's event broker table: (SQLAlchemy URL, psycopg conninfo)."""
    url = server.new_database()
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as db:
        db.execute(RASAS_EVENTS_TABLE)
    return url, conninfo


class Writer:
    """One Rasa process's connection, writing events in transactions it holds open."""

    def __init__(self, conninfo: str) -> None:
        self.db = psycopg.connect(conninfo)

    def write(self, text: str) -> None:
        self.db.execute(
            "INSERT INTO events (sender_id, data) VALUES (%s, %s)",
            ("p", json.dumps({"event": "user", "text": text})),
        )

    def commit(self) -> None:
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()


class Follower:
    """Polls like the desk: after its last position; what it read, in order."""

    def __init__(self, reader, start=0, limit: int = 500) -> None:
        self.reader, self.position, self.limit = reader, start, limit
        self.read: list[str] = []

    def poll(self) -> list[str]:
        new = []
        while batch := self.reader.after(self.position, limit=self.limit):
            new += [event["text"] for _, event in batch]
            self.position = batch[-1][0]
        self.read += new
        return new


def test_the_desk_reads_every_event_once_while_transactions_commit_out_of_order(
    postgres_server,
):
    from connectors.handoff import RasaEvents

    url, conninfo = events_table(postgres_server)
    reader = RasaEvents(url)
    assert reader.after(0) == []  # adds the writing transaction's column
    desk, naive = Follower(reader, limit=2), NaiveFollower(conninfo)
    one, two, three = (Writer(conninfo) for _ in range(3))

    one.write("e1")  # id 1, its transaction held open
    two.write("e2")  # id 2, committed first
    two.commit()
    assert desk.poll() == [] and naive.poll() == ["e2"]  # the naive one has passed id 1
    three.write("e3")
    two.write("e4")
    two.commit()
    two.write("gone")  # rolled back: a gap in the ids for good
    two.rollback()
    assert desk.poll() == [] and naive.poll() == ["e4"]
    one.write("e5")
    one.commit()  # e1 and e5 are written now; three is still open
    assert desk.poll() == ["e1", "e5", "e2"] and naive.poll() == ["e5"]
    three.commit()
    assert desk.poll() == ["e3", "e4"] and naive.poll() == []
    assert sorted(desk.read) == ["e1", "e2", "e3", "e4", "e5"]  # each once
    assert "e1" not in naive.read and "e3" not in naive.read  # what "id > last" skips


class NaiveFollower:
    """The reader as it was: every row after the last id seen."""

    def __init__(self, conninfo: str) -> None:
        self.db = psycopg.connect(conninfo, autocommit=True)
        self.last = 0
        self.read: list[str] = []

    def poll(self) -> list[str]:
        rows = self.db.execute(
            "SELECT id, data FROM events WHERE id > %s ORDER BY id", (self.last,)
        ).fetchall()
        if rows:
            self.last = rows[-1][0]
        new = [json.loads(data)["text"] for _, data in rows]
        self.read += new
        return new


def test_concurrent_writers_and_a_polling_reader_every_event_exactly_once(postgres_server):
    from connectors.handoff import RasaEvents

    url, conninfo = events_table(postgres_server)
    reader = RasaEvents(url)
    reader.after(0)
    desk = Follower(reader, limit=7)
    done = threading.Event()

    def write(name: str, seed: int) -> list[str]:
        pause = random.Random(seed)
        writer, kept = Writer(conninfo), []
        for turn in range(15):
            batch = [f"{name}-{turn}-{n}" for n in range(pause.randint(1, 4))]
            for text in batch:
                writer.write(text)
                time.sleep(pause.random() * 0.01)  # later ids commit meanwhile
            if pause.random() < 0.15:
                writer.rollback()
            else:
                writer.commit()
                kept += batch
        return kept

    def poll_throughout() -> None:
        while not done.is_set():
            desk.poll()
            time.sleep(0.002)

    polling = threading.Thread(target=poll_throughout)
    polling.start()
    with ThreadPoolExecutor(4) as pool:
        written = [text for kept in pool.map(write, "abcd", range(4)) for text in kept]
    done.set()
    polling.join()
    desk.poll()
    assert len(desk.read) == len(set(desk.read))  # none twice
    assert sorted(desk.read) == sorted(written)  # none skipped, none rolled back


# -- several web apps on one desk store (connectors/desk/cluster.py) ------------------------

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def rasa_wrote(conninfo: str, sender: str, *events: dict) -> float:
    """Events as one Rasa process writes a turn, in one transaction; when it committed."""
    with psycopg.connect(conninfo) as db:
        for event in events:
            event = {"sender_id": sender, "timestamp": time.time(), **event}
            db.execute(
                "INSERT INTO events (sender_id, data) VALUES (%s, %s)", (sender, json.dumps(event))
            )
    return time.monotonic()


def asks_for_a_person(text: str) -> list[dict]:
    request = {"reason": "request", "language": "ar", "channel": "socketio", "urgent": False}
    return [
        {"event": "user", "text": text, "input_channel": "socketio"},
        {"event": "bot", "text": "سأصلك بوسيط ثقافي."},
        {"event": "slot", "name": "handoff_request", "value": request},
    ]


async def notice_on(socket, wanted: dict, timeout: float = 5) -> float:
    """Wait for `wanted` on a desk page's socket; when it came."""
    deadline = time.monotonic() + timeout
    while True:
        got = await socket.receive_json(timeout=max(deadline - time.monotonic(), 0.01))
        if all(got.get(k) == v for k, v in wanted.items()):
            return time.monotonic()


async def test_a_desk_page_on_one_web_app_sees_hand_offs_the_other_opened_then_takes_over(
    postgres_server, tmp_path
):
    from connectors.desk import app as desk
    from connectors.desk.store import Store, handoffs, messages
    from connectors.web import create_app
    from tests.test_security_desk import PASSWORD_HASH, _settings, logged_in

    events_url, events = events_table(postgres_server)
    desk_url = postgres_server.new_database()
    store = Store.open(desk_url)
    store.add_user("amal", PASSWORD_HASH, "mediator", "ar it")
    apps = []
    for name in ("a", "b"):
        settings = _settings(
            tmp_path / name,
            HELPDESK_DATABASE_URL=desk_url,
            HELPDESK_DESK_TAKEOVER_SECONDS="0.2",
        )
        app = create_app(settings)
        app[desk.CONNECTOR_KEY].events_url = events_url
        apps.append(app)
    first, second = (TestServer(app) for app in apps)
    await first.start_server()
    a = first.app[desk.CONNECTOR_KEY]
    await asyncio.wait_for(a.leadership.leading.wait(), 5)  # A started first: A leads
    await second.start_server()
    b = second.app[desk.CONNECTOR_KEY]
    await asyncio.wait_for(b.fanout.listening.wait(), 5)

    async def client_of(server) -> TestClient:
        client = TestClient(server)
        await client.start_server()
        return client

    on_a, on_b = await client_of(first), await client_of(second)
    try:
        amal_a = await logged_in(lambda: asyncio.sleep(0, on_a), "amal")
        amal_b = await logged_in(lambda: asyncio.sleep(0, on_b), "amal")
        page = await amal_b.ws_connect("/desk/ws")  # a desk page connected to web app B

        # A hand-off opened by A's follower: B's page hears of it at once.
        wrote = rasa_wrote(events, "socketio:s1", *asks_for_a_person("أريد التحدث مع شخص"))
        opened = await notice_on(page, {"type": "queue"}) - wrote
        assert not b.leadership.leading.is_set()
        queue = await (await amal_b.get("/desk/api/queue")).json()
        (handoff,) = [item for item in queue["handoffs"] if item["status"] == "waiting"]
        wrote = rasa_wrote(events, "socketio:s1", {"event": "user", "text": "ما زلت هنا"})
        said = await notice_on(page, {"type": "message", "handoff_id": handoff["id"]}) - wrote

        # A claim on web app A, live on B.
        html = await (await amal_a.get("/desk")).text()
        csrf = {"X-CSRF-Token": CSRF_META.search(html).group(1)}
        claimed_at = time.monotonic()
        claimed = await amal_a.post(f"/desk/api/handoffs/{handoff['id']}/claim", headers=csrf)
        assert claimed.status == 200
        claim = await notice_on(page, {"type": "queue"}) - claimed_at

        # A stops: B takes over, from where A stood, and B's page hears what follows.
        await on_a.close()
        stopped = time.monotonic()
        rasa_wrote(events, "socketio:s1", {"event": "user", "text": "mentre A si ferma"})
        await asyncio.wait_for(b.leadership.leading.wait(), 5)
        took_over = time.monotonic() - stopped
        await notice_on(page, {"type": "message", "handoff_id": handoff["id"]})
        rasa_wrote(events, "socketio:s2", *asks_for_a_person("أحتاج مساعدة"))
        await notice_on(page, {"type": "queue"})
        await page.close()
    finally:
        for client in (on_a, on_b):
            await client.close()
    with store.transaction() as db:
        senders = db.execute(sa.select(handoffs.c.sender_id).order_by(handoffs.c.id)).scalars()
        said_by_s1 = db.execute(
            sa.select(messages.c.text)
            .where(messages.c.sender_id == "socketio:s1", messages.c.author == "migrant")
            .order_by(messages.c.id)
        ).scalars()
        assert list(senders) == ["socketio:s1", "socketio:s2"]  # each opened once
        assert list(said_by_s1) == ["أريد التحدث مع شخص", "ما زلت هنا", "mentre A si ferma"]
    print(
        f"\nlive on the other web app: hand-off {opened * 1000:.0f} ms after Rasa's commit, "
        f"message {said * 1000:.0f} ms, claim {claim * 1000:.0f} ms; takeover {took_over:.2f} s"
    )


async def test_a_leader_that_lost_its_lock_stops_and_no_event_is_applied_twice(
    postgres_server, tmp_path
):
    from connectors.desk.cluster import LEADER_KEY
    from connectors.desk.connector import DeskConnector
    from connectors.desk.store import CursorMoved, Store, handoffs, messages
    from connectors.handoff import RasaEvents
    from tests.test_security_desk import _settings

    events_url, events = events_table(postgres_server)
    desk_url = postgres_server.new_database()
    settings = _settings(
        tmp_path, HELPDESK_DATABASE_URL=desk_url, HELPDESK_DESK_TAKEOVER_SECONDS="0.2"
    )
    store = Store.open(desk_url)
    rasa_wrote(events, "socketio:s1", *asks_for_a_person("أريد التحدث مع شخص"))

    # Two web apps given the same batch from the same place: the second applies nothing.
    batch = RasaEvents(events_url).after(0)
    first, second = DeskConnector(settings), DeskConnector(settings)
    await first.handle_events(batch)
    with pytest.raises(CursorMoved):
        await second.handle_events(batch)
    assert len(store.queue()) == 1

    a, b = DeskConnector(settings, events_url), DeskConnector(settings, events_url)
    await a.start()
    await asyncio.wait_for(a.leadership.leading.wait(), 5)
    await b.start()
    try:
        # PostgreSQL ends the leader's session (as when its host vanished) while it works.
        with psycopg.connect(postgres_server_conninfo(desk_url), autocommit=True) as db:
            (pid,) = db.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                (LEADER_KEY,),
            ).fetchone()
            for n in range(20):
                rasa_wrote(events, "socketio:s1", {"event": "user", "text": f"messaggio {n}"})
                if n == 5:
                    db.execute("SELECT pg_terminate_backend(%s)", (pid,))
                await asyncio.sleep(0.02)
        await asyncio.wait_for(b.leadership.leading.wait(), 5)

        def stored() -> list[str]:
            with store.transaction() as db:
                return list(
                    db.execute(
                        sa.select(messages.c.text)
                        .where(messages.c.author == "migrant")
                        .order_by(messages.c.id)
                    ).scalars()
                )

        deadline = time.monotonic() + 5
        while len(stored()) < 21 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert stored() == ["أريد التحدث مع شخص", *(f"messaggio {n}" for n in range(20))]
        with store.transaction() as db:
            assert db.execute(sa.select(sa.func.count()).select_from(handoffs)).scalar() == 1
        # A may lead again later, but not while B holds the lock.
        assert not (a.leadership.leading.is_set() and b.leadership.leading.is_set())
    finally:
        await a.stop()
        await b.stop()


def postgres_server_conninfo(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


def test_a_web_app_reads_the_regions_events_and_conversations_from_the_cluster_endpoints(
    monkeypatch,
):
    from connectors.handoff import events_database_url, tracker_database_url

    for name, value in {
        **CLUSTER_ENV,
        "HELPDESK_PG_HOST": "db.region",
        "HELPDESK_PG_PORT": "5433",
        "HELPDESK_PG_TRACKER_DB": "helpdesk_tracker",
        "HELPDESK_PG_EVENTS_DB": "helpdesk_events",
        "HELPDESK_PG_PASSWORD": "s3cret",
    }.items():
        monkeypatch.setenv(name, value)
    server = "postgresql+psycopg://helpdesk:s3cret@db.region:5433"
    unused = PROJECT_ROOT / "unused.db"
    assert events_database_url(unused, CLUSTER_ENDPOINTS) == f"{server}/helpdesk_events"
    assert tracker_database_url(unused, CLUSTER_ENDPOINTS) == f"{server}/helpdesk_tracker"
