"""The custom actions, called as the action server calls them, on the real knowledge base."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions as actions


@pytest.fixture(autouse=True)
def use_session_knowledge_base(kb, monkeypatch):
    monkeypatch.setattr(actions, "_KB", kb)


def tracker(text, slots=None, intent="ask_service", entities=(), metadata=None):
    return Tracker(
        sender_id="unit",
        slots=dict(slots or {}),
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": list(entities),
            "metadata": metadata or {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, tracker_):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker_, {})
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_confident_answer_has_text_sources_date_and_feedback():
    messages, slots = run(
        actions.ActionAnswerQuestion(), tracker("dove si fa la residenza?", {"language": "it"})
    )
    entry = next(m["custom"]["entry"] for m in messages if m.get("custom"))
    assert entry["topic"] == "residence-registration"
    body = next(m["text"] for m in messages if m.get("custom"))
    assert body.startswith("**") and "\n\n" not in body  # one chat bubble
    sources = next(m for m in messages if m.get("response") == "utter_answer_sources")
    assert entry["sources"][0]["url"] in sources["sources"]
    assert sources["last_reviewed"] == entry["last_reviewed"]
    assert any(m.get("response") == "utter_was_it_useful" for m in messages)
    assert slots["topic"] == "residence-registration" and slots["unsure_count"] == 0


def test_unsure_answer_offers_at_most_two_topics_and_counts():
    messages, slots = run(
        actions.ActionAnswerQuestion(),
        tracker("la mia bicicletta è rotta", {"language": "it", "unsure_count": 1.0}),
    )
    assert [m["response"] for m in messages] == ["utter_not_sure"]
    buttons = messages[0]["buttons"]
    assert 1 <= len(buttons) <= 2
    assert all(b["payload"].startswith('/choose_topic{"topic": ') for b in buttons)
    assert slots["unsure_count"] == 2.0


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("", "utter_input_not_understood"),
        ("😀🙏🏽", "utter_input_not_understood"),
        ("<b></b> <br/>", "utter_input_not_understood"),
        ("\ufffd\ufffd\ufffd", "utter_input_not_understood"),
        ("permesso " * 300, "utter_message_too_long"),
    ],
)
def test_unreadable_or_huge_messages_get_a_clear_reply(text, response):
    messages, _ = run(actions.ActionAnswerQuestion(), tracker(text, {"language": "it"}))
    assert [m["response"] for m in messages] == [response]


def test_html_is_stripped_before_searching():
    assert actions.clean_question("<script>alert(1)</script><b>tessera</b>") == "alert(1) tessera"


def test_choose_topic_answers_that_topic_in_the_conversation_language():
    messages, _ = run(
        actions.ActionAnswerQuestion(),
        tracker(
            '/choose_topic{"topic": "tax-code"}',
            {"language": "uk"},
            intent="choose_topic",
            entities=[{"entity": "topic", "value": "tax-code"}],
        ),
    )
    entry = next(m["custom"]["entry"] for m in messages if m.get("custom"))
    assert entry["topic"] == "tax-code" and entry["language"] == "uk"


@pytest.mark.parametrize(
    ("text", "slots", "metadata", "entities", "expected"),
    [
        ("كيف أسجل عند طبيب العائلة؟", {}, None, (), {"language": "ar"}),
        ("/lang uk", {"language": "it"}, None, (), {"language": "uk", "language_chosen": True}),
        ("ciao", {}, {"language": "fa"}, (), {"language": "fa", "language_chosen": True}),
        (
            "parla arabo",
            {"language": "it"},
            None,
            [{"entity": "language", "value": "ar"}],
            {"language": "ar", "language_chosen": True},
        ),
        # A chosen language sticks even when the person writes in another one.
        (
            "how do I get the tessera sanitaria",
            {"language": "ar", "language_chosen": True},
            None,
            (),
            {},
        ),
        ("ok", {"language": "ar"}, None, (), {}),
        ("ok", {}, {"language_hint": "uk"}, (), {"language": "uk"}),
    ],
)
def test_detect_language(text, slots, metadata, entities, expected):
    _, set_slots = run(
        actions.ActionDetectLanguage(), tracker(text, slots, metadata=metadata, entities=entities)
    )
    assert set_slots == expected


def test_offer_human_names_the_help_desk():
    messages, _ = run(actions.ActionOfferHuman(), tracker("voglio una persona"))
    assert messages[0]["response"] == "utter_ask_human"
    assert "Sportello" in messages[0]["help_desk"]
