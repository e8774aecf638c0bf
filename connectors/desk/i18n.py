"""Staff pages in Italian or English, each staff member's choice.

    page_language(request)                 # "it" (the default) or "en"
    translate("it", "Log in")              # "Accedi"
    script_text("it")                      # {msgid: Italian} for the page's scripts
    format_number(1234.5, "it", 1)         # "1.234,5"

The English text is the message id, as in gettext; ``connectors.desk.catalogue``
holds the Italian. Templates call ``_("...")`` and ``ngettext(...)`` through
Jinja's i18n extension; scripts call ``t("...")`` (``common.js``) and read the
Italian from a JSON block that ``base.html`` writes, so both share one catalogue.
People's words and knowledge content are never translated here.

Before log-in the page follows the ``helpdesk_page_language`` cookie, else the
browser's Accept-Language; after log-in the choice kept in the store
(``page_languages``), else Italian: the desk serves Italian municipal staff.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path

import jinja2
from aiohttp import web

from connectors.desk.catalogue import ITALIAN

LANGUAGES = ("it", "en")
DEFAULT = "it"
# Shown in their own language, so anyone finds theirs.
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}
COOKIE = "helpdesk_page_language"
STATIC = Path(__file__).parent / "static"
# t("...") and tn("...", "...", n) in the scripts: the message ids they ask for.
SCRIPT_CALL = re.compile(r"""\btn?\(\s*'((?:[^'\\]|\\.)*)'(?:\s*,\s*'((?:[^'\\]|\\.)*)')?""")


def translate(language: str, message: str) -> str:
    """`message` (English) in `language`; English when no Italian is written yet."""
    if language == "it":
        return ITALIAN.get(message, message)
    return message


def staff_text(user, message: str) -> str:
    """`message` in the language `user` reads the staff pages in (Italian unless chosen)."""
    return translate(chosen(getattr(user, "page_language", None)) or DEFAULT, message)


def chosen(value: str | None) -> str | None:
    """A language of the pages, or None for anything else."""
    return value if value in LANGUAGES else None


def from_accept_language(header: str) -> str | None:
    """The first of it/en the browser prefers (RFC 9110 weights), or None."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and weight > 0:
            ranked.append((-weight, position, primary))
    return min(ranked)[2] if ranked else None


def page_language(request: web.Request, user=None, cookie_name: str = COOKIE) -> str:
    """The logged-in user's choice, else Italian; before log-in the cookie or the browser's."""
    if user is not None:
        return chosen(user.page_language) or DEFAULT
    return (
        chosen(request.cookies.get(cookie_name))
        or from_accept_language(request.headers.get("Accept-Language", ""))
        or DEFAULT
    )


@cache
def script_messages() -> tuple[str, ...]:
    """Every message id the desk's scripts ask for with t() or tn()."""
    found: set[str] = set()
    for script in sorted(STATIC.glob("*.js")):
        for match in SCRIPT_CALL.finditer(script.read_text(encoding="utf-8")):
            found.update(_unquote(group) for group in match.groups() if group)
    return tuple(sorted(found))


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def script_text(language: str) -> dict[str, str]:
    """What the scripts need in `language`: {English: translation}; empty for English."""
    if language == "en":
        return {}
    return {message: translate(language, message) for message in script_messages()}


def format_number(value: float | int, language: str, digits: int = 0) -> str:
    """1234.5 as "1,234.5" in English and "1.234,5" in Italian."""
    text = f"{value:,.{digits}f}"
    if language == "it":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return text


def format_date(value: dt.date | dt.datetime | str, language: str) -> str:
    """A day as 02/12/2026 in Italian, 2026-12-02 in English (ISO, as staff write it)."""
    day = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return day.strftime("%d/%m/%Y") if language == "it" else day.strftime("%Y-%m-%d")


@jinja2.pass_context
def _gettext(context, message: str) -> str:
    return translate(context.get("page_language", DEFAULT), message)


@jinja2.pass_context
def _ngettext(context, singular: str, plural: str, count: int) -> str:
    return translate(context.get("page_language", DEFAULT), singular if count == 1 else plural)


@jinja2.pass_context
def _number(context, value, digits: int = 0) -> str:
    return format_number(value, context.get("page_language", DEFAULT), digits)


@jinja2.pass_context
def _date(context, value) -> str:
    return format_date(value, context.get("page_language", DEFAULT))


def install(environment: jinja2.Environment) -> None:
    """_(), ngettext() and the number and date filters, following each page's language."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    environment.filters["number"] = _number
    environment.filters["day"] = _date
