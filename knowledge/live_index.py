"""Update the running knowledge base for one changed entry, without restarting.

    result = reload_entry(kb, "tax-code")     # re-reads entries/tax-code/*.md only
    result.passages, result.seconds

Only that entry's passages are embedded again (a few dozen, against a few
thousand for the whole kit); every other row of the index is kept as it is. The
new kit, index and retriever replace the old ones in one assignment each, so a
question answered meanwhile sees either the old entry or the new one. The
updated index is also written to the index folder with the new content hash, so
that a restart loads it instead of rebuilding. The emergency detector keeps the
kit's "also asked" questions it loaded at start-up.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import faiss
import numpy as np

from knowledge.answers import KnowledgeBase
from knowledge.entries import Kit, content_hash, entry_paths, read_entry
from knowledge.index import SearchIndex, passages_of, write_index
from knowledge.retrieval import Retriever

# Two saves at once must not both start from the same old index.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReloadResult:
    entry_id: str
    languages: tuple[str, ...]
    passages: int
    seconds: float

    def as_json(self) -> dict:
        return {
            "id": self.entry_id,
            "languages": list(self.languages),
            "passages": self.passages,
            "seconds": round(self.seconds, 3),
        }


def reload_entry(kb: KnowledgeBase, entry_id: str) -> ReloadResult:
    """Re-read one entry's files and re-embed only their passages.

    Raises ContentError when a file of the entry cannot be read (the old one stays).
    """
    with _LOCK:
        started = time.perf_counter()
        settings = kb.settings
        fresh = [
            read_entry(path)
            for path in entry_paths(settings.content.dir)
            if path.parent.name == entry_id
        ]
        kept = [entry for entry in kb.kit.entries if entry.id != entry_id]
        kit = Kit(
            entries=kept + fresh,
            municipality=kb.kit.municipality,
            content_hash=content_hash(settings.content.dir),
        )
        changed = passages_of(Kit(fresh, kb.kit.municipality, ""))
        old = kb.retriever.index
        keep_rows = [row for row, (eid, _) in enumerate(old.passages) if eid != entry_id]
        vectors = old.vectors()[keep_rows]
        if changed:
            embedder = kb.retriever.embedder
            vectors = np.vstack([vectors, embedder.passages([p.text for p in changed])])
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        rows = [old.passages[row] for row in keep_rows]
        rows += [(p.entry_id, p.language) for p in changed]
        search_index = SearchIndex(index=index, passages=rows)
        retriever = Retriever(kit, search_index, kb.retriever.embedder, kb.retriever.threshold)
        kb.kit, kb.retriever = kit, retriever
        type(kb)._localized.cache_clear()
        seconds = time.perf_counter() - started
        write_index(search_index, kit, kb.retriever.embedder.name, settings.index_dir, seconds)
        return ReloadResult(entry_id, tuple(e.language for e in fresh), len(changed), seconds)
