"""Real-browser stories: Debian's Chromium driven by Playwright, against the real stack.

- A migrant uses the widget in Arabic (right to left) and asks for a person; a
  mediator claims the conversation on the desk; they write to each other; the
  mediator closes it; the bot asks for a rating, which is stored.
- A migrant's message with HTML in it is shown as text on the desk.
- An operator asks in Arabic on /assist, sees answers side by side, gives
  feedback and calls a mediator in one click.
- The dashboard shows what those conversations produced.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from knowledge.browser import launch_chromium
from tests.conftest import DESK_USERS, PASSWORD, wait_for
from tests.test_attachments import png_with_text

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def browser(assistant, desk_store):  # the desk log-ins exist for every test
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def log_in(browser, web_url: str, username: str) -> Page:
    page = browser.new_context(locale="it-IT").new_page()
    page.goto(f"{web_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    home = {"mediator": "/desk", "operator": "/assist", "admin": "/dashboard"}
    expect(page).to_have_url(re.compile(home[DESK_USERS[username][0]]))
    return page


def widget(browser, web_url: str) -> Page:
    page = browser.new_context(locale="ar").new_page()
    page.goto(f"{web_url}/widget/example.html")
    page.click("#hd-launcher")
    page.select_option("#hd-language", "ar")
    expect(page.locator("#hd-panel")).to_have_attribute("dir", "rtl")
    return page


def widget_say(page: Page, text: str) -> None:
    page.fill("#hd-input", text)
    page.click("#hd-send")


def test_migrant_and_mediator_full_story(browser, web_url, desk_store):
    migrant = widget(browser, web_url)
    # The bot answers in Arabic (greeting, then the language confirmation).
    expect(migrant.locator(".hd-msg.hd-bot").first).to_be_visible(timeout=30_000)
    session_id = migrant.evaluate("window.HelpdeskWidget.sessionId()")
    widget_say(migrant, "أريد التحدث مع شخص")
    expect(migrant.locator(".hd-msg.hd-bot", has_text="وسيط").last).to_be_visible(timeout=30_000)
    handoff = wait_for(
        lambda: next(
            (h for h in desk_store.queue() if h["sender_id"] == f"socketio:{session_id}"), None
        )
    )
    assert handoff["channel"] == "socketio" and handoff["language"] == "ar"

    # The conversation survives a reload of the host page.
    migrant.reload()
    migrant.click("#hd-launcher")
    expect(migrant.locator(".hd-msg.hd-user", has_text="أريد التحدث مع شخص")).to_be_visible()
    assert migrant.evaluate("window.HelpdeskWidget.sessionId()") == session_id

    mediator = log_in(browser, web_url, "amal")
    item = mediator.locator(f'.queue-item[data-id="{handoff["id"]}"]')
    expect(item).to_contain_text(re.compile("ar", re.IGNORECASE))
    item.locator(".claim").click()
    expect(mediator.locator("#transcript")).to_contain_text("أريد التحدث مع شخص")

    widget_say(migrant, "أحتاج مساعدة في تصريح الإقامة")
    expect(mediator.locator("#transcript")).to_contain_text(
        "أحتاج مساعدة في تصريح الإقامة", timeout=10_000
    )
    # Suggested answers for the last question.
    expect(mediator.locator("#suggestions .suggestion").first).to_be_visible(timeout=15_000)

    # A photo of a letter, over the session Rasa's channel signed; shown to the mediator.
    expect(migrant.locator("#hd-attach")).to_be_visible(timeout=10_000)
    migrant.set_input_files(
        "#hd-file",
        files=[{"name": "questura.png", "mimeType": "image/png", "buffer": png_with_text()}],
    )
    expect(mediator.locator("#transcript .attachment-photo img")).to_be_visible(timeout=10_000)

    mediator.fill("#reply-text", "مرحبا، أنا أمل. سأساعدك.")
    sent = time.monotonic()
    mediator.click("#reply-send")
    expect(migrant.locator(".hd-msg.hd-mediator", has_text="سأساعدك")).to_be_visible(timeout=10_000)
    print(f"mediator reply shown in the widget after {time.monotonic() - sent:.2f} s")

    # Straight on to the closing note: the desk, refreshing the conversation
    # after the reply, once moved the focus back to the reply box mid-typing.
    mediator.fill("#close-note", "Explained how to renew the permit.")
    expect(mediator.locator("#transcript")).to_contain_text("سأساعدك")
    expect(mediator.locator("#close-note")).to_have_value("Explained how to renew the permit.")
    expect(mediator.locator("#reply-text")).to_have_value("")
    mediator.once("dialog", lambda dialog: dialog.accept())  # "Close this conversation?"
    mediator.click("#close-handoff")
    rating_nine = migrant.locator(".hd-quick-reply", has_text=re.compile(r"^9$"))
    expect(rating_nine).to_be_visible(timeout=20_000)
    rating_nine.click()
    wait_for(lambda: desk_store.handoff(handoff["id"])["rating"] == 9)
    # Handed back to the bot: no more files.
    expect(migrant.locator("#hd-attach")).to_be_hidden()
    assert desk_store.handoff(handoff["id"])["note"] == "Explained how to renew the permit."


def test_html_from_a_migrant_is_shown_as_text(browser, web_url, desk_store):
    migrant = widget(browser, web_url)
    session_id = migrant.evaluate("window.HelpdeskWidget.sessionId()") or ""
    widget_say(migrant, "أريد التحدث مع شخص")
    wait_for(lambda: migrant.evaluate("window.HelpdeskWidget.sessionId()"))
    session_id = migrant.evaluate("window.HelpdeskWidget.sessionId()")
    handoff = wait_for(
        lambda: next(
            (h for h in desk_store.queue() if h["sender_id"] == f"socketio:{session_id}"), None
        )
    )
    attack = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    widget_say(migrant, attack)

    mediator = log_in(browser, web_url, "bilal")
    mediator.locator(f'.queue-item[data-id="{handoff["id"]}"] .claim').click()
    expect(mediator.locator("#transcript")).to_contain_text(attack, timeout=10_000)
    assert mediator.locator("#transcript img").count() == 0
    assert mediator.locator("#transcript script").count() == 0
    assert mediator.evaluate("window.__xss") is None
    assert migrant.locator("#hd-messages img").count() == 0
    assert migrant.evaluate("window.__xss") is None


def test_operator_assist_side_by_side_feedback_and_handoff(browser, web_url, desk_store):
    operator = log_in(browser, web_url, "olga")
    operator.fill("#question", "كيف أسجل عند طبيب العائلة؟")
    operator.click("#ask")
    first = operator.locator("#results .answer").first
    expect(first).to_be_visible(timeout=20_000)
    # Italian for the operator beside Arabic for the person.
    expect(first.locator(".answer-migrant")).to_have_attribute("lang", "ar")
    expect(first.locator(".answer-operator")).to_contain_text("medico")
    expect(first.locator(".answer-migrant")).to_contain_text("طبيب")
    assert first.locator('a[href^="https://"]').count() > 0
    first.locator(".useful").click()
    expect(first.locator(".feedback-done")).to_be_visible()
    with desk_store.engine.connect() as db:
        from connectors.desk.store import feedback

        rows = db.execute(feedback.select()).all()
    assert any(row.useful and row.language in (None, "ar") for row in rows)

    operator.fill("#question", "blorf quantum zebra ukulele nebula?")
    operator.select_option("#question-language", "en")
    operator.click("#ask")
    expect(operator.locator("#not-sure")).to_be_visible(timeout=20_000)
    operator.click("#call-mediator")
    expect(operator.locator("#handoff-status")).to_be_visible()
    assert any(h["reason"] == "operator" and h["channel"] == "counter" for h in desk_store.queue())

    # Browsing without searching: every topic, grouped by domain, opens an entry.
    operator.goto(f"{web_url}/assist/topics?language=ar")
    expect(operator.locator("section.domain h2").first).to_be_visible()
    assert operator.locator("details.topic").count() == 32
    operator.locator("details.topic summary").first.click()
    operator.locator(".entry-link").first.click()
    link = operator.locator('#entry-view a[href^="https://"]').first
    expect(link).to_be_visible(timeout=15_000)


def test_dashboard_shows_figures_from_real_conversations(assistant, browser, web_url):
    # Seed through the real conversation path: questions to the bot.
    for sender, text in [
        ("dash-1", "dove si fa la residenza?"),
        ("dash-2", "كيف أسجل عند طبيب العائلة؟"),
        ("dash-3", "my phone is +39 333 123 4567, can I bring my cat on the train?"),
    ]:
        assistant.say(sender, text)
    admin = log_in(browser, web_url, "ada")

    def shows_questions() -> bool:
        admin.reload()
        return admin.locator("svg.chart").count() >= 4 and "[phone]" in admin.content()

    wait_for(shows_questions, timeout=20)
    assert "+39 333" not in admin.content()
    expect(admin.locator("#unanswered")).to_contain_text("[phone]")
    expect(admin.locator("svg.chart line.target")).to_have_count(1)
    with admin.expect_download() as download:
        admin.click("#csv")
    csv_text = download.value.path().read_text()
    assert "questions,total," in csv_text and "satisfaction,target,8.0" in csv_text


def test_delete_my_data_leaves_nothing_in_the_browser(browser, web_url, desk_store):
    """Issue 17: someone with the person's phone must find no transcript and no session."""
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(f"{web_url}/widget/example.html")
    page.click("#hd-launcher")
    page.select_option("#hd-language", "en")
    widget_say(page, "delete my data")
    confirm = page.locator(".hd-quick-reply", has_text="Yes, delete everything")
    expect(confirm).to_be_visible(timeout=30_000)
    old_session = page.evaluate("window.HelpdeskWidget.sessionId()")
    assert old_session and page.evaluate("localStorage.getItem('helpdesk.transcript')")
    confirm.click()

    expect(page.locator("#hd-messages")).to_contain_text(
        "I deleted this conversation", timeout=30_000
    )
    wait_for(lambda: page.evaluate("window.HelpdeskWidget.sessionId()") is None)
    kept = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('helpdesk.'))")
    assert kept == ["helpdesk.language"]
    # Only the bot's note is on screen; the earlier conversation is gone from it too.
    assert "delete my data" not in page.locator("#hd-messages").inner_text()

    # Writing again starts a new session, and "forget on this device" clears it locally.
    widget_say(page, "hello")
    wait_for(lambda: page.evaluate("window.HelpdeskWidget.sessionId()"), timeout=30)
    new_session = page.evaluate("window.HelpdeskWidget.sessionId()")
    assert new_session != old_session
    page.click("#hd-forget")
    assert page.evaluate("window.HelpdeskWidget.sessionId()") is None
    kept = page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('helpdesk.'))")
    assert kept == ["helpdesk.language"]
    assert page.locator("#hd-messages .hd-msg").count() == 0


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def ask_for_a_person(migrant: Page, desk_store) -> dict:
    """The person asks for a mediator in Arabic; the hand-off it opened, once queued."""
    widget_say(migrant, "أريد التحدث مع شخص")
    expect(migrant.locator(".hd-msg.hd-bot", has_text="وسيط").last).to_be_visible(timeout=30_000)
    session_id = migrant.evaluate("window.HelpdeskWidget.sessionId()")
    return wait_for(
        lambda: next(
            (h for h in desk_store.queue() if h["sender_id"] == f"socketio:{session_id}"), None
        )
    )


def open_widget(page: Page, web_url: str, language: str = "ar") -> None:
    page.goto(f"{web_url}/widget/example.html")
    page.click("#hd-launcher")
    page.select_option("#hd-language", language)


def test_replies_written_while_away_are_shown_once_and_marked_seen(browser, web_url, desk_store):
    """Issue 20.1: a mediator's reply sent while the person's page was closed."""
    phone = browser.new_context(locale="ar", **PHONE)
    migrant = phone.new_page()
    open_widget(migrant, web_url)
    handoff = ask_for_a_person(migrant, desk_store)
    session_id = migrant.evaluate("window.HelpdeskWidget.sessionId()")
    mediator = log_in(browser, web_url, "amal")
    mediator.locator(f'.queue-item[data-id="{handoff["id"]}"] .claim').click()
    expect(mediator.locator("#transcript")).to_contain_text("أريد التحدث مع شخص")

    # The person closes the page; the mediator answers meanwhile.
    migrant.goto("about:blank")
    away = "سأتصل بك غدا على الرقم +39 0121 000007"
    mediator.fill("#reply-text", away)
    mediator.click("#reply-send")
    reply = mediator.locator("#transcript .msg-mediator", has_text="000007")
    expect(reply.locator(".seen-mark")).to_have_text("not seen yet", timeout=10_000)
    # Issue 20.2 on the desk: the number in the Arabic reply keeps its order.
    assert_phone_in_order(reply.locator("a.tel"))

    # Someone who knows the session id but not its tag gets a session of their own, not the reply.
    stranger = browser.new_context(locale="ar", **PHONE).new_page()
    stranger.add_init_script(
        f"localStorage.setItem('helpdesk.session', '{session_id}');"
        "localStorage.setItem('helpdesk.session_tag', 'forged');"
    )
    open_widget(stranger, web_url)
    wait_for(
        lambda: stranger.evaluate("window.HelpdeskWidget.sessionId()") not in (None, session_id)
    )

    # Back on the page: the reply is there, once, and the desk sees it was read.
    open_widget(migrant, web_url)
    shown = migrant.locator(".hd-msg.hd-mediator", has_text="000007")
    expect(shown).to_have_count(1, timeout=10_000)
    assert_phone_in_order(shown.locator("a.hd-tel"))
    expect(reply.locator(".seen-mark")).to_have_text("seen", timeout=10_000)
    # A reload (history fetched again, transcript restored) still shows it once.
    migrant.reload()
    migrant.click("#hd-launcher")
    expect(migrant.locator(".hd-msg.hd-mediator").first).to_be_visible()
    migrant.wait_for_timeout(1500)
    assert shown.count() == 1
    # A reply while the page is open arrives live, once, and is seen at once.
    mediator.fill("#reply-text", "هل وصلتك رسالتي؟")
    mediator.click("#reply-send")
    expect(migrant.locator(".hd-msg.hd-mediator", has_text="وصلتك")).to_have_count(1)
    live = mediator.locator("#transcript .msg-mediator", has_text="وصلتك")
    expect(live.locator(".seen-mark")).to_have_text("seen", timeout=10_000)
    assert stranger.locator(".hd-msg.hd-mediator").count() == 0
    assert "000007" not in stranger.locator("#hd-messages").inner_text()


# True when the characters of the element's text are laid out left to right
# (on one line): the visual order, from each character's box.
READS_LEFT_TO_RIGHT = """(node) => {
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  const lefts = [];
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    for (let i = 0; i < text.length; i++) {
      if (!text.data[i].trim()) continue;
      range.setStart(text, i);
      range.setEnd(text, i + 1);
      lefts.push(range.getBoundingClientRect().left);
    }
  }
  return lefts.length > 1 && lefts.every((x, i) => i === 0 || x > lefts[i - 1]);
}"""


def assert_phone_in_order(link) -> None:
    expect(link).to_have_attribute("href", "tel:+390121000007")
    expect(link).to_have_text("+39 0121 000007")
    assert link.evaluate("(a) => a.closest('bdi') !== null && a.closest('bdi').dir === 'ltr'")
    assert link.evaluate(READS_LEFT_TO_RIGHT)


def test_numbers_in_arabic_keep_their_order_in_widget_and_assist(browser, web_url):
    """Issue 20.2: "+39 0121 000007" must not read "000007 0121 39+" in Arabic."""
    migrant = browser.new_context(locale="ar", **PHONE).new_page()
    open_widget(migrant, web_url)
    widget_say(migrant, "كيف أسجل عند طبيب العائلة؟")
    phone = migrant.locator('.hd-msg.hd-bot a.hd-tel[href="tel:+390121000007"]').first
    expect(phone).to_be_visible(timeout=30_000)
    assert_phone_in_order(phone)
    # «medico di base» and addresses stay whole inside the Arabic text.
    answer = migrant.locator(".hd-msg.hd-bot", has=phone)
    for run in answer.locator("bdi").all():
        assert run.evaluate("(b) => !/[\\u0600-\\u06FF]/.test(b.textContent)")
    url = answer.locator('bdi a[href^="https://"]').first
    if url.count():
        assert url.evaluate(READS_LEFT_TO_RIGHT)

    operator = log_in(browser, web_url, "olga")
    operator.fill("#question", "كيف أسجل عند طبيب العائلة؟")
    operator.click("#ask")
    link = operator.locator('#results .answer-migrant a.tel[href="tel:+390121000007"]').first
    expect(link).to_be_visible(timeout=20_000)
    assert_phone_in_order(link)


def test_waiting_person_hears_the_queue_position_and_who_joined(browser, web_url, desk_store):
    """Issue 20.3: no silence while waiting; every message with its time, in Arabic."""
    migrant = browser.new_context(locale="it-IT", **PHONE).new_page()
    open_widget(migrant, web_url)
    handoff = ask_for_a_person(migrant, desk_store)
    session_id = migrant.evaluate("window.HelpdeskWidget.sessionId()")
    widget_say(migrant, "هل من أحد هنا؟")
    waiting = migrant.locator(".hd-msg.hd-note", has_text="رقمك في الدور")
    expect(waiting).to_be_visible(timeout=10_000)
    position = desk_store.waiting_position(f"socketio:{session_id}")
    arabic_digits = migrant.evaluate(f"new Intl.NumberFormat('ar').format({position})")
    expect(waiting).to_contain_text(arabic_digits)
    # A second message updates the note instead of adding another.
    widget_say(migrant, "أنا أنتظر")
    expect(migrant.locator(".hd-msg.hd-user", has_text="أنا أنتظر")).to_be_visible()
    migrant.wait_for_timeout(1000)
    expect(migrant.locator(".hd-msg.hd-note", has_text="رقمك في الدور")).to_have_count(1)

    mediator = log_in(browser, web_url, "amal")
    mediator.locator(f'.queue-item[data-id="{handoff["id"]}"] .claim').click()
    expect(migrant.locator(".hd-msg.hd-note", has_text="انضم الوسيط")).to_contain_text(
        "amal", timeout=10_000
    )
    # Each message carries its time, written in the conversation's language.
    times = migrant.locator(".hd-msg .hd-time")
    assert times.count() >= 4
    first = times.first
    shown = first.evaluate(
        "(t) => new Intl.DateTimeFormat('ar', {hour: '2-digit', minute: '2-digit'})"
        ".format(new Date(t.dateTime))"
    )
    expect(first).to_have_text(shown)


def test_phone_panel_is_modal_notices_offline_and_refuses_long_text_keeping_it(browser, web_url):
    """Issue 20.4: focus stays in the full-screen panel; offline said at once; the counter."""
    context = browser.new_context(locale="ar", **PHONE)
    page = context.new_page()
    open_widget(page, web_url)
    expect(page.locator(".hd-msg.hd-bot").first).to_be_visible(timeout=30_000)
    panel = page.locator("#hd-panel")
    expect(panel).to_have_attribute("aria-modal", "true")
    page.focus("#hd-send")
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('hd-panel').contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "hd-send"

    # Over the limit: refused before sending, the text kept, said in Arabic.
    sent = page.locator(".hd-msg.hd-user").count()
    too_long = "أ" * 4001
    page.fill("#hd-input", too_long)
    page.press("#hd-input", "Enter")
    expect(page.locator("#hd-count")).to_contain_text("الرسالة طويلة جدًا")
    expect(page.locator("#hd-count")).to_have_class(re.compile("hd-over"))
    assert page.input_value("#hd-input") == too_long
    assert page.locator(".hd-msg.hd-user").count() == sent

    # The network goes: the widget says so within a second, and recovers.
    context.set_offline(True)
    expect(page.locator(".hd-status")).to_have_text("جارٍ إعادة الاتصال…", timeout=1_000)
    context.set_offline(False)
    expect(page.locator(".hd-status")).to_have_text("", timeout=20_000)

    # On a desktop the panel is a window beside the page, not a modal.
    desktop = browser.new_context(locale="ar", viewport={"width": 1366, "height": 900}).new_page()
    open_widget(desktop, web_url)
    expect(desktop.locator("#hd-panel")).not_to_have_attribute("aria-modal", "true")


SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def test_italian_phone_writing_arabic_gets_an_arabic_right_to_left_frame(browser, web_url):
    """Issue 20.5: the widget's own labels and direction follow the conversation."""
    page = browser.new_context(locale="it-IT", **SMALL_PHONE).new_page()
    page.goto(f"{web_url}/widget/example.html")
    page.click("#hd-launcher")
    panel = page.locator("#hd-panel")
    expect(page.locator("#hd-title")).to_have_text("Sportello di aiuto", timeout=10_000)
    expect(panel).to_have_attribute("dir", "ltr")
    widget_say(page, "كيف أسجل عند طبيب العائلة؟")
    expect(panel).to_have_attribute("dir", "rtl", timeout=30_000)
    expect(panel).to_have_attribute("lang", "ar")
    expect(page.locator("#hd-title")).to_have_text("مكتب المساعدة")
    expect(page.locator("#hd-input")).to_have_attribute("placeholder", "اكتب رسالتك")
    expect(page.locator("#hd-send")).to_have_attribute("aria-label", "إرسال")
    expect(page.locator("#hd-language")).to_have_value("ar")
    # A reload keeps the frame the conversation chose.
    page.reload()
    page.click("#hd-launcher")
    expect(panel).to_have_attribute("dir", "rtl")
    # Writing Italian again brings the Italian frame back (no language was picked).
    widget_say(page, "come mi iscrivo dal medico di base?")
    expect(panel).to_have_attribute("dir", "ltr", timeout=30_000)
    expect(page.locator("#hd-title")).to_have_text("Sportello di aiuto")


def test_picking_arabic_sends_the_greeting_and_privacy_notice_again_in_arabic(browser, web_url):
    """Issue 20.5: after picking a language, the greeting and notice come again in it."""
    from bot.actions import domain_file, response_variation

    def first_words(name: str, language: str) -> str:
        return response_variation(domain_file(), name, language)["text"].split("{")[0][:40]

    page = browser.new_context(locale="it-IT", **SMALL_PHONE).new_page()
    page.goto(f"{web_url}/widget/example.html")
    page.click("#hd-launcher")
    bots = page.locator(".hd-msg.hd-bot")
    expect(bots.first).to_contain_text(first_words("utter_greet", "it"), timeout=30_000)
    page.select_option("#hd-language", "ar")
    for name in ("utter_language_changed", "utter_greet", "utter_privacy_notice"):
        expect(bots.filter(has_text=first_words(name, "ar"))).to_have_count(1, timeout=30_000)
    expect(page.locator("#hd-panel")).to_have_attribute("dir", "rtl")
    ok = page.locator(".hd-quick-reply", has_text="موافق").last
    expect(ok).to_be_enabled()


NEWEST_IN_VIEW = """() => {
  const log = document.getElementById('hd-messages').getBoundingClientRect();
  const all = document.querySelectorAll('#hd-messages > *');
  const last = all[all.length - 1].getBoundingClientRect();
  return last.bottom <= log.bottom + 1 && last.bottom <= window.visualViewport.height + 1;
}"""


def test_privacy_buttons_unread_count_and_keyboard_on_a_phone(browser, web_url):
    """Issue 20.5: privacy buttons stay usable after typing; the unread count is
    announced; the on-screen keyboard keeps the newest message in view."""
    page = browser.new_context(locale="ar", **SMALL_PHONE).new_page()
    open_widget(page, web_url)
    widget_say(page, "كيف أسجل عند طبيب العائلة؟")
    ok = page.locator('.hd-quick-reply[data-keep="privacy"]', has_text="موافق")
    expect(ok).to_have_count(1, timeout=30_000)
    expect(page.locator(".hd-msg.hd-bot").last).to_be_visible()
    widget_say(page, "وكم يكلف؟")
    expect(page.locator(".hd-msg.hd-user")).to_have_count(2)
    expect(page.locator(".hd-quick-reply:not([data-keep])").first).to_be_disabled()
    expect(ok).to_be_enabled()
    ok.click()
    expect(ok).to_be_disabled()
    expect(page.locator('.hd-quick-reply[data-keep="privacy"]').last).to_be_disabled()

    # The keyboard opens (the visible viewport shrinks): the newest message stays in view.
    page.focus("#hd-input")
    page.locator("#hd-messages").evaluate("(b) => { b.scrollTop = 0; }")
    page.set_viewport_size({"width": 360, "height": 400})
    page.wait_for_function(NEWEST_IN_VIEW, timeout=5_000)
    page.set_viewport_size(SMALL_PHONE["viewport"])

    # Panel closed: what arrives is counted, announced and named on the launcher.
    page.click("#hd-close")
    page.evaluate("window.HelpdeskWidget.send('شكرا')")
    live = page.locator("#hd-unread")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_contain_text("رسائل جديدة", timeout=30_000)
    launcher = page.locator("#hd-launcher")
    expect(launcher).to_have_attribute("aria-label", re.compile("رسائل جديدة"))
    count = launcher.get_attribute("data-unread")
    assert count and live.text_content().endswith(count)
    page.click("#hd-launcher")
    expect(live).to_have_text("")
    expect(launcher).not_to_have_class(re.compile("hd-unread"))


# The widget's socket drops what the person writes while `window.holdMessages` is set,
# as a network that takes the frame and loses it would: no acknowledgement comes.
HOLD_MESSAGES = """() => {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (window.holdMessages && String(data).includes('"user_uttered"')) return;
    return send.call(this, data);
  };
  window.holdMessages = true;
}"""

# "Not sent" after 3 s instead of 30: the host page's script tag gets data-ack-seconds,
# before the deferred widget script runs.
QUICK_ACK = """document.addEventListener('readystatechange', () => {
  const tag = document.querySelector('script[src*="widget.js"]');
  if (document.readyState === 'interactive' && tag) tag.setAttribute('data-ack-seconds', '3');
});"""


def test_what_was_said_while_away_arrives_once_in_order_with_delivery_marks(
    assistant, browser, web_url, desk_store
):
    """Issue 20, items 1 and 4: the mediator's reply and the bot's hand-back, both
    sent while the page was closed, arrive once and in order; the person's own
    messages are marked sent, or not sent with a retry that loses nothing."""
    context = browser.new_context(locale="en-GB")
    context.add_init_script(QUICK_ACK)
    migrant = context.new_page()
    open_widget(migrant, web_url, "en")
    widget_say(migrant, "I want to talk to a person")
    asked = migrant.locator(".hd-msg.hd-user", has_text="talk to a person")
    expect(asked.locator('.hd-st[data-st="s"]')).to_have_count(1, timeout=30_000)
    expect(asked.locator(".hd-st")).to_contain_text("Sent")
    # Its time, hours and minutes in the language's clock, isolated from the text's direction.
    expect(asked.locator("bdi > time.hd-time")).to_have_text(re.compile(r"^\d\d:\d\d( [AP]M)?$"))
    session_id = migrant.evaluate("window.HelpdeskWidget.sessionId()")
    sender = f"socketio:{session_id}"
    handoff = wait_for(
        lambda: next((h for h in desk_store.queue() if h["sender_id"] == sender), None)
    )
    mediator = log_in(browser, web_url, "amal")
    # English is none of amal's languages: a hand-off in a language no mediator speaks.
    mediator.select_option("#queue-language", "all")
    mediator.locator(f'.queue-item[data-id="{handoff["id"]}"] .claim').click()
    expect(mediator.locator("#transcript")).to_contain_text("talk to a person")

    # Lost on the way: "not sent", the text stays, and "Try again" sends it once.
    migrant.evaluate(HOLD_MESSAGES)
    widget_say(migrant, "Are you there?")
    held = migrant.locator(".hd-msg.hd-user", has_text="Are you there?")
    expect(held.locator('.hd-st[data-st="p"]')).to_have_count(1)
    expect(held.locator(".hd-retry")).to_have_text("Try again", timeout=10_000)
    expect(held.locator(".hd-st")).to_contain_text("Not sent")
    assert "Are you there?" not in mediator.locator("#transcript").inner_text()
    migrant.evaluate("window.holdMessages = false")
    held.locator(".hd-retry").click()
    expect(held.locator('.hd-st[data-st="s"]')).to_have_count(1, timeout=10_000)
    expect(mediator.locator("#transcript .msg", has_text="Are you there?")).to_have_count(
        1, timeout=10_000
    )

    # The page closes; the mediator answers and closes the conversation meanwhile.
    migrant.goto("about:blank")
    mediator.fill("#reply-text", "Written while you were away.")
    mediator.click("#reply-send")
    reply = mediator.locator("#transcript .msg-mediator", has_text="while you were away")
    expect(reply.locator(".seen-mark")).to_have_text("not seen yet", timeout=10_000)
    mediator.fill("#close-note", "Answered while the person was away.")
    mediator.once("dialog", lambda dialog: dialog.accept())
    mediator.click("#close-handoff")
    wait_for(
        lambda: any(
            "closed the conversation" in (e.get("text") or "")
            for e in assistant._events(sender, "bot")
        ),
        timeout=30,
    )

    # Back: the reply, then the bot's hand-back and its rating question, once each.
    open_widget(migrant, web_url, "en")
    log = migrant.locator("#hd-messages")
    away = log.locator(".hd-msg.hd-mediator", has_text="while you were away")
    back = log.locator(".hd-msg.hd-bot", has_text="closed the conversation")
    expect(away).to_have_count(1, timeout=10_000)
    expect(back).to_have_count(1, timeout=10_000)
    expect(log.locator(".hd-quick-reply", has_text=re.compile(r"^9$"))).to_have_count(1)
    order = migrant.evaluate(
        """() => [...document.querySelectorAll('#hd-messages .hd-msg')].map((m) =>
             m.textContent.includes('while you were away') ? 'reply'
             : m.textContent.includes('closed the conversation') ? 'back' : '')
           .filter(Boolean)"""
    )
    assert order == ["reply", "back"]

    # The desk shows the reply as seen (live on the page, or on refresh).
    def seen() -> bool:
        answer = mediator.request.get(f"{web_url}/desk/api/handoffs/{handoff['id']}").json()
        return any(m["author"] == "mediator" and m["seen"] for m in answer["transcript"])

    wait_for(seen, timeout=10)
    # Reloaded (transcript from storage, history fetched again): still once each.
    migrant.reload()
    migrant.click("#hd-launcher")
    expect(back).to_have_count(1)
    migrant.wait_for_timeout(1500)
    assert away.count() == 1 and back.count() == 1
    assert log.locator(".hd-msg.hd-user", has_text="Are you there?").count() == 1


DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.mark.parametrize("size", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_typing_is_shown_both_ways_during_a_handoff(browser, web_url, desk_store, size):
    """Each side sees the other writing (the fact only), until a message comes."""
    migrant = browser.new_context(locale="ar", **size).new_page()
    open_widget(migrant, web_url)
    handoff = ask_for_a_person(migrant, desk_store)
    mediator = log_in(browser, web_url, "amal")
    mediator.locator(f'.queue-item[data-id="{handoff["id"]}"] .claim').click()
    expect(migrant.locator(".hd-msg.hd-note", has_text="انضم الوسيط")).to_be_visible(timeout=10_000)

    # The mediator writes: the widget says so in Arabic, and the reply replaces it.
    writing = migrant.locator("#hd-typing")
    expect(writing).to_be_hidden()
    # The conversation is loaded (before it, the page cannot tell whose it is).
    expect(mediator.locator("#conv-status")).to_have_text("claimed by you")
    mediator.locator("#reply-text").press_sequentially("مرحبا", delay=50)
    expect(writing).to_have_text("الوسيط يكتب…", timeout=5_000)
    mediator.click("#reply-send")
    expect(migrant.locator(".hd-msg.hd-mediator", has_text="مرحبا")).to_be_visible(timeout=10_000)
    expect(writing).to_be_hidden()

    # The person writes: the desk shows "typing…", never the words, until the message comes.
    typing = mediator.locator("#person-typing")
    expect(typing).to_be_hidden()
    migrant.locator("#hd-input").press_sequentially("شكرا جزيلا", delay=50)
    expect(typing).to_have_text("typing…", timeout=5_000)
    assert "شكرا" not in mediator.locator("#transcript").inner_text()
    migrant.click("#hd-send")
    expect(mediator.locator("#transcript")).to_contain_text("شكرا جزيلا", timeout=10_000)
    expect(typing).to_be_hidden()
    # No new signal: the widget's note goes by itself after about 6 s.
    mediator.wait_for_timeout(3_000)  # one signal every 3 s at most
    mediator.locator("#reply-text").press_sequentially("ok", delay=50)
    expect(writing).to_be_visible(timeout=5_000)
    expect(writing).to_be_hidden(timeout=9_000)
    migrant.context.close()
    mediator.context.close()


@pytest.mark.parametrize("size", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_mediator_who_joined_while_away_is_announced_once_in_order(
    browser, web_url, desk_store, size
):
    """The page was closed at the claim: "<name> joined" comes back with the reply, once."""
    migrant = browser.new_context(locale="ar", **size).new_page()
    open_widget(migrant, web_url)
    handoff = ask_for_a_person(migrant, desk_store)
    migrant.goto("about:blank")  # the person closes the page
    mediator = log_in(browser, web_url, "amal")
    mediator.locator(f'.queue-item[data-id="{handoff["id"]}"] .claim').click()
    mediator.fill("#reply-text", "أنا هنا لمساعدتك")
    mediator.click("#reply-send")
    expect(mediator.locator("#transcript .msg-mediator .seen-mark")).to_have_text(
        "not seen yet", timeout=10_000
    )

    open_widget(migrant, web_url)
    joined = migrant.locator(".hd-msg.hd-note", has_text="انضم الوسيط")
    expect(joined).to_have_count(1, timeout=10_000)
    expect(joined).to_contain_text("amal")
    # In order: after the bot's answer, before the reply written after the claim.
    kinds = migrant.locator("#hd-messages .hd-msg").evaluate_all(
        "(all) => all.map((m) => m.classList.contains('hd-note') && m.textContent.includes('amal')"
        " ? 'joined' : m.classList.contains('hd-mediator') ? 'reply' : 'other')"
    )
    assert kinds.index("joined") < kinds.index("reply") and kinds.count("joined") == 1
    # With the time of the claim, not of the return.
    claimed = desk_store.handoff(handoff["id"])["claimed_at"]
    shown_at = joined.locator("time").get_attribute("datetime")
    assert (
        abs(
            datetime.fromisoformat(shown_at.replace("Z", "+00:00")).timestamp()
            - datetime.fromisoformat(claimed).timestamp()
        )
        < 2
    )
    # A reload fetches again and still shows it once.
    migrant.reload()
    migrant.click("#hd-launcher")
    expect(migrant.locator(".hd-msg.hd-mediator").first).to_be_visible()
    migrant.wait_for_timeout(1500)
    assert joined.count() == 1
    migrant.context.close()
    mediator.context.close()
