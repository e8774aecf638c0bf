"""Emergencies first: tell a message about immediate danger from everything else.

    detector = EmergencyDetector.open(settings, kit, embedder)
    alarm = detector.check("زوجي يضربني الآن")    # Alarm(kind="violence", ...) or None

(the margins come from ``safety`` in helpdesk.yml).

Two kinds of evidence, so that neither a missing keyword nor a look-alike
question decides alone:

- meaning: how much closer the message is to example emergencies
  (``knowledge/emergencies.yml``) than to look-alikes that are not emergencies
  ("what is the emergency number?", "I was fired", "this paperwork is killing
  me") and to the ordinary questions of the kit (each entry's ``also_asked``),
  with the same multilingual model as retrieval, so it works across languages
  and code-mixed text;
- keywords: phrases per kind and language, matched on text without accents,
  diacritics or case.

A message is an emergency when that margin reaches ``safety.emergency_margin``,
or when a keyword matches and it reaches the lower ``safety.keyword_margin``.
``make calibrate`` sets both by judging each example by all the others (leave
one out), allowing 1% false alarms; ``make eval`` measures recall and false
alarms on the held-out ``tests/data/emergency_messages.yml``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge.embedding import Embedder
from knowledge.entries import Kit
from knowledge.settings import Settings

EXAMPLES_FILE = Path(__file__).with_name("emergencies.yml")
# Topics whose questions may themselves describe danger ("my husband hits me,
# what can I do"): they are not used as ordinary questions.
SAFETY_TOPICS = frozenset({"gender-based-violence", "mental-health", "emergency-care"})
# Each side scores the mean of its two closest examples: one odd example does not decide.
_NEAREST = 2
KINDS = ("violence", "self_harm", "medical", "fire", "child_danger", "trafficking")
# Arabic-script letters written two ways (Arabic and Persian/Urdu keyboards).
# The zero-width non-joiner of Persian ("می‌خواهم") is often left out.
_SAME_LETTER = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "\u200c": None})


@dataclass(frozen=True)
class Alarm:
    kind: str
    # Similarity to the closest emergency minus that to the closest look-alike.
    margin: float
    keyword: str | None


@dataclass(frozen=True)
class Evidence:
    """What the detector saw in one message, before thresholds."""

    kind: str
    margin: float
    keyword: str | None
    keyword_kind: str | None


def plain(text: str) -> str:
    """Lower case, without accents or Arabic diacritics, one spelling per letter."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return " ".join(unicodedata.normalize("NFKC", kept).translate(_SAME_LETTER).split())


class EmergencyDetector:
    def __init__(
        self,
        examples: dict[str, list[str]],
        look_alikes: list[str],
        keywords: dict[str, dict[str, list[str]]],
        embedder: Embedder,
        margin: float,
        keyword_margin: float,
        ordinary: Sequence[str] = (),
        cache_dir: Path | None = None,
    ) -> None:
        self.embedder = embedder
        self.margin = margin
        self.keyword_margin = keyword_margin
        self._kinds = [kind for kind, texts in examples.items() for _ in texts]
        self._texts = [t for texts in examples.values() for t in texts] + list(look_alikes)
        # Look-alikes first, then ordinary questions (how people ask for each
        # entry of the kit): a question about a permit must not look like danger
        # just because no look-alike is like it. About 2,300 texts: kept in
        # `cache_dir` (the index folder), not encoded again at each start.
        vectors = embedder.queries_kept([*self._texts, *ordinary], cache_dir, "emergency")
        self._examples = vectors[: len(self._kinds)]
        self._look_alikes = vectors[len(self._kinds) :]
        self._keywords = sorted(
            (
                (plain(phrase), kind)
                for kind, by_language in keywords.items()
                for phrases in by_language.values()
                for phrase in phrases
                if plain(phrase)
            ),
            key=lambda item: -len(item[0]),
        )

    @classmethod
    def load(
        cls,
        path: Path,
        embedder: Embedder,
        margin: float,
        keyword_margin: float,
        ordinary: Sequence[str] = (),
        cache_dir: Path | None = None,
    ) -> EmergencyDetector:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        examples = data.get("emergencies") or {}
        unknown = set(examples) - set(KINDS)
        if unknown or not examples or not data.get("not_emergencies"):
            raise ValueError(
                f"{path}: needs `emergencies` with kinds among {', '.join(KINDS)} "
                "and `not_emergencies`"
                + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
            )
        return cls(
            {kind: [str(t) for t in texts] for kind, texts in examples.items()},
            [str(t) for t in data["not_emergencies"]],
            data.get("keywords") or {},
            embedder,
            margin,
            keyword_margin,
            ordinary,
            cache_dir,
        )

    @classmethod
    def open(cls, settings: Settings, kit: Kit, embedder: Embedder) -> EmergencyDetector:
        """The detector of this deployment: the examples file, the kit's ordinary
        questions, the calibrated margins, vectors kept in the index folder."""
        return cls.load(
            EXAMPLES_FILE,
            embedder,
            settings.safety.emergency_margin,
            settings.safety.keyword_margin,
            ordinary_questions(kit),
            settings.index_dir,
        )

    def check(self, text: str, vector: np.ndarray | None = None) -> Alarm | None:
        vectors = None if vector is None else vector.reshape(1, -1)
        return self.check_many([text], vectors)[0]

    def check_many(
        self, texts: Sequence[str], vectors: np.ndarray | None = None
    ) -> list[Alarm | None]:
        return [
            self.decide(evidence, self.margin, self.keyword_margin)
            for evidence in self.evidence(texts, vectors)
        ]

    def evidence(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[Evidence]:
        if not texts:
            return []
        if vectors is None:
            vectors = self.embedder.queries(texts)
        return self._weigh(texts, vectors @ self._examples.T, vectors @ self._look_alikes.T)

    def own_evidence(self) -> tuple[list[Evidence], list[bool]]:
        """Each example and look-alike judged by all the others (leave one out),
        and whether it is an emergency: what `calibrate` needs. Ordinary
        questions count against, but are not judged: each is there in five
        languages, so the others would always find it."""
        count, look_alikes = len(self._kinds), len(self._texts) - len(self._kinds)
        judged = np.vstack([self._examples, self._look_alikes[:look_alikes]])
        to_examples, to_look_alikes = judged @ self._examples.T, judged @ self._look_alikes.T
        to_examples[np.arange(count), np.arange(count)] = -np.inf
        others = np.arange(look_alikes)
        to_look_alikes[count + others, others] = -np.inf
        labels = [True] * count + [False] * look_alikes
        return self._weigh(self._texts, to_examples, to_look_alikes), labels

    def _weigh(
        self, texts: Sequence[str], to_examples: np.ndarray, to_look_alikes: np.ndarray
    ) -> list[Evidence]:
        margins = _nearest_mean(to_examples) - _nearest_mean(to_look_alikes)
        found = []
        for text, row, margin in zip(texts, to_examples, margins):
            words = f" {plain(text)} "
            keyword = next(
                ((phrase, kind) for phrase, kind in self._keywords if phrase in words), None
            )
            found.append(
                Evidence(
                    kind=self._kinds[int(row.argmax())],
                    margin=float(margin),
                    keyword=keyword[0] if keyword else None,
                    keyword_kind=keyword[1] if keyword else None,
                )
            )
        return found

    @staticmethod
    def decide(evidence: Evidence, margin: float, keyword_margin: float) -> Alarm | None:
        if evidence.margin >= margin:
            return Alarm(evidence.kind, round(evidence.margin, 4), evidence.keyword)
        if evidence.keyword and evidence.margin >= keyword_margin:
            return Alarm(evidence.keyword_kind, round(evidence.margin, 4), evidence.keyword)
        return None


def ordinary_questions(kit: Kit) -> list[str]:
    """How people ask for each entry, outside the safety topics."""
    return [
        q for entry in kit.entries if entry.topic not in SAFETY_TOPICS for q in entry.also_asked
    ]


def _nearest_mean(similarities: np.ndarray) -> np.ndarray:
    """Per row, the mean of the _NEAREST highest similarities."""
    return np.sort(similarities, axis=1)[:, -_NEAREST:].mean(axis=1)


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    emergency: bool
    kind: str


def load_labelled(path: Path) -> list[Labelled]:
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["messages"]
    return [Labelled(str(r["text"]), r["language"], bool(r["emergency"]), r["kind"]) for r in rows]


def rates(
    evidence: Sequence[Evidence], emergency: Sequence[bool], margin: float, keyword_margin: float
) -> tuple[float, float]:
    """(recall on emergencies, false-alarm rate on the others)."""
    alarms, truth = _alarms(evidence, margin, keyword_margin), np.array(emergency, dtype=bool)
    return float(alarms[truth].mean()) if truth.any() else 0.0, (
        float(alarms[~truth].mean()) if (~truth).any() else 0.0
    )


def _alarms(evidence: Sequence[Evidence], margin: float, keyword_margin: float) -> np.ndarray:
    margins = np.array([e.margin for e in evidence])
    keyword = np.array([e.keyword is not None for e in evidence], dtype=bool)
    return (margins >= margin) | (keyword & (margins >= keyword_margin))


def calibrate(
    evidence: Sequence[Evidence], emergency: Sequence[bool], max_false_alarms: float = 0.01
) -> tuple[float, float]:
    """The (margin, keyword margin) with the best recall whose false alarms stay
    within `max_false_alarms`; on ties the higher margins, which raise fewer
    alarms on messages unlike any seen."""
    # Margins at 200 quantiles are fine enough, and keep the search to seconds.
    margins = np.array([e.margin for e in evidence])
    candidates = sorted({round(float(q), 4) for q in np.quantile(margins, np.linspace(0, 1, 200))})
    best: tuple[float, float, float] | None = None
    for margin in candidates:
        for keyword_margin in [c for c in candidates if c <= margin]:
            recall, false = rates(evidence, emergency, margin, keyword_margin)
            if false <= max_false_alarms and (
                best is None or (recall, margin, keyword_margin) > best
            ):
                best = (recall, margin, keyword_margin)
    if best is None:
        raise ValueError("No margins keep false alarms that low on the examples")
    return best[1], best[2]
