"""Retrieval quality on the development questions, and the confidence threshold from them.

    questions = load_questions(path)
    scored = score_questions(retriever, detector, questions)
    threshold = calibrate(scored)
    rows = evaluate(scored, threshold)

The threshold is the one that best separates in-scope questions answered with
the right topic from out-of-scope questions: it maximises the mean of the two
shares (answered correctly, declined correctly). E5 scores are compressed, so
it is measured, never guessed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.language import LanguageDetector
from knowledge.retrieval import Retriever


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    topic: str | None  # None: out of scope


@dataclass(frozen=True)
class Scored:
    question: Question
    topics: tuple[str, ...]  # the three best distinct topics, best first
    score: float  # similarity of the best hit
    detected: str | None


def load_questions(path: Path) -> list[Question]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [Question(q["text"], q["language"], q.get("topic")) for q in raw["questions"]]


def score_questions(
    retriever: Retriever, detector: LanguageDetector | None, questions: list[Question]
) -> list[Scored]:
    hits = retriever.search_many([q.text for q in questions], k=10)
    return [
        Scored(
            question=q,
            topics=tuple(dict.fromkeys(h.topic for h in found))[:3],
            score=found[0].score if found else 0.0,
            detected=detector.detect(q.text) if detector else None,
        )
        for q, found in zip(questions, hits)
    ]


def calibrate(scored: list[Scored]) -> float:
    """The threshold that maximises the mean of right answers and right refusals."""
    inside = [s for s in scored if s.question.topic]
    outside = [s for s in scored if not s.question.topic]
    if not inside or not outside:
        raise ValueError("calibration needs both in-scope and out-of-scope questions")
    best, best_value = 0.0, -1.0
    for candidate in sorted({round(s.score, 4) for s in scored}):
        answered = sum(s.score >= candidate and s.topics[:1] == (s.question.topic,) for s in inside)
        declined = sum(s.score < candidate for s in outside)
        value = answered / len(inside) + declined / len(outside)
        if value > best_value:
            best, best_value = candidate, value
    return best


def evaluate(scored: list[Scored], threshold: float) -> dict[str, dict[str, float]]:
    """Top-1 and top-3 topic accuracy per language and overall, and refusals."""
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in scored:
        groups[s.question.language].append(s)
        groups["ALL"].append(s)
    rows = {}
    for language, items in sorted(groups.items(), key=lambda kv: (kv[0] == "ALL", kv[0])):
        inside = [s for s in items if s.question.topic]
        outside = [s for s in items if not s.question.topic]
        row = {"questions": len(inside), "out_of_scope": len(outside)}
        if inside:
            row["top1"] = _share(s.topics[:1] == (s.question.topic,) for s in inside)
            row["top3"] = _share(s.question.topic in s.topics[:3] for s in inside)
            row["answered_confidently"] = _share(s.score >= threshold for s in inside)
        if outside:
            row["declined"] = _share(s.score < threshold for s in outside)
        if any(s.detected for s in items):
            row["language_detected"] = _share(s.detected == s.question.language for s in items)
        rows[language] = row
    return rows


def _share(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 3) if values else 0.0


def format_table(rows: dict[str, dict[str, float]]) -> str:
    columns = [
        "questions",
        "top1",
        "top3",
        "answered_confidently",
        "out_of_scope",
        "declined",
        "language_detected",
    ]
    lines = ["language " + " ".join(f"{c:>20}" for c in columns)]
    for language, row in rows.items():
        lines.append(f"{language:<9}" + " ".join(f"{row.get(c, ''):>20}" for c in columns))
    return "\n".join(lines)


def write_setting(config_file: Path, name: str, value: float) -> None:
    """Store a calibrated number in helpdesk.yml (`name: 0.1234`), keeping the comments."""
    line = re.compile(rf"^(\s*{re.escape(name)}:\s*)(-?[0-9.]+)(.*)$", re.MULTILINE)
    text = Path(config_file).read_text(encoding="utf-8")
    updated, count = line.subn(rf"\g<1>{value:.4f}\g<3>", text, count=1)
    if count != 1:
        raise ValueError(f"No `{name}:` line in {config_file}")
    Path(config_file).write_text(updated, encoding="utf-8")
