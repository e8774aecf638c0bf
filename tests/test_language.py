import pytest

from knowledge.language import LanguageDetector, _written_by, language_command

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


@pytest.mark.parametrize(
    ("text", "candidates", "kept"),
    [
        ("мені потрібен лікар", ["uk", "ru"], ["uk"]),  # «і»
        ("мне нужны документы", ["uk", "ru"], ["ru"]),  # «ы»
        ("کجا بگیرم", ["ar", "fa", "ur"], ["fa", "ur"]),  # «ک», «گ»
        ("مجھے ڈاکٹر چاہیے", ["ar", "fa", "ur"], ["ur"]),  # «ھ», «ڈ», «ے»
        ("أين المستشفى", ["ar", "fa", "ur"], ["ar"]),  # «ى»
        ("چه کار کنم", ["ar", "fa", "ur"], ["fa"]),  # «ه» and «چ»
        ("як справи", ["uk", "ru"], ["uk", "ru"]),  # nothing telling
        ("і ы", ["uk", "ru"], ["uk", "ru"]),  # letters that contradict: all kept
    ],
)
def test_letters_that_only_some_languages_write_set_the_others_aside(text, candidates, kept):
    assert _written_by(text, candidates) == kept


def test_tells_apart_the_languages_of_one_non_latin_script(detector):
    assert detector.detect("زوجي يضربني الآن ولا أستطيع الهرب") == "ar"
    assert detector.detect("شوهرم داره منو کتک میزنه، کمکم کنید") == "fa"
    assert detector.detect("میرا شوہر مجھے مار رہا ہے، مدد کریں") == "ur"
    assert detector.detect("не хочу больше жить") == "ru"
    assert detector.detect("чоловік б'є мене просто зараз") == "uk"
