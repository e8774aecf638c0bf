"""Export a sentence-transformers model folder to ONNX, for knowledge/onnx_encoder.py.

    python -m knowledge.onnx_export SOURCE_FOLDER OUT_FOLDER --kind onnx-int8

Imports torch, so knowledge/onnx_encoder.py runs it in a child process, once
per model and kind. Writes the transformer (dynamic batch and sequence axes;
for onnx-int8 then quantised dynamically to QInt8, per channel), its tokenizer.json and
encoder.json (maximum length, dimensions, padding token), and the same
tokenizer as a sentencepiece model when it gives the same ids (smaller in
memory: knowledge/sentencepiece_tokenizer.py), into a temporary
folder, then renames it to OUT_FOLDER, so a reader never sees half an export.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from knowledge import sentencepiece_tokenizer
from knowledge.onnx_encoder import META_FILE, MODEL_FILE, TOKENIZER_FILE

KINDS = ("onnx", "onnx-int8")
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export(source: Path, out: Path, kind: str) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(source),
        device="cpu",
        # Eager attention exports to plain ONNX operators; float32 as on the torch path.
        model_kwargs={"torch_dtype": torch.float32, "attn_implementation": "eager"},
    )
    transformer, pooling = model[0], model[1]
    if pooling.pooling_mode != "mean" or not pooling.include_prompt:
        raise SystemExit(f"{source}: only mean pooling over every token is exported, not {pooling}")
    tokenizer = transformer.tokenizer
    work = out.parent / f".tmp-{out.name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        tokenizer.backend_tokenizer.save(str(work / TOKENIZER_FILE))
        spm_options = _write_sentencepiece(work, int(model.max_seq_length))
        float_file = work / ("float.onnx" if kind == "onnx-int8" else MODEL_FILE)
        _export_transformer(transformer.auto_model.eval(), tokenizer, float_file)
        if kind == "onnx-int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # One scale per output channel: with one per tensor, top-1 on the
            # development questions fell 0.013 and emergency recall 0.009 (README, "Encoder").
            quantize_dynamic(
                str(float_file),
                str(work / MODEL_FILE),
                weight_type=QuantType.QInt8,
                per_channel=True,
            )
            float_file.unlink()
        meta = {
            "kind": kind,
            "source": str(source),
            "max_length": int(model.max_seq_length),
            "dimensions": int(model.get_embedding_dimension()),
            "pad_id": int(tokenizer.pad_token_id),
            "pad_token": tokenizer.pad_token,
        }
        if spm_options is not None:
            meta["sentencepiece"] = spm_options
        (work / META_FILE).write_text(json.dumps(meta, indent=2))
        try:
            work.rename(out)
        except OSError:
            # Another process finished the same export first: keep its folder.
            if not (out / META_FILE).exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_sentencepiece(work: Path, max_length: int) -> dict[str, bool] | None:
    """The sentencepiece copy of tokenizer.json and its options, if it gives the same ids."""
    spm = sentencepiece_tokenizer
    spm_file = work / spm.MODEL_FILE
    options = spm.write_model(work / TOKENIZER_FILE, spm_file)
    if options is None:
        return None
    ours = spm.SentencePieceTokenizer(spm_file, max_length, **options)
    if spm.same_ids(work / TOKENIZER_FILE, ours, spm.SAMPLE):
        return options
    print("The sentencepiece tokenizer differs: keeping tokenizer.json", file=sys.stderr)
    spm_file.unlink()
    return None


def _export_transformer(auto_model, tokenizer, path: Path) -> None:
    import torch

    class LastHidden(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = tokenizer(
        ["query: dove si fa la residenza?", "passage: un testo un po' più lungo"],
        padding=True,
        return_tensors="pt",
    )
    ids, mask = sample["input_ids"], sample["attention_mask"]
    with torch.no_grad():
        torch.onnx.export(
            LastHidden(auto_model),
            (ids, mask, torch.zeros_like(ids)),
            str(path),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={
                name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")
            },
            opset_version=OPSET,
            dynamo=False,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.onnx_export")
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--kind", choices=KINDS, default="onnx-int8")
    args = parser.parse_args(argv)
    export(args.source, args.out, args.kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
