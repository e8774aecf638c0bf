"""The mediator desk with a long queue, in Debian's Chromium through Playwright (issue 20).

The real web app (templates, scripts, store, live socket) runs in a thread of
this process on a fresh data folder, with no Rasa and no action server: the
queue is filled through the store, and a new request arrives the way the bot
opens one (``DeskConnector.open``), which sends the live notice.

The site, its mediators and its queue are ``tests/desk_site.py``'s; the
fixtures ``queue_site`` and ``chromium`` are in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from connectors.desk import app as desk
from connectors.desk.auth import hash_password
from connectors.desk.store import Store
from connectors.identity import SessionSigner
from knowledge.settings import load_settings
from tests.conftest import PASSWORD, free_port
from tests.desk_site import AMAL, ATTACK, DESKTOP, PHONE, SESSION_SECRET, Site
from tests.test_attachments import png_with_text

pytestmark = pytest.mark.slow  # starts Chromium and a web app of its own


# A stand-in for the browser's Notification, to see whether and when it is used.
FAKE_NOTIFICATION = """
window.__asked = 0; window.__shown = []; window.__hidden = false;
class FakeNotification {
  constructor(title, options) { window.__shown.push({ title, body: options && options.body }); }
  close() {}
  addEventListener() {}
}
FakeNotification.permission = 'default';
FakeNotification.requestPermission = async () => {
  window.__asked += 1; FakeNotification.permission = 'granted'; return 'granted';
};
window.Notification = FakeNotification;
Object.defineProperty(document, 'visibilityState', {
  get: () => (window.__hidden ? 'hidden' : 'visible'),
});
"""


def log_in(chromium, url: str, username: str, viewport=DESKTOP):
    context = chromium.new_context(viewport=viewport, locale="en-GB")
    context.add_init_script(FAKE_NOTIFICATION)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile("/desk$"))
    expect(page.locator("#queue-count")).to_have_text(re.compile(r"^\d+ waiting"))
    return page


def waiting_for(store: Store, languages) -> list[dict]:
    """What the desk must list, in order: urgent first, then the longest waiting."""
    return [h for h in store.queue(AMAL) if h["status"] == "waiting" and h["language"] in languages]


def row_ids(page, within: str = "#queue") -> list[int]:
    return [
        int(i)
        for i in page.locator(f"{within} .queue-item").evaluate_all(
            "(rows) => rows.map((row) => row.dataset.id)"
        )
    ]


def test_long_queue_is_compact_counted_filtered_by_language_and_searchable(queue_site, chromium):
    site, store = queue_site
    page = log_in(chromium, site.url, "amal")
    try:
        mine = waiting_for(store, AMAL)
        urgent = sum(1 for h in mine if h["urgent"])
        assert len(mine) >= 40 and urgent == 3
        expect(page.locator("#queue-count")).to_have_text(f"{len(mine)} waiting, {urgent} urgent")
        # Default: the mediator's own languages, urgent first then oldest first.
        assert row_ids(page) == [h["id"] for h in mine]
        assert page.locator("#queue .queue-item.is-urgent").count() == urgent
        languages = page.locator("#queue .queue-item").evaluate_all(
            "(rows) => [...new Set(rows.map((row) => row.dataset.language))].sort()"
        )
        assert languages == ["ar", "fr", "it"]
        expect(page.locator("#queue .queue-item").first).to_contain_text("Arabic")
        expect(page.locator("#queue .queue-item").first).to_contain_text("residence permit")
        # Many rows per screen, not 6 cards: even the first screen, under the filters.
        rows = page.locator("#queue .queue-item").evaluate_all(
            "(rows) => rows.map((row) => row.getBoundingClientRect())"
            ".map((r) => ({ top: r.top, bottom: r.bottom, height: r.height }))"
        )
        on_screen = sum(1 for r in rows if r["top"] >= 0 and r["bottom"] <= DESKTOP["height"])
        tallest = max(r["height"] for r in rows)
        assert on_screen >= 8 and DESKTOP["height"] // tallest >= 15, (on_screen, tallest)
        # The redacted preview, as text: no element made from a person's words.
        expect(page.locator("#queue")).to_contain_text("chiamatemi al [phone]")
        assert "333 123" not in page.locator("#queue").inner_text()
        expect(page.locator("#queue")).to_contain_text(ATTACK)
        assert page.locator("#queue img, #queue b").count() == 0
        assert page.evaluate("window.__xss") is None

        # Spanish (no mediator speaks it) is there on request; Bengali (rahim's) never is.
        spanish = [h["id"] for h in waiting_for(store, ("es",))]
        expect(page.locator("#queue-more")).to_contain_text(
            f"{len(spanish)} more in languages no mediator speaks (Spanish)."
        )
        page.select_option("#queue-language", "all")
        everything = waiting_for(store, (*AMAL, "es"))
        assert row_ids(page) == [h["id"] for h in everything]
        assert page.locator('#queue .queue-item[data-language="bn"]').count() == 0
        page.select_option("#queue-language", "fr")
        assert row_ids(page) == [h["id"] for h in everything if h["language"] == "fr"]
        page.select_option("#queue-language", "mine")

        # Search over the preview, the language and the channel.
        page.fill("#queue-search", "passaporto stazione")
        [found] = [h["id"] for h in mine if h["language"] == "fr" and h["sender_id"].endswith("-5")]
        assert row_ids(page) == [found]
        expect(page.locator("#queue-count")).to_have_text(
            f"{len(mine)} waiting, {urgent} urgent · 1 shown"
        )
        page.fill("#queue-search", "french")
        assert len(row_ids(page)) == sum(1 for h in mine if h["language"] == "fr")
        page.fill("#queue-search", "telegram italian")
        assert row_ids(page) == [
            h["id"] for h in mine if h["language"] == "it" and h["channel"] == "telegram"
        ]
        page.fill("#queue-search", "no such words")
        expect(page.locator("#queue-empty")).to_have_text("No waiting request matches the filters.")
        page.fill("#queue-search", "")
        page.check("#queue-urgent-only")
        assert row_ids(page) == [h["id"] for h in mine if h["urgent"]]
    finally:
        page.context.close()


def test_claiming_low_in_the_list_brings_the_conversation_into_view(queue_site, chromium):
    site, store = queue_site
    page = log_in(chromium, site.url, "amal")
    try:
        last = page.locator("#queue .queue-item").last
        target = int(last.get_attribute("data-id"))
        last.scroll_into_view_if_needed()
        assert page.evaluate("window.scrollY") > 1000  # far down the page
        last.locator(".claim").click()
        title = page.locator("#conversation-title")
        expect(title).to_have_text(f"Request {target}")
        expect(title).to_be_focused()
        box = title.bounding_box()
        assert 0 <= box["y"] and box["y"] + box["height"] <= DESKTOP["height"], box
        expect(page.locator("#transcript")).to_contain_text("seconda riga")
        # The claimed one moves to "Your conversations", out of the waiting list.
        expect(page.locator(f'#my-queue .queue-item[data-id="{target}"]')).to_be_visible()
        assert target not in row_ids(page)
        assert store.handoff(target)["status"] == "claimed"
    finally:
        page.context.close()


def test_a_new_request_shows_in_the_title_is_announced_and_urgent_gets_a_banner(
    queue_site, chromium
):
    site, store = queue_site
    page = log_in(chromium, site.url, "amal")
    try:
        count = len(waiting_for(store, AMAL))
        expect(page).to_have_title(f"({count}) Desk · Help desk")
        # Urgent ones already waiting are named at once.
        expect(page.locator("#urgent-banner")).to_contain_text("3 urgent requests waiting")
        page.click("#urgent-dismiss")
        expect(page.locator("#urgent-banner")).to_be_hidden()

        site.new_request("telegram:new-fr", "fr", urgent=False)
        expect(page).to_have_title(f"({count + 1}) Desk · Help desk")
        expect(page.locator("#queue-announce")).to_have_text("New request: French.")
        expect(page.locator("#urgent-banner")).to_be_hidden()

        site.new_request("telegram:new-ar", "ar", urgent=True)
        expect(page).to_have_title(f"({count + 2}) Desk · Help desk")
        expect(page.locator("#queue-alert")).to_have_text("New urgent request: Arabic.")
        expect(page.locator("#urgent-banner")).to_contain_text("4 urgent requests waiting")
        page.click("#urgent-show")
        newest = store.queue(AMAL)
        new_id = next(h["id"] for h in newest if h["sender_id"] == "telegram:new-ar")
        expect(page.locator(f'#queue .queue-item[data-id="{new_id}"] .claim')).to_be_focused()

        # Browser notifications: never asked on load, only on the mediator's click,
        # then shown for a new request while the desk is in the background.
        assert page.evaluate("window.__asked") == 0
        page.click("#notify-toggle")
        expect(page.locator("#notify-toggle")).to_have_text("Turn off notifications")
        assert page.evaluate("window.__asked") == 1
        page.evaluate("window.__hidden = true")
        site.new_request("telegram:new-it", "it", urgent=False)
        expect(page).to_have_title(f"({count + 3}) Desk · Help desk")
        shown = page.evaluate("window.__shown")
        assert len(shown) == 1 and shown[0]["title"] == "New request waiting"
        assert shown[0]["body"].startswith("Italian, #")  # no words of the person
    finally:
        page.context.close()


def test_the_desk_on_a_phone(queue_site, chromium):
    site, store = queue_site
    page = log_in(chromium, site.url, "amal", viewport=PHONE)
    try:

        def no_sideways_scroll() -> None:
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], width

        no_sideways_scroll()
        expect(page.locator("#conversation")).to_be_hidden()
        for selector in ("#queue .claim", "#queue-search", "#queue-language", "#queue-urgent-only"):
            control = page.locator(selector).first
            target = control if selector != "#queue-urgent-only" else page.locator("label.check")
            box = target.bounding_box()
            assert box["height"] >= 44, (selector, box)
        claim_box = page.locator("#queue .claim").first.bounding_box()
        assert claim_box["width"] >= 44 and claim_box["x"] + claim_box["width"] <= PHONE["width"]

        # Claiming: the conversation takes the screen, with a way back to the queue.
        row = page.locator("#queue .queue-item").nth(8)
        target = int(row.get_attribute("data-id"))
        row.scroll_into_view_if_needed()
        row.locator(".claim").click()
        expect(page.locator("#conversation-title")).to_have_text(f"Request {target}")
        expect(page.locator("#conversation-title")).to_be_focused()
        expect(page.locator("#queue-panel")).to_be_hidden()
        back = page.locator("#back-to-queue")
        expect(back).to_be_in_viewport()
        assert back.bounding_box()["height"] >= 44
        no_sideways_scroll()
        back.click()
        expect(page.locator("#queue-panel")).to_be_visible()
        expect(page.locator("#conversation")).to_be_hidden()
        expect(page.locator(f'#my-queue .queue-item[data-id="{target}"] button')).to_be_focused()
        no_sideways_scroll()
    finally:
        page.context.close()


def test_a_conversation_is_transferred_then_put_back_in_the_queue(queue_site, chromium):
    site, store = queue_site
    if store.credentials("bilal") is None:
        bilal = store.add_user("bilal", hash_password(PASSWORD), "mediator", "ar it")
        store.set_page_language(bilal.id, "en")
    target = waiting_for(store, ("ar",))[-1]["id"]
    amal = log_in(chromium, site.url, "amal")
    amal.on("dialog", lambda dialog: dialog.accept())
    try:
        amal.locator(f'#queue .queue-item[data-id="{target}"] .claim').click()
        expect(amal.locator("#conversation-title")).to_have_text(f"Request {target}")
        expect(amal.locator("#hand-on")).to_be_visible()
        # Only colleagues who work in Arabic: rahim (bn, ur) is not offered.
        expect(amal.locator("#transfer-to option")).to_have_text(["bilal"])
        amal.click("#transfer-send")
        expect(amal.locator("#conversation-empty")).to_be_visible()
        expect(amal.locator(f'#my-queue .queue-item[data-id="{target}"]')).to_have_count(0)
        expect(amal.locator("#queue-announce")).to_have_text(
            f"Request {target} was transferred to bilal."
        )
    finally:
        amal.context.close()
    assert store.handoff(target)["mediator_name"] == "bilal"

    # bilal was not logged in: it is waiting for him as his, on his phone.
    bilal = log_in(chromium, site.url, "bilal", viewport=PHONE)
    bilal.on("dialog", lambda dialog: dialog.accept())
    try:
        bilal.locator(f'#my-queue .queue-item[data-id="{target}"] .open').click()
        expect(bilal.locator("#transcript .msg-desk")).to_have_text(
            re.compile("Transferred from amal to bilal.")
        )
        release = bilal.locator("#release-handoff")
        release.scroll_into_view_if_needed()
        for control in (release, bilal.locator("#transfer-send"), bilal.locator("#transfer-to")):
            box = control.bounding_box()
            assert box["height"] >= 48 and box["x"] + box["width"] <= PHONE["width"], box
        assert bilal.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        expect(bilal.locator("#transfer-to option")).to_have_text(["amal"])
        release.click()
        expect(bilal.locator("#queue-panel")).to_be_visible()
        expect(bilal.locator(f'#queue .queue-item[data-id="{target}"] .claim')).to_be_visible()
    finally:
        bilal.context.close()
    assert store.handoff(target)["status"] == "waiting"


def test_a_private_note_is_kept_beside_the_conversation(queue_site, chromium):
    site, store = queue_site
    target = waiting_for(store, ("ar",))[-2]["id"]
    note = "لا تتصل بالرقم +39 333 123 4567"
    page = log_in(chromium, site.url, "amal")
    try:
        expect(page.locator("#notes-panel")).to_be_hidden()
        page.locator(f'#queue .queue-item[data-id="{target}"] .claim').click()
        expect(page.locator("#notes-panel")).to_be_visible()
        expect(page.locator("#notes")).to_have_text("No notes yet.")
        page.fill("#note-text", note)
        page.click("#note-add")
        saved = page.locator("#notes .note")
        expect(saved.locator(".note-author")).to_have_text("amal")
        # Right to left, with the phone number kept in order in its own <bdi>.
        expect(saved.locator(".note-text")).to_have_attribute("dir", "auto")
        expect(saved.locator(".note-text bdi")).to_have_text("+39 333 123 4567")
        expect(page.locator("#note-text")).to_have_value("")
        # Not part of the conversation with the person.
        expect(page.locator("#transcript")).not_to_contain_text("لا تتصل")
    finally:
        page.context.close()
    assert [n["text"] for n in store.notes(target)] == [note]
    assert all(m["author"] != "mediator" for m in store.handoff_transcript(target))

    phone = log_in(chromium, site.url, "amal", viewport=PHONE)
    try:
        phone.locator(f'#my-queue .queue-item[data-id="{target}"] .open').click()
        expect(phone.locator("#notes .note-text")).to_have_text(note)
        add = phone.locator("#note-add")
        add.scroll_into_view_if_needed()
        box = add.bounding_box()
        assert box["height"] >= 48 and box["x"] + box["width"] <= PHONE["width"], box
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.context.close()


def test_closed_conversations_are_found_and_read_again_read_only(queue_site, chromium):
    site, store = queue_site
    amal_id, rahim_id = (store.credentials(n)[0].id for n in ("amal", "rahim"))
    # Seeded ones, with messages (the tests above add requests without any).
    french, arabic = (
        [h["id"] for h in waiting_for(store, (language,)) if store.preview(h["id"])][-3]
        for language in ("fr", "ar")
    )
    bengali = next(h["id"] for h in store.queue(None) if h["language"] == "bn")
    for handoff_id, mediator in ((french, amal_id), (arabic, amal_id), (bengali, rahim_id)):
        assert store.claim(handoff_id, mediator) and store.close(handoff_id, mediator, "")
    for viewport in (DESKTOP, PHONE):
        page = log_in(chromium, site.url, "amal", viewport=viewport)
        try:
            summary = page.locator("#history summary")
            summary.scroll_into_view_if_needed()
            assert summary.bounding_box()["height"] >= 48
            summary.click()
            # Only hers, newest first: rahim's Bengali one is not there.
            expect(page.locator("#history-count")).to_have_text("2 closed conversations")
            assert row_ids(page, "#history-list") == [arabic, french]
            page.select_option("#history-language", "fr")
            page.click("#history-search")
            expect(page.locator("#history-count")).to_have_text("1 closed conversation")
            for control in ("#history-language", "#history-from", "#history-search"):
                box = page.locator(control).bounding_box()
                assert box["height"] >= 48 and box["x"] + box["width"] <= viewport["width"]
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            page.locator(f'#history-list .queue-item[data-id="{french}"] .open').click()
            expect(page.locator("#conversation-title")).to_have_text(f"Request {french}")
            expect(page.locator("#conv-status")).to_have_text("closed by you")
            expect(page.locator("#transcript")).to_contain_text("seconda riga")
            # Read only.
            for hidden in ("#reply-form", "#close-form", "#hand-on", "#note-form"):
                expect(page.locator(hidden)).to_be_hidden()
        finally:
            page.context.close()


def focused_row(page) -> int | None:
    """The number of the request whose row holds the focus, or None."""
    return page.evaluate(
        "() => { const active = document.activeElement;"
        " const row = active && active.closest('.queue-item');"
        " return row ? Number(row.dataset.id) : null; }"
    )


def shown_rows(page) -> list[int]:
    """The rows j and k move through: yours, then the waiting ones, each with a button."""
    return row_ids(page, "#my-queue") + row_ids(page, "#queue")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_keyboard_shortcuts_move_claim_reply_and_go_back(queue_site, chromium, viewport):
    site, _store = queue_site
    page = log_in(chromium, site.url, "rahim", viewport=viewport)
    try:
        rows = shown_rows(page)
        page.keyboard.press("j")
        assert focused_row(page) == rows[0]
        page.keyboard.press("j")
        page.keyboard.press("j")
        assert focused_row(page) == rows[2]
        page.keyboard.press("k")
        assert focused_row(page) == rows[1]
        page.keyboard.press("ArrowDown")
        assert focused_row(page) == rows[2]
        # The selected request is visibly marked, not only by the button's ring.
        shadow = page.evaluate(
            "() => getComputedStyle(document.activeElement.closest('.queue-item')).boxShadow"
        )
        assert shadow != "none"

        # Typing in a field is typing: j goes into the search box; Esc leaves it.
        page.click("#queue-search")
        page.keyboard.press("j")
        expect(page.locator("#queue-search")).to_have_value("j")
        assert focused_row(page) is None
        page.keyboard.press("Escape")
        expect(page.locator("#queue-search")).not_to_be_focused()
        page.fill("#queue-search", "")
        page.keyboard.press("Escape")

        # Enter claims the selected waiting request; r goes to the reply box.
        page.keyboard.press("j")
        target = row_ids(page, "#queue")[0]
        while focused_row(page) != target:
            page.keyboard.press("j")
        page.keyboard.press("Enter")
        expect(page.locator("#conversation-title")).to_have_text(re.compile(f"^Request {target}"))
        expect(page.locator("#conversation-title")).to_be_focused()
        page.keyboard.press("r")
        expect(page.locator("#reply-text")).to_be_focused()
        page.keyboard.press("k")  # typed, not a shortcut
        expect(page.locator("#reply-text")).to_have_value("k")
        page.keyboard.press("Escape")
        expect(page.locator("#reply-text")).not_to_be_focused()
        if viewport is PHONE:
            # Esc left the reply box for the conversation; a second Esc goes back to the queue.
            expect(page.locator("#conversation-title")).to_be_focused()
            page.keyboard.press("Escape")
            expect(page.locator("#queue-panel")).to_be_visible()
            expect(page.locator("#conversation")).to_be_hidden()
        else:
            assert focused_row(page) == target  # back in the queue, on the request
            expect(page.locator("#conversation")).to_be_visible()

        # ? shows the help (in the page's language); Esc or the button closes it.
        page.keyboard.press("?")
        helper = page.locator("#shortcuts-help")
        expect(helper).to_be_visible()
        expect(helper).to_be_in_viewport()
        expect(helper.locator("h2")).to_have_text("Keyboard shortcuts")
        expect(helper.locator("dd")).to_have_count(6)
        expect(page.locator("#shortcuts-toggle")).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Escape")
        expect(helper).to_be_hidden()
        expect(page.locator("#shortcuts-toggle")).to_be_focused()
        page.click("#shortcuts-toggle")
        expect(helper).to_be_visible()
        page.click("#shortcuts-close")
        expect(helper).to_be_hidden()
    finally:
        page.context.close()


def test_typing_is_shown_to_the_holder_and_the_mediators_typing_goes_to_the_widget(
    queue_site, chromium
):
    """Only the fact travels, at most once every 3 s; "typing…" goes after 6 s or a message."""
    site, store = queue_site
    connector = site.app[desk.CONNECTOR_KEY]
    target = next(h for h in waiting_for(store, ("fr",)) if h["channel"] == "socketio")
    sent: list[tuple[str, dict]] = []

    async def recorded(sender_id: str, message: dict, tag: dict, channel: str = "") -> None:
        sent.append((sender_id, message))

    real_send = connector.rasa.send
    connector.rasa.send = recorded
    for viewport in (DESKTOP, PHONE):
        page = log_in(chromium, site.url, "amal", viewport=viewport)
        try:
            if store.handoff(target["id"])["status"] == "waiting":
                page.locator(f'#queue .queue-item[data-id="{target["id"]}"] .claim').click()
            else:
                page.locator(f'#my-queue .queue-item[data-id="{target["id"]}"] .open').click()
            expect(page.locator("#conversation-title")).to_have_text(f"Request {target['id']}")
            typing = page.locator("#person-typing")
            expect(typing).to_be_hidden()
            site.call(connector.person_typing(target["sender_id"]))
            typing.scroll_into_view_if_needed()
            expect(typing).to_have_text("typing…")
            expect(typing).to_be_visible()
            # No new signal: gone after about 6 s.
            expect(typing).to_be_hidden(timeout=9_000)
            # A message from the person clears it at once.
            site.call(connector.person_typing(target["sender_id"]))
            expect(typing).to_be_visible()
            with store.transaction() as db:
                message_id = store.add_message(
                    db,
                    sender_id=target["sender_id"],
                    handoff_id=target["id"],
                    author="migrant",
                    text="ecco il mio messaggio",
                )
            notice = {"type": "message", "handoff_id": target["id"], "message_id": message_id}
            site.call(connector.notify(notice))
            expect(typing).to_be_hidden(timeout=2_000)

            # The mediator writes: one signal to the person's widget, never the text.
            before = len(sent)
            connector.typing = type(connector.typing)()  # each viewport starts unthrottled
            page.locator("#reply-text").press_sequentially("Bonjour, je", delay=30)
            page.wait_for_timeout(500)
            assert sent[before:] == [(target["sender_id"], {"from": "desk", "event": "typing"})]
        finally:
            page.context.close()
    connector.rasa.send = real_send


def test_a_request_left_outside_opening_hours_says_so(tmp_path, chromium):
    """The desk shows which requests came while it was closed (desk.hours)."""
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(date.today().weekday() + 2) % 7]
    shared = {
        k: v for k, v in os.environ.items() if k in ("HELPDESK_TAXONOMY", "HELPDESK_MODELS_DIR")
    }
    settings = load_settings(
        environ={
            **shared,
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_DESK_HOURS": f"{day} 09:00-09:01",  # closed now
            "HELPDESK_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "HELPDESK_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        }
    )
    store = Store.open(settings.desk.database_url)
    store.add_user("amal", hash_password(PASSWORD), "mediator", " ".join(AMAL))
    store.set_page_language(store.credentials("amal")[0].id, "en")
    site = Site(settings)
    try:
        site.new_request("telegram:night-ar", "ar", urgent=False)
        handoff_id = store.queue(AMAL)[0]["id"]
        for viewport in (DESKTOP, PHONE):
            page = log_in(chromium, site.url, "amal", viewport=viewport)
            try:
                row = page.locator(f'.queue-item[data-id="{handoff_id}"]')
                expect(row.locator(".after-hours")).to_have_text("left after hours")
                if store.handoff(handoff_id)["status"] == "waiting":
                    row.locator(".claim").click()
                else:
                    row.locator(".open").click()
                note = page.locator("#conv-after-hours")
                expect(note).to_be_visible()
                expect(note).to_contain_text("Left outside opening hours")
            finally:
                page.context.close()
    finally:
        site.stop()


def test_a_request_in_opening_hours_is_not_marked(queue_site, chromium):
    site, store = queue_site  # desk.hours: always
    page = log_in(chromium, site.url, "amal", viewport=PHONE)
    try:
        expect(page.locator("#queue .queue-item").first).to_be_visible()
        assert page.locator("#queue .after-hours").count() == 0
    finally:
        page.context.close()


def test_a_saved_arabic_reply_is_put_into_the_reply_and_sent(queue_site, chromium):
    site, store = queue_site
    saved = "أحضر جواز سفرك والإيصال إلى الكويستورا يوم الاثنين، الهاتف +39 0121 000007"
    for viewport, target in (
        (DESKTOP, waiting_for(store, ("ar",))[-3]["id"]),
        (PHONE, waiting_for(store, ("ar",))[-4]["id"]),
    ):
        page = log_in(chromium, site.url, "amal", viewport=viewport)
        page.on("dialog", lambda dialog: dialog.accept())
        try:
            expect(page.locator("#saved-panel")).to_be_hidden()
            page.locator(f'#queue .queue-item[data-id="{target}"] .claim').click()
            panel = page.locator("#saved-panel")
            expect(panel).to_be_visible()
            # The person's language is chosen for the mediator.
            expect(page.locator("#saved-language")).to_have_value("ar")
            if viewport is DESKTOP:
                expect(page.locator("#saved-list")).to_have_text(
                    "No saved reply in this language yet."
                )
                page.fill("#saved-text", saved)
                page.click("#saved-add")
            item = page.locator("#saved-list .saved-reply")
            expect(item).to_have_count(1)
            # Right to left, the phone number kept in order in its own <bdi>.
            expect(item.locator(".saved-text")).to_have_attribute("dir", "auto")
            expect(item.locator(".saved-text bdi")).to_have_text("+39 0121 000007")
            expect(page.locator("#saved-text")).to_have_value("")
            use = item.locator(".use-saved")
            use.scroll_into_view_if_needed()
            for control in (use, item.locator(".edit-saved"), item.locator(".delete-saved")):
                box = control.bounding_box()
                assert box["height"] >= 48 and box["x"] + box["width"] <= viewport["width"], box
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            if viewport is PHONE:
                # Changed for every mediator: the office is open from 9:00.
                item.locator(".edit-saved").click()
                page.fill("#saved-list .saved-edit", saved + " 9:00")
                page.click("#saved-list .save-saved")
                expect(item.locator(".saved-text")).to_have_text(saved + " 9:00")
                saved += " 9:00"
            use.click()
            # In the reply box, focused and editable; nothing was sent by itself.
            expect(page.locator("#reply-text")).to_have_value(saved)
            expect(page.locator("#reply-text")).to_be_focused()
            assert all(m["author"] != "mediator" for m in store.handoff_transcript(target))
            page.locator("#reply-text").press("End")
            page.keyboard.type(" ✓")
            page.click("#reply-send")
            expect(page.locator("#transcript .msg-mediator .original")).to_have_text(saved + " ✓")
        finally:
            page.context.close()
        (sent,) = [m for m in store.handoff_transcript(target) if m["author"] == "mediator"]
        assert (sent["text"], sent["language"]) == (saved + " ✓", "ar")
    assert [r["text"] for r in store.saved_replies("ar")] == [saved]
    page = log_in(chromium, site.url, "amal")
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.locator(f'#my-queue .queue-item[data-id="{target}"] .open').click()
        page.locator("#saved-list .delete-saved").click()
        expect(page.locator("#saved-list")).to_have_text("No saved reply in this language yet.")
    finally:
        page.context.close()
    assert store.saved_replies("ar") == []


def test_a_person_attaches_a_photo_in_the_widget_and_the_mediator_sees_it(queue_site, chromium):
    site, store = queue_site
    session_id, tag = SessionSigner(SESSION_SECRET).issue()
    sender = f"socketio:{session_id}"
    # The widget's session as Rasa's socket.io channel issued it (no Rasa runs here).
    remembered = (
        f"localStorage.setItem('helpdesk.session', '{session_id}');"
        f"localStorage.setItem('helpdesk.session_tag', '{tag}');"
        "localStorage.setItem('helpdesk.language', 'ar');"
    )
    for viewport in (PHONE, DESKTOP):
        context = chromium.new_context(viewport=viewport, locale="ar")
        context.add_init_script(remembered)
        person = context.new_page()
        try:
            person.goto(f"{site.url}/widget/example.html")
            person.click("#hd-launcher")
            attach = person.locator("#hd-attach")
            if viewport is PHONE:
                # No hand-off open yet: no button.
                person.wait_for_timeout(800)
                expect(attach).to_be_hidden()
                person.close()
                with store.transaction() as db:
                    store.open_handoff(
                        db,
                        sender_id=sender,
                        channel="socketio",
                        language="ar",
                        topic=None,
                        reason="request",
                    )
                person = context.new_page()
                person.goto(f"{site.url}/widget/example.html")
                person.click("#hd-launcher")
                attach = person.locator("#hd-attach")
            expect(attach).to_be_visible()
            expect(attach).to_have_attribute("aria-label", "أرسل صورة أو ملف PDF")
            box = attach.bounding_box()
            assert box["width"] >= 48 and box["height"] >= 48, box
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
            if viewport is PHONE:
                # A text file renamed to .jpg: refused, said in Arabic, nothing kept.
                person.set_input_files(
                    "#hd-file",
                    files=[{"name": "letter.jpg", "mimeType": "image/jpeg", "buffer": b"hi"}],
                )
                expect(person.locator(".hd-note .hd-text").last).to_have_text(
                    "الصور فقط (JPEG وPNG) أو ملفات PDF."
                )
            person.set_input_files(
                "#hd-file",
                files=[
                    {"name": "questura.png", "mimeType": "image/png", "buffer": png_with_text()}
                ],
            )
            expect(person.locator(".hd-note .hd-text").last).to_have_text(
                "تم إرسال الملف إلى الوسيط."
            )
            expect(person.locator(".hd-user .hd-text").last).to_contain_text("questura.png")
        finally:
            context.close()
    (handoff_id,) = [
        h["id"] for h in store.queue() if h["status"] == "waiting" and h["sender_id"] == sender
    ]
    files = store.handoff_attachments(handoff_id)
    assert len(files) == 2 and {f["content_type"] for f in files.values()} == {"image/png"}

    amal = log_in(chromium, site.url, "amal")
    try:
        amal.locator(f'#queue .queue-item[data-id="{handoff_id}"] .claim').click()
        photos = amal.locator("#transcript .msg-migrant .attachment-photo img")
        expect(photos).to_have_count(2)
        expect(amal.locator("#transcript .msg-migrant .original").first).to_contain_text(
            "📎 Photo (PNG"
        )
        # Loaded from the desk (the holder may), and drawn.
        amal.wait_for_function(
            "() => [...document.querySelectorAll('#transcript .attachment-photo img')]"
            ".every((img) => img.complete && img.naturalWidth === 20)"
        )
    finally:
        amal.context.close()
