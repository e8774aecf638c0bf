"""Cross-language retrieval: a question in any language finds the entries that answer it.

    retriever = Retriever(kit, SearchIndex.load(dir), embedder, threshold=0.84)
    hits = retriever.search("كيف أسجل عند طبيب العائلة؟", k=3)
    retriever.is_confident(hits)

Every language version of an entry is indexed, and an entry scores the best
similarity of any of its passages, so a Persian question can match the Arabic
or Italian wording. Below the calibrated threshold the assistant is not sure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.embedding import Embedder
from knowledge.entries import Kit
from knowledge.index import SearchIndex

# Passages looked at per question before grouping them by entry.
_CANDIDATES = 60


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
            best: dict[str, float] = {}
            for entry_id, _language, score in passages:
                if score > best.get(entry_id, -1.0):
                    best[entry_id] = score
            ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:k]
            results.append(
                [Hit(eid, self._topic.get(eid, ""), round(score, 4)) for eid, score in ranked]
            )
        return results

    def is_confident(self, hits: Sequence[Hit]) -> bool:
        return bool(hits) and hits[0].score >= self.threshold
