"""The README's screenshots: ``python -m tests.screenshots`` (or ``make screenshots``).

Writes into ``docs/screenshots/``:

- ``widget-arabic-phone.png``: the chat widget in Arabic on a 360x740 phone, with an
  answer from the welcome kit and the question that follows it;
- ``desk-long-queue.png``: the mediator desk with a long queue in several languages;
- ``dashboard.png``: the dashboard with a month of figures.

Like the desk's browser tests, it runs the web app alone (``tests/desk_site.py``) on
a fresh data folder, with the queue and figures put in through the store: no Rasa and
no action server. The widget's conversation is the one it keeps on the phone
(localStorage), the bot's messages taken from the welcome kit and ``domain.yml``;
its "reconnecting" line, true when no Rasa answers, is left out of the picture.
PNGs are written with Pillow's optimiser, to keep each one small.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import yaml
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from connectors.desk.auth import hash_password
from connectors.desk.store import Store
from knowledge.browser import launch_chromium
from knowledge.entries import Kit, load_kit
from knowledge.settings import PROJECT_ROOT, Settings
from tests.conftest import PASSWORD
from tests.desk_site import DESKTOP, PHONE, Site, queue_settings, seed_figures, seed_queue

OUT = PROJECT_ROOT / "docs" / "screenshots"
ASKED = "كيف أجدد تصريح الإقامة؟"  # "How do I renew my residence permit?"
ANSWER_ID = "residence-permit-renewal"


def save_png(data: bytes, path: Path) -> int:
    """The screenshot as a small PNG (a 256-colour palette, optimised); its size in bytes."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    small = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path.stat().st_size


def widget_transcript(kit: Kit) -> list[dict]:
    """What the phone keeps of a conversation: the question, the kit's answer, "useful?"."""
    entry = next(e for e in kit.entries if e.id == ANSWER_ID and e.language == "ar")
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    useful = next(
        variant
        for variant in domain["responses"]["utter_was_it_useful"]
        if any(c.get("value") == "ar" for c in variant.get("condition", []))
    )
    at = int(time.time() * 1000) - 60_000
    return [
        {"r": "u", "t": ASKED, "at": at, "c": "c1", "st": "s"},
        {"r": "b", "t": f"**{entry.title}**\n\n{kit.render(entry)}", "at": at + 900},
        {
            "r": "b",
            "t": useful["text"],
            "at": at + 1000,
            "q": [[b["title"], b["payload"]] for b in useful["buttons"]],
        },
    ]


def widget(browser, url: str, kit: Kit) -> bytes:
    context = browser.new_context(
        viewport=PHONE, locale="ar", is_mobile=True, has_touch=True, device_scale_factor=1
    )
    keep = {
        "helpdesk.language": "ar",
        "helpdesk.conversation_language": "ar",
        "helpdesk.transcript": json.dumps(widget_transcript(kit), ensure_ascii=False),
    }
    context.add_init_script(
        "for (const [k, v] of Object.entries(" + json.dumps(keep) + ")) localStorage.setItem(k, v);"
    )
    page = context.new_page()
    page.goto(f"{url}/widget/example.html")
    page.click("#hd-launcher")
    expect(page.locator("#hd-panel")).to_have_attribute("dir", "rtl")
    # No Rasa answers here, so the widget would say it is reconnecting: not shown.
    page.add_style_tag(content="#hd-widget .hd-status { display: none !important; }")
    # The question, then the answer from its top, as the person reads it first.
    page.locator("#hd-widget .hd-user").first.evaluate("(node) => node.scrollIntoView()")
    page.wait_for_timeout(300)
    data = page.screenshot()
    context.close()
    return data


def log_in(browser, url: str, username: str, viewport: dict, home: str):
    page = browser.new_context(viewport=viewport, locale="en-GB").new_page()
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(f"{url}{home}")
    return page


def desk(browser, url: str) -> bytes:
    page = log_in(browser, url, "amal", DESKTOP, "/desk")
    page.select_option("#queue-language", "all")
    expect(page.locator("#queue-count")).to_contain_text("waiting")
    page.locator("#queue .claim").first.click()
    expect(page.locator("#conversation-title")).to_be_focused()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    data = page.screenshot()
    page.context.close()
    return data


def dashboard(browser, url: str) -> bytes:
    page = log_in(browser, url, "ada", DESKTOP, "/dashboard")
    expect(page.locator("#chart-trend")).to_be_visible()
    data = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": 1366, "height": 1500})
    page.context.close()
    return data


def take(settings: Settings, out: Path) -> dict[str, int]:
    store = Store.open(settings.desk.database_url)
    seed_queue(store)
    ada = store.add_user("ada", hash_password(PASSWORD), "admin", "it")
    store.set_page_language(ada.id, "en")  # the README is in English
    kit = load_kit(settings.content.dir, settings.content.municipality)
    topics = sorted({e.id for e in kit.entries if e.language == "it"})[:12]
    seed_figures(store, topics)
    site = Site(settings)
    sizes = {}
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            shots = {
                "widget-arabic-phone.png": lambda: widget(browser, site.url, kit),
                "desk-long-queue.png": lambda: desk(browser, site.url),
                "dashboard.png": lambda: dashboard(browser, site.url),
            }
            for name, shoot in shots.items():
                sizes[name] = save_png(shoot(), out / name)
            browser.close()
    finally:
        site.stop()
    return sizes


def main() -> int:
    # Closed hand-offs wait for a Rasa that is not there: that is expected here.
    logging.getLogger("connectors.desk.connector").setLevel(logging.ERROR)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="helpdesk-screenshots-") as tmp:
        sizes = take(queue_settings(Path(tmp) / "data"), OUT)
    for name, size in sizes.items():
        print(f"{OUT / name}: {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
