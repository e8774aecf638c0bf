"""Staff pages and prints in Debian's Chromium: the printed Arabic welcome kit as a PDF."""

from __future__ import annotations

import re

import pytest

from knowledge.printable import export

# Pages of the Arabic kit before entries could break across pages and the QR codes came
# (main at 6e344a4, A4, Chromium): 67.
ARABIC_PAGES_BEFORE = 67


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
    assert pages < ARABIC_PAGES_BEFORE
    for number, page in enumerate(reader.pages, start=1):
        page_text = page.extract_text()
        assert re.search(rf"\b{number}\s*/\s*{pages}\b", page_text), (number, page_text[-80:])
        # No nearly blank page: every page but the last carries real text.
        if number < pages:
            assert len(page_text.strip()) > 300, (number, page_text)
