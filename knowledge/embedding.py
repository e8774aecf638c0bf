"""Sentence embeddings with multilingual-e5, through ONNX Runtime or PyTorch.

    embedder = load_embedder(settings.models)
    embedder.queries(["dove si fa la residenza?"])    # normalised float32 rows
    embedder.passages(texts, progress=True)
    embedder.queries_kept(texts, folder, "emergency")  # fixed texts: encoded once, then read

E5 needs its prompts: questions are encoded as "query: ..." and content as
"passage: ...". Vectors are normalised, so inner product is cosine similarity.
models.encoder chooses the engine: onnx-int8 and onnx (knowledge/onnx_encoder.py,
no torch in this process once exported) or torch (sentence-transformers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from knowledge.settings import PROJECT_ROOT, Models

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "


class ModelUnavailable(RuntimeError):
    """The embedding model can be neither found in the models folder nor downloaded."""


def embedder_name(models: Models) -> str:
    """The model and the encoder kind: vectors of different encoders are never mixed."""
    return f"{models.embedding}+{models.encoder}"


class Embedder:
    # `model` is a SentenceTransformer or an OnnxEncoder (the same encode call).
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
    """Load the model from the models folder when it is there, else by name (online),
    with the encoder models.encoder names."""
    folder = models.local_folder(models.embedding)
    source = str(folder) if folder else models.embedding
    if models.encoder == "torch":
        with _unavailable(models, folder, source):
            model = _torch_model(source)
        return Embedder(model, embedder_name(models))
    from knowledge.onnx_encoder import OnnxEncoder, ensure_export

    exports = models.exports or PROJECT_ROOT / "data" / "encoders"
    with _unavailable(models, folder, source):
        export = ensure_export(folder or _snapshot(models.embedding), models.encoder, exports)
        model = OnnxEncoder(export)
    return Embedder(model, embedder_name(models))


def _torch_model(source: str):
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(source, device="cpu", model_kwargs={"torch_dtype": torch.float32})
    model.eval()
    return model


def _snapshot(name: str) -> Path:
    """The model hub's files of `name` (downloaded once into its cache), to export from."""
    from huggingface_hub import snapshot_download

    # What sentence-transformers reads; not the hub's own onnx/ or openvino/ copies.
    patterns = ["*.json", "*.txt", "*.model", "*.safetensors"]
    folder = Path(snapshot_download(name, allow_patterns=patterns))
    if not any(folder.glob("*.safetensors")):
        folder = Path(snapshot_download(name, allow_patterns=[*patterns, "pytorch_model.bin"]))
    return folder


@contextmanager
def _unavailable(models: Models, folder: Path | None, source: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # network errors, missing files, corrupt weights, failed export
        raise ModelUnavailable(
            f"Cannot load the embedding model {models.embedding!r} "
            f"({'from ' + source if folder else 'by name, online'}; models.encoder "
            f"{models.encoder}): {exc}. "
            "Offline, set models.dir in helpdesk.yml (environment: HELPDESK_MODELS_DIR) "
            f"to a folder that holds {models.embedding.split('/')[-1]}/."
        ) from exc
