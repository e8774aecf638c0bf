"""What typed messages mean (knowledge/understanding.py) and what action_understand replies.

The messages of issue 16, which the old n-gram intent classifier misread, are
checked here; none of them is a prototype in knowledge/openings.yml.
"""

import asyncio
import contextlib
import json
import uuid

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions as actions
from knowledge.settings import PROJECT_ROOT
from knowledge.understanding import Understanding, is_noise, load_prototypes

# From the issue and the UX review of 2026-12-02.
HELP = [
    "I need help",
    "can you help me?",
    "mi può aiutare?",
    "мені потрібна допомога",
    "j'ai besoin d'aide",
    "vous pouvez m'aider ?",
]
SERVICE = [
    ("أين أجدد تصريح الإقامة؟", "residence-permit-renewal"),
    ("تجديد الإقامة", "residence-permit-renewal"),
]
VAGUE = [
    "it's about my file",
    "I have a problem with my papers",
    "c'est pour mon dossier",
    "Допоможіть, що мені тепер робити?",
]
NOISE = ["🙏🙏😢", "asdfghjkl", "???", "jjjjjjj"]


@pytest.fixture(scope="module")
def reader(kb, settings) -> Understanding:
    return Understanding.open(kb.retriever.embedder, settings.index_dir)


@pytest.fixture
def bot(kb, reader, monkeypatch):
    monkeypatch.setattr(actions, "_KB", kb)
    monkeypatch.setattr(actions, "_UNDERSTANDING", reader)


def test_the_issues_sentences_are_not_prototypes():
    prototypes = {t.lower() for texts in load_prototypes().values() for t in texts}
    everything = [*HELP, *(text for text, _ in SERVICE), *VAGUE, *NOISE]
    assert not [text for text in everything if text.lower() in prototypes]


@pytest.mark.parametrize("text", NOISE)
def test_noise_is_noise(text):
    assert is_noise(text)


@pytest.mark.parametrize(
    "text", ["ok", "dove si fa la residenza?", "كيف أسجل", "tessera sanitaria", "grazie"]
)
def test_words_are_not_noise(text):
    assert not is_noise(text)


@pytest.mark.parametrize("text", ["фывапр", "йцукенгш", "фівапр", "ضصثقفغ", "شسیبلات", "سسسسس"])
def test_keyboard_mash_in_other_scripts_is_noise(text):
    assert is_noise(text)


@pytest.mark.parametrize(
    "text",
    ["привет", "спасибо", "дякую", "مرحبا", "سلام", "خیلی ممنون", "شكرا", "ধন্যবাদ", "ок"],
)
def test_short_words_in_other_scripts_are_not_noise(text):
    assert not is_noise(text)


def read(kb, reader, text):
    vector = kb.embed(text)
    top = kb.ask(text, vector=vector).answers[0].score
    return reader.read(text, vector, top, kb.retriever.threshold)


@pytest.mark.parametrize("text", HELP)
def test_requests_for_help_read_as_help(kb, reader, text):
    assert read(kb, reader, text).kind == "help"


@pytest.mark.parametrize("text", VAGUE)
def test_vague_messages_are_never_service(kb, reader, text):
    assert read(kb, reader, text).kind in ("vague", "help")


def tracker(text, slots=None, events=()):
    return Tracker(
        sender_id="unit-understand",
        slots={"language": "en", **(slots or {})},
        latest_message={"text": text, "intent": {"name": "text"}, "entities": [], "metadata": {}},
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def understand(text, slots=None, events=()):
    dispatcher = CollectingDispatcher()
    actions.ActionUnderstand().run(dispatcher, tracker(text, slots, events), DOMAIN)
    return dispatcher.messages


def responses(messages):
    """The domain responses sent, by name (filled here, they carry it as `utter_action`)."""
    names = [m.get("response") or m.get("utter_action") for m in messages]
    return [name for name in names if name]


NOTIFIED = {"privacy": "accepted"}


@pytest.mark.parametrize(("text", "entry"), SERVICE)
def test_arabic_permit_renewal_is_answered(bot, text, entry):
    messages = understand(text, {**NOTIFIED, "language": "ar"})
    answered = [m["custom"]["entry"]["id"] for m in messages if m.get("custom")]
    assert answered == [entry]
    assert "utter_goodbye" not in responses(messages)


def test_help_gets_what_do_you_need_with_topics_and_a_person(bot):
    messages = understand("I need help", NOTIFIED)
    assert responses(messages) == ["utter_help"]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert len([p for p in payloads if p.startswith("/choose_topic")]) >= 3


def test_vague_help_offers_no_sensitive_topic(bot):
    messages = understand("Допоможіть, що мені тепер робити?", {**NOTIFIED, "language": "uk"})
    offered = " ".join(b["payload"] for m in messages for b in m.get("buttons") or [])
    assert "gender-based-violence" not in offered
    assert not [m for m in messages if m.get("custom")]


def test_emoji_only_cannot_be_read(bot):
    assert responses(understand("🙏🙏😢", NOTIFIED)) == ["utter_input_not_understood"]


def asked(response):
    return [{"event": "bot", "text": "", "metadata": {"utter_action": response}}]


def test_feedback_words_are_feedback_only_after_was_it_useful(bot):
    after_answer = understand("not useful", NOTIFIED, asked("utter_was_it_useful"))
    assert responses(after_answer) == ["utter_not_useful"]
    out_of_the_blue = understand("not useful", NOTIFIED)
    assert "utter_feedback_thanks" not in responses(out_of_the_blue)


def test_a_payload_from_an_off_the_shelf_client_starts_the_conversation(bot):
    messages = understand("/get_started")
    assert responses(messages) == ["utter_greet"]  # no notice yet: it waits for real words


def test_the_first_real_message_carries_the_notice(bot):
    messages = understand("ciao", {"language": "it"}, asked("utter_greet"))
    notice = [m for m in messages if "/privacy_ok" in str(m.get("buttons"))]
    assert len(notice) == 1 and not notice[0]["text"].startswith("Ciao!")
    assert responses(messages) == ["utter_greet"]


def test_not_useful_offers_the_next_two_candidates(bot, kb):
    dispatcher = CollectingDispatcher()
    shown = kb.entry_for_topic("residence-registration")
    state = tracker(
        '/feedback{"helpful": "no"}',
        {
            "last_question": "dove si fa la residenza?",
            "last_entry_id": shown,
            "topic": "residence-registration",
        },
    )
    state.latest_message["entities"] = [{"entity": "helpful", "value": "no"}]
    actions.ActionFeedback().run(dispatcher, state, {})
    (message,) = dispatcher.messages
    assert message["response"] == "utter_not_useful"
    topics = [b["payload"] for b in message["buttons"]]
    assert len(topics) == 2 and not [t for t in topics if "residence-registration" in t]


# -- through the real stack ------------------------------------------------------------


def said(assistant, text, metadata=None):
    sender = f"test-understand-{uuid.uuid4().hex[:10]}"
    assistant.say(sender, text, metadata)
    events = assistant._events(sender, "bot")
    names = [(e.get("metadata") or {}).get("utter_action") for e in events]
    customs = [((e.get("data") or {}).get("custom") or {}) for e in events]
    entries = [c["entry"]["id"] for c in customs if isinstance(c.get("entry"), dict)]
    return [n for n in names if n], entries


WRONG_ACTS = {"utter_feedback_thanks", "utter_goodbye", "utter_affirm", "utter_deny"}


@pytest.mark.integration
def test_the_issues_messages_get_the_right_kind_of_reply(assistant, kb):
    for text in HELP:
        names, entries = said(assistant, text)
        assert "utter_help" in names and not entries, (text, names)
    for text, entry_id in SERVICE:
        names, entries = said(assistant, text)
        assert entries == [entry_id] and not WRONG_ACTS & set(names), text
    for text in VAGUE:
        names, entries = said(assistant, text)
        assert not entries and ({"utter_not_sure", "utter_help"} & set(names)), (text, names)
    names, _ = said(assistant, "🙏🙏😢")
    assert names == ["utter_input_not_understood"]


@pytest.mark.integration
def test_an_off_the_shelf_client_opens_in_its_hinted_language(assistant):
    from tests.socketio_client import SocketIOClient

    async def chat():
        async with SocketIOClient(assistant.settings.services.rasa_url) as client:
            await client._emit(
                "user_uttered",
                {
                    "message": "/get_started",
                    "session_id": client.session_id,
                    "customData": {"language": "ar"},
                },
            )
            greeting = await client.next_message()
            await client.say("كيف أسجل عند طبيب العائلة؟")
            replies = []
            with contextlib.suppress(TimeoutError):
                while True:
                    replies.append(await client.next_message(timeout=10))
            return greeting, replies

    greeting, replies = asyncio.run(chat())
    assert greeting["text"].startswith("مرحبًا")
    # The notice came with the first real message, in its language.
    notice = next(r for r in replies if "/privacy_ok" in json.dumps(r))
    assert "احذف بياناتي" in notice["text"]


def toy_reader() -> Understanding:
    """Service questions along one axis, off-topic chat along the other."""
    import numpy as np

    prototypes = {"service": ["a", "b", "c"], "other": ["d", "e", "f"]}
    vectors = np.array([[1, 0.1], [1, -0.1], [0.9, 0], [0.1, 1], [-0.1, 1], [0, 0.9]]) * 5
    return Understanding(prototypes, vectors)


def test_a_match_just_above_the_threshold_needs_a_service_reading():
    import numpy as np

    import knowledge.understanding as understanding

    reader, threshold = toy_reader(), 0.92
    chat, question = np.array([0.0, 5.0]), np.array([5.0, 0.0])
    assert reader.probabilities(chat)["service"] < understanding._SERVICE_SURE
    just_above = threshold + understanding._VAGUE_MARGIN / 2
    # "una consulta": some entry matches, but nothing says what is needed.
    assert reader.read("una consulta", chat, just_above, threshold).kind == "vague"
    assert reader.read("una consulta", chat, threshold + 0.03, threshold).kind == "service"
    assert reader.read("how to renew", question, just_above, threshold).kind == "service"


def test_a_clear_service_question_is_answered_a_little_below_the_threshold():
    import numpy as np

    import knowledge.understanding as understanding

    reader, threshold = toy_reader(), 0.92
    question = np.array([5.0, 0.0])
    assert reader.probabilities(question)["service"] >= understanding._SERVICE_MIN
    slack = understanding._SERVICE_SLACK
    assert reader.read("renew", question, threshold - slack / 2, threshold).kind == "service"
    assert reader.read("renew", question, threshold - 2 * slack, threshold).kind == "vague"


def test_a_service_reading_below_retrievals_threshold_is_answered(bot, kb, monkeypatch):
    """The reading may find a service question a little below the threshold
    (_SERVICE_SLACK): the dialogue answers it instead of asking did-you-mean."""
    from knowledge.understanding import Reading

    class Service:
        def read(self, *args, **kwargs):
            return Reading("service", probability=0.8)

    monkeypatch.setattr(actions, "_UNDERSTANDING", Service())
    monkeypatch.setattr(kb.retriever, "threshold", 0.999)  # nothing is confident
    messages = understand("how do I renew my residence permit?", NOTIFIED)
    assert [m["custom"]["entry"]["id"] for m in messages if m.get("custom")]
    assert "utter_not_sure" not in responses(messages)
