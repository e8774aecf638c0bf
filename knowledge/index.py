"""The search index: every entry's passages embedded in a faiss inner-product index.

    build_index(kit, embedder, index_dir)    # rebuilds only when content changed
    index = SearchIndex.load(index_dir)      # what the action server loads once

Each entry gives several passages (its title, each way people ask it, each
paragraph), so a short question can match the phrasing closest to it.
The manifest records the content hash and the model; a build with the same
pair is skipped.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from knowledge.embedding import Embedder
from knowledge.entries import Kit

FORMAT_VERSION = 4
# Shorter paragraphs ("**Cost:** free.") say too little to be matched alone.
_MIN_PARAGRAPH = 40
INDEX_FILE = "passages.faiss"
PASSAGES_FILE = "passages.json"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Passage:
    entry_id: str
    language: str
    text: str


@dataclass(frozen=True)
class BuildResult:
    rebuilt: bool
    passages: int
    seconds: float
    content_hash: str


def passages_of(kit: Kit) -> list[Passage]:
    """The title, each way people ask it, and each paragraph (under its title) of every entry.

    Short passages match short questions better than a whole answer does; the
    retriever then adds up the evidence of an entry's passages.
    """
    passages = []
    for entry in kit.entries:
        texts = [entry.title, *entry.also_asked]
        texts += [
            f"{entry.title}\n{paragraph}"
            for paragraph in kit.render(entry).split("\n\n")
            if len(paragraph) >= _MIN_PARAGRAPH
        ]
        passages += [Passage(entry.id, entry.language, text) for text in texts]
    return passages


def fingerprint(kit: Kit, embedder_name: str) -> str:
    return f"{FORMAT_VERSION}:{embedder_name}:{kit.content_hash}"


def is_current(kit: Kit, embedder_name: str, index_dir: Path) -> bool:
    manifest = Path(index_dir) / MANIFEST_FILE
    if not manifest.exists() or not (Path(index_dir) / INDEX_FILE).exists():
        return False
    try:
        return json.loads(manifest.read_text())["fingerprint"] == fingerprint(kit, embedder_name)
    except (ValueError, KeyError):
        return False


def build_index(
    kit: Kit, embedder: Embedder, index_dir: Path, force: bool = False, progress: bool = True
) -> BuildResult:
    """Embed every passage and write the index, unless it is already current."""
    index_dir = Path(index_dir)
    if not force and is_current(kit, embedder.name, index_dir):
        return BuildResult(False, 0, 0.0, kit.content_hash)
    started = time.perf_counter()
    passages = passages_of(kit)
    vectors = embedder.passages([p.text for p in passages], progress=progress)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    seconds = time.perf_counter() - started
    search_index = SearchIndex(index=index, passages=[(p.entry_id, p.language) for p in passages])
    write_index(search_index, kit, embedder.name, index_dir, seconds)
    return BuildResult(True, len(passages), seconds, kit.content_hash)


def write_index(
    search_index: SearchIndex, kit: Kit, embedder_name: str, index_dir: Path, seconds: float
) -> None:
    """Write the index, its rows and a manifest naming the content it was built from."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    # Write to temporary names first so that a crash never leaves a half index.
    faiss.write_index(search_index.index, str(index_dir / f"{INDEX_FILE}.tmp"))
    (index_dir / f"{PASSAGES_FILE}.tmp").write_text(
        json.dumps([list(row) for row in search_index.passages])
    )
    (index_dir / f"{INDEX_FILE}.tmp").replace(index_dir / INDEX_FILE)
    (index_dir / f"{PASSAGES_FILE}.tmp").replace(index_dir / PASSAGES_FILE)
    manifest = {
        "fingerprint": fingerprint(kit, embedder_name),
        "model": embedder_name,
        "passages": len(search_index.passages),
        "entries": len(kit.entries),
        "build_seconds": round(seconds, 2),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (index_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))


class IndexMissing(RuntimeError):
    """There is no index yet, or it was built from other content."""


@dataclass
class SearchIndex:
    index: faiss.Index
    passages: list[tuple[str, str]]  # (entry id, language) of each row

    @classmethod
    def load(cls, index_dir: Path) -> SearchIndex:
        index_dir = Path(index_dir)
        if not (index_dir / INDEX_FILE).exists():
            raise IndexMissing(
                f"No search index in {index_dir}: build it with `make index` "
                "(python -m knowledge build)"
            )
        index = faiss.read_index(str(index_dir / INDEX_FILE))
        passages = [tuple(row) for row in json.loads((index_dir / PASSAGES_FILE).read_text())]
        return cls(index=index, passages=passages)

    def vectors(self) -> np.ndarray:
        """Every passage's vector, one row per passage (in the order of `passages`)."""
        return self.index.reconstruct_n(0, self.index.ntotal)
