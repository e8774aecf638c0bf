"""The operator API's contract, apart from any web framework.

    request = SuggestRequest.parse(payload, settings)   # raises BadRequest naming the field
    suggestions(kb.ask(...))                             # the JSON body of POST /api/suggest
    topic_coverage(kit, taxonomy)                        # the JSON body of GET /api/topics

The web app (``connectors/web.py``) checks the token and this contract, and the
action server, which holds the one loaded knowledge base, computes the answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowledge.answers import MAX_QUESTION_CHARS, Result
from knowledge.entries import Kit
from knowledge.settings import Settings
from knowledge.taxonomy import Taxonomy

TOP_K_RANGE = (1, 10)


class BadRequest(ValueError):
    """A request that breaks the contract; `field` names the part to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def as_json(self) -> dict[str, str]:
        return {"error": str(self), "field": self.field}


@dataclass(frozen=True)
class SuggestRequest:
    text: str
    language: str | None
    top_k: int

    @classmethod
    def parse(cls, payload: Any, settings: Settings) -> SuggestRequest:
        """Check a decoded JSON body against the contract of POST /api/suggest."""
        if not isinstance(payload, dict):
            raise BadRequest("body", "The body must be a JSON object with a 'text' field.")
        text = payload.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("text", "'text' must be a non-empty string.")
        if len(text) > MAX_QUESTION_CHARS:
            raise BadRequest(
                "text", f"'text' has {len(text)} characters; the limit is {MAX_QUESTION_CHARS}."
            )
        language = payload.get("language")
        supported = settings.languages.supported
        if language is not None and (not isinstance(language, str) or language not in supported):
            raise BadRequest(
                "language",
                f"'language' must be null or one of: {', '.join(supported)}.",
            )
        top_k = payload.get("top_k", settings.retrieval.top_k)
        low, high = TOP_K_RANGE
        # bool is an int in Python, but `true` is not a number of answers.
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not low <= top_k <= high:
            raise BadRequest("top_k", f"'top_k' must be a whole number from {low} to {high}.")
        return cls(text=text.strip(), language=language, top_k=top_k)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "language": self.language, "top_k": self.top_k}


def suggestions(result: Result) -> dict[str, Any]:
    """The body of POST /api/suggest: answers best first, in the requested or detected language."""
    return {
        "language": result.language,
        "confident": result.confident,
        "answers": [answer.as_json() for answer in result.answers],
    }


def topic_coverage(kit: Kit, taxonomy: Taxonomy) -> dict[str, Any]:
    """Every topic of the taxonomy, with how many entries and which languages cover it."""
    entries: dict[str, set[str]] = {topic: set() for topic in taxonomy.topics}
    languages: dict[str, set[str]] = {topic: set() for topic in taxonomy.topics}
    for entry in kit.entries:
        if entry.topic in entries:
            entries[entry.topic].add(entry.id)
            languages[entry.topic].add(entry.language)
    return {
        "topics": [
            {
                "id": topic.id,
                "domain": topic.domain,
                "asks": topic.asks,
                "entries": len(entries[topic.id]),
                "languages": sorted(languages[topic.id]),
            }
            for topic in taxonomy.topics.values()
        ]
    }
