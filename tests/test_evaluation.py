from knowledge.evaluation import (
    Question,
    Scored,
    calibrate,
    evaluate,
    load_questions,
    write_setting,
)
from knowledge.settings import PROJECT_ROOT
from knowledge.taxonomy import load_taxonomy


def scored(topic, found, score):
    return Scored(Question("q", "it", topic), (found,), score, None)


def test_calibration_separates_answers_from_refusals():
    items = [
        scored("a", "a", 0.90),
        scored("b", "b", 0.88),
        scored("c", "x", 0.86),
        scored(None, "a", 0.84),
        scored(None, "b", 0.80),
    ]
    threshold = calibrate(items)
    assert 0.84 < threshold <= 0.88
    rows = evaluate(items, threshold)["ALL"]
    assert rows["declined"] == 1.0 and rows["top1"] == round(2 / 3, 3)


def test_threshold_is_written_keeping_comments(tmp_path):
    config = tmp_path / "helpdesk.yml"
    config.write_text("retrieval:\n  # why\n  confidence_threshold: 0.8   # HELPDESK_X\n")
    write_setting(config, "confidence_threshold", 0.8567)
    assert (
        config.read_text() == "retrieval:\n  # why\n  confidence_threshold: 0.8567   # HELPDESK_X\n"
    )
    config.write_text("safety:\n  keyword_margin: 0.01  # HELPDESK_Y\n")
    write_setting(config, "keyword_margin", -0.0312)
    assert config.read_text() == "safety:\n  keyword_margin: -0.0312  # HELPDESK_Y\n"


def test_development_questions_cover_every_topic_and_language(settings):
    questions = load_questions(PROJECT_ROOT / "tests" / "data" / "dev_questions.yml")
    taxonomy = load_taxonomy(settings.content.taxonomy)
    inside = [q for q in questions if q.topic]
    assert len(inside) >= 200 and len(questions) - len(inside) >= 30
    assert {q.topic for q in inside} == set(taxonomy.topics)
    for topic in taxonomy.topics:
        assert sum(q.topic == topic for q in inside) >= 5
    assert len({q.language for q in questions}) >= 10
