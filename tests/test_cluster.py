"""Several Rasa processes on shared servers (issue 23): Redis and PostgreSQL, started for real.

- messages are counted in one window for every process (connectors/limits.py);
- Redis gone, each process counts alone and loses nothing;
- Rasa's Redis lock store, built from deploy/cluster/endpoints.yml, lets one
  process at a time handle a conversation;
- Rasa's tracker store on PostgreSQL, from the same file, keeps a conversation.
"""

import asyncio
import os
import subprocess
import textwrap
from urllib.parse import urlparse

import pytest
import redis

from connectors.limits import MessageLimits, SharedWindow
from core.protocol import RATE_LIMITED
from tests.conftest import PROJECT_ROOT, RASA_PYTHON
from tests.postgres import running_postgres
from tests.redis_server import running_redis

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
