"""Issue 17, channel and process side: each attack of the security review, as a test.

Unit tests first (identity, limits, settings, the supervisor's command lines,
bounded inflation, the forget action); then Rasa's real input channels from
credentials.yml with a stand-in agent (tests/security_channels_server.py, no
model); then a few checks on the session-wide running assistant.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import time
import tracemalloc
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path

import aiohttp
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions as actions
from bot.action_server import MAX_BODY, BodyTooLarge, inflate
from bot.serve import GENERATED_SECRETS, ensure_secrets, parts_for, rasa_environment
from connectors.identity import SessionSigner, log_id, namespaced, platform_id
from connectors.limits import AddressLimits, client_address
from connectors.messaging import telegram_incoming, twilio_incoming
from knowledge.settings import (
    ACTION_TOKEN_HEADER,
    PROJECT_ROOT,
    SettingsError,
    load_settings,
)
from tests.conftest import (
    ACTION_TOKEN,
    RASA_PYTHON,
    RASA_TOKEN,
    REST_TOKEN,
    free_port,
    rest_id,
    wait_for,
)
from tests.socketio_client import SessionRefused, SocketIOClient


def post(url: str, body: bytes, headers: dict, method: str = "POST") -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


# -- identity -------------------------------------------------------------------------


def test_every_channel_has_its_own_namespace():
    assert namespaced("rest", "whatsapp:+393331234567") == "rest:whatsapp:+393331234567"
    assert platform_id("telegram:4242") == "4242"
    assert platform_id("socketio:abc") == "abc"
    # Twilio needs the whatsapp: prefix to deliver, so it stays.
    assert platform_id("whatsapp:+39333") == "whatsapp:+39333"
    assert platform_id("sms:+39333") == "+39333"
    update = {"message": {"chat": {"id": 42}, "text": "ciao"}}
    assert telegram_incoming(update).sender_id == "telegram:42"
    press = {"callback_query": {"id": "q", "data": "/affirm", "message": {"chat": {"id": 7}}}}
    assert telegram_incoming(press).sender_id == "telegram:7"
    assert twilio_incoming({"From": "whatsapp:+39333", "Body": "x"}).sender_id == "whatsapp:+39333"
    assert twilio_incoming({"From": "+39333", "Body": "x"}).sender_id == "sms:+39333"


def test_logs_get_a_keyed_hash_never_the_id():
    phone = "whatsapp:+393331234567"
    hashed = log_id(phone)
    assert hashed.startswith("conv-") and "3331234567" not in hashed
    assert log_id(phone) == hashed and log_id("whatsapp:+393331234568") != hashed


def test_only_the_server_can_issue_a_valid_session_tag():
    signer = SessionSigner("server secret")
    session_id, tag = signer.issue()
    assert signer.valid(session_id, tag)
    assert not signer.valid(session_id, None)
    assert not signer.valid(session_id, "0" * len(tag))
    assert not signer.valid(session_id + "0", tag)
    assert not SessionSigner("another secret").valid(session_id, tag)
    with pytest.raises(ValueError):
        SessionSigner("")


# -- queue abuse: new conversations per address ----------------------------------------


def test_many_new_senders_from_one_address_are_refused_beyond_the_limit():
    limits = AddressLimits(per_window=5, window_seconds=600)
    admitted = [limits.admit("203.0.113.9", f"flood-{n}", now=n) for n in range(20)]
    assert admitted == [True] * 5 + [False] * 15
    # The people already talking go on; another address is not held up.
    assert limits.admit("203.0.113.9", "flood-0", now=30)
    assert limits.admit("198.51.100.1", "someone", now=30)
    # New sessions (no sender yet) count too; after the window, new ones pass again.
    assert not limits.admit("203.0.113.9", now=40)
    assert limits.admit("203.0.113.9", "later", now=700)


def test_the_forwarded_address_counts_only_behind_the_local_proxy():
    assert client_address("127.0.0.1", "203.0.113.9") == "203.0.113.9"
    assert client_address("127.0.0.1", "10.0.0.1, 203.0.113.9") == "203.0.113.9"
    # Anyone else could write the header: their own address counts.
    assert client_address("198.51.100.1", "203.0.113.9") == "198.51.100.1"
    assert client_address("198.51.100.1", None) == "198.51.100.1"


# -- settings and the supervisor ---------------------------------------------------------


def test_services_listen_on_loopback_unless_a_setting_opens_them():
    settings = load_settings(environ={})
    assert settings.services.bind_host == "127.0.0.1"
    assert settings.services.allowed_origins == ()
    assert settings.services.rest_token == ""
    opened = load_settings(
        environ={
            "HELPDESK_BIND_HOST": "0.0.0.0",
            "HELPDESK_ALLOWED_ORIGINS": "https://comune.example.it https://www.comune.example.it",
            "HELPDESK_REST_TOKEN": "secret",
        }
    )
    assert opened.services.bind_host == "0.0.0.0"
    assert opened.services.allowed_origins == (
        "https://comune.example.it",
        "https://www.comune.example.it",
    )
    assert opened.services.rest_token == "secret"
    with pytest.raises(SettingsError, match="HELPDESK_ALLOWED_ORIGINS"):
        load_settings(environ={"HELPDESK_ALLOWED_ORIGINS": "https://comune.example.it/path"})


def test_parts_bind_loopback_and_keep_secrets_off_the_command_line():
    env = {
        "HELPDESK_RASA_TOKEN": "rasa-secret",
        "HELPDESK_ACTION_TOKEN": "action-secret",
        "HELPDESK_REST_TOKEN": "rest-secret",
        "HELPDESK_SESSION_SECRET": "session-secret",
    }
    settings = load_settings(environ=env)
    parts = {part.name: part for part in parts_for(settings)}
    rasa, actions_part = parts["Rasa"].command, parts["action server"].command
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert actions_part[actions_part.index("--host") + 1] == "127.0.0.1"
    # Rasa's CORS: no --cors "*" (none at all while no site is configured).
    assert "--cors" not in rasa and "*" not in rasa
    for part in parts.values():
        assert not set(env.values()) & set(part.command), part.name
    # The secrets reach Rasa through its environment (bot/rasa_run.py adds the token).
    assert {k: parts["Rasa"].env[k] for k in env} == env
    opened = load_settings(
        environ={**env, "HELPDESK_BIND_HOST": "0.0.0.0", "HELPDESK_ALLOWED_ORIGINS": "https://a.it"}
    )
    rasa = next(p for p in parts_for(opened) if p.name == "Rasa").command
    assert rasa[rasa.index("--interface") + 1] == "0.0.0.0"
    assert rasa[rasa.index("--cors") + 1 :][:1] == ["https://a.it"]
    assert rasa_environment(opened, "http://x")["HELPDESK_ALLOWED_ORIGINS"] == "https://a.it"


def test_missing_secrets_are_made_at_start_but_the_rest_token_is_not():
    environ = {"HELPDESK_RASA_TOKEN": "kept"}
    ensure_secrets(environ)
    assert environ["HELPDESK_RASA_TOKEN"] == "kept"
    assert all(len(environ[name]) >= 32 for name in GENERATED_SECRETS[1:])
    assert "HELPDESK_REST_TOKEN" not in environ


# -- the action server's bodies ---------------------------------------------------------


def test_a_deflate_bomb_is_refused_without_being_inflated():
    bomb = zlib.compress(b"\0" * (200 * MAX_BODY), 9)  # 200 MiB in about 200 KB
    assert len(bomb) < 300_000
    tracemalloc.start()
    with pytest.raises(BodyTooLarge):
        inflate(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 * MAX_BODY
    body = json.dumps({"next_action": "action_listen"}).encode()
    assert inflate(zlib.compress(body)) == body
    with pytest.raises(zlib.error):
        inflate(b"not deflate")


# -- deletion only after the question ---------------------------------------------------


class FakePrivacy:
    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def request_forget(self, sender_id: str) -> None:
        self.forgotten.append(sender_id)


def forget_tracker(events: list[dict]) -> Tracker:
    return Tracker(
        sender_id="rest:victim",
        slots={"language": "it"},
        latest_message={"text": "/forget_confirm", "intent": {"name": "forget_confirm"}},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def bot_said(response: str) -> dict:
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def test_the_forget_action_deletes_only_right_after_its_question(monkeypatch):
    privacy = FakePrivacy()
    monkeypatch.setattr(actions, "_PRIVACY", privacy)
    user = {"event": "user", "text": "/forget_confirm"}
    for events in ([], [user], [bot_said("utter_greet"), user]):
        dispatcher = CollectingDispatcher()
        assert actions.ActionForgetMe().run(dispatcher, forget_tracker(events), {}) == []
        assert [m["response"] for m in dispatcher.messages] == ["utter_ask_forget"]
    # The question, then something else, then the button of the old question: asked again.
    stale = [bot_said("utter_ask_forget"), {"event": "user"}, bot_said("utter_greet"), user]
    actions.ActionForgetMe().run(CollectingDispatcher(), forget_tracker(stale), {})
    assert privacy.forgotten == []
    dispatcher = CollectingDispatcher()
    asked = [bot_said("utter_ask_forget"), user]
    actions.ActionForgetMe().run(dispatcher, forget_tracker(asked), {})
    assert privacy.forgotten == ["rest:victim"]
    assert [m["response"] for m in dispatcher.messages] == ["utter_forgotten"]


# -- Rasa's real channels, with a stand-in agent ------------------------------------------

PER_ADDRESS = 6


def channel_server(
    tmp_path: Path, rest_token: str, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str, int]:
    """The channels of credentials.yml with the stand-in agent; `extra`: more variables."""
    port, web_port = free_port(), free_port()
    settings = load_settings(
        environ={
            "HELPDESK_REST_TOKEN": rest_token,
            "HELPDESK_SESSION_SECRET": "channel-test-secret",
            "HELPDESK_WEB_PORT": str(web_port),
            "HELPDESK_NEW_CONVERSATIONS_PER_ADDRESS": str(PER_ADDRESS),
            **(extra or {}),
        }
    )
    rasa = next(p for p in parts_for(settings) if p.name == "Rasa")
    # No desk: every message goes to the stand-in agent.
    env = {
        **rasa.env_defaults,
        "PATH": "/usr/bin:/bin",
        **rasa.env,
        "HELPDESK_DESK_URL": "",
        **(extra or {}),
    }
    log = tmp_path / f"server-{port}.log"
    server = subprocess.Popen(
        [str(RASA_PYTHON), "-m", "tests.security_channels_server", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/webhooks/socketio/", timeout=2):
                return True
        except OSError:
            return server.poll() is not None

    wait_for(up, timeout=180, interval=0.5)
    assert server.poll() is None, log.read_text()
    return server, url, web_port


@pytest.fixture(scope="module")
def channels(tmp_path_factory):
    server, url, web_port = channel_server(tmp_path_factory.mktemp("channels"), "rest-secret")
    yield url, web_port
    server.terminate()
    server.wait(timeout=30)


def rest(url: str, body: dict, token: str | None = "rest-secret", **headers: str):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    status, answer, _ = post(
        f"{url}/webhooks/rest/webhook",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", **headers},
    )
    return status, json.loads(answer or b"null")


def echoed(replies: list[dict]) -> tuple[str, str, str]:
    (reply,) = replies
    sender, channel, text = reply["text"].split("|", 2)
    return sender, channel, text


def test_rest_answers_only_with_the_bearer_token(channels):
    url, _ = channels
    body = {"sender": "someone", "message": "/forget_confirm"}
    assert rest(url, body, token=None)[0] == 403
    assert rest(url, body, token="wrong")[0] == 403
    assert rest(url, body, token=None, Authorization="rest-secret")[0] == 403
    status, replies = rest(url, body)
    assert status == 200 and echoed(replies)[0] == "rest:someone"


def test_rest_can_reach_no_other_channels_conversation(channels):
    url, _ = channels
    for victim in ("whatsapp:+393331234567", "telegram:4242", "socketio:" + "a" * 32):
        body = {"sender": victim, "message": "/forget_confirm", "input_channel": "twilio"}
        status, replies = rest(url, body)
        # Their own namespace, and the channel is rest whatever the body says.
        assert status == 200 and echoed(replies)[:2] == (f"rest:{victim}", "rest")


def test_a_flood_of_new_rest_senders_from_one_address_is_refused(channels):
    url, _ = channels
    known = f"known-{uuid.uuid4().hex[:6]}"
    assert rest(url, {"sender": known, "message": "hi"})[0] == 200
    statuses = [
        rest(url, {"sender": f"flood-{n}-{uuid.uuid4().hex[:6]}", "message": "help"})[0]
        for n in range(PER_ADDRESS + 2)
    ]
    assert 429 in statuses and statuses.count(200) < PER_ADDRESS
    assert statuses[statuses.index(429) :] == [429] * (len(statuses) - statuses.index(429))
    # Someone already talking is not cut off.
    assert rest(url, {"sender": known, "message": "still there?"})[0] == 200


@pytest.mark.slow  # starts processes
def test_an_unset_rest_token_turns_the_channel_off(tmp_path):
    server, url, _ = channel_server(tmp_path, "")
    try:
        assert rest(url, {"sender": "a", "message": "hi"}, token=None)[0] == 403
        assert rest(url, {"sender": "a", "message": "hi"}, token="")[0] == 403
        assert post(f"{url}/webhooks/rest/", b"", {}, method="GET")[0] == 403
    finally:
        server.terminate()
        server.wait(timeout=30)


async def next_text(client: SocketIOClient, timeout: float = 10) -> str:
    return (await client.next_message(timeout))["text"]


def test_a_second_client_cannot_take_over_a_socketio_session(channels):
    url, _ = channels

    async def story() -> None:
        async with SocketIOClient(url) as victim:
            assert victim.session_tag
            await victim.say("hello")
            assert await next_text(victim) == f"socketio:{victim.session_id}|socketio|hello"
            # The attacker knows the id (from a log, a desk page, the host page's storage).
            for tag in (None, "0" * 64, victim.session_tag[:-1] + "0"):
                with pytest.raises(SessionRefused, match="unknown session"):
                    async with SocketIOClient(url, victim.session_id, tag):
                        pass
            assert victim.messages.empty()
            # With a session of its own, it still cannot write into the victim's.
            async with SocketIOClient(url) as other:
                await other._emit(
                    "user_uttered", {"message": "it's me", "session_id": victim.session_id}
                )
                await asyncio.sleep(1)
                assert other.refused
                await victim.say("still mine?")
                assert (
                    await next_text(victim) == f"socketio:{victim.session_id}|socketio|still mine?"
                )
                assert victim.messages.empty() and other.messages.empty()
            # The person themselves comes back with id and tag: the same conversation.
            async with SocketIOClient(url, victim.session_id, victim.session_tag) as again:
                await again.say("back")
                assert await next_text(again) == f"socketio:{victim.session_id}|socketio|back"

    asyncio.run(asyncio.wait_for(story(), 120))


def test_socketio_accepts_only_the_allowed_origins(channels):
    url, web_port = channels

    async def story() -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            async with SocketIOClient(url, headers={"Origin": "http://evil.example"}):
                pass
        origin = {"Origin": f"http://localhost:{web_port}"}
        async with SocketIOClient(url, headers=origin) as person:
            await person.say("ciao")
            assert (await next_text(person)).endswith("|socketio|ciao")

    asyncio.run(asyncio.wait_for(story(), 120))


# -- the running assistant ---------------------------------------------------------------


def actions_url(assistant) -> str:
    return assistant.settings.services.action_server_url


def forged_call(sender: str) -> bytes:
    tracker = {"sender_id": sender, "slots": {}, "latest_message": {}, "events": []}
    return json.dumps({"next_action": "action_forget_me", "tracker": tracker}).encode()


@pytest.mark.integration
def test_the_action_server_refuses_callers_without_the_secret(assistant):
    sender = f"victim-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, "dove si fa la residenza?")
    json_type = {"Content-Type": "application/json"}
    for headers in (
        {},
        {ACTION_TOKEN_HEADER: "wrong"},
        {"Authorization": f"Bearer {ACTION_TOKEN}"},
    ):
        status, _, _ = post(
            f"{actions_url(assistant)}/webhook",
            forged_call(rest_id(sender)),
            {**json_type, **headers},
        )
        assert status == 403
        for path in ("suggest", "translate", "entry", "emergency"):
            status, _, _ = post(
                f"{actions_url(assistant)}/knowledge/{path}",
                b'{"text": "x"}',
                {**json_type, **headers},
            )
            assert status == 403, path
    assert post(f"{actions_url(assistant)}/actions", b"", {}, method="GET")[0] == 403
    assert post(f"{actions_url(assistant)}/health", b"", {}, method="GET")[0] == 200
    # Nothing was deleted.
    assert assistant.user_texts(sender) == ["dove si fa la residenza?"]
    # No CORS for browsers.
    _, _, headers = post(
        f"{actions_url(assistant)}/webhook",
        b"",
        {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        method="OPTIONS",
    )
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.integration
def test_a_deflate_bomb_and_a_huge_translation_are_refused_and_the_server_stays_up(assistant):
    pid = assistant.supervisor.part("action server").process.pid

    def rss_kib() -> int:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        )

    before = rss_kib()
    trusted = {ACTION_TOKEN_HEADER: ACTION_TOKEN, "Content-Type": "application/json"}
    bomb = zlib.compress(b" " * (100 * MAX_BODY), 9)  # 100 MiB in about 100 KB
    status, _, _ = post(
        f"{actions_url(assistant)}/webhook", bomb, {**trusted, "Content-Encoding": "deflate"}
    )
    assert status == 413
    assert rss_kib() - before < 50 * 1024
    big = json.dumps({"text": "x" * (MAX_BODY * 2)}).encode()
    try:
        status = post(f"{actions_url(assistant)}/knowledge/emergency", big, trusted)[0]
    except (ConnectionError, urllib.error.URLError):
        status = 413  # Sanic answered 413 and closed while the body was still going out
    assert status == 413
    long_text = "parola " * assistant.settings.safety.max_message_chars
    body = json.dumps({"text": long_text, "source": "en", "target": "fa"}).encode()
    status, answer, _ = post(f"{actions_url(assistant)}/knowledge/translate", body, trusted)
    assert status == 413 and b"longer than" in answer
    assert post(f"{actions_url(assistant)}/health", b"", {}, method="GET")[0] == 200


@pytest.mark.integration
def test_rest_without_the_token_is_refused_by_the_running_rasa(assistant):
    url = f"{assistant.settings.services.rasa_url}/webhooks/rest/webhook"
    body = json.dumps({"sender": "x", "message": "ciao"}).encode()
    assert post(url, body, {"Content-Type": "application/json"})[0] == 403
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {REST_TOKEN}"}
    assert post(url, body, auth)[0] == 200


@pytest.mark.integration
def test_forget_confirm_without_the_question_deletes_nothing(assistant):
    sender = f"keep-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, "dove si fa la residenza?")
    replies = assistant.say(sender, "/forget_confirm")
    # Asked again, with the buttons; nothing deleted.
    assert [b["payload"] for r in replies for b in r.get("buttons", [])] == [
        "/forget_confirm",
        "/forget_cancel",
    ]
    time.sleep(3)
    assert "dove si fa la residenza?" in assistant.user_texts(sender)


@pytest.mark.integration
def test_rest_cannot_erase_a_widget_conversation_by_its_id(assistant, settings):
    async def story() -> None:
        async with SocketIOClient(settings.services.rasa_url) as person:
            await person.say("dove si fa la residenza?", {"language": "it"})
            await person.next_message(timeout=60)
            for sender in (person.session_id, person.sender_id):
                assistant.say(sender, "/forget_me")
                assistant.say(sender, "/forget_confirm")
            await asyncio.sleep(3)
            assert "dove si fa la residenza?" in assistant.user_texts(person.sender_id)

    asyncio.run(asyncio.wait_for(story(), 180))


def listening_hosts(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) with a listener on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.mark.integration
def test_the_running_parts_listen_on_loopback_and_keep_their_secrets_and_files_private(
    assistant, settings
):
    from bot.serve import port_of

    loopback = {"0100007F", "00000000000000000000000001000000"}
    for url in (settings.services.rasa_url, settings.services.action_server_url):
        assert listening_hosts(port_of(url)) <= loopback, url
    assert listening_hosts(settings.services.web_port) <= loopback
    rasa = assistant.supervisor.part("Rasa").process.pid
    assert RASA_TOKEN.encode() not in Path(f"/proc/{rasa}/cmdline").read_bytes()
    for name in ("tracker.db", "events.db"):
        mode = stat.S_IMODE(os.stat(settings.data_dir / name).st_mode)
        assert mode & 0o077 == 0, (name, oct(mode))
    # Rasa's API does not let other sites in.
    _, _, headers = post(
        f"{settings.services.rasa_url}/conversations/x/tracker",
        b"",
        {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
        method="OPTIONS",
    )
    assert headers.get("Access-Control-Allow-Origin") != "http://evil.example"
