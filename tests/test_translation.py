import subprocess
import sys

import pytest

from knowledge.settings import PROJECT_ROOT
from knowledge.translation import PunctuationSentencizer, TranslationUnavailable, Translator


@pytest.fixture(scope="module")
def translator(settings, tiny_argos_package):
    translator = Translator(settings.argos_packages_dir)
    translator.install_folder(tiny_argos_package.parent)
    return translator


def test_installs_a_real_package_from_the_models_folder(translator, tiny_argos_package):
    assert ("en", "fa") in translator.installed_pairs()
    # Installing again is a no-op: start-up stays fast.
    assert translator.install_folder(tiny_argos_package.parent) == []


def test_translates_through_the_installed_package(translator):
    assert translator.can_translate("en", "fa")
    output = translator.translate("Bring your passport. Go to the office.", "en", "fa")
    # Random weights give noise, but the real tokenize-translate-detokenize path ran.
    assert isinstance(output, str) and output.strip()


def test_a_missing_pair_is_reported_not_guessed(translator):
    assert not translator.can_translate("en", "ur")
    assert not translator.can_translate("fa", "fa")
    with pytest.raises(TranslationUnavailable, match="en to ur"):
        translator.translate("hello", "en", "ur")


def test_online_install_fails_cleanly_without_internet(translator, monkeypatch):
    from argostranslate import settings as argos_settings

    monkeypatch.setattr(argos_settings, "remote_package_index", "http://127.0.0.1:9/index.json")
    assert translator.install_from_index(["en_ur"]) == []
    assert not translator.can_translate("en", "ur")


def test_sentencizer_splits_on_latin_and_arabic_punctuation():
    splitter = PunctuationSentencizer()
    assert splitter.split_sentences("One. Two? Three!") == ["One.", "Two?", "Three!"]
    assert splitter.split_sentences("سطر أول؟ سطر ثان\nline") == ["سطر أول؟", "سطر ثان", "line"]


def test_installs_from_an_argos_index_when_online(translator, tmp_path, monkeypatch):
    """The online path, against an index served on loopback with the real Argos client."""
    import http.server
    import json
    import threading
    from functools import partial

    from argostranslate import settings as argos_settings

    from tests.argos_tiny import build_tiny_package

    build_tiny_package(tmp_path, "en", "bn")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    (tmp_path / "index.json").write_text(
        json.dumps(
            [
                {
                    "from_code": "en",
                    "from_name": "English",
                    "to_code": "bn",
                    "to_name": "Bengali",
                    "package_version": "0.1",
                    "argos_version": "1.11",
                    "type": "translate",
                    "links": [f"{base}/translate-en_bn.argosmodel"],
                }
            ]
        )
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(argos_settings, "remote_package_index", f"{base}/index.json")
    try:
        assert translator.install_from_index(["en_bn"]) == ["en_bn"]
        assert translator.can_translate("en", "bn")
    finally:
        server.shutdown()


def test_no_installed_package_keeps_pytorch_out_of_the_process(tmp_path):
    # argostranslate.translate imports spaCy and PyTorch; with nothing installed
    # the action server must not pay ~500 MiB to learn that it cannot translate.
    check = (
        "import sys\n"
        "from knowledge.translation import Translator\n"
        f"translator = Translator({str(tmp_path / 'argos')!r})\n"
        "assert not translator.can_translate('bn', 'it')\n"
        "assert translator.installed_pairs() == []\n"
        "assert 'torch' not in sys.modules and 'spacy' not in sys.modules, 'imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
