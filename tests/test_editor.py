"""The authoring page's parts without a browser: form to file, lint before saving,
review records, history and undo, and the incremental index update."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import sqlalchemy as sa

from connectors.desk.entry_history import CannotUndo, EntryHistory
from knowledge import editing
from knowledge.entries import read_entry, split_front_matter, text_hash
from knowledge.settings import PROJECT_ROOT, load_settings

TODAY = dt.date(2026, 12, 2)


@pytest.fixture
def content(tmp_path, session_env):
    """A copy of the real kit, so that edits never touch the project's files."""
    copy = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "knowledge" / "content", copy)
    return copy


@pytest.fixture
def copy_settings(content, session_env):
    return load_settings(environ={**session_env, "HELPDESK_CONTENT_DIR": str(content)})


def form(content, entry_id="tax-code", language="it", **changes) -> dict[str, str]:
    fields = editing.form_of(editing.read_text(content, entry_id, language))
    fields.update(changes)
    return fields


def test_form_round_trip_keeps_reviews_and_translation(content):
    before = editing.read_text(content, "tax-code", "fr")
    draft = editing.Draft.from_form(before, form(content, language="fr"))
    old, new = split_front_matter(before)[0], split_front_matter(draft.text)[0]
    assert new["reviews"] == old["reviews"]
    assert new["translation"] == old["translation"]
    assert new["sources"] == old["sources"]
    assert split_front_matter(draft.text)[1].strip() == split_front_matter(before)[1].strip()


def test_edit_is_saved_as_markdown_and_reads_back(content, copy_settings):
    fields = form(
        content, body="Il «codice fiscale» è gratuito.\r\n\r\n**Dove:** {{office:revenue_agency}}"
    )
    text = editing.Draft.from_form(editing.read_text(content, "tax-code", "it"), fields).text
    findings = editing.check_text(copy_settings, "tax-code", "it", text, today=TODAY)
    assert not [f for f in findings if f.is_error], findings
    path = editing.write_entry(content, "tax-code", "it", text)
    entry = read_entry(path)
    assert entry.body.startswith("Il «codice fiscale» è gratuito.\n\n**Dove:**")
    assert "\r" not in path.read_text(encoding="utf-8")
    assert entry.reviews  # the earlier records are still there


@pytest.mark.parametrize(
    ("changes", "check", "words"),
    [
        ({"body": "Vai da {{office:nowhere}}."}, "placeholders", "Unknown office"),
        ({"sources": "Agenzia | http://www.agenziaentrate.gov.it/"}, "sources", "https://"),
        ({"topic": "no-such-topic"}, "topics", "not in the topic list"),
        ({"body": " ".join(["parola"] * 230)}, "length", "too long"),
        ({"title": ""}, "schema", "Missing field 'title'"),
    ],
)
def test_lint_before_saving_explains_a_bad_edit(content, copy_settings, changes, check, words):
    text = editing.Draft.from_form(
        editing.read_text(content, "tax-code", "it"), form(content, **changes)
    ).text
    errors = [f for f in editing.check_text(copy_settings, "tax-code", "it", text) if f.is_error]
    assert [f.check for f in errors] == [check], errors
    assert words in errors[0].message


@pytest.mark.parametrize(
    "bad",
    ["Agenzia without an address", "x" * (editing.MAX_FORM_CHARS + 1), "a\x00b"],
)
def test_unusable_form_gets_a_plain_message(content, bad):
    current = editing.read_text(content, "tax-code", "it")
    with pytest.raises(editing.EditError) as raised:
        editing.Draft.from_form(current, form(content, sources=bad))
    assert str(raised.value)[0].isupper()


def test_edit_of_the_italian_makes_translations_out_of_date(content, copy_settings):
    it = editing.read_text(content, "tax-code", "it")
    changed = editing.Draft.from_form(it, form(content, body="Testo nuovo e diverso.")).text
    editing.write_entry(content, "tax-code", "it", changed)
    fr = editing.read_text(content, "tax-code", "fr")
    warnings = editing.check_text(copy_settings, "tax-code", "fr", fr)
    assert any(f.check == "translations" and "Out of date" in f.message for f in warnings)
    rows = editing.coverage(
        [read_entry(p) for p in (content / "entries" / "tax-code").glob("*.md")]
    )
    stale = {row.entry.language for row in rows["tax-code"] if row.out_of_date}
    assert stale == {"ar", "fr", "uk"}


def test_review_record_is_appended_with_today_and_sources(content):
    before = editing.read_text(content, "tax-code", "it")
    url = read_entry(content / "entries" / "tax-code" / "it.md").sources[0].url
    after = editing.add_review(
        before, by="anna (registry office)", against=[url], changed="nothing", today=TODAY
    )
    old, new = split_front_matter(before)[0]["reviews"], split_front_matter(after)[0]["reviews"]
    assert new[:-1] == old
    assert new[-1] == {
        "date": TODAY,
        "by": "anna (registry office)",
        "against": [url],
        "changed": "nothing",
    }
    with pytest.raises(editing.EditError):
        editing.add_review(before, by="anna", against=[], changed="nothing")
    with pytest.raises(editing.EditError):
        editing.add_review(before, by="anna", against=[url], changed="  ")


def test_review_of_a_translation_makes_it_current(content, copy_settings):
    it = editing.Draft.from_form(
        editing.read_text(content, "tax-code", "it"), form(content, body="Testo nuovo.")
    ).text
    editing.write_entry(content, "tax-code", "it", it)
    fr = editing.read_text(content, "tax-code", "fr")
    after = editing.add_review(
        fr,
        by="karim",
        against=["it"],
        changed="translated the new text",
        original_text=it,
        by_bilingual_person=True,
        today=TODAY,
    )
    header = split_front_matter(after)[0]
    assert header["translation"]["source_hash"] == text_hash(split_front_matter(it)[1])
    assert header["translation"]["reviewed_by_person"] is True
    findings = editing.check_text(copy_settings, "tax-code", "fr", after, today=TODAY)
    assert not [f for f in findings if f.check == "translations"], findings


def test_history_keeps_every_version_and_undo_takes_back_the_last(tmp_path):
    history = EntryHistory(sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}"))
    with pytest.raises(CannotUndo):
        history.undo_target("tax-code", "it", "v1")
    history.record("tax-code", "it", "v1\n", "v2\n", editor="anna", action="edit")
    history.record("tax-code", "it", "v2\n", "v3\n", editor="marco", action="edit")
    versions = history.versions("tax-code", "it")
    assert [(v.editor, v.before, v.after) for v in versions] == [
        ("marco", "v2\n", "v3\n"),
        ("anna", "v1\n", "v2\n"),
    ]
    assert "-v2\n+v3" in versions[0].diff
    assert versions[0].saved_at <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    target = history.undo_target("tax-code", "it", "v3\n")
    assert target.before == "v2\n"
    with pytest.raises(CannotUndo, match="changed outside"):
        history.undo_target("tax-code", "it", "edited in git\n")
    history.record("tax-code", "it", "v3\n", "v2\n", editor="anna", action="undo")
    assert len(history.versions("tax-code", "it")) == 3
    assert history.versions("tax-code", "en") == []


def test_reload_entry_re_embeds_only_that_entry(kb, settings, tmp_path):
    from knowledge.live_index import reload_entry

    content = tmp_path / "content"
    shutil.copytree(settings.content.dir, content)
    own = load_settings(
        environ={
            "HELPDESK_CONTENT_DIR": str(content),
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_MODELS_DIR": str(settings.models.dir),
            "HELPDESK_TAXONOMY": str(settings.content.taxonomy),
        }
    )
    from knowledge.answers import KnowledgeBase

    mine = KnowledgeBase(own, kb.kit, kb.retriever, kb.translator, kb.detector, kb.emergencies)
    rows_before = len(mine.retriever.index.passages)
    new_body = "Il codice fiscale si chiede allo sportello zebra-viola-42 del comune."
    text = editing.Draft.from_form(
        editing.read_text(content, "tax-code", "it"), form(content, body=new_body)
    ).text
    editing.write_entry(content, "tax-code", "it", text)
    result = reload_entry(mine, "tax-code")
    assert set(result.languages) == {"it", "en", "ar", "fr", "uk"}
    assert 0 < result.passages < rows_before / 10
    assert mine.kit.entry("tax-code", "it").body == new_body
    assert kb.kit.entry("tax-code", "it").body != new_body  # the shared one is untouched
    answer = mine.ask("sportello zebra-viola-42", language="it").answers[0]
    assert (answer.entry_id, answer.text) == ("tax-code", new_body)
    # Every other entry kept its rows; the index on disk is the new one.
    others = [row for row in mine.retriever.index.passages if row[0] != "tax-code"]
    assert others == [row for row in kb.retriever.index.passages if row[0] != "tax-code"]
    assert (own.index_dir / "manifest.json").exists()
