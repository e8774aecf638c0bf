"""What people found missing in one entry, for its page on the authoring page.

    found = entry_feedback(store, "tax-code")
    found.not_useful, found.not_useful_count     # "not useful" given on this answer
    found.unanswered, found.unanswered_count     # unsure answers whose best guess it was

"Not useful" comes from operators at the counter (the ``feedback`` table) and
from people in the chat right after an answer (``answer_feedback``); the
unsure questions are those the assistant did not answer confidently
(``questions`` with ``confident`` false; their ``entry_id`` is the best guess).
The texts are shown as stored, already redacted; no person identifier
(sender, operator) is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from connectors.desk.store import Store, answer_feedback, feedback, questions

LIMIT = 20


@dataclass(frozen=True)
class Said:
    at: datetime
    language: str | None
    text: str  # redacted when it was stored


@dataclass(frozen=True)
class EntryFeedback:
    not_useful: list[Said]
    not_useful_count: int
    unanswered: list[Said]
    unanswered_count: int
    limit: int = LIMIT


def entry_feedback(store: Store, entry_id: str, limit: int = LIMIT) -> EntryFeedback:
    """Newest first, at most `limit` of each, with how many there are in all."""
    counter = sa.and_(feedback.c.entry_id == entry_id, feedback.c.useful.is_(False))
    chat = answer_feedback.c.entry_id == entry_id
    unsure = sa.and_(questions.c.entry_id == entry_id, questions.c.confident.is_(False))
    with store.engine.connect() as db:
        rated = db.execute(
            sa.union_all(
                sa.select(feedback.c.given_at, feedback.c.language, feedback.c.question)
                .where(counter)
                .order_by(feedback.c.given_at.desc())
                .limit(limit)
                .subquery()
                .select(),
                sa.select(
                    answer_feedback.c.given_at,
                    answer_feedback.c.language,
                    answer_feedback.c.question,
                )
                .where(chat)
                .order_by(answer_feedback.c.given_at.desc())
                .limit(limit)
                .subquery()
                .select(),
            )
        ).all()
        rated_count = (
            db.execute(sa.select(sa.func.count()).select_from(feedback).where(counter)).scalar_one()
            + db.execute(
                sa.select(sa.func.count()).select_from(answer_feedback).where(chat)
            ).scalar_one()
        )
        asked = db.execute(
            sa.select(questions.c.asked_at, questions.c.language, questions.c.text)
            .where(unsure)
            .order_by(questions.c.asked_at.desc(), questions.c.id.desc())
            .limit(limit)
        ).all()
        asked_count = db.execute(
            sa.select(sa.func.count()).select_from(questions).where(unsure)
        ).scalar_one()
    newest = sorted(rated, key=lambda row: row[0], reverse=True)[:limit]
    return EntryFeedback(
        not_useful=[Said(*row) for row in newest],
        not_useful_count=rated_count,
        unanswered=[Said(*row) for row in asked],
        unanswered_count=asked_count,
        limit=limit,
    )
