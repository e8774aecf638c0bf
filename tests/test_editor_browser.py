"""The authoring page in a real browser (Debian's Chromium through Playwright), against
its own running stack on a copy of the kit, so the project's files are never edited.

An editor opens an entry, sees the live preview, sees a lint error for a bad edit,
saves a good one, asks the assistant in the widget and gets the new text within
seconds (no restart), then undoes the change.
"""

from __future__ import annotations

import re
import shutil
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect, sync_playwright

from knowledge.browser import launch_chromium
from knowledge.settings import load_settings
from tests.conftest import PASSWORD, free_port

pytestmark = pytest.mark.integration

NEW_SENTENCE = "Da oggi il codice fiscale si chiede anche allo sportello Alfa-Sette del municipio."


@pytest.fixture(scope="module")
def editor_stack(
    session_env, settings, rasa_model, built_index, tiny_argos_package, tmp_path_factory
):
    """Action server, Rasa and web app on a copy of the kit, with the same index
    (the copy has the same content hash, so the index built for the session fits)."""
    from bot.serve import Supervisor, parts_for
    from connectors.desk.auth import hash_password
    from connectors.desk.store import Store

    root = tmp_path_factory.mktemp("editor")
    shutil.copytree(settings.content.dir, root / "content")
    shutil.copytree(settings.index_dir, root / "data" / "index")
    env = dict(session_env)
    env.update(
        {
            "HELPDESK_CONTENT_DIR": str(root / "content"),
            "HELPDESK_DATA_DIR": str(root / "data"),
            "HELPDESK_RASA_URL": f"http://localhost:{free_port()}",
            "HELPDESK_ACTION_SERVER_URL": f"http://localhost:{free_port()}",
            "HELPDESK_WEB_PORT": str(free_port()),
        }
    )
    own = load_settings(environ=env)
    store = Store.open(own.desk.database_url)
    elena = store.add_user("elena", hash_password(PASSWORD), "editor", "it")
    store.set_page_language(elena.id, "en")  # the test reads the page in English
    supervisor = Supervisor(parts_for(own, model=rasa_model), log_dir=root / "logs", environ=env)
    supervisor.start(timeout=900)
    yield own, f"http://localhost:{own.services.web_port}"
    supervisor.stop()


def test_editor_edits_sees_lint_saves_assistant_answers_then_undoes(editor_stack):
    own, web_url = editor_stack
    path = own.content.dir / "entries" / "tax-code" / "it.md"
    original = path.read_text(encoding="utf-8")
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        page = chromium.new_context(locale="it-IT").new_page()
        page.goto(f"{web_url}/login")
        page.fill("#username", "elena")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(re.compile("/editor$"))
        page.click('tr[data-entry-id="tax-code"] a[data-language="it"]')
        expect(page.locator("#preview-heading")).to_have_text("Codice fiscale")

        # A bad edit: an office the municipality file does not have.
        page.fill("#f-body", "Vai da {{office:ufficio_inesistente}}.")
        expect(page.locator("#editor-findings")).to_contain_text("Unknown office")
        page.click("#editor-save")
        expect(page.locator("#editor-message")).to_contain_text("Not saved")
        assert path.read_text(encoding="utf-8") == original
        # What was typed is still in the form.
        expect(page.locator("#f-body")).to_have_value("Vai da {{office:ufficio_inesistente}}.")

        # A good edit: the preview shows it as the assistant will, offices filled in.
        body = f"{NEW_SENTENCE}\n\n**Dove:** {{{{office:revenue_agency}}}}"
        page.fill("#f-body", body)
        expect(page.locator("#preview-text")).to_contain_text(NEW_SENTENCE)
        expect(page.locator("#preview-text strong")).to_have_text("Dove:")
        expect(page.locator("#preview-text")).not_to_contain_text("{{office")
        expect(page.locator("#editor-findings")).not_to_contain_text("error:")
        page.click("#editor-save")
        expect(page.locator("#editor-message")).to_contain_text("answers from the new text")
        saved_at = time.monotonic()
        assert NEW_SENTENCE in path.read_text(encoding="utf-8")
        expect(page.locator("#editor-history")).to_contain_text("elena · edit")

        # The assistant answers from the new text, without a restart.
        widget = chromium.new_context(locale="it-IT").new_page()
        widget.goto(f"{web_url}/widget/example.html")
        widget.click("#hd-launcher")
        widget.select_option("#hd-language", "it")
        widget.fill("#hd-input", "come faccio ad avere il codice fiscale?")
        widget.click("#hd-send")
        expect(widget.locator(".hd-msg.hd-bot", has_text="Alfa-Sette")).to_be_visible(
            timeout=30_000
        )
        print(f"changed text answered {time.monotonic() - saved_at:.1f} s after saving")

        # Undo puts the earlier text back, on disk and in the history.
        page.click("#editor-undo")
        expect(page.locator("#editor-message")).to_contain_text("Undone")
        assert path.read_text(encoding="utf-8").split("---\n", 2)[2].strip() == (
            original.split("---\n", 2)[2].strip()
        )
        expect(page.locator("#editor-history")).to_contain_text("elena · undo")
        chromium.close()


NEW_HOURS = "mar e gio 14:00-16:30 (orario invernale)"
PHONE = {"width": 360, "height": 740}


def test_editor_changes_office_hours_assistant_answers_with_them_then_undoes(editor_stack):
    """On a phone screen: a bad phone is refused in plain words, new opening hours
    reach the assistant's answer without a restart; on a desktop screen, undo."""
    own, web_url = editor_stack
    viewport = PHONE
    path = own.content.dir / "municipalities" / f"{own.content.municipality}.yml"
    original = path.read_text(encoding="utf-8")
    # Only the web app, with the action server's secret, may ask for a reload.
    stranger = urllib.request.Request(
        f"{own.services.action_server_url}/knowledge/reload-municipality", b"{}", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(stranger, timeout=10)
    assert refused.value.code == 403
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        page = chromium.new_context(locale="it-IT", viewport=viewport).new_page()
        page.goto(f"{web_url}/login")
        page.fill("#username", "elena")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        expect(page).to_have_url(re.compile("/editor$"))
        page.click("#offices-link")
        expect(page).to_have_url(re.compile("/editor/offices$"))
        expect(page.locator("#offices-example")).to_contain_text("sample data")
        office = page.locator("#office-revenue_agency")

        # A bad phone: the check says why while typing, and a save writes nothing.
        office.locator('input[name="phone"]').fill("chiamare lo 0121 000006")
        findings = page.locator("#office-findings-revenue_agency")
        expect(findings).to_contain_text("may have only digits")
        office.locator(".office-save").click()
        expect(page.locator("#offices-message")).to_contain_text("Not saved")
        expect(page.locator("#office-findings-revenue_agency")).to_contain_text("phone number")
        assert path.read_text(encoding="utf-8") == original
        office = page.locator("#office-revenue_agency")
        expect(office.locator('input[name="phone"]')).to_have_value("chiamare lo 0121 000006")

        # New hours and a good phone: the preview shows an answer with them.
        office.locator('input[name="phone"]').fill("+39 0121 000006")
        office.locator('input[name="hours"]').fill(NEW_HOURS)
        expect(findings).to_contain_text("No problem found")
        expect(page.locator("#office-preview-revenue_agency")).to_contain_text(NEW_HOURS)
        box = office.locator(".office-save").bounding_box()
        assert box["x"] + box["width"] <= viewport["width"]  # fits a phone screen
        office.locator(".office-save").click()
        expect(page.locator("#offices-message")).to_contain_text("new details now")
        saved_at = time.monotonic()
        assert f"hours: {NEW_HOURS}" in path.read_text(encoding="utf-8")
        expect(page.locator("#offices-history")).to_contain_text("elena · edit")

        # The assistant answers with the new hours, without a restart.
        widget = chromium.new_context(locale="it-IT", viewport=viewport).new_page()
        widget.goto(f"{web_url}/widget/example.html")
        widget.click("#hd-launcher")
        widget.select_option("#hd-language", "it")
        widget.fill("#hd-input", "come faccio ad avere il codice fiscale?")
        widget.click("#hd-send")
        expect(widget.locator(".hd-msg.hd-bot", has_text="orario invernale")).to_be_visible(
            timeout=30_000
        )
        print(f"new office hours answered {time.monotonic() - saved_at:.1f} s after saving")

        # Undo, from a desktop screen: the file is as before, the history says so.
        desktop = chromium.new_context(locale="it-IT", viewport={"width": 1280, "height": 800})
        desk_page = desktop.new_page()
        desk_page.goto(f"{web_url}/login")
        desk_page.fill("#username", "elena")
        desk_page.fill("#password", PASSWORD)
        desk_page.click("#login-submit")
        desk_page.goto(f"{web_url}/editor/offices")
        desk_page.click("#offices-undo")
        expect(desk_page.locator("#offices-message")).to_contain_text("Undone")
        assert path.read_text(encoding="utf-8") == original
        expect(desk_page.locator("#offices-history")).to_contain_text("elena · undo")
        chromium.close()
