"""Remove personal data from text kept for figures and content authors.

    redact("my number is +39 333 123 4567")  ->  "my number is [phone]"

Covers e-mail addresses, IBANs, Italian tax codes (codice fiscale), passport
and residence-permit numbers, and phone numbers. Patterns err on the side of
removing too much: a figure loses a word, a person keeps their privacy.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[email]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    # IBAN: country code, 2 check digits, 11-30 letters and digits, maybe in groups of 4.
    (
        "[iban]",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I),
    ),
    # Codice fiscale: 6 letters, 2 digits, letter, 2 digits, letter, 3 digits, letter.
    ("[tax code]", re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b", re.I)),
    # Passports and permits: letters and digits mixed, 7-12 long, at least 5 digits.
    (
        "[document]",
        re.compile(r"\b(?=[A-Z0-9]{7,12}\b)(?=(?:[A-Z]*\d){5})[A-Z]{1,3}\d{5,10}[A-Z]?\b", re.I),
    ),
    ("[document]", re.compile(r"\b\d{7}\b")),
    # Phones: optional +, 8-15 digits with spaces, dots, dashes or brackets between.
    ("[phone]", re.compile(r"(?<![\w+])\+?\d(?:[\s.\-()]{0,2}\d){7,14}(?!\w)")),
)


def redact(text: str) -> str:
    """The text with personal data replaced by [email], [iban], [tax code], [document], [phone]."""
    for label, pattern in _PATTERNS:
        text = pattern.sub(label, text)
    return text
