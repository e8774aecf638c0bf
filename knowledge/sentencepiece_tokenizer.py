"""The encoder's tokenizer through sentencepiece, in a fifth of the memory.

    options = write_model(folder / "tokenizer.json", folder / MODEL_FILE)   # at export, once
    tokenizer = SentencePieceTokenizer(folder / MODEL_FILE, max_length=512, **options)
        ids, mask = tokenizer.encode_batch(["query: dove si fa la residenza?"])

multilingual-e5-small ships its XLM-R tokenizer only as tokenizer.json. Loaded
by the `tokenizers` library, its 250,000-piece Unigram vocabulary takes about
280 MiB of the action server's memory; the same vocabulary as a sentencepiece
model takes about 55 MiB. `write_model` rebuilds that model from
tokenizer.json (pieces, scores and the normalisation table), and the export
keeps it only when it gives the same token ids as tokenizer.json on a sample
(`same_ids`). Ids differ only where a combining mark follows a character that
normalisation changes (a full-width letter with an Arabic shadda, say); the
tests compare every question and entry of the kit.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MODEL_FILE = "sentencepiece.model"
# XLM-R's ids are sentencepiece's plus one ("fairseq" order), with its own four first.
_BOS, _PAD, _EOS, _UNK = 0, 1, 2, 3
_OFFSET = 1
# Without a whitespace split first, tokenizer.json keeps a lone "▁" after
# trailing whitespace; sentencepiece drops it.
_SPACE_PIECE = 6
_SPACE = "\u2581"
# Texts the export checks both tokenizers on: scripts, diacritics, spacing.
SAMPLE = (
    "query: dove si fa la residenza?",
    "passage: **Cosa portare:** passaporto, «permesso di soggiorno».\n",
    "query: أين أجدد تصريح الإقامة؟ محمّد",
    "query: کجا tessera sanitaria بگیرم",
    "query: مجھے ڈاکٹر کی ضرورت ہے",
    "query: আমার ডাক্তার দরকার",
    "query: мені потрібна допомога",
    "query: İstanbul'dan geldim, ş ğ ı",
    "query: j'ai besoin d'aide   ",
    "query: ＦＵＬＬ ｗｉｄｔｈ ① ﬁ",
    "query: 😀🇮🇹 ok?!",
    "",
    " ",
    "a\tb\n\nc ",
)


def write_model(tokenizer_json: Path, out: Path) -> dict[str, bool] | None:
    """Write the sentencepiece model of an XLM-R style tokenizer.json and return
    the SentencePieceTokenizer options it needs; None when it is another kind."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    spec = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
    model, normalizer = spec.get("model") or {}, spec.get("normalizer") or {}
    if model.get("type") != "Unigram":  # its vocab is a list of [piece, score]
        return None
    vocab = model.get("vocab") or []
    steps = normalizer.get("normalizers") if normalizer.get("type") == "Sequence" else [normalizer]
    charsmap = next(
        (s.get("precompiled_charsmap") for s in steps or [] if s.get("type") == "Precompiled"),
        None,
    )
    pre = spec.get("pre_tokenizer") or {}
    pre_steps = {p.get("type") for p in pre.get("pretokenizers") or [pre]}
    first = [piece for piece, _ in vocab[:4]]
    if (
        model.get("unk_id") != _UNK
        or first != ["<s>", "<pad>", "</s>", "<unk>"]
        or "Metaspace" not in pre_steps
        or not charsmap
        or vocab[-1][0] != "<mask>"
    ):
        return None
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(vocab) - 2  # without <pad> and <mask>
    proto.trainer_spec.unk_id, proto.trainer_spec.bos_id, proto.trainer_spec.eos_id = 0, 1, 2
    proto.trainer_spec.pad_id = -1
    norm = proto.normalizer_spec
    norm.name = "nmt_nfkc"
    norm.precompiled_charsmap = base64.b64decode(charsmap)
    norm.add_dummy_prefix = norm.remove_extra_whitespaces = norm.escape_whitespaces = True
    kinds = pb.ModelProto.SentencePiece
    for piece, kind in (("<unk>", kinds.UNKNOWN), ("<s>", kinds.CONTROL), ("</s>", kinds.CONTROL)):
        proto.pieces.add(piece=piece, type=kind, score=0.0)
    for piece, score in vocab[4:-1]:
        proto.pieces.add(piece=piece, score=score)
    Path(out).write_bytes(proto.SerializeToString())
    return {"trailing_space": "WhitespaceSplit" not in pre_steps}


class SentencePieceTokenizer:
    """Token ids and attention masks as tokenizer.json gives them, padded per batch."""

    def __init__(self, path: Path, max_length: int, trailing_space: bool = False) -> None:
        import sentencepiece

        self._model = sentencepiece.SentencePieceProcessor(model_file=str(path))
        self.max_length = max_length
        self.trailing_space = trailing_space

    def ids(self, text: str) -> list[int]:
        """The ids of one text, with <s> and </s>, cut to max_length as tokenizer.json cuts."""
        ids = [i + _OFFSET if i else _UNK for i in self._model.encode(text)]
        # Between two sentinels, trailing whitespace survives normalisation as "▁x".
        if self.trailing_space and text:
            if self._model.normalize(f"x{text}x").endswith(f"{_SPACE}x"):
                ids.append(_SPACE_PIECE)
        return [_BOS, *ids[: self.max_length - 2], _EOS]

    def encode_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = [self.ids(text) for text in texts]
        width = max(len(row) for row in rows)
        ids = np.full((len(rows), width), _PAD, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, row in enumerate(rows):
            ids[n, : len(row)] = row
            mask[n, : len(row)] = 1
        return ids, mask


def same_ids(tokenizer_json: Path, ours: SentencePieceTokenizer, texts: Sequence[str]) -> bool:
    """Whether both tokenizers give the same ids for every text (checked at export)."""
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(tokenizer_json))
    reference.enable_truncation(max_length=ours.max_length)
    return all(reference.encode(text).ids == ours.ids(text) for text in texts)
