"""The authoring page's local offices and feedback box, tried as an attacker would.

The web app runs in-process (aiohttp's test client) on a copy of the kit and a
fresh data folder, with no action server (a save says the assistant could not
be told). Only editors and admins change the offices; every change needs the
page's CSRF token; the feedback box never shows who asked.
"""

from __future__ import annotations

import re
import shutil

import pytest
from aiohttp.test_utils import TestClient

from connectors.desk.store import Store, now
from knowledge.settings import PROJECT_ROOT
from tests.test_security_desk import PASSWORD_HASH, USERS, _settings, clients_of, logged_in

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TOWN_FILE = "municipalities/torre-pellice.yml"
SENDER = "whatsapp:+393331234567"


@pytest.fixture
def settings(tmp_path):
    shutil.copytree(PROJECT_ROOT / "knowledge" / "content", tmp_path / "content")
    return _settings(tmp_path, HELPDESK_CONTENT_DIR=str(tmp_path / "content"))


@pytest.fixture
def store(settings) -> Store:
    store = Store.open(settings.desk.database_url)
    for username, (role, languages) in {**USERS, "elena": ("editor", "it")}.items():
        store.add_user(username, PASSWORD_HASH, role, languages)
        # These tests read the pages' English text; Italian is the default.
        store.set_page_language(store.credentials(username)[0].id, "en")
    return store


@pytest.fixture
async def site(settings, store):
    async with clients_of(settings) as new_client:
        yield new_client


async def csrf_of(client: TestClient, page: str = "/editor/offices") -> str:
    html = await (await client.get(page)).text()
    return _CSRF_META.search(html).group(1)


def office_fields(**changes: str) -> dict[str, str]:
    fields = {
        "key": "registry_office",
        "name": "Ufficio Anagrafe, Comune di Torre Pellice",
        "address": "Via Repubblica 1, Torre Pellice (esempio)",
        "hours": "lun-ven 9:00-12:00 (esempio)",
        "phone": "+39 0121 000002 (esempio)",
        "url": "",
    }
    return {**fields, **changes}


@pytest.mark.parametrize("username", ["amal", "olga"])
async def test_mediators_and_operators_may_not_see_or_change_the_offices(site, settings, username):
    client = await logged_in(site, username)
    before = (settings.content.dir / TOWN_FILE).read_text(encoding="utf-8")
    assert (await client.get("/editor/offices")).status == 403
    token = _CSRF_META.search(await (await client.get("/desk")).text())
    form = {**office_fields(hours="sempre chiuso"), "csrf": token.group(1) if token else ""}
    for path in ("/editor/offices/save", "/editor/offices/undo"):
        response = await client.post(path, data=form, allow_redirects=False)
        assert response.status == 403, path
    response = await client.post(
        "/editor/offices/check", json=office_fields(), headers={"X-CSRF-Token": form["csrf"]}
    )
    assert response.status == 403
    assert (settings.content.dir / TOWN_FILE).read_text(encoding="utf-8") == before


async def test_office_changes_need_the_pages_csrf_token(site, settings):
    client = await logged_in(site, "elena")
    before = (settings.content.dir / TOWN_FILE).read_text(encoding="utf-8")
    for token in (None, "forged-token"):
        form = office_fields(hours="sempre chiuso")
        if token:
            form["csrf"] = token
        response = await client.post("/editor/offices/save", data=form, allow_redirects=False)
        assert response.status == 403
        assert "CSRF" in await response.text()
    assert (await client.post("/editor/offices/check", json=office_fields())).status == 403
    assert (settings.content.dir / TOWN_FILE).read_text(encoding="utf-8") == before


async def test_an_editor_saves_an_office_sees_the_history_and_undoes(site, settings):
    client = await logged_in(site, "elena")
    path = settings.content.dir / TOWN_FILE
    before = path.read_text(encoding="utf-8")
    page = await (await client.get("/editor/offices")).text()
    assert 'id="office-registry_office"' in page
    assert "sample data" in page  # example: true is said once, on the page
    token = _CSRF_META.search(page).group(1)

    # A bad phone: nothing written, the form shows what was typed and why.
    bad = {**office_fields(phone="chiamare 0121 000002", hours="lun 8-9"), "csrf": token}
    response = await client.post("/editor/offices/save", data=bad, allow_redirects=False)
    assert response.status == 422
    text = await response.text()
    assert "Not saved" in text and "may have only digits" in text
    assert 'value="chiamare 0121 000002"' in text and 'value="lun 8-9"' in text
    assert path.read_text(encoding="utf-8") == before

    good = {**office_fields(hours="lun-ven 8:30-12:30"), "csrf": token}
    response = await client.post("/editor/offices/save", data=good, allow_redirects=False)
    assert response.status == 303
    assert "Saved" in response.headers["Location"]
    assert "    hours: lun-ven 8:30-12:30\n" in path.read_text(encoding="utf-8")
    page = await (await client.get("/editor/offices")).text()
    assert "elena · edit" in page and "+    hours: lun-ven 8:30-12:30" in page

    response = await client.post(
        "/editor/offices/undo", data={"csrf": token}, allow_redirects=False
    )
    assert response.status == 303 and "Undone" in response.headers["Location"]
    assert path.read_text(encoding="utf-8") == before
    assert "elena · undo" in await (await client.get("/editor/offices")).text()


async def test_the_check_previews_an_answer_with_the_typed_details(site):
    client = await logged_in(site, "elena")
    token = await csrf_of(client)
    response = await client.post(
        "/editor/offices/check",
        json=office_fields(hours="mar 10:00-11:00 <script>x</script>"),
        headers={"X-CSRF-Token": token},
    )
    body = await response.json()
    assert response.status == 200 and body["findings"] == []
    assert "mar 10:00-11:00 <script>x</script>" in body["preview"]["text"]  # JSON, shown as text
    response = await client.post(
        "/editor/offices/check",
        json=office_fields(url="http://comune.it"),
        headers={"X-CSRF-Token": token},
    )
    body = await response.json()
    assert ["https://" in f["message"] for f in body["findings"]] == [True]
    assert body["preview"] is None


async def test_entry_page_shows_what_people_found_missing_but_never_who(site, store):
    store.add_feedback(
        user_id=None, entry_id="tax-code", language="it", useful=False, question="e per i figli?"
    )
    with store.transaction() as db:
        store.add_question(
            db,
            sender_id=SENDER,
            asked_at=now(),
            source="conversation",
            language="it",
            entry_id="tax-code",
            confident=False,
            text="codice per il bambino, mio numero 3331234567",
        )
    client = await logged_in(site, "elena")
    page = await (await client.get("/editor/entry/tax-code/it")).text()
    box = page[page.index('id="entry-feedback"') :]
    box = box[: box.index("</section>")]
    assert "e per i figli?" in box and "codice per il bambino" in box
    assert '<span id="not-useful-count">1</span>' in box
    assert '<span id="unanswered-count">1</span>' in box
    assert "3331234567" not in page and SENDER not in page and "393331234567" not in page
    assert 'href="/editor/offices"' in page


def test_not_useful_in_the_chat_is_kept_against_the_entry_and_forgotten(settings):
    from connectors.desk.connector import DeskConnector
    from connectors.desk.entry_feedback import entry_feedback
    from tests.test_security_desk import _event

    connector = DeskConnector(settings)
    record = {
        "question": "codice fiscale? scrivimi a mario@example.it",
        "language": "it",
        "confident": True,
        "entry_id": "tax-code",
        "topic": "tax-code",
    }
    unsure = {**record, "question": "boh", "confident": False}
    events = [
        _event(SENDER, "slot", name="answer_record", value=record),
        _event(SENDER, "bot", text="Il codice fiscale…"),
        _event(SENDER, "user", text="/feedback"),
        _event(SENDER, "bot", text="Mi dispiace.", metadata={"utter_action": "utter_not_useful"}),
        # An unsure answer: its "not useful" is about no entry.
        _event("other", "slot", name="answer_record", value=unsure),
        _event("other", "bot", text="Mi dispiace.", metadata={"utter_action": "utter_not_useful"}),
        # No answer before (or "don't keep" chosen): nothing to keep.
        _event("third", "bot", text="Mi dispiace.", metadata={"utter_action": "utter_not_useful"}),
    ]
    connector._apply(list(enumerate(events, 1)), move_cursor=False)
    found = entry_feedback(connector.store, "tax-code")
    assert found.not_useful_count == 1
    assert found.not_useful[0].text == "codice fiscale? scrivimi a [email]"
    assert found.unanswered_count == 1  # "boh", whose best guess was tax-code
    assert SENDER not in repr(found)
    # "Don't keep" chosen afterwards, and "forget me", each take it out.
    declined = _event(SENDER, "slot", name="privacy", value="declined")
    connector._apply([(1, declined)], move_cursor=False)
    assert entry_feedback(connector.store, "tax-code").not_useful_count == 0
    connector._apply(list(enumerate(events[:4], 1)), move_cursor=False)
    assert entry_feedback(connector.store, "tax-code").not_useful_count == 1
    assert connector.store.forget(SENDER)["answer_feedback"] == 1
    assert entry_feedback(connector.store, "tax-code").not_useful_count == 0
