"""Remove personal data from text kept for figures and content authors, and from logs.

    redact("my number is +39 333 123 4567")  ->  "my number is [phone]"
    install_log_redaction()                  # every log record of this process, redacted

Covers e-mail addresses, IBANs, Italian tax codes (codice fiscale, also with
the letters that replace digits in duplicates), passport and residence-permit
numbers, and phone numbers. Patterns err on the side of removing too much: a
figure loses a word, a person keeps their privacy.

This module runs in both environments (Rasa's channels import it too): the
standard library only.
"""

from __future__ import annotations

import logging
import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("[email]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    # IBAN: country code, 2 check digits, 11-30 letters and digits, maybe in groups of 4.
    (
        "[iban]",
        re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.I),
    ),
    # Codice fiscale: 6 letters, 2 digits, letter, 2 digits, letter, 3 digits, letter;
    # in a duplicate ("omocodia") some digits are letters L-V (at least one stays a digit,
    # so that no 16-letter word is taken for one).
    (
        "[tax code]",
        re.compile(
            r"\b(?=\w{0,15}\d)[A-Z]{6}[\dL-V]{2}[A-Z][\dL-V]{2}[A-Z][\dL-V]{3}[A-Z]\b", re.I
        ),
    ),
    # Passports and permits: letters and digits mixed, 7-12 long, at least 5 digits.
    (
        "[document]",
        re.compile(r"\b(?=[A-Z0-9]{7,12}\b)(?=(?:[A-Z]*\d){5})[A-Z]{1,3}\d{5,10}[A-Z]?\b", re.I),
    ),
    # Phones: optional +, 8-15 digits with spaces, dots, dashes or brackets between.
    ("[phone]", re.compile(r"(?<![\w+])\+?\d(?:[\s.\-()]{0,2}\d){7,14}(?!\w)")),
    # Paper permits: 7 digits alone (after phones, so a landline stays one).
    ("[document]", re.compile(r"\b\d{7}\b")),
)


def redact(text: str) -> str:
    """The text with personal data replaced by [email], [iban], [tax code], [document], [phone]."""
    for label, pattern in _PATTERNS:
        text = pattern.sub(label, text)
    return text


def install_log_redaction() -> None:
    """Redact every log record this process makes, whichever library logs it.

    A record factory rather than a handler filter: it sees records of every
    logger, including handlers added later (Rasa and Sanic configure their own).
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts", False):
        return
    formatter = logging.Formatter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), None
        except Exception:  # a broken format string: log it as it is
            return record
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when set: exception messages can quote a person.
            record.exc_text = redact(formatter.formatException(record.exc_info))
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging(level: int = logging.INFO) -> None:
    """Our processes' logging: time, level, logger, message; personal data redacted."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_log_redaction()
