"""The printable welcome kit: HTML per language, checked in a real Chromium, and a PDF."""

from __future__ import annotations

import datetime as dt
import shutil
from html import escape

import pytest

from knowledge.printable import export, markdown_to_html
from knowledge.settings import load_settings
from knowledge.taxonomy import load_taxonomy

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def pages(settings, tmp_path_factory):
    out = tmp_path_factory.mktemp("print")
    written = export(settings, out, today=TODAY)
    return {path.name.split("-")[-1].removesuffix(".html"): path for path in written}


def test_one_page_per_curated_language(settings, pages):
    assert sorted(pages) == sorted(settings.languages.curated)
    for language, path in pages.items():
        assert path.name == f"welcome-kit-{language}.html"
        html = path.read_text(encoding="utf-8")
        assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
        assert "<link" not in html and "@import" not in html and "<script" not in html


def test_every_entry_domain_source_and_date_is_printed(settings, kit, pages):
    taxonomy = load_taxonomy(settings.content.taxonomy)
    for language, path in pages.items():
        html = path.read_text(encoding="utf-8")
        entries = [e for e in kit.entries if e.language == language]
        for domain in {taxonomy.topics[e.topic].domain for e in entries}:
            assert f'<h2 data-domain="{domain}">' in html
        for entry in entries:
            assert f'id="{entry.id}"' in html
            assert escape(entry.title) in html
            assert f'datetime="{entry.last_reviewed.isoformat()}"' in html
            for source in entry.sources:
                assert f'href="{escape(source.url)}"' in html
                assert f'dir="ltr">{escape(source.url)}</span>' in html
        assert "{{" not in html  # every placeholder filled in
        assert "Torre Pellice" in html and "EXAMPLE DATA" in html
        assert f'datetime="{TODAY.isoformat()}"' in html


def test_domains_follow_taxonomy_order_and_topics_within(settings, kit, pages):
    taxonomy = load_taxonomy(settings.content.taxonomy)
    html = pages["en"].read_text(encoding="utf-8")
    positions = [html.index(f'data-domain="{d}"') for d in taxonomy.domains]
    assert positions == sorted(positions)
    topic_order = list(taxonomy.topics)
    for domain, topics in taxonomy.by_domain().items():
        ids_of_domain = {t.id for t in topics}
        ids = [e.id for e in kit.entries if e.language == "en" and e.topic in ids_of_domain]
        printed = sorted(ids, key=lambda i: html.index(f'<article class="entry" id="{i}"'))
        ranks = [topic_order.index(kit.entry(i, "en").topic) for i in printed]
        assert ranks == sorted(ranks), domain


def test_unreviewed_translations_say_so(kit, pages):
    html = pages["ar"].read_text(encoding="utf-8")
    unreviewed = [e for e in kit.entries if e.language == "ar" and not e.reviewed_by_person]
    assert html.count('class="unreviewed"') == len(unreviewed) > 0
    assert 'class="unreviewed"' not in pages["it"].read_text(encoding="utf-8")


def test_markdown_subset():
    html = markdown_to_html("Intro **bold**\nwrapped.\n\n**Steps:**\n1. One\n2. Two\n\n- a\n- b")
    assert html == (
        "<p>Intro <strong>bold</strong> wrapped.</p>\n<p><strong>Steps:</strong></p>\n"
        "<ol>\n<li>One</li>\n<li>Two</li>\n</ol>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>"
    )
    assert markdown_to_html("3. Three\n4. Four").startswith('<ol start="3">')


def test_html_in_content_is_escaped(settings, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(settings.content.dir / "municipalities", content / "municipalities")
    entry = content / "entries" / "tax-code" / "en.md"
    entry.parent.mkdir(parents=True)
    entry.write_text(
        "---\nid: tax-code\ntopic: tax-code\nlanguage: en\ntitle: Tax <b>code</b>\n"
        'sources:\n  - title: A & B\n    url: https://example.gov.it/?a=1&b="2"\n'
        "last_reviewed: 2026-11-01\njurisdiction: national\n---\n"
        "<script>alert('x')</script> **bold <i>**\n1. <img src=x onerror=alert(1)>\n",
        encoding="utf-8",
    )
    env = {"HELPDESK_CONTENT_DIR": str(content), "HELPDESK_CURATED_LANGUAGES": "en"}
    [page] = export(load_settings(environ=env), tmp_path / "out", today=TODAY)
    html = page.read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<strong>bold &lt;i&gt;</strong>" in html
    assert "Tax &lt;b&gt;code&lt;/b&gt;" in html and "A &amp; B" in html
    assert 'href="https://example.gov.it/?a=1&amp;b=&quot;2&quot;"' in html


# A real browser: Debian's Chromium driven by Playwright (see knowledge.browser).


# Function scope: Playwright's sync API cannot start while another instance is open, and the
# PDF export starts its own.
@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    from knowledge.browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("uk", "ltr")])
def test_browser_direction_and_screenshot(browser, pages, tmp_path, language, direction):
    page = browser.new_page(viewport={"width": 800, "height": 1100})
    try:
        page.goto(pages[language].resolve().as_uri())
        assert page.evaluate("document.documentElement.dir") == direction
        assert page.evaluate("getComputedStyle(document.body).direction") == direction
        assert page.evaluate("document.documentElement.lang") == language
        # The page needs nothing from outside: no stylesheet, font or image requests.
        assert page.evaluate("performance.getEntriesByType('resource').length") == 0
        shot = tmp_path / f"welcome-kit-{language}.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        assert shot.read_bytes().startswith(b"\x89PNG")
    finally:
        page.close()


@pytest.mark.slow  # starts processes
def test_cli_writes_a_pdf(tmp_path, monkeypatch, capsys):
    from knowledge.__main__ import main

    monkeypatch.setenv("HELPDESK_CURATED_LANGUAGES", "ar")
    assert main(["export", "--out", str(tmp_path), "--pdf"]) == 0
    pdf = tmp_path / "welcome-kit-ar.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 10_000
    assert str(pdf) in capsys.readouterr().out


def test_missing_chromium_names_the_variable(monkeypatch, tmp_path):
    from knowledge.browser import BrowserError, chromium_path

    monkeypatch.setenv("HELPDESK_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(BrowserError, match="HELPDESK_CHROMIUM"):
        chromium_path()
