import pytest

from knowledge.language import LanguageDetector, language_command

SUPPORTED = ("it", "en", "ar", "fr", "uk", "es", "fa", "ur", "bn", "ru", "ro", "sq", "tr")


@pytest.fixture(scope="module")
def detector():
    return LanguageDetector(SUPPORTED, default="it")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("dove si fa la residenza?", "it"),
        ("كيف أسجل عند طبيب العائلة؟", "ar"),
        ("how do I get the tessera sanitaria", "en"),
        ("کجا tessera sanitaria بگیرم", "fa"),
        ("como renovar permesso di soggiorno", "es"),
        ("як отримати codice fiscale", "uk"),
        ("comment renouveler mon titre de séjour", "fr"),
        ("permesso scaduto ne yapmalıyım", "tr"),
    ],
)
def test_detects_code_mixed_messages(detector, text, language):
    assert detector.detect(text) == language


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "?!", "12345"])
def test_says_nothing_when_there_is_nothing_to_read(detector, text):
    assert detector.detect(text) is None


def test_only_supported_languages_are_returned():
    detector = LanguageDetector(("it", "en"), default="it")
    assert detector.detect("كيف أسجل عند طبيب العائلة؟") is None
    assert detector.detect("Wo bekomme ich eine Krankenversicherung?") in ("it", "en", None)


@pytest.mark.parametrize(
    ("text", "code"),
    [("/lang ar", "ar"), ("  /language UK ", "uk"), ("/lang", None), ("lang ar", None)],
)
def test_explicit_switch(text, code):
    assert language_command(text) == code
