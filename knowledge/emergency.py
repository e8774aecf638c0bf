"""Emergencies first: tell a message about immediate danger from everything else.

    detector = EmergencyDetector.open(settings, kit, embedder)
    alarm = detector.check("زوجي يضربني الآن")    # Alarm(kind="violence", ...) or None

(the thresholds come from ``safety`` in helpdesk.yml).

Two kinds of evidence, so that neither a missing keyword nor a look-alike
question decides alone:

- meaning: a logistic regression on the multilingual embeddings of retrieval,
  trained on example emergencies (``knowledge/emergencies.yml``) against
  look-alikes that are not emergencies ("what is the emergency number?", "I
  was fired", "this paperwork is killing me"), the ordinary questions of the
  kit (each entry's ``also_asked``) and the bot's own training examples. It
  gives a score from 0 to 1 and works across languages and code-mixed text;
  the kind of emergency is that of the closest example;
- keywords: phrases per kind and language, matched on text without accents,
  diacritics or case;
- tense: whether the message says now / tonight, every day / years ago, or
  speaks at a distance (a joke, news from far away, everyone safe)
  (``urgency`` in the examples file), three more inputs of the regression:
  the embedding tells what a message is about, hardly when it happens;
- figures of speech (``figurative``: "this queue is killing me") and danger
  told from a distance (``at_a_distance``: the news, a film, a dream):
  look-alikes, and a message closer to one of them than to any emergency gets
  no help from a keyword.

A message is an emergency when its score reaches ``safety.emergency_threshold``,
or when a keyword matches and it reaches the lower
``safety.keyword_threshold``. Below that, from ``safety.soft_threshold`` on, it
is "soft": not an alarm, but the answer gets one more line with 112 and the
offer of a person (``soft_line``). ``make calibrate`` sets all three from
scores each example gets from a model that did not see it (10-fold
cross-validation): the alarm allows 5% false alarms on the look-alikes and 1%
on ordinary questions; the soft band reaches down until 99.5% of the examples
get an alarm or the line, or 5% of the other texts (1% of the ordinary
questions) would get it.
``make eval`` measures them on the development sets (and the held-out set,
when there is one).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge import linear
from knowledge.embedding import Embedder
from knowledge.entries import Kit
from knowledge.settings import Settings

EXAMPLES_FILE = Path(__file__).with_name("emergencies.yml")
# Rasa's training data: what people say to the bot besides questions.
NLU_DIR = Path(__file__).resolve().parent.parent / "bot" / "data"
# Topics whose questions may themselves describe danger ("my husband hits me,
# what can I do"): they are not used as ordinary questions.
SAFETY_TOPICS = frozenset({"gender-based-violence", "mental-health", "emergency-care"})
# Weak regularisation and balanced classes: about 500 emergencies against 3,000
# other texts, in 384 dimensions. Chosen by cross-validated recall at 2% false alarms.
_REGULARISATION = 64.0
_FOLDS = 10
KINDS = ("violence", "self_harm", "medical", "fire", "child_danger", "trafficking")
# Arabic-script letters written two ways (Arabic and Persian/Urdu keyboards).
# The zero-width non-joiner of Persian ("می‌خواهم") is often left out. Phone
# keyboards type a typographic apostrophe ("б’є"), others the plain one ("б'є").
_SAME_LETTER = str.maketrans(
    {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "\u200c": None, "\u2019": "'", "\u02bc": "'"}
)


@dataclass(frozen=True)
class Alarm:
    kind: str
    # How sure the model is that this is an emergency, from 0 to 1.
    score: float
    keyword: str | None


@dataclass(frozen=True)
class Evidence:
    """What the detector saw in one message, before thresholds."""

    kind: str
    score: float
    keyword: str | None
    keyword_kind: str | None


def plain(text: str) -> str:
    """Lower case, without accents or Arabic diacritics, one spelling per letter."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return " ".join(unicodedata.normalize("NFKC", kept).translate(_SAME_LETTER).split())


class EmergencyDetector:
    def __init__(
        self,
        examples: dict[str, list[str]],
        look_alikes: list[str],
        keywords: dict[str, dict[str, list[str]]],
        embedder: Embedder,
        threshold: float,
        keyword_threshold: float,
        ordinary: Sequence[str] = (),
        cache_dir: Path | None = None,
        soft_threshold: float | None = None,
        soft_lines: dict[str, str] | None = None,
        urgency: dict[str, list[str]] | None = None,
        figurative: Sequence[str] = (),
    ) -> None:
        self.embedder = embedder
        self.tense = Tense(urgency or {})
        self.threshold = threshold
        self.keyword_threshold = keyword_threshold
        # No soft band unless one is set.
        self.soft_threshold = threshold if soft_threshold is None else soft_threshold
        self.soft_lines = dict(soft_lines or {})
        self._kinds = [kind for kind, texts in examples.items() for _ in texts]
        self._texts = [
            *(t for texts in examples.values() for t in texts),
            *look_alikes,
            *figurative,
            *ordinary,
        ]
        # Ordinary messages (questions of the kit, greetings, chat) count against,
        # so that a question about a permit does not look like danger just
        # because no look-alike is like it. About 3,600 texts: their vectors
        # are kept in `cache_dir` (the index folder), not encoded at each start.
        vectors = embedder.queries_kept(self._texts, cache_dir, "emergency")
        self._examples = vectors[: len(self._kinds)]
        # Figures of speech with danger words ("this queue is killing me"):
        # look-alikes like the others, and a message closer to one of them
        # than to any emergency does not raise an alarm on a keyword alone.
        start = len(self._kinds) + len(look_alikes)
        self._figurative_rows = np.arange(start, start + len(figurative))
        self._figurative = vectors[self._figurative_rows]
        self._vectors = self.tense.features(self._texts, vectors)
        self._labels = np.arange(len(vectors)) < len(self._kinds)
        # Which texts are look-alikes: calibration limits their false alarms apart.
        self.look_alike = np.zeros(len(vectors), dtype=bool)
        self.look_alike[len(self._kinds) : start + len(figurative)] = True
        self._model = linear.fitted(
            self._vectors, self._labels, cache_dir, "emergency", _REGULARISATION
        )
        self._keywords = sorted(
            (
                (plain(phrase), kind)
                for kind, by_language in keywords.items()
                for phrases in by_language.values()
                for phrase in phrases
                if plain(phrase)
            ),
            key=lambda item: -len(item[0]),
        )

    @classmethod
    def load(
        cls,
        path: Path,
        embedder: Embedder,
        threshold: float,
        keyword_threshold: float,
        ordinary: Sequence[str] = (),
        cache_dir: Path | None = None,
        soft_threshold: float | None = None,
    ) -> EmergencyDetector:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        examples = data.get("emergencies") or {}
        unknown = set(examples) - set(KINDS)
        if unknown or not examples or not data.get("not_emergencies"):
            raise ValueError(
                f"{path}: needs `emergencies` with kinds among {', '.join(KINDS)} "
                "and `not_emergencies`"
                + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
            )
        return cls(
            {kind: [str(t) for t in texts] for kind, texts in examples.items()},
            [str(t) for t in data["not_emergencies"]],
            data.get("keywords") or {},
            embedder,
            threshold,
            keyword_threshold,
            ordinary,
            cache_dir,
            soft_threshold,
            {str(k): str(v) for k, v in (data.get("soft_line") or {}).items()},
            data.get("urgency") or {},
            # News, films and dreams are told from a distance the way figures of
            # speech are: danger words, no danger to the writer now.
            [str(t) for key in ("figurative", "at_a_distance") for t in data.get(key) or []],
        )

    @classmethod
    def open(cls, settings: Settings, kit: Kit, embedder: Embedder) -> EmergencyDetector:
        """The detector of this deployment: the examples file, the kit's ordinary
        questions, the calibrated thresholds, vectors kept in the index folder."""
        return cls.load(
            EXAMPLES_FILE,
            embedder,
            settings.safety.emergency_threshold,
            settings.safety.keyword_threshold,
            ordinary_questions(kit),
            settings.index_dir,
            settings.safety.soft_threshold,
        )

    def check(self, text: str, vector: np.ndarray | None = None) -> Alarm | None:
        vectors = None if vector is None else vector.reshape(1, -1)
        return self.check_many([text], vectors)[0]

    def check_many(
        self, texts: Sequence[str], vectors: np.ndarray | None = None
    ) -> list[Alarm | None]:
        return [
            self.decide(evidence, self.threshold, self.keyword_threshold)
            for evidence in self.evidence(texts, vectors)
        ]

    def soft_line(self, text: str, language: str, vector: np.ndarray | None = None) -> str | None:
        """One line with 112 and the offer of a person when the message is close
        to an emergency but not one; None otherwise (and for an emergency, which
        gets the full reply)."""
        vectors = None if vector is None else vector.reshape(1, -1)
        [seen] = self.evidence([text], vectors)
        if not self.is_soft(seen, self.threshold, self.keyword_threshold, self.soft_threshold):
            return None
        return self.soft_lines.get(language) or self.soft_lines.get("en")

    def evidence(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[Evidence]:
        if not texts:
            return []
        if vectors is None:
            vectors = self.embedder.queries(texts)
        scores = self._model.predict_proba(self.tense.features(texts, vectors))[:, 1]
        return self._weigh(texts, scores, vectors @ self._examples.T, vectors @ self._figurative.T)

    def example_kinds(self) -> list[str]:
        """The kind of each text `own_evidence` scores ("" for the others)."""
        return self._kinds + [""] * (len(self._texts) - len(self._kinds))

    def own_evidence(self) -> tuple[list[Evidence], list[bool]]:
        """Every example, look-alike and ordinary question scored by a model
        trained without it (cross-validation), and whether it is an emergency:
        what `calibrate` needs."""
        from sklearn.model_selection import StratifiedKFold

        scores = np.zeros(len(self._vectors))
        smaller_class = min(self._labels.sum(), (~self._labels).sum())
        folds = StratifiedKFold(min(_FOLDS, smaller_class), shuffle=True, random_state=0)
        for trained, held_out in folds.split(self._vectors, self._labels):
            model = linear.fit(self._vectors[trained], self._labels[trained], _REGULARISATION)
            scores[held_out] = model.predict_proba(self._vectors[held_out])[:, 1]
        to_examples = self._vectors[:, : self._examples.shape[1]] @ self._examples.T
        count = len(self._kinds)
        to_examples[np.arange(count), np.arange(count)] = -np.inf  # the closest other example
        to_figurative = self._vectors[:, : self._examples.shape[1]] @ self._figurative.T
        to_figurative[self._figurative_rows, np.arange(len(self._figurative_rows))] = -np.inf
        evidence = self._weigh(self._texts, scores, to_examples, to_figurative)
        return evidence, self._labels.tolist()

    def _weigh(
        self,
        texts: Sequence[str],
        scores: np.ndarray,
        to_examples: np.ndarray,
        to_figurative: np.ndarray,
    ) -> list[Evidence]:
        found = []
        for text, score, row, figure in zip(texts, scores, to_examples, to_figurative):
            words = f" {plain(text)} "
            keyword = next(
                ((phrase, kind) for phrase, kind in self._keywords if phrase in words), None
            )
            if figure.size and figure.max() > row.max():
                keyword = None
            found.append(
                Evidence(
                    kind=self._kinds[int(row.argmax())],
                    score=float(score),
                    keyword=keyword[0] if keyword else None,
                    keyword_kind=keyword[1] if keyword else None,
                )
            )
        return found

    @staticmethod
    def decide(evidence: Evidence, threshold: float, keyword_threshold: float) -> Alarm | None:
        if evidence.score >= threshold:
            return Alarm(evidence.kind, round(evidence.score, 4), evidence.keyword)
        if evidence.keyword and evidence.score >= keyword_threshold:
            return Alarm(evidence.keyword_kind, round(evidence.score, 4), evidence.keyword)
        return None

    @classmethod
    def is_soft(
        cls, evidence: Evidence, threshold: float, keyword_threshold: float, soft_threshold: float
    ) -> bool:
        """Below an alarm but within the soft band."""
        alarm = cls.decide(evidence, threshold, keyword_threshold)
        return alarm is None and evidence.score >= soft_threshold


class Tense:
    """The second signal: does the message place itself now or tonight, in a
    habit or the past, or at a distance (a joke, a figure of speech, news from
    far away with everyone safe)? Three inputs beside the embedding, 0 or
    `WEIGHT` each: the embedding says what a message is about, hardly when it
    happens or whether it is meant."""

    # Chosen on the examples cross-validated: with it, recall 0.988 against
    # 0.976 at 5% false alarms on look-alikes (the README gives the figures).
    WEIGHT = 0.5
    GROUPS = ("now", "habitual", "distance")

    def __init__(self, words: dict[str, list[str]]) -> None:
        self._patterns = [_any_of(words.get(name) or []) for name in self.GROUPS]

    def features(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        if not any(self._patterns):
            return vectors
        marks = [
            [self.WEIGHT * bool(p and p.search(plain(text))) for p in self._patterns]
            for text in texts
        ]
        return np.hstack(
            [vectors, np.array(marks, dtype=vectors.dtype).reshape(len(texts), len(self.GROUPS))]
        )


def _any_of(words: Sequence[str]) -> re.Pattern | None:
    """One pattern for the words: Latin-letter ones as whole words, the others
    (Arabic, Cyrillic, Bengali, Chinese script) anywhere."""
    parts = []
    for word in {plain(str(w)) for w in words if plain(str(w))}:
        escaped = re.escape(word)
        parts.append(rf"\b{escaped}\b" if word.isascii() else escaped)
    return re.compile("|".join(sorted(parts, key=len, reverse=True))) if parts else None


def ordinary_questions(kit: Kit, nlu_dir: Path = NLU_DIR) -> list[str]:
    """What people write that is not about danger: how they ask for each entry
    outside the safety topics, and the bot's training examples (greetings,
    thanks, off-topic chat, asking for a person, ...)."""
    asked = [
        q for entry in kit.entries if entry.topic not in SAFETY_TOPICS for q in entry.also_asked
    ]
    said = []
    for path in sorted(Path(nlu_dir).glob("nlu*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            lines = str(item.get("examples") or "").splitlines() if "intent" in item else []
            said += [line[2:].strip() for line in lines if line.startswith("- ")]
    return asked + said


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    emergency: bool
    kind: str


def load_labelled(path: Path) -> list[Labelled]:
    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["messages"]
    return [Labelled(str(r["text"]), r["language"], bool(r["emergency"]), r["kind"]) for r in rows]


def rates(
    evidence: Sequence[Evidence],
    emergency: Sequence[bool],
    threshold: float,
    keyword_threshold: float,
) -> tuple[float, float]:
    """(recall on emergencies, false-alarm rate on the others)."""
    return _Judged(evidence, emergency).rates(threshold, keyword_threshold)


class _Judged:
    """Many messages' scores, keyword matches and truth, as arrays made once:
    calibration tries some 20,000 pairs of thresholds on them."""

    def __init__(self, evidence: Sequence[Evidence], emergency: Sequence[bool]) -> None:
        self.scores = np.array([e.score for e in evidence])
        self.keyword = np.array([e.keyword is not None for e in evidence], dtype=bool)
        self.truth = np.array(emergency, dtype=bool)

    def alarms(self, threshold: float, keyword_threshold: float) -> np.ndarray:
        return (self.scores >= threshold) | (self.keyword & (self.scores >= keyword_threshold))

    def rates(self, threshold: float, keyword_threshold: float) -> tuple[float, float]:
        alarms = self.alarms(threshold, keyword_threshold)
        truth = self.truth
        return float(alarms[truth].mean()) if truth.any() else 0.0, (
            float(alarms[~truth].mean()) if (~truth).any() else 0.0
        )


# Below this a keyword would raise the alarm almost alone: one example with a
# keyword and a meaning score of 0.008 pulled the calibrated keyword threshold
# there, where nearly any message with a keyword would be an alarm.
MIN_KEYWORD_THRESHOLD = 0.1


def calibrate(
    evidence: Sequence[Evidence],
    emergency: Sequence[bool],
    max_false_alarms: float = 0.02,
    look_alike: Sequence[bool] | None = None,
    max_ordinary: float = 0.01,
    min_keyword: float = MIN_KEYWORD_THRESHOLD,
) -> tuple[float, float]:
    """The (threshold, keyword threshold) with the best recall whose false
    alarms stay within `max_false_alarms`: over all other texts, or, when
    `look_alike` marks them, over the look-alikes, with the ordinary questions
    held to `max_ordinary` (new messages that look like danger are
    look-alikes; the thousands of ordinary questions would hide their false
    alarms). Many pairs tie: then the highest keyword threshold (a keyword
    should need strong meaning too), and the threshold in the middle of the
    tied ones, as far as can be from a change of recall or false alarms either
    way, so that a small shift of scores on new messages changes the fewest
    verdicts. The keyword threshold is never below `min_keyword`."""
    # Recall only changes at an emergency's score: 200 quantiles of those are
    # fine enough, and keep the search to seconds.
    judged = _Judged(evidence, emergency)
    similar = None if look_alike is None else np.array(look_alike, dtype=bool)
    quantiles = np.quantile(judged.scores[judged.truth], np.linspace(0, 1, 200))
    candidates = sorted({round(float(q), 4) for q in quantiles})
    keyword_candidates = [min_keyword, *(c for c in candidates if c > min_keyword)]
    allowed = []
    for threshold in candidates:
        for keyword_threshold in keyword_candidates:
            if keyword_threshold > threshold:
                break
            alarms = judged.alarms(threshold, keyword_threshold)
            recall = float(alarms[judged.truth].mean())
            if similar is None:
                within = alarms[~judged.truth].mean() <= max_false_alarms
            else:
                ordinary = ~judged.truth & ~similar
                within = alarms[similar].mean() <= max_false_alarms and (
                    not ordinary.any() or alarms[ordinary].mean() <= max_ordinary
                )
            if within:
                allowed.append((recall, threshold, keyword_threshold))
    if not allowed:
        raise ValueError("No thresholds keep false alarms that low on the examples")
    best = max(recall for recall, _, _ in allowed)
    keyword_threshold = max(k for recall, _, k in allowed if recall == best)
    tied = sorted(t for recall, t, k in allowed if recall == best and k == keyword_threshold)
    return tied[len(tied) // 2], keyword_threshold


def calibrate_soft(
    evidence: Sequence[Evidence],
    emergency: Sequence[bool],
    threshold: float,
    keyword_threshold: float,
    target_recall: float = 0.995,
    max_soft: float = 0.05,
    look_alike: Sequence[bool] | None = None,
    max_ordinary: float = 0.01,
) -> float:
    """The soft threshold: as high as lets `target_recall` of the emergencies
    get an alarm or the soft line, but never so low that more than `max_soft`
    of the other texts would get the line (a line about danger under every
    answer would be read by nobody), nor, when `look_alike` marks the
    look-alikes, more than `max_ordinary` of the ordinary questions."""
    judged = _Judged(evidence, emergency)
    alarms = judged.alarms(threshold, keyword_threshold)
    others = ~judged.truth
    ordinary = others & ~np.array(look_alike, dtype=bool) if look_alike is not None else None
    chosen = threshold
    for candidate in sorted({round(float(s), 4) for s in judged.scores if s < threshold})[::-1]:
        soft = ~alarms & (judged.scores >= candidate)
        if others.any() and soft[others].mean() > max_soft:
            break
        if ordinary is not None and ordinary.any() and soft[ordinary].mean() > max_ordinary:
            break
        chosen = candidate
        if (alarms | soft)[judged.truth].mean() >= target_recall:
            break
    return chosen
