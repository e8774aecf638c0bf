"""The authoring page's parts without a browser: form to file, lint before saving,
review records, history and undo, and the incremental index update."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import sqlalchemy as sa

from connectors.desk.entry_history import CannotUndo, EntryHistory
from knowledge import editing
from knowledge.entries import load_municipality, read_entry, split_front_matter, text_hash
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


def content_copy(settings, tmp_path):
    """A copy of the kit, and settings that read it (and keep their data) in tmp_path."""
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
    return content, own


def test_reload_entry_re_embeds_only_that_entry(kb, settings, tmp_path):
    from knowledge.live_index import reload_entry

    content, own = content_copy(settings, tmp_path)
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


# -- the municipality's office details (knowledge.office_editing) ---------------

TOWN = "torre-pellice"


def office_form(content, key="registry_office", **changes) -> dict[str, str]:
    from knowledge import office_editing

    fields = office_editing.offices_of(office_editing.read_text(content, TOWN))[key]
    return {**fields, **changes}


def test_office_edit_changes_only_its_lines_and_keeps_comments(content, copy_settings):
    from knowledge import office_editing

    before = office_editing.read_text(content, TOWN)
    after = office_editing.set_office(
        before, "registry_office", office_form(content, hours="lun-ven 8:30-12:30")
    )
    changed = [
        line for line in editing.diff(before, after, "t").splitlines()[2:] if line[0] in "+-"
    ]
    assert changed == [
        "-    hours: lun-ven 9:00-12:00 (esempio)",
        "+    hours: lun-ven 8:30-12:30",
    ]
    assert after.startswith("# Local details of one municipality.")
    assert office_editing.is_example(after)  # the sample mark is never removed here
    assert not [f for f in office_editing.check_text(copy_settings, after) if f.is_error]
    office_editing.write_text(content, TOWN, after)
    town = load_municipality(content, TOWN)
    assert town.offices["registry_office"].hours == "lun-ven 8:30-12:30"
    assert town.offices["registry_office"].phone == "+39 0121 000002 (esempio)"
    assert town.example is True


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"name": "  "}, "Office 'registry_office' needs a name."),
        ({"phone": "call 0121 000002"}, "may have only digits, spaces and + - / ."),
        ({"phone": "0121 000002; 333 1234567"}, "may have only digits"),
        ({"url": "http://www.comune.torrepellice.to.it/"}, "must start with https://"),
        ({"url": "https://comune"}, "has no website name"),
    ],
)
def test_office_lint_explains_a_bad_edit_in_plain_words(content, copy_settings, changes, words):
    from knowledge import office_editing

    text = office_editing.set_office(
        office_editing.read_text(content, TOWN), "registry_office", office_form(content, **changes)
    )
    errors = [f for f in office_editing.check_text(copy_settings, text) if f.is_error]
    assert len(errors) == 1, errors
    assert words in errors[0].message
    assert errors[0].check == "municipality"
    # The same rule runs in `make lint-content`.
    office_editing.write_text(content, TOWN, text)
    from knowledge.lint import lint

    assert words in " ".join(f.message for f in lint(copy_settings) if f.is_error)


def test_office_web_address_is_saved_and_shown_in_answers(content, copy_settings):
    from knowledge import office_editing

    url = "https://www.comune.torrepellice.to.it/anagrafe"
    text = office_editing.set_office(
        office_editing.read_text(content, TOWN), "registry_office", office_form(content, url=url)
    )
    assert not office_editing.check_text(copy_settings, text)
    preview = office_editing.preview(copy_settings, text, "registry_office")
    assert preview is not None and preview.language == "it"
    assert url in preview.text
    assert "{{office" not in preview.text


def test_office_form_for_an_unknown_office_is_refused(content):
    from knowledge import office_editing

    text = office_editing.read_text(content, TOWN)
    for key in ("no_such_office", "../../etc"):
        with pytest.raises(office_editing.OfficeError, match="no office"):
            office_editing.set_office(text, key, {"name": "x"})
    with pytest.raises(office_editing.OfficeError):
        office_editing.read_text(content, "../secrets")


def test_office_history_and_undo_use_the_entry_history(content, tmp_path):
    from connectors.desk.entry_history import municipality_key
    from knowledge import office_editing

    history = EntryHistory(sa.create_engine(f"sqlite:///{tmp_path / 'desk.db'}"))
    key = municipality_key(TOWN)
    v1 = office_editing.read_text(content, TOWN)
    v2 = office_editing.set_office(v1, "asl", office_form(content, "asl", hours="lun 9-10"))
    history.record(*key, v1, v2, editor="anna", action="edit")
    version = history.versions(*key)[0]
    assert version.diff.startswith(f"--- a/municipalities/{TOWN}.yml")
    assert "+    hours: lun 9-10" in version.diff
    assert history.undo_target(*key, v2).before == v1
    with pytest.raises(CannotUndo, match="changed outside"):
        history.undo_target(*key, v1 + "# edited in git\n")
    # Entries and the municipality file keep separate histories.
    assert history.versions("tax-code", "it") == []
    assert history.versions(*municipality_key("another-town")) == []


def test_reload_municipality_answers_with_new_hours_at_once(kb, settings, tmp_path):
    from knowledge import office_editing
    from knowledge.answers import KnowledgeBase
    from knowledge.live_index import reembed, reload_municipality

    content, own = content_copy(settings, tmp_path)
    mine = KnowledgeBase(own, kb.kit, kb.retriever, kb.translator, kb.detector, kb.emergencies)
    before = mine.answer_entry("emergency-shelter", "it").text  # cached from the old file
    hours = "tutte le sere dalle 18:30 (orario nuovo)"
    text = office_editing.set_office(
        office_editing.read_text(content, TOWN),
        "night_shelter",
        office_form(content, "night_shelter", hours=hours),
    )
    office_editing.write_text(content, TOWN, text)
    result = reload_municipality(mine)
    assert result.offices == ("night_shelter",)
    assert result.entries == ("emergency-shelter",)
    assert hours not in before
    assert hours in mine.answer_entry("emergency-shelter", "it").text
    assert hours not in kb.answer_entry("emergency-shelter", "it").text  # shared kb untouched
    rows_before = len(mine.retriever.index.passages)
    assert 0 < reembed(mine, result.entries) < rows_before / 20
    assert len(mine.retriever.index.passages) == rows_before
    assert mine.kit.municipality.offices["night_shelter"].hours == hours


# -- what people found missing in an entry (connectors.desk.entry_feedback) ----


def test_entry_feedback_lists_newest_first_with_counts_and_no_person(tmp_path):
    from connectors.desk.entry_feedback import entry_feedback
    from connectors.desk.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    start = dt.datetime(2026, 12, 1, 9, 0)
    for n in range(25):
        store.add_feedback(
            entry_id="tax-code", language="it", useful=False, question=f"domanda {n}"
        )
    store.add_feedback(entry_id="tax-code", language="it", useful=True, question="utile")
    store.add_feedback(entry_id="health-card", language="it", useful=False, question="altro")
    with store.transaction() as db:
        for n, (entry, confident) in enumerate(
            [("tax-code", False), ("tax-code", False), ("tax-code", True), (None, False)]
        ):
            store.add_question(
                db,
                sender_id="whatsapp:+393331234567",
                asked_at=start + dt.timedelta(minutes=n),
                source="conversation",
                language="ar",
                entry_id=entry,
                confident=confident,
                text=f"سؤال {n} chiamami al 333 1234567",
            )
    found = entry_feedback(store, "tax-code")
    assert found.not_useful_count == 25
    assert len(found.not_useful) == 20
    assert found.not_useful[0].text == "domanda 24"  # newest first
    assert found.unanswered_count == 2
    assert [s.text.split()[1] for s in found.unanswered] == ["1", "0"]
    shown = repr(found)
    assert "1234567" not in shown and "whatsapp" not in shown  # redacted as stored
    # "Forget me" takes the person's questions out of the box too.
    store.forget("whatsapp:+393331234567")
    assert entry_feedback(store, "tax-code").unanswered_count == 0
