"""Names people read instead of ids on staff pages: topic titles and language names.

topic_title(kit, "residence-permit-renewal")   # "Renew or convert your residence permit"
language_label("bn")                           # "Bengali (bn)"
language_label("bn", "it")                     # "Bengalese (bn)"
"""

from __future__ import annotations

from connectors.desk.i18n import translate
from knowledge.entries import Kit

# The languages' English names; connectors.desk.catalogue has them in Italian.
LANGUAGE_LABELS = {
    "it": "Italian",
    "en": "English",
    "ar": "Arabic",
    "fr": "French",
    "uk": "Ukrainian",
    "es": "Spanish",
    "fa": "Persian",
    "ur": "Urdu",
    "bn": "Bengali",
    "ru": "Russian",
    "ro": "Romanian",
    "sq": "Albanian",
    "tr": "Turkish",
    "zh": "Chinese",
    "pa": "Punjabi",
    "ti": "Tigrinya",
    "so": "Somali",
    "wo": "Wolof",
    "ps": "Pashto",
}


def topic_title(kit: Kit, topic: str, language: str = "en") -> str:
    """The title of the entry named after the topic, in `language`, else Italian; else the id."""
    by_language = {e.language: e.title for e in kit.entries if e.id == topic}
    for choice in (language, "it", "en"):
        if choice in by_language:
            return by_language[choice]
    if topic and topic != "?":
        return topic.replace("-", " ").capitalize()
    return translate(language, "unknown topic")


def language_label(code: str, language: str = "en") -> str:
    """The language's name in `language` (the staff page's), with its code."""
    if not code or code == "?":
        return translate(language, "unknown language")
    name = LANGUAGE_LABELS.get(code)
    return f"{translate(language, name)} ({code})" if name else code
