"""Cross-language retrieval: a question in any language finds the entries that answer it.

    retriever = Retriever(kit, SearchIndex.load(dir), embedder, threshold=0.84)
    hits = retriever.search("كيف أسجل عند طبيب العائلة؟", k=3)
    retriever.is_confident(hits)

Every language version of an entry is indexed, and an entry scores about the
best similarity of its passages, so a Persian question can match the Arabic or
Italian wording. Below the calibrated threshold the assistant is not sure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.embedding import Embedder
from knowledge.entries import Kit
from knowledge.index import SearchIndex

# Passages looked at per question before grouping them by entry: all of a
# kit of a few thousand, which costs about a millisecond.
_CANDIDATES = 5000
# An entry scores the soft maximum of its passages' similarities: about the
# best one, plus a little for every other passage, in any language, that is
# nearly as close. Chosen on the development questions (`make eval`).
_SHARPNESS = 50.0


@dataclass(frozen=True)
class Hit:
    entry_id: str
    topic: str
    score: float


class Retriever:
    def __init__(self, kit: Kit, index: SearchIndex, embedder: Embedder, threshold: float) -> None:
        self.kit = kit
        self.index = index
        self.embedder = embedder
        self.threshold = threshold
        self._topic = {entry.id: entry.topic for entry in kit.entries}

    def search(self, text: str, k: int = 3) -> list[Hit]:
        return self.search_many([text], k)[0]

    def search_many(self, texts: Sequence[str], k: int = 3) -> list[list[Hit]]:
        """The k best entries for each text, best first, one hit per entry."""
        if not texts:
            return []
        vectors = self.embedder.queries(texts)
        results = []
        for passages in self.index.search(vectors, _CANDIDATES):
            by_entry: dict[str, list[float]] = {}
            for entry_id, _language, score in passages:
                by_entry.setdefault(entry_id, []).append(score)
            scores = {eid: soft_max(values) for eid, values in by_entry.items()}
            ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)[:k]
            results.append(
                [Hit(eid, self._topic.get(eid, ""), round(score, 4)) for eid, score in ranked]
            )
        return results

    def is_confident(self, hits: Sequence[Hit]) -> bool:
        return bool(hits) and hits[0].score >= self.threshold


def soft_max(values: Sequence[float]) -> float:
    """log-sum-exp at sharpness _SHARPNESS: the maximum, nudged up by near-maximum values."""
    top = max(values)
    return top + math.log(sum(math.exp(_SHARPNESS * (v - top)) for v in values)) / _SHARPNESS
