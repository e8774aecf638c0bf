"""Custom actions, served by the Rasa action server (rasa-sdk, Python 3.11).

    python -m bot.action_server --port 5055

- ``action_detect_language`` sets the ``language`` slot for each message, so
  that the response Rasa picks next is in the person's language; and first of
  all it checks the message for immediate danger (``knowledge.emergency``).
  A language picked (menu or button) is confirmed in that language, with the
  greeting and the privacy notice again (``language_picked``).
- ``action_emergency`` follows it when there is danger: the emergency numbers
  and what to do now, then an urgent hand-off, at the top of the mediators' queue.
- ``action_answer_question`` answers every question about services from the
  curated knowledge index, or says it is not sure and offers topics and a person;
  after two unsure answers in a row it asks a person to help.
- ``action_handoff`` puts the person in the cultural mediators' queue, says how
  long the wait is (or when mediators are back) and pauses the bot until the
  mediator hands the conversation back (``connectors.handoff``).
- ``action_store_rating`` keeps the 1-10 satisfaction rating asked after a hand-off.
- The first reply of a conversation carries the privacy notice (sent by
  ``action_detect_language``); ``action_privacy_choice`` keeps the person's
  choice in the ``privacy`` slot, and ``action_forget_me`` deletes the
  conversation everywhere once they confirmed "delete my data".

The knowledge base (entries, index, embedding model) is loaded once, when the
action server starts (``knowledge_base()``).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import numpy as np
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from connectors.handoff import HandoffConnector, load_connector
from connectors.identity import log_id
from connectors.privacy import DECLINED, Privacy
from core.hours import OpeningHours
from knowledge.answers import MAX_QUESTION_CHARS, Answer, KnowledgeBase
from knowledge.emergency import KINDS
from knowledge.language import LANGUAGE_NAMES, language_command
from knowledge.settings import PROJECT_ROOT, get_settings
from knowledge.understanding import CONTEXT_ONLY, SENSITIVE_TOPICS, Reading, Understanding

log = logging.getLogger(__name__)

_TAGS = re.compile(r"<[^>]{0,200}>")

# Rasa reads every typed message as this intent (bot/typed_text.py).
TEXT_INTENT = "text"
CHANGE_LANGUAGE_INTENT = "change_language"

_KB: KnowledgeBase | None = None


def knowledge_base() -> KnowledgeBase:
    """The knowledge base of this process, loaded once (the action server loads it at start-up)."""
    global _KB
    if _KB is None:
        _KB = KnowledgeBase.open(get_settings())
        understanding()
    return _KB


_UNDERSTANDING: Understanding | None = None


def understanding() -> Understanding:
    """What typed messages mean (knowledge.understanding), loaded with the knowledge base."""
    global _UNDERSTANDING
    if _UNDERSTANDING is None:
        kb = knowledge_base()
        _UNDERSTANDING = Understanding.open(kb.retriever.embedder, kb.settings.index_dir)
    return _UNDERSTANDING


_CONNECTOR: HandoffConnector | None = None


def handoff_connector() -> HandoffConnector:
    global _CONNECTOR
    if _CONNECTOR is None:
        _CONNECTOR = load_connector(get_settings())
    return _CONNECTOR


def clean_question(text: str) -> str:
    """The words of a message: markup removed, unreadable characters dropped."""
    text = _TAGS.sub(" ", text or "")
    text = text.replace("\ufffd", " ")
    return " ".join(text.split())


def latest_intent(tracker: Tracker) -> str | None:
    """The intent Rasa read in the person's latest message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def has_words(text: str) -> bool:
    return sum(char.isalpha() for char in text) >= 2


class ActionDetectLanguage(Action):
    """Choose the reply language: an explicit choice sticks, else each message is detected.

    Runs before the reply to a button (ask_human, feedback, ...). A typed
    message needs no second call: action_understand does the same first."""

    def name(self) -> str:
        return "action_detect_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events, language, danger = read_language_and_danger(tracker)
        # Emergency numbers come first, alone; the notice waits for a later turn.
        # A client's opening payload ("/get_started") gets none, so that the
        # notice follows the language of the first real message.
        # A language button says so, then greets again in that language.
        intent = latest_intent(tracker)
        if not danger and intent == CHANGE_LANGUAGE_INTENT:
            events += language_picked(dispatcher, tracker, domain, language)
        elif not danger and intent != TEXT_INTENT:
            events += first_reply_notice(dispatcher, tracker, domain, language)
        return [*events, *danger]


def read_language_and_danger(tracker: Tracker) -> tuple[list[EventType], str, list[EventType]]:
    """The language to reply in (and the slot events that say so), and, when
    the message shows immediate danger, the events that hand over to action_emergency."""
    kb = knowledge_base()
    supported = kb.settings.languages.supported
    message = tracker.latest_message or {}
    text = message.get("text") or ""
    metadata = message.get("metadata") or {}
    current = tracker.get_slot("language")
    chosen = next(
        (
            code
            for code in (
                next(tracker.get_latest_entity_values("language"), None),
                language_command(text),
                metadata.get("language"),
            )
            if code in supported
        ),
        None,
    )
    question = clean_question(text)
    danger = []
    if not text.startswith("/") and has_words(question):
        alarm = kb.emergency(question, question_vector(kb, tracker.sender_id, question))
        if alarm:
            log.warning("Emergency (%s) in conversation %s", alarm.kind, log_id(tracker.sender_id))
            danger = [SlotSet("emergency", alarm.kind), FollowupAction("action_emergency")]
    if chosen:
        language = chosen
        events = [SlotSet("language", chosen), SlotSet("language_chosen", True)]
    elif tracker.get_slot("language_chosen") and current:
        events, language = [], current
    else:
        hint = metadata.get("language_hint")
        fallback = current or (hint if hint in supported else None)
        # A button's payload or a channel's "/non_text" has no words of the
        # person's language ("/non_text" reads as French): keep what is known.
        language = kb.detect_language("" if text.startswith("/") else question, fallback)
        events = [] if language == current else [SlotSet("language", language)]
    return events, language, danger


class InLanguage(CollectingDispatcher):
    """Fills domain responses here, in the language this very call chose.

    Rasa fills a call's responses with the slots as they were before the call,
    so an action that sets `language` and replies in one call must choose the
    variation itself. Each message still names its response (`utter_action`
    in the bot event's metadata), as Rasa's own would."""

    def __init__(self, inner: CollectingDispatcher, language: str, slots: dict[str, Any]) -> None:
        super().__init__()
        self.messages = inner.messages
        self.language = language
        self.slots = slots

    def utter_message(
        self,
        text: str | None = None,
        image: str | None = None,
        json_message: dict[str, Any] | None = None,
        template: str | None = None,
        response: str | None = None,
        attachment: str | None = None,
        buttons: list[dict[str, Any]] | None = None,
        elements: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        name = response or template
        variation = response_variation(domain_file(), name, self.language) if name else None
        if variation is not None:
            values = {**self.slots, **kwargs}
            text = fill(variation.get("text") or "", values)
            filled = [fill_button(b, values) for b in variation.get("buttons") or []]
            buttons = [*filled, *(buttons or [])]
            json_message = variation.get("custom") or json_message
            kwargs["utter_action"], name = name, None
        super().utter_message(
            text=text,
            image=image,
            json_message=json_message,
            response=name,
            attachment=attachment,
            buttons=buttons,
            elements=elements,
            **kwargs,
        )


# "{{" and "}}" are escaped braces, "{name}" a slot: as Rasa's interpolator reads them.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^\n{}]+?)\}")


def fill(text: str, values: dict[str, Any]) -> str:
    """A response's {placeholders} filled as Rasa fills them; unknown ones stay as written."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        return str(values[name]) if name in values else match.group(0)

    return _PLACEHOLDER.sub(one, text)


def fill_button(button: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A response's button with its title and payload filled (Rasa fills both)."""
    return {k: fill(v, values) if isinstance(v, str) else v for k, v in button.items()}


def first_reply_notice(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    language: str,
    greeted: bool = False,
) -> list[EventType]:
    """Once per conversation, with the first reply: who is answering and the privacy notice.

    Who: an automated assistant, not legal advice, how to reach a person (the
    greeting's text, unless the person greeted and gets the greeting anyway).
    The person need not click: OK / don't keep are buttons they may ignore.
    Sent as text because Rasa would choose a response's language from the
    slots as they were before this action set `language`.
    """
    if tracker.get_slot("privacy") is not None:
        return []
    greeted = greeted or any(
        (e.get("metadata") or {}).get("utter_action") == "utter_greet"
        for e in tracker.events
        if e.get("event") == "bot"
    )
    return greeting_and_notice(dispatcher, domain, language, greet=not greeted)


def greeting_and_notice(
    dispatcher: CollectingDispatcher, domain: dict[str, Any], language: str, greet: bool
) -> list[EventType]:
    """The privacy notice with its buttons, after the greeting when `greet`, in `language`."""
    notice = response_variation(domain, "utter_privacy_notice", language)
    if notice is None:
        return []
    days = str(get_settings().privacy.retention_days)
    text = notice["text"].replace("{retention_days}", days)
    buttons = list(notice.get("buttons", []))
    intro = response_variation(domain, "utter_greet", language) if greet else None
    if intro:
        text = f"{intro['text']}\n\n{text}"
        buttons += [b for b in intro.get("buttons", []) if b.get("payload") == "/ask_human"]
    dispatcher.utter_message(text=text, buttons=buttons)
    return [SlotSet("privacy", "notified")]


def language_picked(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], language: str
) -> list[EventType]:
    """A language picked (menu or button): said in it, then the greeting and the
    privacy notice again, in it, since the first ones may have been unreadable.

    The notice's buttons come again, so the choice can still be made or changed;
    after "don't keep my data" only the greeting comes (the notice's retention
    no longer applies)."""
    slots = {**tracker.current_slot_values(), "language": language}
    speak = dispatcher if isinstance(dispatcher, InLanguage) else None
    speak = speak or InLanguage(dispatcher, language, slots)
    speak.utter_message(response="utter_language_changed")
    privacy = tracker.get_slot("privacy")
    if privacy == DECLINED:
        speak.utter_message(response="utter_greet")
        return []
    events = greeting_and_notice(speak, domain or domain_file(), language, greet=True)
    return events if privacy is None else []


@functools.cache
def domain_file() -> dict[str, Any]:
    """domain.yml, read once. Rasa sends no domain with action calls
    (``enable_selective_domain`` in endpoints.yml): encoding the whole domain
    into every call cost Rasa about 7% of its CPU, and decoding it here more."""
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def response_variation(domain: dict[str, Any], name: str, language: str) -> dict[str, Any] | None:
    """The variation of a response for `language`, else the one without a condition."""
    variations = (domain.get("responses") or {}).get(name) or []
    for variation in variations:
        conditions = variation.get("condition") or []
        if any(c.get("name") == "language" and c.get("value") == language for c in conditions):
            return variation
    return next((v for v in variations if not v.get("condition")), None)


# The question's vector, computed once per message for the emergency check
# and reused by the answer that follows in the same turn.
_VECTORS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_VECTORS_KEPT = 512


def question_vector(kb: KnowledgeBase, sender_id: str, question: str) -> np.ndarray:
    key = (sender_id, question)
    if key in _VECTORS:
        return _VECTORS[key]
    _VECTORS[key] = vector = kb.embed(question)
    while len(_VECTORS) > _VECTORS_KEPT:
        _VECTORS.popitem(last=False)
    return vector


class ActionEmergency(Action):
    """Immediate danger: the emergency numbers and what to do, then an urgent hand-off."""

    def name(self) -> str:
        return "action_emergency"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kind = tracker.get_slot("emergency")
        # Every reply names 112; an unknown kind cannot come from the detector.
        dispatcher.utter_message(response=f"utter_emergency_{kind if kind in KINDS else 'medical'}")
        return open_handoff(dispatcher, tracker, reason="emergency", urgent=True)


class ActionHandoff(Action):
    """The person asked for a person: queue them for a cultural mediator."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return open_handoff(dispatcher, tracker, reason="request")


# Channels where the mediator's answer reaches the person in their own chat app,
# whenever it is written (Telegram; WhatsApp through Twilio). The web chat shows
# it when the page is open again.
CHAT_CHANNELS = ("telegram", "twilio")


def open_handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, urgent: bool = False
) -> list[EventType]:
    """Tell the person what happens next, ask the connector for a person, pause the bot."""
    settings = get_settings()
    language = tracker.get_slot("language") or settings.languages.default
    hours = OpeningHours.parse(settings.desk.hours, settings.desk.timezone)
    now = datetime.now(UTC)
    if hours.is_open(now):
        try:
            wait = handoff_connector().expected_wait_minutes(language)
        except Exception:  # an estimate is not worth failing the hand-off for
            log.exception("No wait estimate")
            wait = settings.desk.default_wait_minutes
        dispatcher.utter_message(response="utter_handoff_queued", wait_minutes=wait)
    else:
        opening = hours.next_opening(now)
        # The message waits in the queue; where the answer comes depends on the channel.
        chat = tracker.get_latest_input_channel() in CHAT_CHANNELS
        dispatcher.utter_message(
            response="utter_handoff_after_hours_chat" if chat else "utter_handoff_after_hours",
            reopens=opening.strftime("%d/%m %H:%M") if opening else "—",
        )
        desk = knowledge_base().kit.municipality.offices.get("help_desk")
        if desk:
            dispatcher.utter_message(response="utter_ask_human", help_desk=desk.describe())
    request = {
        "reason": reason,
        "urgent": urgent,
        "language": language,
        "topic": tracker.get_slot("topic"),
        "channel": tracker.get_latest_input_channel() or "rest",
    }
    return [SlotSet("handoff_request", request), SlotSet("unsure_count", 0.0), ConversationPaused()]


class ActionStoreRating(Action):
    """Keep the satisfaction rating (1-10) given after a hand-off."""

    def name(self) -> str:
        return "action_store_rating"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not rating_was_asked(tracker):
            # A number out of the blue ("my number is 333...") is a question, not a rating.
            return ActionAnswerQuestion().run(dispatcher, tracker, domain)
        given = next(tracker.get_latest_entity_values("rating"), None)
        text = str(given) if given is not None else (tracker.latest_message or {}).get("text", "")
        rating = first_number(text)
        if rating is None or not 1 <= rating <= 10:
            dispatcher.utter_message(response="utter_rating_invalid")
            return []
        dispatcher.utter_message(response="utter_rating_thanks")
        return [SlotSet("rating", float(rating))]


class ActionPrivacyChoice(Action):
    """Keep the person's answer to the privacy notice: OK, or don't keep my data."""

    def name(self) -> str:
        return "action_privacy_choice"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = latest_intent(tracker)
        if intent == "privacy_decline":
            hours = get_settings().privacy.declined_retention_hours
            dispatcher.utter_message(response="utter_privacy_declined", declined_hours=hours)
            return [SlotSet("privacy", DECLINED)]
        dispatcher.utter_message(response="utter_privacy_accepted")
        return [SlotSet("privacy", "accepted")]


_PRIVACY: Privacy | None = None


class ActionForgetMe(Action):
    """The person confirmed "delete my data": forget them everywhere.

    Only right after the bot asked (``utter_ask_forget``) in this very
    conversation: a ``/forget_confirm`` out of the blue (typed, replayed, or
    sent by someone else) deletes nothing and asks the question again.
    Rasa writes this turn after the action has run, so the deletion is a
    request that the web app repeats until nothing is left (connectors.privacy).
    """

    def name(self) -> str:
        return "action_forget_me"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        global _PRIVACY
        if not forget_was_asked(tracker):
            dispatcher.utter_message(response="utter_ask_forget")
            return []
        try:
            if _PRIVACY is None:
                _PRIVACY = Privacy.open(get_settings())
            _PRIVACY.request_forget(tracker.sender_id)
        except Exception:  # the person must not be told it is done when it is not
            log.exception("Could not delete a conversation")
            dispatcher.utter_message(response="utter_forget_failed")
            return []
        for key in [key for key in _VECTORS if key[0] == tracker.sender_id]:
            del _VECTORS[key]
        dispatcher.utter_message(response="utter_forgotten")
        return []


def last_bot_response(tracker: Tracker, skip_text: bool = False) -> str | None:
    """The response (utter_*) of the bot's last message in this conversation.

    With skip_text, messages that came from no response (an answer's text, the
    safety line) are passed over: "Was this useful?" may come before them."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            name = (event.get("metadata") or {}).get("utter_action")
            if name or not skip_text:
                return name
    return None


def forget_was_asked(tracker: Tracker) -> bool:
    """Whether the bot's last message asked to confirm "delete my data"."""
    return last_bot_response(tracker) == "utter_ask_forget"


def rating_was_asked(tracker: Tracker) -> bool:
    """Whether the bot's last message asked for a 1-10 rating."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            asked = (event.get("metadata") or {}).get("utter_action")
            return asked in ("utter_ask_rating", "utter_rating_invalid")
    return False


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def first_number(text: str) -> int | None:
    """The first whole number in a text, in Western, Arabic or Persian digits ("7/10" -> 7)."""
    found = re.search(r"\d+", text.translate(_DIGITS))
    return int(found.group()) if found else None


class ActionAnswerQuestion(Action):
    """Answer from the curated entries; never invent. When unsure, say so and offer a person."""

    def name(self) -> str:
        return "action_answer_question"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge_base()
        language = tracker.get_slot("language") or kb.settings.languages.default
        message = tracker.latest_message or {}
        intent = latest_intent(tracker)
        if intent == "choose_topic":
            topic = next(tracker.get_latest_entity_values("topic"), None)
            entry_id = kb.entry_for_topic(topic) if topic else None
            answer = kb.answer_entry(entry_id, language) if entry_id else None
            if answer is None:
                dispatcher.utter_message(response="utter_input_not_understood")
                return []
            return utter_answer(dispatcher, answer)

        raw = message.get("text") or ""
        if len(raw) > MAX_QUESTION_CHARS:
            dispatcher.utter_message(response="utter_message_too_long")
            return []
        question = clean_question(raw)
        if not has_words(question):
            dispatcher.utter_message(response="utter_input_not_understood")
            return []

        vector = question_vector(kb, tracker.sender_id, question)
        result = kb.ask(question, language=language, vector=vector)
        events = answer_from(dispatcher, tracker, question, result)
        add_soft_line(dispatcher, domain, kb, question, language, vector)
        return events


def utter_answer(dispatcher: CollectingDispatcher, answer: Answer) -> list[EventType]:
    if answer.machine_translated:
        dispatcher.utter_message(response="utter_machine_translation")
    elif answer.fallback:
        dispatcher.utter_message(
            response="utter_no_translation", answer_language=language_name(answer.language)
        )
    elif answer.unreviewed_translation:
        dispatcher.utter_message(response="utter_unreviewed_translation")
    # Single line breaks: Rasa's channels split a message at blank lines.
    dispatcher.utter_message(
        text=f"**{answer.title}**\n" + answer.text.replace("\n\n", "\n"),
        custom={"entry": answer.as_json()},
    )
    dispatcher.utter_message(
        response="utter_answer_sources",
        sources="\n".join(f"{s.title} – {s.url}" for s in answer.sources),
        last_reviewed=answer.last_reviewed.isoformat() if answer.last_reviewed else "–",
    )
    dispatcher.utter_message(response="utter_was_it_useful")
    return [
        SlotSet("topic", answer.topic),
        SlotSet("last_entry_id", answer.entry_id),
        SlotSet("unsure_count", 0.0),
    ]


def utter_not_sure(
    dispatcher: CollectingDispatcher, candidates: list[Answer], tracker: Tracker
) -> list[EventType]:
    buttons, seen = [], set()
    for answer in candidates:
        if answer.topic in seen or len(buttons) == 2:
            continue
        seen.add(answer.topic)
        buttons.append({"title": answer.title, "payload": choose_topic_payload(answer.entry_id)})
    dispatcher.utter_message(response="utter_not_sure", buttons=buttons)
    unsure = float(tracker.get_slot("unsure_count") or 0) + 1
    return [SlotSet("unsure_count", unsure)]


def language_name(code: str) -> str:
    """The name of a language in that language, as people recognise it."""
    return LANGUAGE_NAMES.get(code, code)


# The reply to each act of small talk.
SMALL_TALK_REPLIES = {
    "greet": "utter_greet",
    "thanks": "utter_you_are_welcome",
    "goodbye": "utter_goodbye",
    "ok": "utter_affirm",
    "bot_challenge": "utter_iamabot",
}
# The topics most asked at the help desk, offered to a request for help.
MOST_ASKED_TOPICS = (
    "residence-permit-renewal",
    "health-registration",
    "residence-registration",
    "job-centre",
)


class ActionUnderstand(Action):
    """Every typed message: decide what it is, from the knowledge side, and reply to that.

    First the language and the emergency check (as action_detect_language
    does for buttons), in this same call. Then: a request for a
    person or to delete the conversation, a service question matched
    confidently (answered), a request for help, small talk, noise, an answer
    to the bot's own question (feedback, yes, no), else did-you-mean.
    """

    def name(self) -> str:
        return "action_understand"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge_base()
        language_events, language, danger = read_language_and_danger(tracker)
        if danger:
            return [*language_events, *danger]
        # What follows reads the language from the slot and replies in it.
        tracker.slots["language"] = language
        dispatcher = InLanguage(dispatcher, language, tracker.current_slot_values())
        return [*language_events, *self.reply_to_text(dispatcher, tracker, domain, kb, language)]

    def reply_to_text(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
        kb: KnowledgeBase,
        language: str,
    ) -> list[EventType]:
        raw = (tracker.latest_message or {}).get("text") or ""
        if language_command(raw):
            return language_picked(dispatcher, tracker, domain, language)
        if raw.startswith("/"):
            return self.payload(dispatcher)
        if len(raw) > MAX_QUESTION_CHARS:
            dispatcher.utter_message(response="utter_message_too_long")
            return []
        if rating_was_asked(tracker) and first_number(raw) is not None:
            return ActionStoreRating().run(dispatcher, tracker, domain)
        question = clean_question(raw)
        if has_words(question):
            vector = question_vector(kb, tracker.sender_id, question)
            result = kb.ask(question, language=language, vector=vector)
            top = result.answers[0].score if result.answers else 0.0
            reading = understanding().read(question, vector, top, kb.retriever.threshold)
        else:
            result, reading = None, Reading("noise")
        log.info("Reading: %s %s (%.2f)", reading.kind, reading.act or "", reading.probability)
        events = first_reply_notice(
            dispatcher, tracker, domain, language, greeted=reading.act == "greet"
        )
        events += self.reply(dispatcher, tracker, reading, question, result)
        if result is not None and reading.kind in WITH_SOFT_LINE:
            add_soft_line(dispatcher, domain, kb, question, language, vector)
        return [SlotSet("reading", reading.act or reading.kind), *events]

    @staticmethod
    def payload(dispatcher: CollectingDispatcher) -> list[EventType]:
        """A payload Rasa does not know: "/get_started", "/start", "/restart" from
        common web-chat clients ("/lang xx" is a language picked)."""
        dispatcher.utter_message(response="utter_greet")
        return []

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        reading: Reading,
        question: str,
        result: Any,
    ) -> list[EventType]:
        asked = last_bot_response(tracker, skip_text=True)
        kind = reading.kind
        if kind == "noise":
            dispatcher.utter_message(response="utter_input_not_understood")
            return []
        if kind == "person":
            return open_handoff(dispatcher, tracker, reason="request")
        if kind == "forget":
            dispatcher.utter_message(response="utter_ask_forget")
            return []
        if kind == "service":
            # The reading may answer a clear service question a little below
            # retrieval's threshold (knowledge.understanding._SERVICE_SLACK).
            return answer_from(dispatcher, tracker, question, result, sure=True)
        if kind == "help":
            dispatcher.utter_message(response="utter_help", buttons=most_asked_buttons(tracker))
            return [SlotSet("unsure_count", 0.0)]
        if asked == "utter_was_it_useful" and kind in CONTEXT_ONLY:
            if kind in ("not_useful", "deny"):
                return not_useful(dispatcher, tracker)
            dispatcher.utter_message(response="utter_feedback_thanks")
            return []
        # Yes and no answer only a question; without one, "yes" is an "ok".
        # Praise or blame out of the blue is unclear: did you mean.
        if kind == "affirm" or (kind == "deny" and asked is None):
            kind, reading = "smalltalk", Reading("smalltalk", act="ok")
        if kind == "deny":
            dispatcher.utter_message(response="utter_deny")
            return []
        if kind == "smalltalk":
            dispatcher.utter_message(response=SMALL_TALK_REPLIES[reading.act])
            return []
        # Unclear, off-topic or below the threshold: did you mean, never an answer.
        return answer_from(dispatcher, tracker, question, result, unsure=True)


# Readings answered with an entry or did-you-mean: the safety line may follow them.
WITH_SOFT_LINE = {"service", "vague"}


def add_soft_line(
    dispatcher: CollectingDispatcher,
    domain: dict[str, Any],
    kb: KnowledgeBase,
    question: str,
    language: str,
    vector: np.ndarray,
) -> None:
    """Close to an emergency but below the alarm: after the answer, 112 and a person."""
    safety_line = kb.soft_line(question, language, vector)
    if safety_line:
        greeting = response_variation(domain, "utter_greet", language) or {}
        person = [b for b in greeting.get("buttons", []) if b.get("payload") == "/ask_human"]
        dispatcher.utter_message(text=safety_line, buttons=person)


def answer_from(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    question: str,
    result: Any,
    unsure: bool = False,
    sure: bool = False,
) -> list[EventType]:
    """The confident answer, or did-you-mean; counted for the dashboard either way.

    `sure`: the reading found a service question, whatever retrieval's threshold says."""
    best = result.answers[0] if result.answers else None
    confident = (result.confident or (sure and best is not None)) and not unsure
    record = SlotSet(
        "answer_record",
        {
            "question": question,
            "language": result.language,
            "confident": confident,
            "topic": best.topic if best and confident else None,
            # The answer given, or the best guess of an unsure one (the
            # authoring page lists an entry's unsure questions).
            "entry_id": best.entry_id if best else None,
            "score": round(best.score, 4) if best else None,
        },
    )
    # A person who declined the privacy notice is not counted in the figures.
    counted = [] if tracker.get_slot("privacy") == DECLINED else [record]
    asked = [SlotSet("last_question", question)]
    if confident:
        return [*counted, *asked, *utter_answer(dispatcher, best)]
    guesses = [a for a in result.answers if a.topic not in SENSITIVE_TOPICS]
    events = [*counted, *utter_not_sure(dispatcher, guesses, tracker)]
    if float(tracker.get_slot("unsure_count") or 0) + 1 >= 2:
        dispatcher.utter_message(response="utter_handoff_unsure_twice")
        events += open_handoff(dispatcher, tracker, reason="unsure")
    return events


def most_asked_buttons(tracker: Tracker) -> list[dict[str, str]]:
    kb = knowledge_base()
    language = tracker.get_slot("language") or kb.settings.languages.default
    buttons = []
    for topic in MOST_ASKED_TOPICS:
        entry_id = kb.entry_for_topic(topic)
        answer = kb.answer_entry(entry_id, language) if entry_id else None
        if answer:
            buttons.append({"title": answer.title, "payload": choose_topic_payload(entry_id)})
    return buttons


def choose_topic_payload(entry_id: str) -> str:
    """A button for one entry: several entries share a topic, so it names the entry."""
    return f'/choose_topic{{"topic": "{entry_id}"}}'


def not_useful(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """ "Not useful": the next two candidates for the same question, a rephrase, a person."""
    kb = knowledge_base()
    language = tracker.get_slot("language") or kb.settings.languages.default
    question = tracker.get_slot("last_question")
    # Not the entry shown, nor another of its topic (a button names a topic).
    seen = {tracker.get_slot("topic")}
    shown = tracker.get_slot("last_entry_id")
    buttons = []
    if question:
        vector = question_vector(kb, tracker.sender_id, question)
        # Several entries can share the shown topic: look far enough for two others.
        result = kb.ask(question, language=language, top_k=10, vector=vector)
        for answer in result.answers:
            if answer.entry_id != shown and answer.topic not in seen and len(buttons) < 2:
                seen.add(answer.topic)
                buttons.append(
                    {"title": answer.title, "payload": choose_topic_payload(answer.entry_id)}
                )
    dispatcher.utter_message(response="utter_not_useful", buttons=buttons)
    return []


class ActionFeedback(Action):
    """The "Was this useful?" buttons: thanks for a yes; alternatives for a no."""

    def name(self) -> str:
        return "action_feedback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if next(tracker.get_latest_entity_values("helpful"), None) == "no":
            return not_useful(dispatcher, tracker)
        dispatcher.utter_message(response="utter_feedback_thanks")
        return []
