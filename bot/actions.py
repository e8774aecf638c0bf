"""Custom actions, served by the Rasa action server (rasa-sdk, Python 3.11).

    python -m bot.action_server --port 5055

- ``action_detect_language`` sets the ``language`` slot for each message, so
  that the response Rasa picks next is in the person's language.
- ``action_answer_question`` answers every question about services from the
  curated knowledge index, or says it is not sure and offers topics and a person.

The knowledge base (entries, index, embedding model) is loaded once, when the
action server starts (``knowledge_base()``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.answers import MAX_QUESTION_CHARS, Answer, KnowledgeBase
from knowledge.language import language_command
from knowledge.settings import get_settings

log = logging.getLogger(__name__)

_TAGS = re.compile(r"<[^>]{0,200}>")

_KB: KnowledgeBase | None = None


def knowledge_base() -> KnowledgeBase:
    """The knowledge base of this process, loaded once (the action server loads it at start-up)."""
    global _KB
    if _KB is None:
        _KB = KnowledgeBase.open(get_settings())
    return _KB


def clean_question(text: str) -> str:
    """The words of a message: markup removed, unreadable characters dropped."""
    text = _TAGS.sub(" ", text or "")
    text = text.replace("\ufffd", " ")
    return " ".join(text.split())


def has_words(text: str) -> bool:
    return sum(char.isalpha() for char in text) >= 2


class ActionDetectLanguage(Action):
    """Choose the reply language: an explicit choice sticks, else each message is detected."""

    def name(self) -> str:
        return "action_detect_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
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
        if chosen:
            return [SlotSet("language", chosen), SlotSet("language_chosen", True)]
        if tracker.get_slot("language_chosen") and current:
            return []
        hint = metadata.get("language_hint")
        fallback = current or (hint if hint in supported else None)
        detected = kb.detect_language(clean_question(text), fallback)
        return [] if detected == current else [SlotSet("language", detected)]


class ActionOfferHuman(Action):
    """Tell the person where a cultural mediator can be reached."""

    def name(self) -> str:
        return "action_offer_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        desk = knowledge_base().kit.municipality.offices.get("help_desk")
        dispatcher.utter_message(
            response="utter_ask_human", help_desk=desk.describe() if desk else "—"
        )
        return []


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
        intent = (message.get("intent") or {}).get("name")
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

        result = kb.ask(question, language=language)
        if result.confident:
            return utter_answer(dispatcher, result.answers[0])
        return utter_not_sure(dispatcher, result.answers, tracker)


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
        last_reviewed=answer.last_reviewed.isoformat(),
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
        buttons.append(
            {"title": answer.title, "payload": f'/choose_topic{{"topic": "{answer.topic}"}}'}
        )
    dispatcher.utter_message(response="utter_not_sure", buttons=buttons)
    unsure = float(tracker.get_slot("unsure_count") or 0) + 1
    return [SlotSet("unsure_count", unsure)]


_NAMES = {
    "it": "italiano",
    "en": "English",
    "ar": "العربية",
    "fr": "français",
    "uk": "українська",
    "es": "español",
    "fa": "فارسی",
    "ur": "اردو",
    "bn": "বাংলা",
    "ru": "русский",
    "ro": "română",
    "sq": "shqip",
    "tr": "Türkçe",
}


def language_name(code: str) -> str:
    """The name of a language in that language, as people recognise it."""
    return _NAMES.get(code, code)
