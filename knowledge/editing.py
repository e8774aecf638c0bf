"""Change one entry file from a form: check it with the linter's rules, write it, add reviews.

    draft = Draft.from_form(current_text, {"title": ..., "body": ..., ...})
    findings = check_text(settings, "tax-code", "it", draft.text)   # lint, before saving
    write_entry(settings.content.dir, "tax-code", "it", draft.text)
    reviewed = add_review(text, by="Anna (registry office)", against=[...], changed="...")

The file stays a Markdown file with a YAML header, so the kit stays in git. The
form edits the answer and the fields people change (title, topic, jurisdiction,
"also asked", sources); the header's other fields (id, language, reviews,
translation) are kept as they are. Reviews are only ever appended, one record
per real check, dated today.
"""

from __future__ import annotations

import datetime as dt
import difflib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.entries import (
    ContentError,
    Entry,
    entry_paths,
    load_municipality,
    read_entry,
    split_front_matter,
    text_hash,
)
from knowledge.lint import (
    AUTHORITATIVE,
    ERROR,
    Finding,
    _check_entry,
    _check_municipality,
    _check_reviews,
    _check_translation_age,
    _taxonomy,
)
from knowledge.settings import Settings

# An answer is about 150 words; a form far larger than this is not an answer.
MAX_FORM_CHARS = 20_000
_LANGUAGE = frozenset("abcdefghijklmnopqrstuvwxyz")


class EditError(ValueError):
    """The form cannot become an entry file; the message says why in plain words."""


def entry_path(content_dir: Path, entry_id: str, language: str) -> Path:
    """The file of one entry in one language; EditError for names that are not ids."""
    if not entry_id or not all(c.isascii() and (c.isalnum() or c == "-") for c in entry_id):
        raise EditError("An entry id has only letters, digits and dashes.")
    if len(language) != 2 or not set(language) <= _LANGUAGE:
        raise EditError("A language is two lowercase letters, such as 'it'.")
    return Path(content_dir) / "entries" / entry_id / f"{language}.md"


def read_text(content_dir: Path, entry_id: str, language: str) -> str:
    path = entry_path(content_dir, entry_id, language)
    if not path.is_file():
        raise EditError(f"There is no {language} version of '{entry_id}'.")
    return path.read_text(encoding="utf-8")


def compose(header: dict, body: str) -> str:
    """The file text: the header as YAML between '---' lines, then the answer."""
    dumped = yaml.safe_dump(header, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{dumped}---\n{body.strip()}\n"


@dataclass(frozen=True)
class Draft:
    """An edited entry file, built from the current file and the form."""

    text: str

    @classmethod
    def from_form(cls, current: str, form: dict[str, str]) -> Draft:
        header, _ = split_front_matter(current)
        size = sum(len(str(value)) for value in form.values())
        if size > MAX_FORM_CHARS:
            raise EditError(f"The form is too long ({size} characters, at most {MAX_FORM_CHARS}).")
        if any("\x00" in str(value) for value in form.values()):
            raise EditError("The form contains binary data: paste plain text.")
        body = _clean(form.get("body", ""))
        header["title"] = _clean(form.get("title", "")).replace("\n", " ")
        header["topic"] = _clean(form.get("topic", ""))
        header["jurisdiction"] = _clean(form.get("jurisdiction", ""))
        asked = [line.strip() for line in _clean(form.get("also_asked", "")).splitlines()]
        header.pop("also_asked", None)
        if any(asked):
            header["also_asked"] = [line for line in asked if line]
        header["sources"] = _sources(_clean(form.get("sources", "")))
        # Keep the usual order: the edited fields first, reviews and translation after.
        order = ["id", "topic", "language", "title", "also_asked", "sources", "reviews"]
        ordered = {key: header[key] for key in order if key in header}
        ordered.update({key: value for key, value in header.items() if key not in ordered})
        return cls(compose(ordered, body))


def form_of(text: str) -> dict[str, str]:
    """The form fields of an entry file (the inverse of Draft.from_form)."""
    header, body = split_front_matter(text)
    sources = header.get("sources") or []
    return {
        "title": str(header.get("title") or ""),
        "topic": str(header.get("topic") or ""),
        "jurisdiction": str(header.get("jurisdiction") or ""),
        "also_asked": "\n".join(str(q) for q in header.get("also_asked") or []),
        "sources": "\n".join(
            f"{s.get('title', '')} | {s.get('url', '')}" for s in sources if isinstance(s, dict)
        ),
        "body": body.strip(),
    }


def _clean(value: object) -> str:
    # Browsers send CRLF; files keep LF.
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _sources(text: str) -> list[dict[str, str]]:
    sources = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        title, bar, url = line.rpartition("|")
        if not bar or not title.strip() or not url.strip():
            raise EditError(
                f"Source line {number} must be 'title | https://address', e.g. "
                "'Agenzia delle Entrate – Codice fiscale | https://www.agenziaentrate.gov.it/...'."
            )
        sources.append({"title": title.strip(), "url": url.strip()})
    return sources


def check_text(
    settings: Settings, entry_id: str, language: str, text: str, today: dt.date | None = None
) -> list[Finding]:
    """What `make lint-content` would say about this file if it were saved, in plain words.

    The linter's own rules (schema, sources, length, reviews, placeholders, topic,
    translation age), run on the edited text alone, before anything is written.
    """
    today = today or dt.date.today()
    content = settings.content
    path = entry_path(content.dir, entry_id, language)
    findings: list[Finding] = []

    def add(severity: str, _path: object, message: str, check: str) -> None:
        findings.append(Finding(severity, f"{entry_id}/{language}.md", message, check))

    with tempfile.TemporaryDirectory() as scratch:
        draft_path = Path(scratch) / "entries" / entry_id / f"{language}.md"
        draft_path.parent.mkdir(parents=True)
        draft_path.write_text(text, encoding="utf-8")
        try:
            entry = read_entry(draft_path)
        except ContentError as exc:
            for problem in exc.problems:
                add(ERROR, path, problem[:1].upper() + problem[1:].rstrip(".") + ".", "schema")
            return findings
        _check_entry(entry, today, add)
        _check_reviews(entry, today, content.review_max_days, add)
        taxonomy = _taxonomy(content.taxonomy, add)
        if taxonomy is not None and entry.topic not in taxonomy.topics:
            add(
                ERROR,
                path,
                f"Topic '{entry.topic}' is not in the topic list: use one of its ids.",
                "topics",
            )
        others = [e for e in _siblings(content.dir, entry_id) if e.language != language]
        _check_translation_age([entry, *others], _only(add, entry))
        _check_municipality([entry], content.dir, content.municipality, _only(add, entry))
    return findings


def _only(add, entry: Entry):
    """An `add` that keeps findings about `entry` only (not about the sample town file)."""

    def keep(severity: str, path: object, message: str, check: str) -> None:
        if path == entry.path:
            add(severity, path, message, check)

    return keep


def _siblings(content_dir: Path, entry_id: str) -> list[Entry]:
    """The entry's files in every language, as saved (unreadable ones left out)."""
    found = []
    for path in entry_paths(content_dir):
        if path.parent.name != entry_id:
            continue
        try:
            found.append(read_entry(path))
        except ContentError:
            continue
    return found


def write_entry(content_dir: Path, entry_id: str, language: str, text: str) -> Path:
    """Write the file in one step (a crash never leaves half a file)."""
    path = entry_path(content_dir, entry_id, language)
    temporary = path.with_suffix(".md.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return path


def diff(before: str, after: str, name: str) -> str:
    """A unified diff, as git would show it."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )


def add_review(
    text: str,
    by: str,
    against: list[str],
    changed: str,
    scope: str = "",
    today: dt.date | None = None,
    original_text: str | None = None,
    by_bilingual_person: bool = False,
) -> str:
    """The file with one more review record, dated today.

    In a translation, `original_text` is the text it was checked against: its
    fingerprint becomes the translation's `source_hash` (it is current again), and
    `by_bilingual_person` marks it checked by a person who reads both languages.
    """
    by, changed, scope = by.strip(), changed.strip(), scope.strip()
    against = [source.strip() for source in against if source.strip()]
    if not by or not changed or not against:
        raise EditError(
            "A review needs who checked it, what it was checked against and what changed "
            "(write 'nothing' when nothing changed)."
        )
    header, body = split_front_matter(text)
    record: dict = {
        "date": (today or dt.date.today()),
        "by": by,
        "against": against,
        "changed": changed,
    }
    if scope:
        record["scope"] = scope
    reviews = header.get("reviews") or []
    if not isinstance(reviews, list):
        raise EditError("The file's 'reviews' cannot be read: fix the file first.")
    header["reviews"] = [*reviews, record]
    translation = header.get("translation")
    if isinstance(translation, dict) and original_text is not None:
        _, original_body = split_front_matter(original_text)
        translation["source_hash"] = text_hash(original_body)
        if by_bilingual_person:
            translation["reviewed_by_person"] = True
    return compose(header, body)


@dataclass(frozen=True)
class Coverage:
    """One entry in one language, as the authoring page lists it."""

    entry: Entry
    age_days: int | None  # days since the latest review; None: never reviewed
    out_of_date: bool  # a translation made from an older original text

    @property
    def is_authoritative(self) -> bool:
        return self.entry.language in AUTHORITATIVE


def coverage(entries: list[Entry], today: dt.date | None = None) -> dict[str, list[Coverage]]:
    """Every entry's languages with review age and whether each translation is current."""
    today = today or dt.date.today()
    originals = {(e.id, e.language): e for e in entries if e.language in AUTHORITATIVE}
    by_id: dict[str, list[Coverage]] = {}
    for entry in sorted(entries, key=lambda e: (e.id, e.language not in AUTHORITATIVE, e.language)):
        original = originals.get((entry.id, entry.translated_from or ""))
        out_of_date = bool(
            entry.is_translation
            and original is not None
            and entry.source_hash != text_hash(original.body)
        )
        age = (today - entry.last_reviewed).days if entry.last_reviewed else None
        by_id.setdefault(entry.id, []).append(Coverage(entry, age, out_of_date))
    return by_id


def municipality_offices(content_dir: Path, name: str) -> dict[str, str]:
    """The office keys an answer may name ({{office:KEY}}), with their details."""
    town = load_municipality(content_dir, name)
    return {key: office.describe() for key, office in sorted(town.offices.items())}
