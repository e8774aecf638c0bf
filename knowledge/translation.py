"""Offline machine translation through Argos Translate, behind one small interface.

    translator = Translator(packages_dir)             # where installed packages live
    translator.install_folder(models_dir / "argos")    # *.argosmodel files (offline)
    translator.install_from_index(["en_fa"])           # from the Argos index (online)
    translator.can_translate("en", "fa")
    translator.translate("Bring your passport.", "en", "fa")

Argos reads its package folder from ARGOS_PACKAGES_DIR when it is first
imported, so a process uses one folder. Packages without their own sentence
splitter get a simple punctuation splitter: Argos would otherwise download one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?؟۔।])\s+")


class TranslationUnavailable(RuntimeError):
    """No installed package translates between these two languages."""


class PunctuationSentencizer:
    """Splits after . ! ? and their Arabic, Urdu and Bengali forms; keeps lines apart."""

    def split_sentences(self, text: str) -> list[str]:
        sentences = []
        for line in text.splitlines():
            sentences.extend(part for part in _SENTENCE_END.split(line.strip()) if part)
        return sentences or [text]


class Translator:
    def __init__(self, packages_dir: Path) -> None:
        self.packages_dir = Path(packages_dir)
        self.packages_dir.mkdir(parents=True, exist_ok=True)
        current = os.environ.get("ARGOS_PACKAGES_DIR")
        if current and Path(current).resolve() != self.packages_dir.resolve():
            log.warning("ARGOS_PACKAGES_DIR was %s; using %s", current, self.packages_dir)
        os.environ["ARGOS_PACKAGES_DIR"] = str(self.packages_dir)
        self._translations: dict[tuple[str, str], object | None] = {}

    @classmethod
    def from_settings(cls, settings) -> Translator:
        """A translator with every package from the models folder installed, and any
        configured online downloads tried."""
        translator = cls(settings.argos_packages_dir)
        folder = settings.translation.packages_from or (
            settings.models.dir / "argos" if settings.models.dir else None
        )
        if folder and folder.is_dir():
            translator.install_folder(folder)
        if settings.translation.download:
            translator.install_from_index(settings.translation.download)
        return translator

    def install_folder(self, folder: Path) -> list[str]:
        """Install every *.argosmodel in `folder` that is not installed yet; return their names."""
        from argostranslate import package

        installed = []
        for path in sorted(Path(folder).glob("*.argosmodel")):
            stamp = self.packages_dir / f".installed-{_file_id(path)}"
            if stamp.exists():
                continue
            package.install_from_path(path)
            stamp.touch()
            installed.append(path.stem)
        if installed:
            self._forget()
        return installed

    def install_from_index(self, pairs: Iterable[str]) -> list[str]:
        """Download and install pairs such as "en_fa" from the Argos index (needs internet)."""
        from argostranslate import package
        from argostranslate import settings as argos_settings

        wanted = {tuple(pair.split("_", 1)) for pair in pairs}
        index = Path(argos_settings.local_package_index)
        index.unlink(missing_ok=True)  # never install from a stale index
        package.update_package_index()  # logs and returns when offline
        if not index.exists():
            log.error(
                "Cannot reach the Argos package index at %s: put *.argosmodel files in "
                "<models dir>/argos or set translation.packages_from (HELPDESK_ARGOS_MODELS)",
                argos_settings.remote_package_index,
            )
            return []
        available = package.get_available_packages()
        installed = []
        for pkg in available:
            if (pkg.from_code, pkg.to_code) in wanted:
                package.install_from_path(pkg.download())
                installed.append(f"{pkg.from_code}_{pkg.to_code}")
        missing = wanted - {tuple(p.split("_")) for p in installed}
        if missing:
            log.error("Argos index has no package for %s", sorted("_".join(m) for m in missing))
        self._forget()
        return installed

    def installed_pairs(self) -> list[tuple[str, str]]:
        from argostranslate import package

        return sorted(
            (pkg.from_code, pkg.to_code)
            for pkg in package.get_installed_packages()
            if pkg.type == "translate"
        )

    def can_translate(self, source: str, target: str) -> bool:
        return source != target and self._translation(source, target) is not None

    def translate(self, text: str, source: str, target: str) -> str:
        translation = self._translation(source, target)
        if translation is None:
            raise TranslationUnavailable(f"No Argos package translates {source} to {target}")
        return translation.translate(text)

    def _translation(self, source: str, target: str):
        key = (source, target)
        if key not in self._translations:
            self._translations[key] = self._load(source, target)
        return self._translations[key]

    def _load(self, source: str, target: str):
        # argostranslate.translate imports spaCy, thinc and so PyTorch (about
        # 500 MiB): only when installed packages could make this pair at all.
        installed = {code for pair in self.installed_pairs() for code in pair}
        if source not in installed or target not in installed:
            return None
        from argostranslate import translate

        languages = {lang.code: lang for lang in translate.get_installed_languages()}
        if source not in languages or target not in languages:
            return None
        translation = languages[source].get_translation(languages[target])
        if translation is not None:
            _give_sentencizer(translation)
        return translation

    def _forget(self) -> None:
        translate = sys.modules.get("argostranslate.translate")
        if translate is not None:  # not imported yet: nothing cached
            translate.get_installed_languages.cache_clear()
        self._translations.clear()


def _give_sentencizer(translation) -> None:
    """Give packages that ship no sentence splitter our own, instead of a download."""
    stack = [translation]
    while stack:
        node = stack.pop()
        stack.extend(
            child
            for child in (getattr(node, name, None) for name in ("underlying", "t1", "t2"))
            if child is not None
        )
        pkg = getattr(node, "pkg", None)
        if pkg is not None and getattr(pkg, "packaged_sbd_path", None) is None:
            node.sentencizer = PunctuationSentencizer()


def _file_id(path: Path) -> str:
    stat = path.stat()
    return hashlib.sha256(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[
        :16
    ]
