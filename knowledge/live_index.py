"""Update the running knowledge base for one changed entry, without restarting.

    result = reload_entry(kb, "tax-code")     # re-reads entries/tax-code/*.md only
    result.passages, result.seconds
    changed = reload_municipality(kb)         # the offices' details, at once
    reembed(kb, changed.entries)              # then the passages that name them

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
from knowledge.entries import (
    PLACEHOLDER,
    Kit,
    content_hash,
    entry_paths,
    load_municipality,
    read_entry,
)
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
        changed = _swap(kb, kit, {entry_id}, started)
        return ReloadResult(
            entry_id, tuple(e.language for e in fresh), changed, time.perf_counter() - started
        )


def _swap(kb: KnowledgeBase, kit: Kit, entry_ids: set[str], started: float) -> int:
    """Embed the passages of `entry_ids` again, keep every other row, swap kit and index.

    The caller holds _LOCK. Returns how many passages were embedded.
    """
    changed = passages_of(Kit([e for e in kit.entries if e.id in entry_ids], kit.municipality, ""))
    old = kb.retriever.index
    keep_rows = [row for row, (eid, _) in enumerate(old.passages) if eid not in entry_ids]
    vectors = old.vectors()[keep_rows]
    if changed:
        embedder = kb.retriever.embedder
        vectors = np.vstack([vectors, embedder.passages([p.text for p in changed])])
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    rows = [old.passages[row] for row in keep_rows]
    rows += [(p.entry_id, p.language) for p in changed]
    search_index = SearchIndex(index=index, passages=rows)
    _install(kb, kit, search_index)
    seconds = time.perf_counter() - started
    write_index(search_index, kit, kb.retriever.embedder.name, kb.settings.index_dir, seconds)
    return len(changed)


def _install(kb: KnowledgeBase, kit: Kit, index: SearchIndex | None = None) -> None:
    """Answer from `kit` (and `index`, else the current one) from the next question on."""
    old = kb.retriever
    kb.kit, kb.retriever = (
        kit,
        Retriever(kit, old.index if index is None else index, old.embedder, old.threshold),
    )
    type(kb)._localized.cache_clear()  # answers made from the old kit


@dataclass(frozen=True)
class MunicipalityReload:
    offices: tuple[str, ...]  # the office keys whose details changed
    entries: tuple[str, ...]  # the entries that name one of them (their passages embed later)
    seconds: float

    def as_json(self) -> dict:
        return {
            "offices": list(self.offices),
            "entries": len(self.entries),
            "seconds": round(self.seconds, 3),
        }


def reload_municipality(kb: KnowledgeBase) -> MunicipalityReload:
    """Answer with the municipality file as saved now, at once.

    Answers fill {{office:KEY}} when they are given, so swapping the kit's
    municipality (and forgetting the answers made from the old one) is enough
    for the next answer. The index still holds the old details inside the
    passages of the entries that name a changed office: `reembed(kb, entries)`
    updates them afterwards (it takes seconds, not milliseconds).
    Raises the loader's errors when the file cannot be read (the old one stays).
    """
    with _LOCK:
        started = time.perf_counter()
        settings = kb.settings
        old = kb.kit.municipality
        town = load_municipality(settings.content.dir, settings.content.municipality)
        keys = set(old.offices) | set(town.offices)
        changed = tuple(sorted(k for k in keys if old.offices.get(k) != town.offices.get(k)))
        renamed = town.name != old.name
        entries = tuple(
            sorted(
                {
                    entry.id
                    for entry in kb.kit.entries
                    if any(
                        (match.group(1) == "municipality" and renamed) or match.group(2) in changed
                        for match in PLACEHOLDER.finditer(entry.body)
                    )
                }
            )
        )
        _install(kb, Kit(kb.kit.entries, town, content_hash(settings.content.dir)))
        return MunicipalityReload(changed, entries, time.perf_counter() - started)


def reembed(kb: KnowledgeBase, entry_ids: tuple[str, ...]) -> int:
    """Embed these entries' passages again with the kit's current municipality."""
    if not entry_ids:
        return 0
    with _LOCK:
        kit = Kit(kb.kit.entries, kb.kit.municipality, content_hash(kb.settings.content.dir))
        return _swap(kb, kit, set(entry_ids), time.perf_counter())
