"""Check the welcome kit's content files and explain every problem in plain words.

    findings = lint(settings)            # every problem of every file, never stops early
    print(format_report(findings))       # grouped by file, then "N errors, M warnings in K files"
    has_errors(findings)                 # True when `python -m knowledge lint` must exit 1

A ``Finding`` has a ``severity`` (``"error"`` or ``"warning"``), the ``path`` of the
file (relative to the project when it is inside it), a ``message`` for office staff,
and a ``check`` name (``schema``, ``topics``, ``duplicates``, ``translations``,
``sources``, ``review``, ``length``, ``placeholders``, ``municipality``) for tests and tools.
Errors must be fixed; warnings are things a person should look at.

Review rules (``review``): a file's date comes only from its ``reviews`` records, so a
hand-written ``last_reviewed``, a malformed record or a date in the future is an error, and
so is an Italian or English answer with no review on record. Warnings: the latest review is
older than ``content.review_max_days``; a source no review on record was made against (added
since); a translation was made from an Italian or
English text that has changed since (``translation.source_hash``), or does not say which.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from knowledge.entries import (
    PLACEHOLDER,
    ContentError,
    Entry,
    Municipality,
    entry_paths,
    load_municipality,
    read_entry,
    text_hash,
    unwrap,
)
from knowledge.settings import PROJECT_ROOT, Settings
from knowledge.taxonomy import Taxonomy, load_taxonomy

ERROR = "error"
WARNING = "warning"
# The reference texts; every other language is a translation of one of them.
AUTHORITATIVE = ("it", "en")
WARN_WORDS = 150  # it/en: the authoring guide asks for about 150 words
MAX_WORDS = 200  # any language: longer answers do not fit a chat screen
LANGUAGE_NAMES = {
    "it": "Italian",
    "en": "English",
    "ar": "Arabic",
    "fr": "French",
    "uk": "Ukrainian",
    "es": "Spanish",
    "fa": "Persian",
    "ur": "Urdu",
    "bn": "Bengali",
    "ru": "Russian",
    "ro": "Romanian",
    "sq": "Albanian",
    "tr": "Turkish",
}
_ANY_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Finding:
    severity: str
    path: str
    message: str
    check: str

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def lint(settings: Settings, today: dt.date | None = None) -> list[Finding]:
    """Every problem of the content folder, taxonomy and municipality file of `settings`."""
    today = today or dt.date.today()
    content = settings.content
    findings: list[Finding] = []

    def add(severity: str, path: Path, message: str, check: str) -> None:
        findings.append(Finding(severity, display_path(path), message, check))

    entries: list[Entry] = []
    present: set[tuple[str, str]] = set()  # (folder, language) of every file, readable or not
    paths = entry_paths(content.dir)
    if not paths:
        add(ERROR, content.dir / "entries", "No answers found in this folder.", "schema")
    for path in paths:
        present.add((path.parent.name, path.stem))
        try:
            entry = read_entry(path)
        except ContentError as exc:
            for problem in exc.problems:
                add(ERROR, path, _sentence(problem), "schema")
            continue
        entries.append(entry)
        present.add((entry.id, entry.language))
        _check_entry(entry, today, add)
        _check_reviews(entry, today, content.review_max_days, add)

    taxonomy = _taxonomy(content.taxonomy, add)
    if taxonomy is not None:
        _check_topics(entries, taxonomy, content.taxonomy, add)
    _check_duplicates(entries, add)
    _check_translations(entries, present, settings.languages.curated, content.dir, add)
    _check_translation_age(entries, add)
    _check_municipality(entries, content.dir, content.municipality, add)
    return findings


def _check_entry(entry: Entry, today: dt.date, add) -> None:
    path = entry.path
    language = entry.language
    if path.stem != language:
        add(
            ERROR,
            path,
            f"The file is named '{path.name}' but its header says 'language: {language}'. "
            f"Rename the file to '{language}.md' or correct the language.",
            "schema",
        )
    if path.parent.name != entry.id:
        add(
            ERROR,
            path,
            f"The file is in the folder '{path.parent.name}' but its header says "
            f"'id: {entry.id}'. Use the folder name as the id (or move the file).",
            "schema",
        )
    if language in AUTHORITATIVE and entry.is_translation:
        add(
            WARNING,
            path,
            f"{_name(language)} is a reference language: remove the 'translation' part "
            "of the header (it is only for translated files).",
            "schema",
        )
    elif language not in AUTHORITATIVE and (
        not entry.translated_from or entry.reviewed_by_person is None
    ):
        add(
            ERROR,
            path,
            f"This {_name(language)} file is a translation: add 'translation:' to the header "
            "with 'from: it' (or en) and 'reviewed_by_person: true' or 'false'.",
            "schema",
        )
    for number, source in enumerate(entry.sources, start=1):
        problem = url_problem(source.url)
        if problem:
            add(ERROR, path, f"Source {number} ({source.url!r}): {problem}", "sources")
    words = count_words(entry.body)
    if words > MAX_WORDS:
        add(
            ERROR,
            path,
            f"The answer is too long ({words} words, at most {MAX_WORDS}): shorten it.",
            "length",
        )
    elif words > WARN_WORDS and language in AUTHORITATIVE:
        add(
            WARNING,
            path,
            f"The answer is long ({words} words; aim for about {WARN_WORDS}).",
            "length",
        )


def _check_reviews(entry: Entry, today: dt.date, max_days: int, add) -> None:
    path = entry.path
    if entry.written_last_reviewed is not None:
        add(
            ERROR,
            path,
            "Remove 'last_reviewed' from the header: the date comes from the 'reviews' list. "
            "Add a review record (date, by, against, changed) when someone checks the answer.",
            "review",
        )
    for number, review in enumerate(entry.reviews, start=1):
        if review.date > today:
            add(
                ERROR,
                path,
                f"Review {number} is dated {review.date}, in the future: write the day "
                "the answer was really checked.",
                "review",
            )
        for source in review.against:
            if source.startswith("http"):
                problem = url_problem(source)
                if problem:
                    add(ERROR, path, f"Review {number}, source {source!r}: {problem}", "review")
    if not entry.reviews:
        if entry.language in AUTHORITATIVE:
            add(
                ERROR,
                path,
                "No review is on record: check the answer against its sources and add a "
                "'reviews' record (date, by, against, changed).",
                "review",
            )
        return
    latest = max(entry.reviews, key=lambda review: review.date)
    age = (today - latest.date).days
    if age > max_days:
        add(
            WARNING,
            path,
            f"Needs review: last checked on {latest.date}, more than {max_days} days ago. "
            "Check it against its sources and add a review record.",
            "review",
        )
    if entry.language not in AUTHORITATIVE:
        return  # a translation is checked against its original, whose sources it repeats
    # Any review counts: a later check of some sources only (a source check,
    # say) does not undo the earlier check of the others.
    checked = {source for review in entry.reviews for source in review.against}
    for source in entry.sources:
        if source.url not in checked:
            add(
                WARNING,
                path,
                f"The source {source.url} was added after the last review ({latest.date}) "
                "and no review on record was made against it: check the answer against it "
                "and add a review record.",
                "review",
            )


def _check_translation_age(entries: list[Entry], add) -> None:
    originals = {(e.id, e.language): e for e in entries if e.language in AUTHORITATIVE}
    for entry in entries:
        if not entry.is_translation or entry.language in AUTHORITATIVE:
            continue
        original = originals.get((entry.id, entry.translated_from))
        if original is None:
            continue  # a missing original is reported by the translations check
        if entry.source_hash is None:
            add(
                WARNING,
                entry.path,
                f"Say which {_name(original.language)} text this was translated from: add "
                f"'source_hash: {text_hash(original.body)}' under 'translation' once it "
                "matches the current text.",
                "translations",
            )
        elif entry.source_hash != text_hash(original.body):
            add(
                WARNING,
                entry.path,
                f"Out of date: the {_name(original.language)} text changed after this "
                "translation was made. Translate the changes, then set 'source_hash' to "
                f"{text_hash(original.body)}.",
                "translations",
            )


def _check_topics(entries: list[Entry], taxonomy: Taxonomy, taxonomy_path: Path, add) -> None:
    for entry in entries:
        if entry.topic not in taxonomy.topics:
            add(
                ERROR,
                entry.path,
                f"Topic '{entry.topic}' is not in the topic list ({taxonomy_path.name}): "
                "use one of its ids.",
                "topics",
            )
    covered = {entry.topic for entry in entries}
    for topic in taxonomy.topics:
        if topic not in covered:
            add(
                ERROR,
                taxonomy_path,
                f"No answer covers the topic '{topic}': write at least one entry with "
                f"'topic: {topic}'.",
                "topics",
            )


def _check_duplicates(entries: list[Entry], add) -> None:
    by_key: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        by_key[(entry.id, entry.language)].append(entry)
    for (entry_id, language), same in by_key.items():
        if len(same) < 2:
            continue
        for entry in same:
            others = ", ".join(display_path(e.path) for e in same if e is not entry)
            add(
                ERROR,
                entry.path,
                f"Another file also has 'id: {entry_id}' in {_name(language)} ({others}): "
                "each answer must have its own id.",
                "duplicates",
            )


def _check_translations(
    entries: list[Entry],
    present: set[tuple[str, str]],
    curated: tuple[str, ...],
    content_dir: Path,
    add,
) -> None:
    for entry_id in sorted({entry.id for entry in entries}):
        for language in curated:
            if (entry_id, language) not in present:
                folder = Path(content_dir) / "entries" / entry_id
                add(
                    ERROR,
                    folder,
                    f"The {_name(language)} version is missing: add {language}.md to this folder.",
                    "translations",
                )


# A phone number: digits, spaces and + - / . only, with an optional note in
# brackets at the end (the sample file writes "(esempio)").
_PHONE = re.compile(r"\+?[0-9][0-9 ./-]*(\s*\([^()]*\))?")
OFFICE_FIELDS = ("name", "address", "hours", "phone", "url")
MAX_OFFICE_FIELD = 300


def office_problems(key: str, office: object) -> list[str]:
    """What is wrong with one office of a municipality file, in plain words."""
    if not isinstance(office, dict):
        return [f"Office '{key}' must list its name, address, hours and phone."]
    problems = []
    for field_name, value in office.items():
        text = "" if value is None else str(value)
        if field_name not in OFFICE_FIELDS:
            problems.append(
                f"Office '{key}': '{field_name}' is not a field of an office "
                f"(use {', '.join(OFFICE_FIELDS)})."
            )
        elif "\n" in text.strip() or len(text) > MAX_OFFICE_FIELD:
            problems.append(
                f"Office '{key}': the {field_name} must be one line of at most "
                f"{MAX_OFFICE_FIELD} characters."
            )
    if not str(office.get("name") or "").strip():
        problems.append(f"Office '{key}' needs a name.")
    phone = str(office.get("phone") or "").strip()
    if phone and not _PHONE.fullmatch(phone):
        problems.append(
            f"Office '{key}': the phone number '{phone}' may have only digits, spaces and "
            "+ - / . (a note in brackets at the end is fine, such as '(esempio)')."
        )
    url = str(office.get("url") or "").strip()
    if url and (problem := url_problem(url)):
        problems.append(f"Office '{key}': the web address is not usable: {problem}")
    return problems


def _check_offices(path: Path, add) -> bool:
    """Check every office of the file as written; False when one is broken."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return True  # reported when the file is loaded
    offices = raw.get("offices") if isinstance(raw, dict) else None
    if not isinstance(offices, dict):
        return True
    fine = True
    for key, office in offices.items():
        for problem in office_problems(str(key), office):
            add(ERROR, path, problem, "municipality")
            fine = False
    return fine


def _check_municipality(entries: list[Entry], content_dir: Path, name: str, add) -> None:
    path = Path(content_dir) / "municipalities" / f"{name}.yml"
    offices_fine = _check_offices(path, add)
    try:
        town: Municipality = load_municipality(content_dir, name)
    except FileNotFoundError:
        add(ERROR, path, "The municipality file is missing.", "municipality")
        return
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        if offices_fine:  # else the office's own message says it better
            add(ERROR, path, f"The municipality file cannot be read: {exc}", "municipality")
        return
    if town.example:
        add(
            WARNING,
            path,
            "This municipality file is sample data ('example: true'): check every address, "
            "opening hour and phone number with the offices, then remove 'example: true'.",
            "municipality",
        )
    for entry in entries:
        for written in sorted(set(_ANY_PLACEHOLDER.findall(entry.body))):
            match = PLACEHOLDER.fullmatch(written)
            if match is None:
                add(
                    ERROR,
                    entry.path,
                    f"{written} is not a valid placeholder: write {{{{office:KEY}}}} "
                    "with a key of the municipality file, or {{municipality}}.",
                    "placeholders",
                )
            elif match.group(2) and match.group(2) not in town.offices:
                add(
                    ERROR,
                    entry.path,
                    f"Unknown office '{match.group(2)}' in {written}: use a key of "
                    f"{display_path(path)} (or add the office there).",
                    "placeholders",
                )


def _taxonomy(path: Path, add) -> Taxonomy | None:
    try:
        return load_taxonomy(path)
    except FileNotFoundError:
        add(ERROR, path, "The topic list is missing, so topics were not checked.", "topics")
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        add(ERROR, path, f"The topic list cannot be read: {exc}", "topics")
    return None


def url_problem(url: str) -> str | None:
    """Why `url` is not a usable web address (syntax only, nothing is fetched), or None."""
    if any(char.isspace() for char in url):
        return "the address contains a space."
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "this is not a web address."
    if parts.scheme != "https":
        return "the address must start with https://"
    if "." not in host.strip("."):
        return "the address has no website name (such as www.example.it)."
    return None


def count_words(body: str) -> int:
    """Words of an answer as people read it: tokens with a letter (not '1.' or '-')."""
    return sum(1 for token in unwrap(body).split() if _LETTER.search(token))


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.is_error for finding in findings)


def format_report(findings: list[Finding]) -> str:
    """A report grouped by file (errors first), then a summary line."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_file[finding.path].append(finding)
    lines: list[str] = []
    for path in sorted(by_file):
        lines.append(path)
        for finding in sorted(by_file[path], key=lambda f: not f.is_error):
            lines.append(f"  {finding.severity:<8} {finding.message}")
        lines.append("")
    errors = sum(finding.is_error for finding in findings)
    warnings = len(findings) - errors
    lines.append(
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')} "
        f"in {_count(len(by_file), 'file')}"
    )
    return "\n".join(lines)


def display_path(path: Path | None) -> str:
    """`path` relative to the project (or to its parent folder, for shared/), else absolute."""
    if path is None:
        return "?"
    path = Path(path).resolve()
    for base in (PROJECT_ROOT, PROJECT_ROOT.parent):
        if path.is_relative_to(base):
            return os.path.relpath(path, PROJECT_ROOT)
    return str(path)


def _name(language: str) -> str:
    return f"{LANGUAGE_NAMES.get(language, language)} ({language})"


def _sentence(problem: str) -> str:
    return problem[:1].upper() + problem[1:] + ("" if problem.endswith(".") else ".")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
