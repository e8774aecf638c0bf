import datetime as dt

import pytest

from knowledge.entries import ContentError, content_hash, load_municipality, read_entry

VALID = """---
id: tax-code
topic: tax-code
language: fr
title: Code fiscal («codice fiscale»)
also_asked:
  - comment avoir le codice fiscale
sources:
  - title: Agenzia delle Entrate
    url: https://www.agenziaentrate.gov.it/
reviews:
  - date: 2026-11-23
    by: outside content fact-check
    against: [it]
    changed: nothing
    scope: numbers compared with the Italian
  - date: 2026-12-01
    by: desk mediator
    against: [it, en]
    changed: step 2 rewritten
jurisdiction: national
translation:
  from: it
  reviewed_by_person: false
  source_hash: sha256:0123456789ab
---
Allez à {{office:revenue_agency}} à {{municipality}}.
"""


def write(tmp_path, text, name="fr.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_a_valid_entry(tmp_path):
    entry = read_entry(write(tmp_path, VALID))
    assert entry.id == "tax-code" and entry.language == "fr"
    assert entry.sources[0].url == "https://www.agenziaentrate.gov.it/"
    assert entry.last_reviewed == dt.date(2026, 12, 1)  # the latest review record
    assert entry.reviews[0].scope == "numbers compared with the Italian"
    assert entry.reviews[1].changed == "step 2 rewritten" and entry.reviews[1].against == (
        "it",
        "en",
    )
    assert entry.source_hash == "sha256:0123456789ab"
    assert entry.is_translation and entry.reviewed_by_person is False
    assert entry.also_asked == ("comment avoir le codice fiscale",)


def test_lists_every_problem_of_a_broken_entry(tmp_path):
    broken = VALID.replace("topic: tax-code\n", "").replace("2026-11-23", "23/11/2026")
    broken = broken.replace("    by: desk mediator\n", "")
    broken = broken.replace("jurisdiction: national", "jurisdiction: galactic")
    with pytest.raises(ContentError) as error:
        read_entry(write(tmp_path, broken))
    problems = " ".join(error.value.problems)
    assert "missing field 'topic'" in problems
    assert "YYYY-MM-DD" in problems
    assert "galactic" in problems
    assert "review 2 needs by" in problems


def test_no_review_on_record_means_no_date(tmp_path):
    start, end = VALID.index("reviews:"), VALID.index("jurisdiction:")
    entry = read_entry(write(tmp_path, VALID[:start] + VALID[end:]))
    assert entry.last_reviewed is None and entry.reviews == ()


@pytest.mark.parametrize(
    "text",
    ["no header at all", "---\n: [unclosed\n---\nbody", b"\xff\xfe\x00bad".decode("latin-1")],
)
def test_unreadable_files_raise_content_error(tmp_path, text):
    with pytest.raises(ContentError):
        read_entry(write(tmp_path, text))


def test_municipality_fills_offices_and_town(settings):
    town = load_municipality(settings.content.dir, settings.content.municipality)
    text = town.render("Vai a {{office:registry_office}} a {{municipality}}. {{office:nope}}")
    assert "«Ufficio Anagrafe" in text and "Torre Pellice." in text
    assert "{{office:nope}}" in text  # unknown keys stay visible, lint reports them
    assert town.example is True


def test_missing_municipality_names_the_setting(settings):
    with pytest.raises(FileNotFoundError, match="HELPDESK_MUNICIPALITY"):
        load_municipality(settings.content.dir, "atlantis")


def test_content_hash_changes_with_any_file(tmp_path):
    (tmp_path / "entries").mkdir()
    write(tmp_path / "entries", VALID)
    before = content_hash(tmp_path)
    assert content_hash(tmp_path) == before
    write(tmp_path / "entries", VALID + "\nOne more line.")
    assert content_hash(tmp_path) != before


def test_unwrap_joins_hand_wrapped_lines_but_keeps_lists():
    from knowledge.entries import unwrap

    text = "A long\nsentence.\n\n**Steps:**\n1. First\n   continued.\n2. Second\n\n- a\n- b"
    assert (
        unwrap(text) == "A long sentence.\n\n**Steps:**\n1. First continued.\n2. Second\n\n- a\n- b"
    )
