"""Sentence embeddings with multilingual-e5 through sentence-transformers.

    embedder = load_embedder(settings.models)
    embedder.queries(["dove si fa la residenza?"])    # normalised float32 rows
    embedder.passages(texts, progress=True)
    embedder.queries_kept(texts, folder, "emergency")  # fixed texts: encoded once, then read

E5 needs its prompts: questions are encoded as "query: ..." and content as
"passage: ...". Vectors are normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.settings import Models

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "


class ModelUnavailable(RuntimeError):
    """The embedding model can be neither found in the models folder nor downloaded."""


class Embedder:
    def __init__(self, model, name: str) -> None:
        self._model = model
        self.name = name
        self.dimensions = int(model.get_embedding_dimension())

    def _encode(self, texts: Sequence[str], prompt: str, progress: bool) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            prompt=prompt,
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, QUERY_PROMPT, progress=False)

    def passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, PASSAGE_PROMPT, progress=progress)

    def queries_kept(self, texts: Sequence[str], folder: Path | None, name: str) -> np.ndarray:
        """`queries(texts)`, kept in `folder` as <name>-<hash>.npy, so that texts
        which change only with the content are not encoded again at each start.
        The hash covers the model and the texts; older files of that name go."""
        if folder is None:
            return self.queries(texts)
        digest = hashlib.sha256("\0".join([self.name, *texts]).encode()).hexdigest()[:16]
        path = Path(folder) / f"{name}-{digest}.npy"
        if path.exists():
            return np.load(path)
        vectors = self.queries(texts)
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"{name}-*.npy"):
            old.unlink(missing_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as file:
            np.save(file, vectors)
        path.with_suffix(".tmp").replace(path)
        return vectors


def load_embedder(models: Models) -> Embedder:
    """Load the model from the models folder when it is there, else by name (online)."""
    import torch
    from sentence_transformers import SentenceTransformer

    folder = models.local_folder(models.embedding)
    source = str(folder) if folder else models.embedding
    try:
        model = SentenceTransformer(
            source, device="cpu", model_kwargs={"torch_dtype": torch.float32}
        )
    except Exception as exc:  # network errors, missing files, corrupt weights
        raise ModelUnavailable(
            f"Cannot load the embedding model {models.embedding!r} "
            f"({'from ' + source if folder else 'by name, online'}): {exc}. "
            "Offline, set models.dir in helpdesk.yml (environment: HELPDESK_MODELS_DIR) "
            f"to a folder that holds {models.embedding.split('/')[-1]}/."
        ) from exc
    model.eval()
    return Embedder(model, models.embedding)
