"""Staff-facing pages and prints without a browser: the welcome kit's QR codes and settings."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.printable import render_page
from knowledge.qr import qr_svg
from knowledge.settings import SettingsError, load_settings
from knowledge.taxonomy import load_taxonomy

CHAT = "https://comune.example.it/chat?lang=ar"


def test_qr_svg_is_inline_and_labelled():
    svg = qr_svg(CHAT, 'Chat "now"')
    assert svg.startswith('<svg role="img" aria-label="Chat &quot;now&quot;" ')
    assert "<script" not in svg and "href" not in svg


def test_chat_url_setting_and_environment_override(monkeypatch):
    monkeypatch.delenv("HELPDESK_CHAT_URL", raising=False)
    assert load_settings().content.chat_url == ""
    monkeypatch.setenv("HELPDESK_CHAT_URL", CHAT)
    assert load_settings().content.chat_url == CHAT
    monkeypatch.setenv("HELPDESK_CHAT_URL", "javascript:alert(1)")
    with pytest.raises(SettingsError, match="content.chat_url"):
        load_settings()


def test_kit_has_chat_qr_and_one_source_qr_per_entry(settings, kit):
    taxonomy = load_taxonomy(settings.content.taxonomy)
    html = render_page(kit, taxonomy, "ar", dt.date(2026, 11, 23), chat_url=CHAT)
    entries = [e for e in kit.entries if e.language == "ar"]
    with_web_source = [e for e in entries if any(s.url.startswith("https://") for s in e.sources)]
    assert html.count('<p class="chat"><svg role="img"') == 1
    assert html.count('<div class="source-qr"><svg role="img"') == len(with_web_source)
    assert 'dir="ltr">https://comune.example.it/chat?lang=ar</span>' in html.replace("&amp;", "&")
    # Without the setting there is no chat code.
    assert 'class="chat"' not in render_page(kit, taxonomy, "ar", dt.date(2026, 11, 23))


def test_kit_entries_may_break_across_pages():
    from knowledge.printable import CSS

    entry_rule = CSS[CSS.index(".entry {") :].split("}")[0]
    assert "break-inside: avoid" not in entry_rule
    assert "html { font-size: 14pt; }" in CSS
