"""The welcome kit as printable pages: one self-contained HTML file (and PDF) per language.

    export(settings, out_dir)              # out_dir/welcome-kit-<lang>.html per curated language
    export(settings, out_dir, pdf=True)    # ... and welcome-kit-<lang>.pdf (Playwright + Chromium)
    render_page(kit, taxonomy, "ar")       # the HTML text of one language
    markdown_to_html("**Steps:**\\n1. Go")  # the small Markdown subset answers use

Entries are grouped by taxonomy domain (in taxonomy order) and sorted by topic
order. Each shows its answer with local offices filled in, its sources (link and
printed address), review date, jurisdiction, and a line when no person checked
the translation. Pages need no network: the CSS is inline and fonts are the
system's (Debian's fonts-noto-core covers Arabic and Cyrillic).
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from pathlib import Path

from knowledge.entries import Entry, Kit, load_kit, unwrap
from knowledge.printable_text import domain_name, jurisdiction_name, text
from knowledge.qr import qr_svg
from knowledge.settings import Settings
from knowledge.taxonomy import Taxonomy, load_taxonomy

RTL_LANGUAGES = ("ar", "fa", "ur")
_NUMBERED = re.compile(r"^\s*(\d+)[.)]\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")

CSS = """
@page { size: A4; margin: 12mm 13mm 16mm; }
html { font-size: 14pt; }
body {
  font-family: "Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", "DejaVu Sans", sans-serif;
  line-height: 1.45; color: #000; background: #fff; margin: 0 auto;
}
h1 { font-size: 24pt; line-height: 1.25; margin: 0 0 6pt; }
h2 {
  font-size: 18pt; margin: 14pt 0 6pt; padding-bottom: 2pt; border-bottom: 2pt solid #000;
  break-after: avoid; page-break-after: avoid;
}
h3 { font-size: 15pt; margin: 0 0 4pt; break-after: avoid; page-break-after: avoid; }
p { margin: 0 0 5pt; }
ol, ul { margin: 0 0 5pt; padding-inline-start: 1.5em; }
li { break-inside: avoid; }
a { color: #000; }
.cover { margin-bottom: 10pt; }
.example { border: 2pt dashed #000; padding: 6pt 10pt; font-weight: bold; }
.chat { display: flex; align-items: center; gap: 10pt; font-weight: bold; }
.chat svg { flex: none; }
.contents > ul { columns: 2; column-gap: 18pt; list-style: none; padding: 0; }
.contents > ul > li { break-inside: avoid; margin-bottom: 5pt; }
.contents ul ul { list-style: none; padding-inline-start: 0.8em; font-size: 12pt; }
/* Entries may run across a page break: keeping each whole left pages nearly blank. */
.entry { border-top: 1pt solid #777; padding: 6pt 0 0; margin: 0 0 8pt; }
.source-qr { float: inline-end; margin-inline-start: 8pt; text-align: center; font-size: 9pt; }
.source-qr span { display: block; max-width: 7em; }
.sources, .meta, .unreviewed { font-size: 12pt; }
.sources li { margin-bottom: 2pt; }
.sources-label, .meta, .unreviewed { break-before: avoid; page-break-before: avoid; }
.url { display: block; font-family: "DejaVu Sans Mono", monospace; font-size: 10.5pt;
  word-break: break-all; }
[dir="rtl"] .url { text-align: right; }
.unreviewed { font-style: italic; }
.entry-end { clear: both; }
@media screen { body { padding: 12pt; max-width: 46em; } }
"""


def export(
    settings: Settings, out_dir: Path, pdf: bool = False, today: dt.date | None = None
) -> list[Path]:
    """Write the kit of every curated language to `out_dir`; return the files written."""
    kit = load_kit(settings.content.dir, settings.content.municipality)
    taxonomy = load_taxonomy(settings.content.taxonomy)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = []
    for language in settings.languages.curated:
        path = out_dir / f"welcome-kit-{language}.html"
        html = render_page(kit, taxonomy, language, today, settings.content.chat_url)
        path.write_text(html, encoding="utf-8")
        pages.append(path)
    return pages + (write_pdfs(pages) if pdf else [])


def write_pdfs(pages: list[Path]) -> list[Path]:
    """Print each HTML page to a PDF beside it, with Chromium (see knowledge.browser)."""
    from knowledge.browser import BrowserError, launch_chromium

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserError("PDF export needs the Python package 'playwright'") from None
    written = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            for html in pages:
                page.goto(html.resolve().as_uri(), wait_until="load")
                pdf = html.with_suffix(".pdf")
                page.pdf(
                    path=str(pdf),
                    prefer_css_page_size=True,
                    print_background=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    # Page numbers, so that loose printed sheets can be put back in order.
                    footer_template='<div style="font-size:9pt;width:100%;text-align:center">'
                    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
                )
                written.append(pdf)
        finally:
            browser.close()
    return written


def render_page(
    kit: Kit,
    taxonomy: Taxonomy,
    language: str,
    today: dt.date | None = None,
    chat_url: str = "",
) -> str:
    """The complete HTML page of `language`: header, contents, then entries by domain.

    With `chat_url` the cover carries a QR code to the chat."""
    today = today or dt.date.today()
    sections = _sections(kit, taxonomy, language)
    town = kit.municipality
    title = text(language, "title")
    cover = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="town">{escape(text(language, "municipality"))}: '
        f"<strong>{escape(town.name)}</strong></p>",
    ]
    if town.example:
        cover.append(f'<p class="example">EXAMPLE DATA – {escape(text(language, "example"))}</p>')
    if chat_url:
        label = text(language, "chat")
        cover.append(
            f'<p class="chat">{qr_svg(chat_url, label, scale=3)}'
            f'<span>{escape(label)}<span class="url" dir="ltr">{escape(chat_url)}</span></span></p>'
        )
    cover.append(f'<p class="printed">{escape(text(language, "printed"))}: {_date(today)}</p>')
    contents = [f'<nav class="contents"><h2>{escape(text(language, "contents"))}</h2><ul>']
    body = []
    for domain, entries in sections:
        heading = escape(domain_name(language, domain))
        titles = "".join(
            f'<li><a href="#{escape(entry.id)}">{escape(entry.title)}</a></li>' for entry in entries
        )
        contents.append(
            f'<li><a href="#domain-{escape(domain)}"><strong>{heading}</strong></a>'
            f"<ul>{titles}</ul></li>"
        )
        body.append(f'<section class="domain" id="domain-{escape(domain)}">')
        body.append(f'<h2 data-domain="{escape(domain)}">{heading}</h2>')
        body.extend(_entry_html(kit, entry, language) for entry in entries)
        body.append("</section>")
    contents.append("</ul></nav>")
    direction = "rtl" if language in RTL_LANGUAGES else "ltr"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{escape(language)}" dir="{direction}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)} – {escape(town.name)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            '<header class="cover">',
            *cover,
            "</header>",
            *contents,
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _sections(kit: Kit, taxonomy: Taxonomy, language: str) -> list[tuple[str, list[Entry]]]:
    """(domain, entries) in taxonomy order; entries with an unknown topic go to 'other' last."""
    order = {topic: number for number, topic in enumerate(taxonomy.topics)}
    grouped: dict[str, list[Entry]] = {domain: [] for domain in taxonomy.by_domain()}
    grouped["other"] = grouped.get("other", [])
    for entry in kit.entries:
        if entry.language != language:
            continue
        topic = taxonomy.topics.get(entry.topic)
        grouped[topic.domain if topic else "other"].append(entry)
    for entries in grouped.values():
        # The entry named after its topic first, then the more specific ones.
        entries.sort(key=lambda e: (order.get(e.topic, len(order)), e.id != e.topic, e.id))
    return [(domain, entries) for domain, entries in grouped.items() if entries]


def _entry_html(kit: Kit, entry: Entry, language: str) -> str:
    sources = []
    for source in entry.sources:
        url = escape(source.url)
        # Only web addresses become links; anything else is printed as plain text.
        link = (
            f'<a href="{url}">{escape(source.title)}</a>'
            if source.url.startswith(("https://", "http://"))
            else escape(source.title)
        )
        sources.append(f'<li>{link}<span class="url" dir="ltr">{url}</span></li>')
    parts = [
        f'<article class="entry" id="{escape(entry.id)}" lang="{escape(entry.language)}">',
        f"<h3>{escape(entry.title)}</h3>",
        *_source_qr(entry, language),
        f'<div class="answer">{markdown_to_html(kit.render(entry))}</div>',
        f'<p class="sources-label"><strong>{escape(text(language, "sources"))}:</strong></p>',
        f'<ul class="sources">{"".join(sources)}</ul>',
        f'<p class="meta">{escape(text(language, "last_reviewed"))}: '
        f"{_date(entry.last_reviewed)} · "
        f"{escape(text(language, 'jurisdiction'))}: "
        f'<span data-jurisdiction="{escape(entry.jurisdiction)}">'
        f"{escape(jurisdiction_name(language, entry.jurisdiction))}</span></p>",
    ]
    if entry.is_translation and not entry.reviewed_by_person:
        parts.append(f'<p class="unreviewed">{escape(text(language, "unreviewed"))}</p>')
    parts.append('<div class="entry-end"></div></article>')
    return "\n".join(parts)


def _source_qr(entry: Entry, language: str) -> list[str]:
    """A QR code to the entry's first web source, beside the answer."""
    web = [s.url for s in entry.sources if s.url.startswith(("https://", "http://"))]
    if not web:
        return []
    label = text(language, "source_qr")
    return [f'<div class="source-qr">{qr_svg(web[0], label)}<span>{escape(label)}</span></div>']


def _date(day: dt.date | None) -> str:
    if day is None:  # no review on record
        return "–"
    # Left to right even on Arabic pages, where 2026-11-23 would otherwise read 23-11-2026.
    return f'<time datetime="{day.isoformat()}" dir="ltr">{day.isoformat()}</time>'


def markdown_to_html(markdown: str) -> str:
    """Paragraphs, **bold**, "1. " and "- " lists; every character of text is escaped first."""
    html: list[str] = []
    open_list = ""
    for line in unwrap(escape(markdown)).splitlines():
        numbered, bullet = _NUMBERED.match(line), _BULLET.match(line)
        tag = "ol" if numbered else "ul" if bullet else ""
        if tag != open_list and open_list:
            html.append(f"</{open_list}>")
            open_list = ""
        if not line.strip():
            continue
        if tag and not open_list:
            start = int(numbered.group(1)) if numbered else 1
            html.append(f'<ol start="{start}">' if tag == "ol" and start != 1 else f"<{tag}>")
            open_list = tag
        item = numbered.group(2) if numbered else bullet.group(1) if bullet else line.strip()
        inline = _BOLD.sub(r"<strong>\1</strong>", item)
        html.append(f"<li>{inline}</li>" if tag else f"<p>{inline}</p>")
    if open_list:
        html.append(f"</{open_list}>")
    return "\n".join(html)
