"""Shared fixtures: real model, real index, real Rasa, built or started once per session.

Every test session works in its own data folder (index, tracker, translation
packages), so it never touches the developer's `data/`.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import urllib.request
from pathlib import Path

import pytest

from knowledge.settings import PROJECT_ROOT, Settings, load_settings
from tests.argos_tiny import build_tiny_package
from tests.fake_platforms import FakePlatforms, platform_env

RASA_BIN = PROJECT_ROOT / ".venv" / "rasa" / "bin" / "rasa"
# Rasa's own Python 3.10, for code that runs inside Rasa (our plug-ins, patches).
RASA_PYTHON = RASA_BIN.parent / "python"
MODEL = PROJECT_ROOT / "models" / "helpdesk.tar.gz"


def run_in_rasa(code: str, *args: str) -> None:
    """Run `code` in Rasa's Python from the project folder; it must print "ok" last."""
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", code, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


API_TOKEN = "operator-token-for-tests"
RASA_TOKEN = "rasa-token-for-tests"
# Trusted integrations' token for the REST channel (tests are one).
REST_TOKEN = "rest-token-for-tests"
ACTION_TOKEN = "action-token-for-tests"
SESSION_SECRET = "socketio-session-secret-for-tests"


# Tests are sorted by speed from the fixtures they use, so nobody has to
# remember a marker: `make test-fast` runs the rest (no model, no process).
E2E_FIXTURES = frozenset({"assistant", "desk_as", "rasa_model"})
MODEL_FIXTURES = frozenset({"embedder", "built_index", "kb", "tiny_argos_package"})
# Fixtures that start a browser or stand-in servers in Rasa's environment.
SLOW_FIXTURES = frozenset({"channels", "channels_off", "browser"})


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & E2E_FIXTURES or item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.e2e)
        elif fixtures & MODEL_FIXTURES:
            item.add_marker(pytest.mark.model)
        elif fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        elif not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.unit)


def rest_id(sender: str) -> str:
    """The sender id Rasa stores a REST sender's conversation under."""
    return f"rest:{sender}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports():
    """Free ports for every listener of `make run-cluster`'s region."""
    from bot.serve_cluster import Ports

    return Ports(
        public=free_port(),
        rasa=free_port(),
        actions=free_port(),
        desk=free_port(),
        rasa_processes=(free_port(), free_port()),
        action_servers=(free_port(), free_port()),
        web_apps=(free_port(), free_port()),
        postgres=free_port(),
        redis=free_port(),
    )


@pytest.fixture(scope="session")
def platforms():
    """Telegram's and Twilio's APIs on loopback (tests/fake_platforms.py), up before Rasa."""
    server = FakePlatforms().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def session_env(tmp_path_factory, platforms) -> dict[str, str]:
    """Environment of this session: its own data folder and ports."""
    data = tmp_path_factory.mktemp("data")
    rasa_url = f"http://localhost:{free_port()}"
    env = dict(os.environ)
    env.update(
        {
            "HELPDESK_DATA_DIR": str(data),
            "HELPDESK_RASA_URL": rasa_url,
            "HELPDESK_ACTION_SERVER_URL": f"http://localhost:{free_port()}",
            "HELPDESK_WEB_PORT": str(free_port()),
            # Translation packages come from the tiny package this session builds.
            "HELPDESK_ARGOS_MODELS": str(data / "argos-models"),
            "HELPDESK_API_TOKEN": API_TOKEN,
            "HELPDESK_RASA_TOKEN": RASA_TOKEN,
            "HELPDESK_REST_TOKEN": REST_TOKEN,
            "HELPDESK_ACTION_TOKEN": ACTION_TOKEN,
            "HELPDESK_SESSION_SECRET": SESSION_SECRET,
            "HELPDESK_LOG_KEY": "log-key-for-tests",
            # Every test writes from this machine, as many people.
            "HELPDESK_NEW_CONVERSATIONS_PER_ADDRESS": "1000000",
            # Mediators are always at work in tests; opening hours have their own tests.
            "HELPDESK_DESK_HOURS": "always",
            # Telegram and WhatsApp talk to the loopback platforms.
            **platform_env(platforms.url, rasa_url),
        }
    )
    return env


@pytest.fixture(scope="session")
def settings(session_env) -> Settings:
    return load_settings(environ=session_env)


@pytest.fixture(scope="session")
def tiny_argos_package(settings) -> Path:
    """A real en->fa Argos package (random weights) in the session's models folder."""
    return build_tiny_package(settings.translation.packages_from, "en", "fa")


@pytest.fixture(scope="session")
def kit(settings):
    from knowledge.entries import load_kit

    return load_kit(settings.content.dir, settings.content.municipality)


@pytest.fixture(scope="session")
def embedder(settings):
    from knowledge.embedding import load_embedder

    return load_embedder(settings.models)


@pytest.fixture(scope="session")
def built_index(settings, kit, embedder):
    from knowledge.index import build_index

    return build_index(kit, embedder, settings.index_dir, progress=False)


@pytest.fixture(scope="session")
def kb(settings, kit, embedder, built_index, tiny_argos_package):
    from knowledge.answers import KnowledgeBase
    from knowledge.emergency import EmergencyDetector
    from knowledge.index import SearchIndex
    from knowledge.language import LanguageDetector
    from knowledge.retrieval import Retriever
    from knowledge.translation import Translator

    retriever = Retriever(
        kit, SearchIndex.load(settings.index_dir), embedder, settings.retrieval.confidence_threshold
    )
    return KnowledgeBase(
        settings,
        kit,
        retriever,
        Translator.from_settings(settings),
        LanguageDetector(settings.languages.supported, settings.languages.default),
        EmergencyDetector.open(settings, kit, embedder),
    )


@pytest.fixture(scope="session")
def rasa_model() -> Path:
    """Train the Rasa model once per session; Rasa skips training when nothing changed."""
    subprocess.run(
        [
            str(RASA_BIN),
            "train",
            "--fixed-model-name",
            "helpdesk",
            "--out",
            "models",
            "--data",
            "bot/data",
            "--domain",
            "domain.yml",
            "--config",
            "config.yml",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return MODEL


@pytest.fixture(scope="session")
def assistant(settings, session_env, rasa_model, built_index, tiny_argos_package, tmp_path_factory):
    """The real action server, Rasa and web app, started once for the session."""
    from bot.serve import Supervisor, parts_for

    supervisor = Supervisor(
        parts_for(settings, model=rasa_model),
        log_dir=tmp_path_factory.mktemp("logs"),
        environ=session_env,
    )
    supervisor.start(timeout=900)
    yield Assistant(settings, supervisor)
    supervisor.stop()


class Assistant:
    """A client for the running assistant."""

    def __init__(self, settings: Settings, supervisor) -> None:
        self.settings = settings
        self.supervisor = supervisor
        self.rest_url = f"{settings.services.rasa_url}/webhooks/rest/webhook"

    def post(self, body: bytes) -> tuple[int, list[dict]]:
        request = urllib.request.Request(
            self.rest_url,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {REST_TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        body = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        status, replies = self.post(json.dumps(body).encode())
        assert status == 200
        return replies

    @staticmethod
    def rasa_id(sender: str) -> str:
        """Rasa's sender id: a REST sender gets rest:, a namespaced id is kept."""
        from connectors.identity import CHANNEL_PREFIXES

        return sender if sender.partition(":")[0] in CHANNEL_PREFIXES else rest_id(sender)

    def _events(self, sender: str, type_name: str) -> list[dict]:
        """Events of one type that the tracker store holds for `sender`, oldest first."""
        with sqlite3.connect(self.settings.data_dir / "tracker.db") as conn:
            rows = conn.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = ? ORDER BY id",
                (self.rasa_id(sender), type_name),
            ).fetchall()
        return [json.loads(data) for (data,) in rows]

    def user_texts(self, sender: str) -> list[str]:
        """What the tracker store holds of what `sender` said."""
        return [event.get("text") for event in self._events(sender, "user")]

    def slot(self, sender: str, name: str):
        """The last value the tracker store holds for slot `name`."""
        values = [e.get("value") for e in self._events(sender, "slot") if e.get("name") == name]
        return values[-1] if values else None


PASSWORD = "a-long-test-password"
# username -> (role, languages)
DESK_USERS = {
    "amal": ("mediator", "ar fr it"),
    "bilal": ("mediator", "ar it"),
    "olga": ("operator", "it"),
    "ada": ("admin", "it"),
}


@pytest.fixture(scope="session")
def desk_store(settings):
    from connectors.desk.auth import hash_password
    from connectors.desk.store import Store

    store = Store.open(settings.desk.database_url)
    for username, (role, languages) in DESK_USERS.items():
        if not store.credentials(username):
            store.add_user(username, hash_password(PASSWORD), role, languages)
        # These tests read the staff pages in English (Italian is the default).
        store.set_page_language(store.credentials(username)[0].id, "en")
    return store


@pytest.fixture(scope="session")
def web_url(settings) -> str:
    return f"http://localhost:{settings.services.web_port}"


@pytest.fixture
def desk_as(assistant, desk_store, web_url):
    """desk_as("amal") -> a DeskClient logged in as amal."""
    from tests.desk_client import DeskClient

    def login(username: str) -> DeskClient:
        client = DeskClient(web_url)
        client.store = desk_store
        role = DESK_USERS[username][0]
        page = {"mediator": "/desk", "operator": "/assist", "admin": "/dashboard"}[role]
        assert client.login(username, PASSWORD, page) == 303
        assert client.csrf
        return client

    return login


def wait_for(condition, timeout: float = 20, interval: float = 0.1):
    """Poll until condition() is truthy; return its value or fail."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Still false after {timeout} s: {condition}")


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, for one test module."""
    from playwright.sync_api import sync_playwright

    from knowledge.browser import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def queue_site(tmp_path_factory):
    """(site, store): the desk's web app alone with a long queue (tests/desk_site.py)."""
    from connectors.desk.store import Store
    from tests.desk_site import Site, queue_settings, seed_queue

    settings = queue_settings(tmp_path_factory.mktemp("deskq") / "data")
    store = Store.open(settings.desk.database_url)
    seed_queue(store)
    site = Site(settings)
    yield site, store
    site.stop()
