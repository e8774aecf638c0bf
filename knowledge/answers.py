"""Answers in the asker's language, from curated entries only.

    kb = KnowledgeBase.open(get_settings())      # loads kit, index, model, translator once
    result = kb.ask("dove si fa la residenza?")
    kb.emergency("mio marito mi picchia")          # Alarm(kind="violence", ...) or None
    result.confident, result.answers[0].text, result.answers[0].sources

For each hit the answer text comes from, in this order:
1. the curated entry in the asker's language;
2. a machine translation (Argos), when that pair is installed, labelled as such;
3. the entry in the fallback language (English by default), marked `fallback`
   so that the assistant says no translation exists and offers a mediator.
Nothing is generated: every text is an entry or a translation of one.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from knowledge.embedding import load_embedder
from knowledge.emergency import Alarm, EmergencyDetector
from knowledge.entries import Entry, Kit, Source, load_kit
from knowledge.index import SearchIndex, is_current
from knowledge.language import LanguageDetector, language_command
from knowledge.retrieval import Hit, Retriever
from knowledge.settings import Settings
from knowledge.translation import Translator

log = logging.getLogger(__name__)

# Longer messages are not searched: a question fits in a few sentences.
MAX_QUESTION_CHARS = 1000


@dataclass(frozen=True)
class Answer:
    entry_id: str
    topic: str
    title: str
    text: str
    language: str
    score: float
    sources: tuple[Source, ...]
    last_reviewed: dt.date | None  # None: no review on record
    machine_translated: bool = False
    # A curated translation nobody has checked yet.
    unreviewed_translation: bool = False
    # No curated or machine translation in the asked language exists.
    fallback: bool = False

    def as_json(self) -> dict:
        return {
            "id": self.entry_id,
            "topic": self.topic,
            "title": self.title,
            "text": self.text,
            "language": self.language,
            "machine_translated": self.machine_translated,
            "unreviewed_translation": self.unreviewed_translation,
            "fallback": self.fallback,
            "score": self.score,
            "sources": [{"title": s.title, "url": s.url} for s in self.sources],
            "last_reviewed": self.last_reviewed.isoformat() if self.last_reviewed else None,
        }


@dataclass(frozen=True)
class Result:
    language: str
    confident: bool
    answers: list[Answer]


class KnowledgeBase:
    def __init__(
        self,
        settings: Settings,
        kit: Kit,
        retriever: Retriever,
        translator: Translator,
        detector: LanguageDetector,
        emergencies: EmergencyDetector,
    ) -> None:
        self.settings = settings
        self.kit = kit
        self.retriever = retriever
        self.translator = translator
        self.detector = detector
        self.emergencies = emergencies

    @classmethod
    def open(cls, settings: Settings) -> KnowledgeBase:
        """Load kit, index, model, translator and detector once, at start-up."""
        kit = load_kit(settings.content.dir, settings.content.municipality)
        embedder = load_embedder(settings.models)
        if not is_current(kit, embedder.name, settings.index_dir):
            log.warning(
                "The search index in %s was built from other content: run `make index`",
                settings.index_dir,
            )
        retriever = Retriever(
            kit,
            SearchIndex.load(settings.index_dir),
            embedder,
            settings.retrieval.confidence_threshold,
        )
        translator = Translator.from_settings(settings)
        detector = LanguageDetector(settings.languages.supported, settings.languages.default)
        emergencies = EmergencyDetector.open(settings, kit, embedder)
        return cls(settings, kit, retriever, translator, detector, emergencies)

    def detect_language(self, text: str, current: str | None = None) -> str:
        """The language of `text`: an explicit "/lang xx", else detection, else `current`."""
        supported = self.settings.languages.supported
        asked = language_command(text)
        if asked in supported:
            return asked
        detected = self.detector.detect(text)
        return detected or current or self.settings.languages.default

    def ask(
        self,
        text: str,
        language: str | None = None,
        top_k: int | None = None,
        vector: np.ndarray | None = None,
    ) -> Result:
        """Answer one question; `vector` is its `embed(text)` when already computed."""
        vectors = None if vector is None else vector.reshape(1, -1)
        return self.ask_many([(text, language)], top_k, vectors)[0]

    def ask_many(
        self,
        questions: Sequence[tuple[str, str | None]],
        top_k: int | None = None,
        vectors: np.ndarray | None = None,
    ) -> list[Result]:
        """Answer several (text, language or None) at once: one encoding call for all."""
        top_k = top_k or self.settings.retrieval.top_k
        found = self.retriever.search_many([text for text, _ in questions], top_k, vectors)
        results = []
        for (text, language), hits in zip(questions, found):
            language = language or self.detect_language(text)
            results.append(
                Result(
                    language=language,
                    confident=self.retriever.is_confident(hits),
                    answers=[self.answer(hit, language) for hit in hits],
                )
            )
        return results

    def embed(self, text: str) -> np.ndarray:
        """The question's vector, for `ask` and `emergency` to share."""
        return self.retriever.embedder.queries([text])[0]

    def emergency(self, text: str, vector: np.ndarray | None = None) -> Alarm | None:
        """The kind of immediate danger the message is about, if any."""
        return self.emergencies.check(text, vector)

    def soft_line(self, text: str, language: str, vector: np.ndarray | None = None) -> str | None:
        """A line with 112 and the offer of a person, to add to the answer, when
        the message is close to an emergency but below the alarm; else None."""
        return self.emergencies.soft_line(text, language, vector)

    def answer(self, hit: Hit, language: str) -> Answer:
        return replace(self._localized(hit.entry_id, language), score=hit.score)

    def answer_entry(self, entry_id: str, language: str) -> Answer | None:
        """The answer of one entry, e.g. when a "did you mean" button was pressed."""
        if not self.kit.languages_of(entry_id):
            return None
        return self._localized(entry_id, language)

    def entry_for_topic(self, topic: str) -> str | None:
        """The entry a button names (its id), else the first entry of a topic."""
        if topic in self.kit.ids() and self._authoritative(topic):
            return topic
        for entry_id in self.kit.ids():
            entry = self._authoritative(entry_id)
            if entry and entry.topic == topic:
                return entry_id
        return None

    def _authoritative(self, entry_id: str) -> Entry | None:
        languages = self.settings.languages
        for code in (languages.fallback_answer, "en", "it", *self.kit.languages_of(entry_id)):
            entry = self.kit.entry(entry_id, code)
            if entry is not None:
                return entry
        return None

    @functools.lru_cache(maxsize=2048)  # noqa: B019 - one KnowledgeBase lives per process
    def _localized(self, entry_id: str, language: str) -> Answer:
        curated = self.kit.entry(entry_id, language)
        if curated is not None:
            return self._make(
                curated,
                unreviewed_translation=curated.is_translation and not curated.reviewed_by_person,
            )
        source = self._authoritative(entry_id)
        if source is None:
            raise KeyError(entry_id)
        if self.translator.can_translate(source.language, language):
            try:
                return self._make(
                    source,
                    title=self.translator.translate(source.title, source.language, language),
                    text=self.translator.translate(
                        self.kit.render(source), source.language, language
                    ),
                    language=language,
                    machine_translated=True,
                )
            except Exception:  # a broken package must not cost the person their answer
                log.exception("Machine translation %s->%s failed", source.language, language)
        return self._make(source, fallback=True)

    def _make(self, entry: Entry, **changes) -> Answer:
        fields = {
            "entry_id": entry.id,
            "topic": entry.topic,
            "title": entry.title,
            "text": self.kit.render(entry),
            "language": entry.language,
            "score": 1.0,
            "sources": entry.sources,
            "last_reviewed": entry.last_reviewed,
        }
        fields.update(changes)
        return Answer(**fields)
