import json

from knowledge.embedding import embedder_name
from knowledge.index import MANIFEST_FILE, SearchIndex, build_index, is_current, passages_of


def test_index_holds_every_entry_in_every_language(kit, settings, built_index):
    index = SearchIndex.load(settings.index_dir)
    assert index.index.ntotal == len(passages_of(kit))
    assert {(eid, lang) for eid, lang in index.passages} == {
        (e.id, e.language) for e in kit.entries
    }
    manifest = json.loads((settings.index_dir / MANIFEST_FILE).read_text())
    # The model and the encoder kind, e.g. intfloat/multilingual-e5-small+onnx-int8.
    assert manifest["model"] == embedder_name(settings.models)
    assert manifest["model"].startswith(settings.models.embedding)


def test_unchanged_content_is_not_rebuilt(kit, embedder, settings, built_index):
    assert is_current(kit, embedder.name, settings.index_dir)
    again = build_index(kit, embedder, settings.index_dir, progress=False)
    assert again.rebuilt is False


def test_changed_content_is_rebuilt(kit, embedder, tmp_path):
    from dataclasses import replace

    build_index(kit, embedder, tmp_path, progress=False)
    changed = replace(kit, entries=kit.entries[:5], content_hash="changed")
    assert not is_current(changed, embedder.name, tmp_path)
    assert build_index(changed, embedder, tmp_path, progress=False).rebuilt
    assert SearchIndex.load(tmp_path).index.ntotal == len(passages_of(changed))


def test_questions_find_their_topic_across_languages(kb):
    cases = {
        "dove si fa la residenza?": "residence-registration",
        "كيف أسجل عند طبيب العائلة؟": "family-doctor",
        "how do I get the tessera sanitaria": "health-registration",
        "як продовжити permesso di soggiorno": "residence-permit-renewal",
        "کجا codice fiscale بگیرم": "tax-code",
    }
    for question, topic in cases.items():
        hits = kb.retriever.search(question, k=3)
        assert hits[0].topic == topic, (question, hits)
        assert kb.retriever.is_confident(hits), (question, hits)


def test_unrelated_questions_are_not_confident(kb):
    for question in ("who won the champions league", "ricetta della carbonara", "tell me a joke"):
        hits = kb.retriever.search(question, k=3)
        assert not kb.retriever.is_confident(hits), (question, hits)


def test_hits_are_one_per_entry_best_first(kb):
    hits = kb.retriever.search("permesso di soggiorno", k=5)
    assert len({h.entry_id for h in hits}) == len(hits) == 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
