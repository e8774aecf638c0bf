"""Cross-language retrieval: a question in any language finds the entries that answer it.

    retriever = Retriever(kit, SearchIndex.load(dir), embedder, threshold=0.84)
    hits = retriever.search("كيف أسجل عند طبيب العائلة؟", k=3)
    retriever.is_confident(hits)

Every language version of an entry is indexed, and an entry scores about the
best similarity of its passages, so a Persian question can match the Arabic or
Italian wording. Below the calibrated threshold the assistant is not sure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.embedding import Embedder
from knowledge.entries import Kit
from knowledge.index import SearchIndex

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
        # Every passage is scored (a kit has a few thousand), grouped by entry:
        # rows sorted by entry, so that numpy reduces each group in one call.
        order = sorted(range(len(index.passages)), key=lambda row: index.passages[row][0])
        self._vectors = index.vectors()[order]
        entry_of_row = [index.passages[row][0] for row in order]
        self._starts = np.array(
            [r for r in range(len(order)) if r == 0 or entry_of_row[r] != entry_of_row[r - 1]],
            dtype=np.intp,
        )
        self._entry_ids = [entry_of_row[r] for r in self._starts]

    def search(self, text: str, k: int = 3) -> list[Hit]:
        return self.search_many([text], k)[0]

    def search_many(
        self, texts: Sequence[str], k: int = 3, vectors: np.ndarray | None = None
    ) -> list[list[Hit]]:
        """The k best entries for each text, best first, one hit per entry.

        `vectors` are the texts' query vectors when they were computed already.
        """
        if not texts or not self._entry_ids:
            return [[] for _ in texts]
        if vectors is None:
            vectors = self.embedder.queries(texts)
        similarities = (vectors @ self._vectors.T).astype(np.float64)
        scores = soft_max(similarities, self._starts)
        k = min(k, len(self._entry_ids))
        results = []
        for row in scores:
            best = np.argpartition(-row, k - 1)[:k]
            best = best[np.argsort(-row[best], kind="stable")]
            results.append(
                [
                    Hit(
                        self._entry_ids[i],
                        self._topic.get(self._entry_ids[i], ""),
                        round(float(row[i]), 4),
                    )
                    for i in best
                ]
            )
        return results

    def is_confident(self, hits: Sequence[Hit]) -> bool:
        return bool(hits) and hits[0].score >= self.threshold


def soft_max(similarities: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per row and per group of columns (groups begin at `starts`): log-sum-exp at
    sharpness _SHARPNESS, that is the maximum, nudged up by near-maximum values."""
    top = np.maximum.reduceat(similarities, starts, axis=1)
    sizes = np.diff(np.append(starts, similarities.shape[1]))
    spread = np.exp(_SHARPNESS * (similarities - np.repeat(top, sizes, axis=1)))
    return top + np.log(np.add.reduceat(spread, starts, axis=1)) / _SHARPNESS
