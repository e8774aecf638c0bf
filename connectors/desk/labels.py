"""Names people read instead of ids on staff pages: topic titles and language names.

topic_title(kit, "residence-permit-renewal")   # "Renew or convert your residence permit"
language_label("bn")                           # "Bengali (bn)"
"""

from __future__ import annotations

from knowledge.entries import Kit

# Staff read the dashboard in English or Italian; these are the languages' English names.
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
    return topic.replace("-", " ").capitalize() if topic and topic != "?" else "unknown topic"


def language_label(code: str) -> str:
    if not code or code == "?":
        return "unknown language"
    name = LANGUAGE_LABELS.get(code)
    return f"{name} ({code})" if name else code
