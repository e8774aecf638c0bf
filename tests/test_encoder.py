"""The sentence encoder: ONNX Runtime (int8 or float32) against PyTorch, the
cached export, the setting, and no torch in an ONNX process."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from knowledge import onnx_encoder
from knowledge.embedding import embedder_name, load_embedder
from knowledge.index import build_index, is_current
from knowledge.settings import PROJECT_ROOT, SettingsError, load_settings

QUERIES = [
    "dove si fa la residenza?",
    "How do I get a tax code?",
    "كيف أسجل ابني في المدرسة؟",
    "کجا می‌توانم اجازه اقامت بگیرم؟",
    "مجھے ڈاکٹر کی ضرورت ہے، کہاں جاؤں؟",
    "Де можна отримати медичну допомогу?",
    "posso lavorare con il permesso di soggiorno per asilo?",
    "my landlord wants me out tomorrow 😟",
    "🙏🙏 aiuto per favore",
    "Where is the nearest pharmacy open at night",
]


# -- the setting and the fingerprint (no model) ---------------------------------


def test_a_wrong_encoder_names_the_setting_and_the_allowed_values():
    with pytest.raises(SettingsError) as error:
        load_settings(environ={"HELPDESK_ENCODER": "tensorflow"})
    message = str(error.value)
    assert "models.encoder" in message and "HELPDESK_ENCODER" in message
    assert "onnx-int8, onnx, torch" in message


def test_the_encoder_comes_from_the_environment_and_defaults_when_absent(tmp_path):
    assert load_settings(environ={"HELPDESK_ENCODER": "torch"}).models.encoder == "torch"
    older = (PROJECT_ROOT / "helpdesk.yml").read_text().replace("  encoder:", "  # encoder:")
    (tmp_path / "helpdesk.yml").write_text(older)
    settings = load_settings(
        tmp_path / "helpdesk.yml",
        environ={
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            # Relative paths are read from the settings file's folder.
            "HELPDESK_ENDPOINTS": str(PROJECT_ROOT / "endpoints.yml"),
        },
    )
    assert settings.models.encoder == "onnx-int8"
    assert settings.models.exports == tmp_path / "data" / "encoders"


class _Fake:
    """An embedder with a given name, for the index's fingerprint."""

    def __init__(self, name: str) -> None:
        self.name = name

    def passages(self, texts, progress=False):
        rows = np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_index_is_rebuilt_when_the_encoder_changes(kit, tmp_path):
    models = load_settings(environ={}).models
    names = {
        kind: embedder_name(dataclasses.replace(models, encoder=kind))
        for kind in ("onnx-int8", "onnx", "torch")
    }
    assert len(set(names.values())) == 3
    assert build_index(kit, _Fake(names["torch"]), tmp_path, progress=False).rebuilt
    assert is_current(kit, names["torch"], tmp_path)
    assert not is_current(kit, names["onnx-int8"], tmp_path)
    assert build_index(kit, _Fake(names["onnx-int8"]), tmp_path, progress=False).rebuilt
    assert not build_index(kit, _Fake(names["onnx-int8"]), tmp_path, progress=False).rebuilt


def test_the_export_is_named_by_the_model_files(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "model.onnx").write_bytes(b"the hub's own export")
    before = onnx_encoder.source_digest(tmp_path)
    (tmp_path / "onnx" / "model.onnx").write_bytes(b"another")
    assert onnx_encoder.source_digest(tmp_path) == before
    (tmp_path / "model.safetensors").write_bytes(b"new weights")
    assert onnx_encoder.source_digest(tmp_path) != before


# -- the real model -------------------------------------------------------------


@pytest.fixture(scope="module")
def torch_embedder(settings, embedder):
    return load_embedder(dataclasses.replace(settings.models, encoder="torch"))


@pytest.fixture(scope="module")
def onnx_embedders(settings, embedder):
    """Both ONNX kinds; the session's embedder is one of them or torch."""
    return {
        kind: load_embedder(dataclasses.replace(settings.models, encoder=kind))
        for kind in ("onnx-int8", "onnx")
    }


@pytest.mark.parametrize("kind", ["onnx-int8", "onnx"])
def test_onnx_vectors_are_close_to_torch_ones(torch_embedder, onnx_embedders, kind):
    onnx = onnx_embedders[kind]
    assert onnx.name.endswith(kind) and torch_embedder.name.endswith("torch")
    for encode in ("queries", "passages"):
        expected = getattr(torch_embedder, encode)(QUERIES)
        got = getattr(onnx, encode)(QUERIES)
        assert got.shape == expected.shape and got.dtype == np.float32
        cosines = (expected * got).sum(axis=1)
        assert cosines.min() >= (0.98 if kind == "onnx-int8" else 0.999), cosines


def test_a_second_load_uses_the_cached_export(settings, onnx_embedders):
    models = dataclasses.replace(settings.models, encoder="onnx-int8")
    [export] = list(models.exports.glob(f"onnx-int8-*/{onnx_encoder.MODEL_FILE}"))
    modified, exports = export.stat().st_mtime_ns, onnx_encoder.exports_run
    again = load_embedder(models)
    assert onnx_encoder.exports_run == exports
    assert export.stat().st_mtime_ns == modified
    np.testing.assert_allclose(
        again.queries(QUERIES[:2]), onnx_embedders["onnx-int8"].queries(QUERIES[:2]), atol=1e-6
    )


@pytest.mark.parametrize("kind", ["onnx-int8", "onnx", "torch"])
def test_empty_and_very_long_texts_encode(torch_embedder, onnx_embedders, kind):
    embedder = torch_embedder if kind == "torch" else onnx_embedders[kind]
    long = ("Ho bisogno di aiuto con la residenza e il permesso. " * 100)[:5000]
    for vectors in (embedder.queries(["", long]), embedder.passages(["", long])):
        assert vectors.shape == (2, embedder.dimensions)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)


def test_an_onnx_process_never_imports_torch(session_env, onnx_embedders):
    script = (
        "import sys, json\n"
        "from knowledge.embedding import load_embedder\n"
        "from knowledge.settings import load_settings\n"
        "embedder = load_embedder(load_settings().models)\n"
        f"embedder.queries({QUERIES!r} * 10)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'name': embedder.name}))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**session_env, "HELPDESK_ENCODER": "onnx-int8"},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    seen = json.loads(finished.stdout.strip().splitlines()[-1])
    assert seen["name"].endswith("+onnx-int8")
    assert not seen["torch"]


def _export_folder(settings, kind: str = "onnx-int8"):
    models = dataclasses.replace(settings.models, encoder=kind)
    [model_file] = list(models.exports.glob(f"{kind}-*/{onnx_encoder.MODEL_FILE}"))
    return model_file.parent


def test_the_sentencepiece_tokenizer_gives_the_ids_of_tokenizer_json(settings, onnx_embedders):
    from knowledge import sentencepiece_tokenizer as spm
    from knowledge.evaluation import load_questions

    folder = _export_folder(settings)
    options = json.loads((folder / onnx_encoder.META_FILE).read_text())["sentencepiece"]
    ours = spm.SentencePieceTokenizer(folder / spm.MODEL_FILE, 512, **options)
    questions = load_questions(PROJECT_ROOT / "tests/data/dev_questions.yml")
    texts = [f"query: {q.text}" for q in questions] + list(spm.SAMPLE) + QUERIES
    texts += ["<b>aiuto</b> &amp; \u202eتجديد\u202c", "\x00\x01 binario \ufffd", "parola " * 900]
    assert len(texts) > 300
    assert spm.same_ids(folder / onnx_encoder.TOKENIZER_FILE, ours, texts)
    assert len(ours.ids("parola " * 900)) == 512


def test_an_export_without_sentencepiece_encodes_through_tokenizer_json(
    settings, onnx_embedders, tmp_path
):
    folder, copy = _export_folder(settings), tmp_path / "export"
    copy.mkdir()
    for name in (onnx_encoder.MODEL_FILE, onnx_encoder.TOKENIZER_FILE):
        (copy / name).symlink_to(folder / name)
    meta = json.loads((folder / onnx_encoder.META_FILE).read_text())
    del meta["sentencepiece"]
    (copy / onnx_encoder.META_FILE).write_text(json.dumps(meta))
    texts = [f"query: {q}" for q in QUERIES]
    through_json = onnx_encoder.OnnxEncoder(copy).encode(texts, normalize_embeddings=True)
    through_spm = onnx_encoder.OnnxEncoder(folder).encode(texts, normalize_embeddings=True)
    assert isinstance(onnx_encoder.OnnxEncoder(copy)._tokenizer, onnx_encoder.JsonTokenizer)
    np.testing.assert_allclose(through_json, through_spm, atol=1e-6)


def test_a_tokenizer_of_another_kind_is_not_rebuilt(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    from knowledge import sentencepiece_tokenizer as spm

    other = Tokenizer(models.WordLevel({"[UNK]": 0, "ciao": 1}, unk_token="[UNK]"))
    other.pre_tokenizer = pre_tokenizers.Whitespace()
    other.save(str(tmp_path / "tokenizer.json"))
    assert spm.write_model(tmp_path / "tokenizer.json", tmp_path / "spm.model") is None
    assert not (tmp_path / "spm.model").exists()


class _OverlapProbe:
    """Stands in for the ONNX session and counts runs that overlap in time."""

    def __init__(self, session) -> None:
        import threading

        self.session, self.inside, self.most = session, 0, 0
        self._count = threading.Lock()

    def run(self, *args, **kwargs):
        import time

        with self._count:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.02)  # long enough for another thread to try
        try:
            return self.session.run(*args, **kwargs)
        finally:
            with self._count:
                self.inside -= 1


def test_concurrent_encodings_run_one_at_a_time_and_agree(settings, onnx_embedders):
    from concurrent.futures import ThreadPoolExecutor

    encoder = onnx_encoder.OnnxEncoder(_export_folder(settings))
    texts = [f"query: {q}" for q in QUERIES]
    alone = encoder.encode(texts, batch_size=2)
    probe = _OverlapProbe(encoder._session)
    encoder._session = probe
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(lambda _: encoder.encode(texts, batch_size=2), range(6)))
    assert probe.most == 1
    for vectors in together:
        np.testing.assert_allclose(vectors, alone, atol=1e-6)


def test_the_action_server_tunes_malloc_on_glibc():
    import platform

    from bot.action_server import tune_malloc

    # Debian's libc is glibc; elsewhere the call is refused without harm.
    assert tune_malloc() is (platform.libc_ver()[0] == "glibc")
