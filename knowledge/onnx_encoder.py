"""Sentence embeddings through ONNX Runtime, with no PyTorch at run time.

    folder = ensure_export(model_folder, "onnx-int8", exports_dir)  # exported once, then reused
    encoder = OnnxEncoder(folder)
    encoder.encode(["dove si fa la residenza?"], prompt="query: ")

The same computation as sentence-transformers' Transformer, mean Pooling and
Normalize modules: tokenizer.json, the transformer's last hidden state,
attention-mask mean, L2 norm. The export itself (knowledge/onnx_export.py)
needs torch, so it runs in a child process, once per model and kind, in a
folder named by a hash of the model's files: changed weights export again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge import sentencepiece_tokenizer

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
META_FILE = "encoder.json"
# Bumped when the export changes, so that older exports are made again.
EXPORT_VERSION = 3
# The action server shares two cores with Rasa: more threads only contend.
THREADS = 2
# Folders of a model hub snapshot that hold other formats, not the source.
_NOT_SOURCE = frozenset({"onnx", "openvino"})
# Exports run by this process (tests check that a second load reuses the first).
exports_run = 0


class ExportFailed(RuntimeError):
    """The child process could not export the model to ONNX."""


class OnnxEncoder:
    """Encodes like SentenceTransformer.encode (the keywords the Embedder passes)."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime

        folder = Path(folder)
        meta = json.loads((folder / META_FILE).read_text())
        self.max_length = int(meta["max_length"])
        self.dimensions = int(meta["dimensions"])
        spm_options = meta.get("sentencepiece")
        if spm_options is not None:
            # The same ids as tokenizer.json in about 55 MiB instead of 280 MiB.
            self._tokenizer = sentencepiece_tokenizer.SentencePieceTokenizer(
                folder / sentencepiece_tokenizer.MODEL_FILE, self.max_length, **spm_options
            )
        else:
            self._tokenizer = JsonTokenizer(folder / TOKENIZER_FILE, meta)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or max(1, min(THREADS, os.cpu_count() or 1))
        options.inter_op_num_threads = 1
        # Without its arena ONNX Runtime gives back what a long batch needed; the
        # arena kept the peak for the process's whole life.
        options.enable_cpu_mem_arena = False
        # Idle threads sleep instead of spinning: the two cores are shared with Rasa
        # and the web app, which a spinning thread would keep waiting.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        # One run at a time: its two threads already fill both cores, and each
        # concurrent run held its own buffers (six threads at once: +150 MiB peak).
        self._running = threading.Lock()

    def get_embedding_dimension(self) -> int:
        return self.dimensions

    def encode(
        self,
        sentences: Sequence[str],
        prompt: str = "",
        batch_size: int = 32,
        normalize_embeddings: bool = True,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray:
        texts = [prompt + text for text in sentences]
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of alike lengths pad less.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        starts = range(0, len(order), batch_size)
        if show_progress_bar:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            rows = order[start : start + batch_size]
            out[rows] = self._batch([texts[i] for i in rows])
        if normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        ids, mask = self._tokenizer.encode_batch(texts)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        with self._running:
            (hidden,) = self._session.run(["last_hidden_state"], feed)
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


class JsonTokenizer:
    """tokenizer.json through the `tokenizers` library, for models sentencepiece cannot take."""

    def __init__(self, path: Path, meta: dict) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(path))
        # The special tokens count within max_length, as in sentence-transformers.
        self._tokenizer.enable_truncation(max_length=int(meta["max_length"]))
        self._tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=meta["pad_token"])

    def encode_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        return ids, mask


def source_digest(folder: Path) -> str:
    """A hash of the model's files (weights, configuration, tokenizer)."""
    digest = hashlib.sha256(f"export {EXPORT_VERSION}".encode())
    for path in sorted(Path(folder).rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or relative.parts[0] in _NOT_SOURCE or path.name.startswith("."):
            continue
        digest.update(str(relative).encode() + b"\0")
        with open(path, "rb") as file:
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()[:16]


def ensure_export(source: Path, kind: str, exports_dir: Path) -> Path:
    """The folder of `source` exported as `kind` (onnx or onnx-int8); exports it
    in a child process when it is not there yet, and removes older exports of that kind."""
    global exports_run
    folder = Path(exports_dir) / f"{kind}-{source_digest(source)}"
    if (folder / META_FILE).exists():
        return folder
    print(f"Exporting {source} to ONNX ({kind}), once, into {folder}", file=sys.stderr)
    exports_run += 1
    finished = subprocess.run(
        [sys.executable, "-m", "knowledge.onnx_export", str(source), str(folder), "--kind", kind],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if finished.returncode != 0 or not (folder / META_FILE).exists():
        tail = "\n".join(finished.stderr.strip().splitlines()[-5:])
        raise ExportFailed(f"Exporting {source} to ONNX ({kind}) failed: {tail}")
    for old in Path(exports_dir).glob(f"{kind}-*/{META_FILE}"):
        # Finished exports of other weights (work in progress is in .tmp-* folders).
        if old.parent != folder and json.loads(old.read_text()).get("kind") == kind:
            shutil.rmtree(old.parent, ignore_errors=True)
    return folder
