"""Staff pages in Italian and English, in Debian's Chromium (desktop and phone 360x740).

A new mediator sees the desk in Italian, switches to English, and the choice
survives a new log-in on another browser; the dashboard is in Italian with
Italian numbers and dates. The web app and its long queue are the desk browser
tests' (``queue_site`` in ``tests/conftest.py``): no Rasa, no action server.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from connectors.desk.auth import hash_password
from tests.conftest import PASSWORD
from tests.desk_site import DESKTOP, PHONE, seed_figures

pytestmark = pytest.mark.slow  # starts Chromium and a web app of its own

SIZES = {"desktop": DESKTOP, "phone": PHONE}


def new_user(store, username: str, role: str, languages: str = "ar it") -> None:
    """A staff member who has never chosen a language: no row in page_languages."""
    if store.credentials(username) is None:
        store.add_user(username, hash_password(PASSWORD), role, languages)
    assert store.page_language(store.credentials(username)[0].id) is None


def open_login(chromium, url: str, viewport, locale: str):
    page = chromium.new_context(viewport=viewport, locale=locale).new_page()
    page.goto(f"{url}/login")
    return page


def log_in(page, username: str, home: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(re.compile(f"{home}$"))


def no_sideways_scroll(page, viewport) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], width


@pytest.mark.parametrize("size", SIZES)
def test_new_mediator_sees_italian_switches_to_english_and_keeps_it(queue_site, chromium, size):
    site, store = queue_site
    viewport, username = SIZES[size], f"nadia-{size}"
    new_user(store, username, "mediator")

    # Before log-in the page follows the browser: English here.
    page = open_login(chromium, site.url, viewport, "en-GB")
    try:
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#login-submit")).to_have_text("Log in")
        log_in(page, username, "/desk")

        # A new log-in: Italian, the templates' texts and the scripts' alike.
        expect(page.locator("html")).to_have_attribute("lang", "it")
        expect(page.locator("#queue-title")).to_have_text("Coda")
        expect(page.locator("#queue-count")).to_have_text(
            re.compile(r"^\d+ in attesa, \d+ urgenti")
        )
        expect(page.locator("#live-status")).to_have_text("Aggiornamenti in diretta: attivi")
        expect(page.locator("#queue .claim").first).to_have_text("Prendi in carico")
        expect(page.locator("#queue .waited").first).to_have_text(re.compile(r"\d+ (h|min)"))
        italian = page.locator('#page-language button[value="it"]')
        english = page.locator('#page-language button[value="en"]')
        expect(italian).to_have_attribute("aria-pressed", "true")
        expect(english).to_be_in_viewport()
        assert english.bounding_box()["height"] >= 40
        no_sideways_scroll(page, viewport)
        page.keyboard.press("?")  # the keyboard's help, in the page's language
        expect(page.locator("#shortcuts-help h2")).to_have_text("Scorciatoie da tastiera")
        expect(page.locator("#shortcuts-help")).to_contain_text("Richiesta successiva della coda")
        page.keyboard.press("Escape")
        expect(page.locator("#shortcuts-help")).to_be_hidden()

        english.click()
        expect(page).to_have_url(re.compile("/desk$"))
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#queue-title")).to_have_text("Queue")
        expect(page.locator("#queue-count")).to_have_text(re.compile(r"^\d+ waiting, \d+ urgent"))
        expect(page.locator("#queue .claim").first).to_have_text("Claim")
        expect(page.locator('#page-language button[value="en"]')).to_have_attribute(
            "aria-pressed", "true"
        )
        no_sideways_scroll(page, viewport)
        page.click(".logout button")
        expect(page).to_have_url(re.compile("/login$"))
        expect(page.locator("#login-submit")).to_have_text("Log in")
    finally:
        page.context.close()

    # Another browser that prefers Italian: the kept choice wins after log-in.
    page = open_login(chromium, site.url, viewport, "it-IT")
    try:
        expect(page.locator("#login-submit")).to_have_text("Accedi")
        log_in(page, username, "/desk")
        expect(page.locator("#queue-title")).to_have_text("Queue")
        expect(page.locator("#queue-count")).to_have_text(re.compile(r"^\d+ waiting"))
    finally:
        page.context.close()


def test_log_in_page_switch_before_log_in_is_a_cookie(queue_site, chromium):
    site, _ = queue_site
    page = open_login(chromium, site.url, PHONE, "en-GB")
    try:
        page.click('#page-language button[value="it"]')
        expect(page).to_have_url(re.compile("/login$"))
        expect(page.locator("#login-submit")).to_have_text("Accedi")
        expect(page.locator("label[for=username]")).to_have_text("Nome utente")
        page.reload()
        expect(page.locator("#login-submit")).to_have_text("Accedi")
        page.fill("#username", "nobody")
        page.fill("#password", "wrong-password")
        page.click("#login-submit")
        expect(page.locator(".notice-error")).to_have_text("Nome utente o password errati.")
    finally:
        page.context.close()


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_in_italian(queue_site, chromium, size):
    site, store = queue_site
    viewport, username = SIZES[size], f"dora-{size}"
    new_user(store, username, "admin", "it")
    # 1,234 questions in ar, it, fr, uk, bn, es, fa (tests/desk_site.py), once.
    seed_figures(store, ["residence-permit-renewal"], questions=1234 if size == "desktop" else 0)
    page = open_login(chromium, site.url, viewport, "en-GB")
    try:
        log_in(page, username, "/dashboard")
        expect(page.locator("h1")).to_have_text("Cruscotto")
        expect(page.locator(".period time").first).to_have_text(re.compile(r"^\d\d/\d\d/\d{4}$"))
        expect(page.locator("#chart-languages")).to_have_text("Domande per lingua")
        cards = page.locator(".cards .card-label")
        expect(cards.first).to_have_text("domande")
        if size == "desktop":
            expect(page.locator(".cards .card-number").first).to_have_text(
                re.compile(r"^1\.\d{3}$")
            )
            languages = page.locator('[aria-labelledby="chart-languages"] svg')
            expect(languages).to_contain_text("Arabo (ar)")
            expect(languages).to_contain_text("Bengalese (bn)")
            expect(languages).to_have_attribute("aria-label", "Domande per lingua")
        no_sideways_scroll(page, viewport)
        page.click('#page-language button[value="en"]')
        expect(page).to_have_url(re.compile("/dashboard$"))
        expect(page.locator("h1")).to_have_text("Dashboard")
        expect(page.locator(".period time").first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d$"))
    finally:
        page.context.close()
