"""Staff pages and prints in Debian's Chromium: the printed Arabic welcome kit as a PDF."""

from __future__ import annotations

import re

import pytest

from knowledge.printable import export

# Pages of the Arabic kit before entries could break across pages and the QR codes came
# (main at 6e344a4, A4, Chromium): 67 for 53 entries. The kit grows, so pages per entry.
ARABIC_PAGES_BEFORE = 67
ENTRIES_BEFORE = 53


@pytest.mark.slow  # starts Chromium
def test_printed_arabic_kit_has_page_numbers_and_fewer_pages(settings, tmp_path, monkeypatch):
    pypdf = pytest.importorskip("pypdf")
    from dataclasses import replace

    ar_only = replace(
        settings,
        languages=replace(settings.languages, curated=("ar",)),
        content=replace(settings.content, chat_url="https://comune.example.it/chat"),
    )
    written = export(ar_only, tmp_path, pdf=True)
    pdf = next(p for p in written if p.suffix == ".pdf")
    reader = pypdf.PdfReader(str(pdf))
    pages = len(reader.pages)
    entries = len([d for d in (settings.content.dir / "entries").iterdir() if d.is_dir()])
    assert pages / entries < ARABIC_PAGES_BEFORE / ENTRIES_BEFORE
    for number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert re.search(rf"\b{number}\s*/\s*{pages}\b", page_text), (number, page_text[-80:])
        # No nearly blank page: every page but the last carries real text.
        if number < pages:
            assert len(page_text.strip()) > 300, (number, page_text)


# The operator's assist page in Chromium: the real template, CSS and scripts, with the
# knowledge service's answers given by the test (no Rasa needed).

ITALIAN = {
    "id": "school-enrolment",
    "topic": "school-enrolment",
    "language": "it",
    "title": "Iscrivere un figlio a scuola",
    "text": "**Chi:** i genitori.\n\n1. Vai in segreteria\n2. Porta i documenti\n\n<b>x</b>",
    "sources": [],
    "last_reviewed": "2026-11-23",
    "score": 0.9,
}


def _assist_html():
    from types import SimpleNamespace

    import jinja2

    from connectors.desk import i18n
    from connectors.desk.app import HERE

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    i18n.install(env)
    user = SimpleNamespace(username="op", role="operator", language="it")
    # The operator reads the pages in English here (Italian is the default).
    return env.get_template("assist.html").render(
        user=user,
        csrf="token",
        settings=None,
        names={"it": "Italiano", "bn": "বাংলা"},
        languages=("it", "bn"),
        page_language="en",
        page_languages=i18n.LANGUAGE_NAMES,
        script_text=i18n.script_text("en"),
        here="/assist",
    )


@pytest.fixture
def assist_page(browser_factory):
    import json

    from connectors.desk.app import HERE

    def open_page(viewport, answers, language, handoffs=()):
        page = browser_factory.new_page(viewport=viewport)

        def handle(route):
            url = route.request.url
            path = url.split("desk.test", 1)[1].split("?")[0]
            if path == "/assist":
                return route.fulfill(body=_assist_html(), content_type="text/html")
            if path.startswith("/static/"):
                file = HERE / "static" / path.removeprefix("/static/")
                kind = "text/css" if file.suffix == ".css" else "application/javascript"
                return route.fulfill(body=file.read_text(), content_type=kind)
            if path == "/assist/suggest":
                body = {
                    "language": language,
                    "confident": True,
                    "answers": answers,
                    "operator_language": "it",
                }
                return route.fulfill(body=json.dumps(body), content_type="application/json")
            if path == "/assist/handoffs":
                return route.fulfill(
                    body=json.dumps({"handoffs": list(handoffs)}), content_type="application/json"
                )
            return route.fulfill(status=404, body="")

        page.route("http://desk.test/**", handle)
        page.goto("http://desk.test/assist")
        page.fill("#question", "domanda")
        page.click("#ask")
        page.wait_for_selector("#results .answer")
        return page

    return open_page


@pytest.fixture
def browser_factory():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_assist_renders_markdown_safely_in_one_column_for_italian(assist_page, viewport):
    page = assist_page(viewport, [{**ITALIAN, "side": dict(ITALIAN)}], "it")
    try:
        answer = page.locator("#results .answer").first
        assert answer.locator(".answer-column").count() == 1  # not two identical columns
        text = answer.locator(".answer-text")
        assert text.locator("strong").first.inner_text() == "Chi:"
        assert text.locator("ol li").count() == 2
        assert "**" not in text.inner_text()
        assert "<b>x</b>" in text.inner_text() and text.locator("b").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]  # no sideways scrolling on a phone
    finally:
        page.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_assist_says_when_there_is_no_translation_and_offers_a_mediator(assist_page, viewport):
    english = {
        **ITALIAN,
        "language": "en",
        "title": "Enrol a child",
        "fallback": True,
        "text": "**Who:** parents.",
        "side": dict(ITALIAN),
    }
    page = assist_page(viewport, [english], "bn")
    try:
        note = page.locator("#results .no-translation").first
        assert re.search(r"no (Bengali|Bangla) translation", note.inner_text())
        assert note.locator("button", has_text="Call a mediator").is_visible()
        columns = page.locator("#results .answer").first.locator(".answer-column")
        boxes = [columns.nth(i).bounding_box() for i in range(columns.count())]
        if viewport is PHONE:  # one column: stacked, not side by side
            assert boxes[0]["x"] == boxes[1]["x"] and boxes[1]["y"] > boxes[0]["y"]
        else:
            assert boxes[0]["y"] == boxes[1]["y"]
    finally:
        page.close()


def test_assist_mediator_reply_is_above_the_answers(assist_page):
    handoff = {
        "id": 7,
        "status": "claimed",
        "language": "bn",
        "messages": [],
        "created_at": "2026-12-02T08:00:00+00:00",
    }
    page = assist_page(PHONE, [ITALIAN], "it", handoffs=[handoff])
    try:
        panel = page.locator("#handoffs-panel")
        results = page.locator("#results")
        assert panel.bounding_box()["y"] < results.bounding_box()["y"]
    finally:
        page.close()
