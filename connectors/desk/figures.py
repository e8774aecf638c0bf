"""The help-desk's figures for a period, as the dashboard and its CSV show them.

    figures = Figures.compute(store, start, end)   # naive UTC datetimes, end excluded
    figures = Figures.compute(store, start, end, "Europe/Rome")  # days counted in Rome
    figures.rows()                                 # (section, key, value) for CSV

Everything is counted from what really happened: questions recorded from
conversations and counters, operators' feedback, hand-offs and ratings.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from connectors.desk.store import Store, feedback, handoffs, questions, users

SATISFACTION_TARGET = 8.0


@dataclass
class Figures:
    start: datetime
    end: datetime
    questions: int = 0
    confident: int = 0
    by_topic: Counter = field(default_factory=Counter)
    by_language: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    not_useful: list[tuple[str, str, int]] = field(default_factory=list)
    handoffs: int = 0
    by_reason: Counter = field(default_factory=Counter)
    claim_minutes: list[float] = field(default_factory=list)
    mediator_hours: dict[str, float] = field(default_factory=dict)
    ratings: list[int] = field(default_factory=list)
    # Questions per local day, every day of the period (zero included), for the trend.
    by_day: dict[date, int] = field(default_factory=dict)
    timezone: str = "UTC"

    @property
    def first_day(self) -> date:
        return _local(self.start, self.timezone).date()

    @property
    def last_day(self) -> date:
        return (_local(self.end, self.timezone) - timedelta(days=1)).date()

    @property
    def confident_share(self) -> float | None:
        return self.confident / self.questions if self.questions else None

    @property
    def median_claim_minutes(self) -> float | None:
        return statistics.median(self.claim_minutes) if self.claim_minutes else None

    @property
    def average_rating(self) -> float | None:
        return statistics.fmean(self.ratings) if self.ratings else None

    @classmethod
    def compute(
        cls, store: Store, start: datetime, end: datetime, timezone: str = "UTC"
    ) -> Figures:
        figures = cls(start, end, timezone=timezone)
        with store.engine.connect() as db:
            asked = db.execute(
                sa.select(questions).where(questions.c.asked_at.between(start, end))
            ).all()
            rated = db.execute(
                sa.select(feedback).where(
                    feedback.c.given_at.between(start, end), feedback.c.useful.is_(False)
                )
            ).all()
            mediator = users.alias("mediator")
            opened = db.execute(
                sa.select(handoffs, mediator.c.username.label("mediator_name"))
                .outerjoin(mediator, mediator.c.id == handoffs.c.mediator_id)
                .where(handoffs.c.created_at.between(start, end))
            ).all()
        figures.questions = len(asked)
        day, days = figures.first_day, {}
        while day <= figures.last_day:
            days[day] = 0
            day += timedelta(days=1)
        for row in asked:
            local_day = _local(row.asked_at, timezone).date()
            if local_day in days:
                days[local_day] += 1
        figures.by_day = days
        unanswered: Counter = Counter()
        for row in asked:
            figures.by_language[row.language or "?"] += 1
            figures.by_source[row.source] += 1
            if row.confident:
                figures.confident += 1
                figures.by_topic[row.topic or "?"] += 1
            else:
                unanswered[row.text.strip().lower()] += 1
        figures.unanswered = unanswered.most_common(15)
        figures.not_useful = [
            (entry, question, count)
            for (entry, question), count in Counter(
                (row.entry_id, row.question.strip().lower()) for row in rated
            ).most_common(15)
        ]
        figures.handoffs = len(opened)
        hours: Counter = Counter()
        for row in opened:
            figures.by_reason[row.reason] += 1
            if row.claimed_at:
                figures.claim_minutes.append((row.claimed_at - row.created_at).total_seconds() / 60)
            if row.claimed_at and row.closed_at:
                hours[row.mediator_name] += (row.closed_at - row.claimed_at).total_seconds() / 3600
            if row.rating is not None:
                figures.ratings.append(row.rating)
        figures.mediator_hours = dict(hours)
        return figures

    def rows(self) -> list[tuple[str, str, str]]:
        """Every figure as (section, key, value), for the CSV funders ask for."""
        # The same days as the page shows, both included, in the desk's time zone.
        period = f"{self.first_day}..{self.last_day}"
        rows = [
            ("period", f"from-to, both included ({self.timezone})", period),
            ("questions", "total", str(self.questions)),
            ("questions", "answered with confidence", str(self.confident)),
            ("questions", "confident share", _number(self.confident_share, 3)),
        ]
        rows += [("questions by topic", k, str(v)) for k, v in self.by_topic.most_common()]
        rows += [("questions by language", k, str(v)) for k, v in self.by_language.most_common()]
        rows += [("questions by source", k, str(v)) for k, v in self.by_source.most_common()]
        rows += [("unanswered questions (redacted)", k, str(v)) for k, v in self.unanswered]
        rows += [("hand-offs", "total", str(self.handoffs))]
        rows += [("hand-offs by reason", k, str(v)) for k, v in self.by_reason.most_common()]
        rows += [
            ("hand-offs", "median minutes until claimed", _number(self.median_claim_minutes, 1)),
            ("mediator hours", "total", _number(sum(self.mediator_hours.values()), 2)),
        ]
        rows += [("mediator hours", k, _number(v, 2)) for k, v in self.mediator_hours.items()]
        rows += [
            ("satisfaction", "ratings", str(len(self.ratings))),
            ("satisfaction", "average (1-10)", _number(self.average_rating, 2)),
            ("satisfaction", "target", _number(SATISFACTION_TARGET, 1)),
        ]
        rows += [("questions by day", str(day), str(n)) for day, n in self.by_day.items()]
        return rows


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _local(moment: datetime, timezone: str) -> datetime:
    """A naive UTC time as the naive local time of `timezone`."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def local_day_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """Naive UTC start and (excluded) end of the local days `first` to `last`."""
    zone = ZoneInfo(timezone)

    def utc(day: date) -> datetime:
        local = datetime.combine(day, datetime.min.time(), tzinfo=zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    return utc(first), utc(last + timedelta(days=1))
