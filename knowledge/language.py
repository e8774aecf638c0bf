"""Which language a message is written in, among the languages the assistant supports.

    detector = LanguageDetector(("it", "en", "ar", "fa"), default="it")
    detector.detect("کجا tessera sanitaria بگیرم")   # "fa"

The script decides first: a message with Arabic letters is Arabic, Persian or
Urdu even when it carries Italian words such as «tessera sanitaria», because
people keep the names of offices and documents in Italian. Within a script the
offline detector lingua chooses. Too little text gives None, and the caller
keeps the language it already had.

Lingua runs as one detector per script, each built from the supported
languages of that script only. First, letters that only some languages of a
script write (Ukrainian «і», Russian «ы», Arabic «ة», Persian and Urdu «پ»,
Urdu «ے») set the others aside. Latin and Cyrillic letters then get lingua's
high-accuracy models; Arabic letters, where those letters tell most messages
apart, its low-accuracy models (trigrams only), which keeps about 65 MiB of
language models out of the action server with the same share of the
development texts detected right.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

# Script of each supported language that does not use Latin letters.
_SCRIPTS = {
    "ARABIC": ("ar", "fa", "ur", "ps"),
    "CYRILLIC": ("uk", "ru", "bg", "sr", "mk", "be"),
    "BENGALI": ("bn",),
    "CJK": ("zh",),
    "DEVANAGARI": ("hi", "ne", "mr"),
    "ETHIOPIC": ("am", "ti"),
    "GREEK": ("el",),
    "GEORGIAN": ("ka",),
    "ARMENIAN": ("hy",),
    "GURMUKHI": ("pa",),
    "TAMIL": ("ta",),
}
# Italian names of offices and documents that people keep in any language
# ("how do I get the tessera sanitaria"): they say nothing of the writer's language.
ITALIAN_TERMS = (
    "permesso di soggiorno",
    "permesso",
    "soggiorno",
    "tessera sanitaria",
    "tessera",
    "sanitaria",
    "codice fiscale",
    "codice",
    "fiscale",
    "carta d'identità",
    "carta di identità",
    "questura",
    "prefettura",
    "anagrafe",
    "residenza",
    "comune",
    "asl",
    "medico di base",
    "medico di famiglia",
    "pronto soccorso",
    "guardia medica",
    "consultorio",
    "centro per l'impiego",
    "cpia",
    "patronato",
    "caf",
    "isee",
    "assegno unico",
    "case popolari",
    "spid",
    "cie",
    "kit postale",
    "ricevuta",
    "nulla osta",
    "mediatore culturale",
    "sportello",
    "marca da bollo",
    "busta paga",
    "inps",
    "stp",
    "poste",
    "posta",
    "ufficio",
    "scaduto",
    "rinnovo",
)
# Letters that only some languages of their script write: a message with one
# is in one of those languages, among the languages the table describes.
_WRITTEN_BY = {
    **dict.fromkeys("іїєґ", ("uk",)),
    **dict.fromkeys("ыэъё", ("ru",)),
    # Arabic's own yeh, kaf, teh marbuta and alef maksura; Persian and Urdu
    # write «ی» and «ک» instead.
    **dict.fromkeys("يكةى", ("ar",)),
    # Arabic's and Persian's heh; Urdu writes «ہ» and «ھ».
    "ه": ("ar", "fa"),
    # Persian and Urdu letters that Arabic does not have.
    **dict.fromkeys("پچژگکی", ("fa", "ur")),
    # Urdu letters that neither Arabic nor Persian have.
    **dict.fromkeys("ٹڈڑںےۓہھ", ("ur",)),
}
_DESCRIBED = frozenset(code for codes in _WRITTEN_BY.values() for code in codes)
# Scripts whose languages lingua tells apart with its high-accuracy models
# (1- to 5-grams); the others get its low-accuracy ones (trigrams).
_HIGH_ACCURACY_SCRIPTS = frozenset({"LATIN", "CYRILLIC"})
_LANG_COMMAND = re.compile(r"^\s*/lang(?:uage)?\s+([A-Za-z]{2})\s*$")
_MIN_LETTERS = 3
_MIN_CONFIDENCE = 0.25

# Each language in its own name, as people recognise it.
LANGUAGE_NAMES = {
    "it": "italiano",
    "en": "English",
    "ar": "العربية",
    "fr": "français",
    "uk": "українська",
    "es": "español",
    "fa": "فارسی",
    "ur": "اردو",
    "bn": "বাংলা",
    "ru": "русский",
    "ro": "română",
    "sq": "shqip",
    "tr": "Türkçe",
}


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    if name.startswith("CJK"):
        return "CJK"
    return name.split(" ")[0] if name else ""


def language_command(text: str) -> str | None:
    """The code in an explicit switch such as "/lang ar", else None."""
    match = _LANG_COMMAND.match(text or "")
    return match.group(1).lower() if match else None


class LanguageDetector:
    def __init__(
        self, supported: Sequence[str], default: str, italian_terms: Sequence[str] = ITALIAN_TERMS
    ) -> None:
        self.supported = tuple(supported)
        self.default = default
        terms = sorted({t.lower() for t in italian_terms if t.strip()}, key=len, reverse=True)
        self._terms = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE
        )
        self._lingua: dict[str, Language] = {}
        for code in self.supported:
            try:
                self._lingua[code] = Language.from_iso_code_639_1(
                    getattr(IsoCode639_1, code.upper())
                )
            except (AttributeError, ValueError):
                continue  # lingua does not know it; the script rule may still find it
        self._codes = {lang: code for code, lang in self._lingua.items()}
        script_of = {code: s for s, codes in _SCRIPTS.items() for code in codes}
        by_script: dict[str, list[Language]] = {}
        for code, language in self._lingua.items():
            by_script.setdefault(script_of.get(code, "LATIN"), []).append(language)
        self._detectors = {}
        for script, languages in by_script.items():
            if len(languages) < 2:
                continue  # the script alone decides
            builder = LanguageDetectorBuilder.from_languages(*languages)
            if script not in _HIGH_ACCURACY_SCRIPTS:
                builder = builder.with_low_accuracy_mode()
            self._detectors[script] = builder.build()

    def _confidences(self, script: str, text: str) -> list:
        detector = self._detectors.get(script)
        return detector.compute_language_confidence_values(text) if detector else []

    def detect(self, text: str) -> str | None:
        """The most likely supported language of `text`, or None when it cannot tell."""
        letters = [c for c in text if c.isalpha()]
        if len(letters) < _MIN_LETTERS:
            return None
        scripts = Counter(_script(c) for c in letters)
        non_latin = [(n, s) for s, n in scripts.items() if s != "LATIN" and s in _SCRIPTS]
        candidates = [c for c in self.supported if c in self._lingua]
        script = "LATIN"
        if non_latin:
            count, script = max(non_latin)
            if count >= 2:
                candidates = [c for c in _SCRIPTS[script] if c in self.supported]
                text = "".join(c if _script(c) == script or not c.isalpha() else " " for c in text)
                candidates = _written_by(text.lower(), candidates)
            else:
                script = "LATIN"  # a stray letter in Latin text
        else:
            non_latin_codes = {c for codes in _SCRIPTS.values() for c in codes}
            candidates = [c for c in candidates if c not in non_latin_codes]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            return None
        remainder = self._terms.sub(" ", text)
        if sum(c.isalpha() for c in remainder) >= _MIN_LETTERS:
            text = remainder
        ranked = [
            (value.value, self._codes[value.language])
            for value in self._confidences(script, text)
            if self._codes.get(value.language) in candidates
        ]
        if not ranked:
            return candidates[0] if non_latin else None
        confidence, code = max(ranked)
        total = sum(v for v, _ in ranked) or 1.0
        if confidence / total < _MIN_CONFIDENCE:
            return None
        return code


def _written_by(text: str, candidates: list[str]) -> list[str]:
    """The candidates that write every telling letter of `text`; all of them when
    the letters contradict one another (a mixed message)."""
    kept = list(candidates)
    for letter in set(text) & _WRITTEN_BY.keys():
        narrower = [c for c in kept if c not in _DESCRIBED or c in _WRITTEN_BY[letter]]
        if not narrower:
            return list(candidates)
        kept = narrower
    return kept
