"""Staff pages in Italian and English: the catalogue, the templates, the store and the formats.

The browser side (a new mediator sees Italian, switches, the choice survives a
new log-in) is in ``tests/test_staff_language_browser.py``.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

from connectors.desk import i18n
from connectors.desk.catalogue import ITALIAN
from connectors.desk.store import ROLES, Store, page_languages, users

DESK = Path(__file__).resolve().parent.parent / "connectors" / "desk"
TEMPLATES = sorted((DESK / "templates").glob("*.html"))
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Message ids made in Python: translate(language, "..."), text(request, "..."),
# staff_text(user, "..."),
# _("..."), PeriodError("...") in the desk's modules.
PYTHON_CALL = re.compile(
    r"""(?:translate\(\s*\w+,|text\(\s*(?:request|user),|\b_\(|PeriodError\()\s*\n?\s*"((?:[^"\\]|\\.)*)\""""
)


def template_messages() -> set[str]:
    environment = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    found: set[str] = set()
    for path in TEMPLATES:
        for _line, _function, message in environment.extract_translations(path.read_text()):
            found.update(m for m in (message if isinstance(message, tuple) else (message,)) if m)
    return found


def python_messages() -> set[str]:
    from connectors.desk.labels import LANGUAGE_LABELS
    from connectors.desk.throttle import LOCKED_MESSAGE

    modules = [p for p in DESK.glob("*.py") if p.name not in ("i18n.py", "catalogue.py")]
    found = {m for p in modules for m in PYTHON_CALL.findall(p.read_text())}
    # Ids chosen at run time: roles in the header, the linter's severities, language names.
    return found | set(ROLES) | {"error", "warning", LOCKED_MESSAGE} | set(LANGUAGE_LABELS.values())


def test_every_message_of_templates_scripts_and_python_is_in_both_languages():
    used = template_messages() | set(i18n.script_messages()) | python_messages()
    assert len(used) > 250, "the extraction found too few messages: is it still working?"
    missing = sorted(m for m in used if not ITALIAN.get(m, "").strip())
    assert not missing, f"no Italian for: {missing}"
    # English is the message id itself; every id in the catalogue is one a page uses.
    unused = sorted(set(ITALIAN) - used)
    assert not unused, f"catalogue entries no page asks for: {unused}"


def test_translations_keep_the_placeholders_and_markup():
    for english, italian in ITALIAN.items():
        assert sorted(PLACEHOLDER.findall(english)) == sorted(PLACEHOLDER.findall(italian)), english
        assert re.findall(r"</?\w+>", english) == re.findall(r"</?\w+>", italian), english
        # Jinja's gettext fills in with %: a lone % would break the page.
        assert "%" not in PLACEHOLDER.sub("", italian).replace("%%", ""), english


def test_scripts_ask_for_their_texts_with_literals_only():
    """t(x) with a variable would slip past the catalogue: only t('...') is allowed."""
    for script in sorted((DESK / "static").glob("*.js")):
        source = script.read_text()
        for call in re.finditer(r"\btn?\(\s*([^)\s])", source):
            if source[call.start() - 1] in ".abcdefghijklmnopqrstuvwxyz_":
                continue  # another function whose name ends in t (split(, at(, ...)
            line = source[source.rfind("\n", 0, call.start()) : source.find("\n", call.start())]
            if script.name == "common.js" and ("function t" in line or "? singular" in line):
                continue  # t() and tn() themselves
            assert call.group(1) == "'", f"{script.name}: t() without a literal near {call.start()}"
    assert "Live updates: on" in i18n.script_messages()
    assert i18n.script_text("en") == {}
    assert i18n.script_text("it")["Claim"] == "Prendi in carico"


class _LiteralText(HTMLParser):
    """Words left in a template outside _() and ngettext(): text and labelling attributes.

    A key's name in <kbd> (j, k, r, Esc) is the same in every language.
    """

    ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        self.in_script = tag in ("script", "style", "kbd")
        for name, value in attrs:
            if name in self.ATTRIBUTES and value and _has_words(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if not self.in_script and _has_words(data):
            self.found.append(data.strip())


def _has_words(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]", text.replace("\x00", "")))


def untranslated(source: str) -> list[str]:
    """What a reader would see in English whatever the language: every Jinja tag is blanked."""
    parser = _LiteralText()
    parser.feed(re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "\x00", source, flags=re.S))
    return parser.found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_has_an_untranslated_label_left(template):
    assert untranslated(template.read_text()) == []


def test_the_literal_check_finds_what_it_should():
    assert untranslated('<p title="Open it">Hello {{ name }}</p>') == [
        "<p title='Open it'>",
        "Hello \x00",
    ]
    assert untranslated('<p aria-label="{{ _(\'x\') }}">{{ _("Hello") }} · 42</p>') == []
    assert untranslated("<dt><kbd>j</kbd> {{ _('or') }} <kbd>Esc</kbd></dt>") == []


def _render(template: str, language: str, **context) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(DESK / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    i18n.install(environment)
    return environment.get_template(template).render(
        user=None,
        csrf="",
        page_language=language,
        page_languages=i18n.LANGUAGE_NAMES,
        script_text=i18n.script_text(language),
        here="/login",
        **context,
    )


def test_log_in_page_in_italian_and_in_english_with_the_switch():
    italian = _render("login.html", "it", login_csrf="t", next="")
    assert '<html lang="it">' in italian and ">Accedi</button>" in italian
    assert (
        'value="en" lang="en" class="button-quiet"\n        aria-pressed="false">English' in italian
    )
    assert 'aria-pressed="true">Italiano' in italian
    english = _render("login.html", "en", login_csrf="t", next="")
    assert ">Log in</button>" in english and "Accedi" not in english
    # The scripts' texts travel in the page, escaped for a <script> block.
    block = re.search(r'<script type="application/json" id="page-text">(.*?)</script>', italian)
    assert '"Claim": "Prendi in carico"' in block.group(1)


def test_variables_in_a_translation_are_escaped():
    environment = jinja2.Environment(autoescape=True)
    i18n.install(environment)
    text = environment.from_string(
        "{{ _('Logged in as %(username)s (%(role)s)', username=name, role=_('mediator')) }}"
    ).render(name="<b>x</b>", page_language="it")
    assert text == "Accesso come &lt;b&gt;x&lt;/b&gt; (mediatore)"


def test_accept_language_and_formats():
    assert i18n.from_accept_language("en-GB,en;q=0.9,it;q=0.8") == "en"
    assert i18n.from_accept_language("fr-FR, it;q=0.5, en;q=0.4") == "it"
    assert i18n.from_accept_language("de, fr") is None
    assert i18n.from_accept_language("en;q=0, it;q=0.1") == "it"
    assert i18n.format_number(1234.5, "it", 1) == "1.234,5"
    assert i18n.format_number(1234.5, "en", 1) == "1,234.5"
    assert i18n.format_date(dt.date(2026, 12, 2), "it") == "02/12/2026"
    assert i18n.format_date("2026-12-02T10:00:00", "en") == "2026-12-02"


def test_language_names_on_the_dashboard_follow_the_page():
    from connectors.desk.labels import language_label

    assert language_label("bn", "it") == "Bengalese (bn)"
    assert language_label("bn", "en") == "Bengali (bn)"
    assert language_label("?", "it") == "lingua sconosciuta"


def test_the_choice_is_kept_per_user_in_a_table_of_its_own(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    amal = store.add_user("amal", "h", "mediator", "ar it")
    store.add_session("token", amal.id, "csrf", 1)
    assert store.session("token")[0].page_language is None  # not chosen: Italian
    store.set_page_language(amal.id, "en")
    store.set_page_language(amal.id, "en")
    assert store.session("token")[0].page_language == "en"
    store.set_page_language(amal.id, "it")
    assert store.page_language(amal.id) == "it"
    with store.engine.connect() as db:
        assert db.execute(page_languages.select()).fetchall()[0].language == "it"
        assert len(db.execute(page_languages.select()).fetchall()) == 1
    # No new column on an existing table: databases made before this still work.
    assert [c.name for c in users.columns] == [
        "id",
        "username",
        "password_hash",
        "role",
        "languages",
        "created_at",
    ]


def test_page_language_before_and_after_log_in():
    def request(cookie: str | None = None, accept: str = ""):
        return SimpleNamespace(
            cookies={i18n.COOKIE: cookie} if cookie else {},
            headers={"Accept-Language": accept} if accept else {},
        )

    assert i18n.page_language(request()) == "it"
    assert i18n.page_language(request(accept="en-US,en;q=0.9")) == "en"
    assert i18n.page_language(request(cookie="it", accept="en-US")) == "it"
    assert i18n.page_language(request(cookie="xx", accept="en-US")) == "en"
    new_user = SimpleNamespace(page_language=None)
    assert i18n.page_language(request(accept="en-US"), new_user) == "it"
    assert i18n.page_language(request(), SimpleNamespace(page_language="en")) == "en"
    # What the desk's routes answer a staff member follows their choice too.
    assert i18n.staff_text(new_user, "No such hand-off.") == "Questa richiesta non esiste."
    assert i18n.staff_text(SimpleNamespace(page_language="en"), "Not found.") == "Not found."
