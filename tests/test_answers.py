from knowledge.retrieval import Hit


def test_curated_translation_is_preferred(kb):
    result = kb.ask("كيف أسجل عند طبيب العائلة؟")
    assert result.language == "ar" and result.confident
    best = result.answers[0]
    assert best.language == "ar" and not best.machine_translated and not best.fallback
    assert best.unreviewed_translation  # nobody has reviewed the Arabic yet, and it says so
    assert best.sources and best.sources[0].url.startswith("https://")
    assert best.last_reviewed.year >= 2026


def test_authoritative_languages_are_not_flagged(kb):
    best = kb.ask("dove si fa la residenza?").answers[0]
    assert best.language == "it" and not best.unreviewed_translation
    assert "{{" not in best.text  # local offices were filled in
    assert "Ufficio Anagrafe" in best.text


def test_machine_translation_is_used_and_labelled_when_the_pair_is_installed(kb):
    result = kb.ask("کجا tessera sanitaria بگیرم")
    assert result.language == "fa"
    best = result.answers[0]
    assert best.machine_translated and best.language == "fa" and not best.fallback
    # Sources and review date are the entry's own, never translated away.
    source = kb.kit.entry(best.entry_id, "en")
    assert best.sources == source.sources and best.last_reviewed == source.last_reviewed


def test_without_any_translation_the_answer_falls_back_and_says_so(kb):
    best = kb.answer(Hit("tax-code", "tax-code", 0.9), "ur")
    assert best.fallback and best.language == "en" and not best.machine_translated
    assert best.text == kb.kit.render(kb.kit.entry("tax-code", "en"))


def test_answer_as_json_has_the_api_fields(kb):
    payload = kb.ask("how do I get the tessera sanitaria", top_k=3).answers[0].as_json()
    for field in (
        "id",
        "topic",
        "title",
        "text",
        "language",
        "machine_translated",
        "score",
        "sources",
        "last_reviewed",
    ):
        assert field in payload
    assert payload["sources"][0]["url"].startswith("https://")


def test_detect_language_keeps_the_current_one_for_short_messages(kb):
    assert kb.detect_language("ok", current="ar") == "ar"
    assert kb.detect_language("/lang uk", current="ar") == "uk"
    assert kb.detect_language("👍", current=None) == kb.settings.languages.default


def test_entry_for_topic_and_direct_answers(kb):
    entry_id = kb.entry_for_topic("family-doctor")
    answer = kb.answer_entry(entry_id, "fr")
    assert answer.topic == "family-doctor" and answer.language == "fr"
    assert kb.answer_entry("no-such-entry", "fr") is None
