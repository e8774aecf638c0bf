"""The content linter: the real kit is clean, and each kind of mistake is reported."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from knowledge.entries import text_hash
from knowledge.lint import ERROR, WARNING, count_words, format_report, lint, url_problem
from knowledge.settings import load_settings

TODAY = dt.date(2026, 11, 23)
TOPICS = {
    "version": 1,
    "domains": ["documents", "health"],
    "topics": [
        {"id": "tax-code", "domain": "documents", "asks": "tax code"},
        {"id": "family-doctor", "domain": "health", "asks": "family doctor"},
    ],
}
BODY = "Go to {{office:revenue_agency}} in {{municipality}}.\n\n**Steps:**\n1. Ask.\n2. Wait."
SOURCE = "https://www.example.gov.it/page"


def review(date: str = "2026-06-01", against: list[str] | None = None, **fields) -> dict:
    record = {"date": date, "by": "desk mediator", "against": against or [SOURCE]}
    record.update({"changed": "nothing"}, **fields)
    return record


def test_real_kit_has_no_errors(settings):
    findings = lint(settings)
    errors = [f for f in findings if f.is_error]
    assert errors == [], format_report(errors)


class TinyKit:
    """A small content folder: two entries in it, en and ar, and a two-topic taxonomy."""

    def __init__(self, root: Path, real_content: Path) -> None:
        self.root = root
        (root / "municipalities").mkdir(parents=True)
        shutil.copy(real_content / "municipalities" / "torre-pellice.yml", root / "municipalities")
        self.taxonomy = root / "topics.yml"
        self.taxonomy.write_text(yaml.safe_dump(TOPICS), encoding="utf-8")
        for entry_id in ("tax-code", "family-doctor"):
            for language in ("it", "en", "ar"):
                self.write(entry_id, language)

    def write(self, entry_id: str, language: str, body: str = BODY, path: str = "", **fields):
        """Write one entry; `fields` override the header, a None value removes the field."""
        header = {
            "id": entry_id,
            "topic": entry_id,
            "language": language,
            "title": f"Title {entry_id}",
            "sources": [{"title": "Official page", "url": SOURCE}],
            "reviews": [review()],
            "jurisdiction": "national",
        }
        if language not in ("it", "en"):
            header["reviews"] = [review(against=["it"])]
            header["translation"] = {
                "from": "it",
                "reviewed_by_person": False,
                "source_hash": text_hash(BODY),
            }
        header.update(fields)
        header = {key: value for key, value in header.items() if value is not None}
        target = self.root / (path or f"entries/{entry_id}/{language}.md")
        target.parent.mkdir(parents=True, exist_ok=True)
        front = yaml.safe_dump(header, allow_unicode=True, sort_keys=False)
        target.write_text(f"---\n{front}---\n{body}\n", encoding="utf-8")
        return target

    @property
    def environ(self) -> dict[str, str]:
        return {
            "HELPDESK_CONTENT_DIR": str(self.root),
            "HELPDESK_TAXONOMY": str(self.taxonomy),
            "HELPDESK_CURATED_LANGUAGES": "it,en,ar",
        }

    def lint(self):
        return lint(load_settings(environ=self.environ), today=TODAY)

    def findings(self, check: str):
        return [(f.severity, f.path, f.message) for f in self.lint() if f.check == check]


@pytest.fixture
def tiny(tmp_path, settings) -> TinyKit:
    return TinyKit(tmp_path / "content", settings.content.dir)


def only(findings, severity: str, path_end: str, words: str) -> None:
    """Exactly one finding, of this severity, about this file, saying these words."""
    assert len(findings) == 1, findings
    got_severity, path, message = findings[0]
    assert got_severity == severity
    assert path.endswith(path_end), path
    assert words.lower() in message.lower(), message


def test_a_clean_tiny_kit_only_warns_about_example_data(tiny):
    findings = tiny.lint()
    assert [(f.severity, f.check) for f in findings] == [(WARNING, "municipality")]
    assert "sample data" in findings[0].message
    assert findings[0].path.endswith("municipalities/torre-pellice.yml")


def test_every_problem_read_entry_finds_is_an_error(tiny):
    tiny.write("tax-code", "en", topic=None, jurisdiction="galactic")
    findings = tiny.findings("schema")
    assert {severity for severity, _, _ in findings} == {ERROR}
    messages = " ".join(message for _, _, message in findings)
    assert "missing field 'topic'" in messages.lower() and "galactic" in messages


def test_unreadable_header_is_an_error(tiny):
    (tiny.root / "entries/tax-code/en.md").write_text("no header here\n", encoding="utf-8")
    only(tiny.findings("schema"), ERROR, "tax-code/en.md", "cannot read the header")


def test_file_name_must_match_the_language(tiny):
    tiny.write("tax-code", "fr", path="entries/tax-code/en.md")
    only(tiny.findings("schema"), ERROR, "tax-code/en.md", "language: fr")


def test_folder_name_must_match_the_id(tiny):
    tiny.write("tax-code", "ar", path="entries/family-doctor/ar.md", topic="family-doctor")
    schema = tiny.findings("schema")
    only(schema, ERROR, "family-doctor/ar.md", "id: tax-code")


def test_translated_files_must_say_so(tiny):
    tiny.write("tax-code", "ar", translation=None)
    only(tiny.findings("schema"), ERROR, "tax-code/ar.md", "translation")


def test_reference_languages_should_not_say_translation(tiny):
    tiny.write("tax-code", "en", translation={"from": "it", "reviewed_by_person": True})
    only(tiny.findings("schema"), WARNING, "tax-code/en.md", "reference language")


def test_topic_must_be_in_the_taxonomy(tiny):
    tiny.write("tax-code", "en", topic="tax-codes")
    only(tiny.findings("topics"), ERROR, "tax-code/en.md", "'tax-codes'")


def test_every_topic_needs_an_entry(tiny):
    for language in ("it", "en", "ar"):
        tiny.write("family-doctor", language, topic="tax-code")
    only(tiny.findings("topics"), ERROR, "topics.yml", "'family-doctor'")


def test_duplicate_id_and_language(tiny):
    tiny.write("tax-code", "it", path="entries/tax-code-copy/it.md")
    duplicates = tiny.findings("duplicates")
    assert sorted(path.split("entries/")[1] for _, path, _ in duplicates) == [
        "tax-code-copy/it.md",
        "tax-code/it.md",
    ]
    assert all(severity == ERROR for severity, _, _ in duplicates)


def test_missing_translation(tiny):
    (tiny.root / "entries/family-doctor/ar.md").unlink()
    only(tiny.findings("translations"), ERROR, "entries/family-doctor", "Arabic (ar)")


def test_a_broken_file_is_not_also_reported_missing(tiny):
    (tiny.root / "entries/family-doctor/ar.md").write_text("oops", encoding="utf-8")
    assert tiny.findings("translations") == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://www.example.gov.it/page", "https://"),
        ("https://localhost/page", "website name"),
        ("https://www.example.gov.it/a page", "space"),
        ("www.example.gov.it/page", "https://"),
    ],
)
def test_bad_source_urls(tiny, url, words):
    tiny.write("tax-code", "it", sources=[{"title": "Page", "url": url}])
    only(tiny.findings("sources"), ERROR, "tax-code/it.md", words)


def test_good_source_url():
    assert url_problem("https://www.inps.it/it/it.html?x=1#top") is None


@pytest.mark.parametrize(
    ("reviewed", "expected"),
    [
        ("2025-11-23", None),  # exactly 365 days: still fine
        ("2025-11-22", WARNING),
        ("2024-01-10", WARNING),
        ("2026-11-24", ERROR),
    ],
)
def test_review_age(tiny, reviewed, expected):
    tiny.write("tax-code", "ar", reviews=[review(reviewed, against=["it"])])
    findings = tiny.findings("review")
    if expected is None:
        assert findings == []
    else:
        words = "needs review" if expected == WARNING else "future"
        only(findings, expected, "tax-code/ar.md", words)


def words(count: int) -> str:
    # Markup tokens ("1.", "-", "**Steps:**" has letters) do not all count: only words do.
    return "**Steps:**\n1. " + " ".join(["word"] * (count - 1)) + "\n2. -\n- 3."


def test_word_count_skips_markup():
    assert count_words(words(10)) == 10
    assert count_words("Go to {{office:asl}}, 1. 2. - now!") == 4


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("it", 150, None),
        ("it", 151, WARNING),
        ("en", 201, ERROR),
        ("ar", 190, None),  # translations run longer; only the hard limit applies
        ("ar", 201, ERROR),
    ],
)
def test_answer_length(tiny, language, count, expected):
    tiny.write("tax-code", language, body=words(count))
    findings = tiny.findings("length")
    if expected is None:
        assert findings == []
    else:
        only(findings, expected, f"tax-code/{language}.md", f"{count} words")


def test_unknown_office_placeholder(tiny):
    tiny.write("tax-code", "en", body="Go to {{office:registry_office}} or {{office:nowhere}}.")
    only(tiny.findings("placeholders"), ERROR, "tax-code/en.md", "'nowhere'")


def test_misspelt_placeholder(tiny):
    tiny.write("tax-code", "en", body="Go to {{ofice:asl}}.")
    only(tiny.findings("placeholders"), ERROR, "tax-code/en.md", "{{ofice:asl}}")


def test_real_municipality_data_has_no_example_warning(tiny):
    town = tiny.root / "municipalities" / "torre-pellice.yml"
    town.write_text(town.read_text(encoding="utf-8").replace("example: true", ""), "utf-8")
    assert tiny.lint() == []


def test_report_groups_by_file_and_counts(tiny):
    tiny.write("tax-code", "en", reviews=[review("2020-01-01")], topic="nope")
    report = format_report(tiny.lint())
    lines = report.splitlines()
    entry_line = next(i for i, line in enumerate(lines) if line.endswith("tax-code/en.md"))
    assert lines[entry_line + 1].startswith("  error ")  # errors come first
    assert lines[entry_line + 2].startswith("  warning ")
    assert lines[-1] == "1 error, 2 warnings in 2 files"


def test_cli_exit_codes(tiny, monkeypatch, capsys):
    from knowledge.__main__ import main

    for name, value in tiny.environ.items():
        monkeypatch.setenv(name, value)
    assert main(["lint"]) == 0  # a warning does not fail
    assert capsys.readouterr().out.strip().endswith("0 errors, 1 warning in 1 file")
    tiny.write("tax-code", "en", body="Go to {{office:nowhere}}.")
    assert main(["lint"]) == 1
    assert "Unknown office 'nowhere'" in capsys.readouterr().out


def test_review_age_is_a_setting(tiny):
    tiny.write("tax-code", "en", reviews=[review("2026-09-01")])
    assert tiny.findings("review") == []
    settings = load_settings(environ={**tiny.environ, "HELPDESK_REVIEW_MAX_DAYS": "30"})
    findings = [
        (f.severity, f.path, f.message)
        for f in lint(settings, today=TODAY)
        if f.check == "review" and f.path.endswith("tax-code/en.md")
    ]
    only(findings, WARNING, "tax-code/en.md", "more than 30 days ago")


def test_the_latest_review_sets_last_reviewed(tmp_path, tiny):
    path = tiny.write("tax-code", "en", reviews=[review("2025-01-01"), review("2026-03-04")])
    from knowledge.entries import read_entry

    entry = read_entry(path)
    assert entry.last_reviewed == dt.date(2026, 3, 4)
    assert [r.by for r in entry.reviews] == ["desk mediator", "desk mediator"]


def test_a_written_last_reviewed_is_an_error(tiny):
    tiny.write("tax-code", "en", last_reviewed="2026-11-23")
    only(tiny.findings("review"), ERROR, "tax-code/en.md", "comes from the 'reviews' list")


def test_authoritative_answer_without_a_review_is_an_error(tiny):
    tiny.write("tax-code", "it", reviews=None)
    only(tiny.findings("review"), ERROR, "tax-code/it.md", "no review is on record")


def test_translation_without_a_review_is_allowed(tiny):
    # It says reviewed_by_person: false, which the assistant shows; nothing more to flag.
    tiny.write("tax-code", "ar", reviews=None)
    assert tiny.findings("review") == []


@pytest.mark.parametrize(
    ("record", "words"),
    [
        ({"date": "2026-06-01", "by": "x", "against": [SOURCE]}, "needs changed"),
        ({"date": "1 June", "by": "x", "against": [SOURCE], "changed": "no"}, "YYYY-MM-DD"),
        ({"date": "2026-06-01", "by": "x", "against": "http://a.it", "changed": "no"}, "https"),
    ],
)
def test_broken_review_records_are_errors(tiny, record, words):
    tiny.write("tax-code", "en", reviews=[record])
    findings = [f for f in tiny.lint() if f.is_error]
    assert len(findings) == 1 and words.lower() in findings[0].message.lower(), findings


def test_a_source_added_after_the_review_warns(tiny):
    sources = [
        {"title": "Official page", "url": SOURCE},
        {"title": "New page", "url": "https://www.example.gov.it/new"},
    ]
    tiny.write("tax-code", "en", sources=sources)
    only(tiny.findings("review"), WARNING, "tax-code/en.md", "example.gov.it/new was added")
    tiny.write(
        "tax-code",
        "en",
        sources=sources,
        reviews=[review("2026-07-01", [SOURCE, sources[1]["url"]])],
    )
    assert tiny.findings("review") == []


def test_a_later_check_of_some_sources_keeps_the_earlier_check_of_the_others(tiny):
    sources = [
        {"title": "Official page", "url": SOURCE},
        {"title": "Second page", "url": "https://www.example.gov.it/second"},
    ]
    both = review("2026-07-01", [SOURCE, sources[1]["url"]])
    one = review("2026-08-01", [sources[1]["url"]])
    tiny.write("tax-code", "en", sources=sources, reviews=[both, one])
    assert tiny.findings("review") == []
    added = sources + [{"title": "Third page", "url": "https://www.example.gov.it/third"}]
    tiny.write("tax-code", "en", sources=added, reviews=[both, one])
    only(tiny.findings("review"), WARNING, "tax-code/en.md", "example.gov.it/third was added")


def test_translation_of_a_changed_original_is_out_of_date(tiny):
    tiny.write("tax-code", "it", body=BODY + "\n3. New step.")
    only(tiny.findings("translations"), WARNING, "tax-code/ar.md", "out of date")


def test_translation_that_does_not_say_its_original_warns(tiny):
    tiny.write("tax-code", "ar", translation={"from": "it", "reviewed_by_person": False})
    only(tiny.findings("translations"), WARNING, "tax-code/ar.md", "source_hash: sha256:")
