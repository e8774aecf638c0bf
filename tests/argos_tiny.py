"""Build a tiny but real Argos Translate package, with no network and no torch.

The package holds a sentencepiece model trained on a few lines and a
CTranslate2 Transformer with random weights: its output is noise, but the
install-and-translate path that production uses runs for real.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

_CORPUS = [
    "Bring your passport and your residence permit.",
    "Go to the registry office of the municipality.",
    "The health card is free for workers and their families.",
    "Book an appointment online or by phone.",
    "The family doctor works in the morning.",
    "Ask for a cultural mediator at the counter.",
    "You need a tax code to open a bank account.",
    "The job centre helps you find work and training.",
    "Children can go to school even without documents.",
    "Call one one two in an emergency.",
]


def _train_sentencepiece(folder: Path) -> list[str]:
    import sentencepiece as spm

    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(_CORPUS * 4), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(folder / "sentencepiece"),
        vocab_size=48,
        character_coverage=1.0,
        model_type="unigram",
        minloglevel=2,
    )
    corpus.unlink()
    processor = spm.SentencePieceProcessor(model_file=str(folder / "sentencepiece.model"))
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


def _random_model(folder: Path, vocabulary: list[str]) -> None:
    from ctranslate2.specs import transformer_spec

    spec = transformer_spec.TransformerSpec.from_config(num_layers=(2, 2), num_heads=4)
    rng = np.random.default_rng(7)
    width, hidden, size = 32, 64, len(vocabulary)
    shapes = {
        "embeddings_0/weight": (size, width),
        "embeddings/weight": (size, width),
        "projection/weight": (size, width),
        "projection/bias": (size,),
        "self_attention/linear_0/weight": (3 * width, width),
        "self_attention/linear_0/bias": (3 * width,),
        "attention/linear_0/weight": (width, width),
        "attention/linear_0/bias": (width,),
        "attention/linear_1/weight": (2 * width, width),
        "attention/linear_1/bias": (2 * width,),
        "linear_1/weight": (width, width),
        "linear_1/bias": (width,),
        "linear_2/weight": (width, width),
        "linear_2/bias": (width,),
        "ffn/linear_0/weight": (hidden, width),
        "ffn/linear_0/bias": (hidden,),
        "ffn/linear_1/weight": (width, hidden),
        "ffn/linear_1/bias": (width,),
        "layer_norm/gamma": (width,),
        "layer_norm/beta": (width,),
    }

    def shape_of(name: str) -> tuple[int, ...]:
        for suffix, shape in shapes.items():
            if name.endswith(suffix):
                return shape
        raise KeyError(name)

    def fill(scope, prefix: str) -> None:
        for attr, value in list(vars(scope).items()):
            name = f"{prefix}/{attr}"
            if value is None:
                shape = shape_of(name)
                array = (
                    np.ones(shape, np.float32)
                    if name.endswith("gamma")
                    else rng.normal(0, 0.1, shape).astype(np.float32)
                )
                setattr(scope, attr, array)
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if hasattr(item, "__dict__"):
                        fill(item, f"{name}_{index}")
            elif hasattr(value, "__dict__") and not isinstance(value, np.ndarray | str):
                fill(value, name)

    fill(spec.encoder, "encoder")
    fill(spec.decoder, "decoder")
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize("int8")
    folder.mkdir(parents=True, exist_ok=True)
    spec.save(str(folder))


def build_tiny_package(out_dir: Path, from_code: str = "en", to_code: str = "fa") -> Path:
    """Write translate-<from>_<to>.argosmodel into out_dir and return its path."""
    out_dir = Path(out_dir)
    name = f"translate-{from_code}_{to_code}"
    folder = out_dir / f"{name}-build" / name
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = _train_sentencepiece(folder)
    _random_model(folder / "model", vocabulary)
    (folder / "metadata.json").write_text(
        json.dumps(
            {
                "package_version": "0.1",
                "argos_version": "1.11",
                "from_code": from_code,
                "from_name": from_code,
                "to_code": to_code,
                "to_name": to_code,
                "type": "translate",
            }
        )
    )
    archive = out_dir / f"{name}.argosmodel"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, path.relative_to(folder.parent))
    return archive
