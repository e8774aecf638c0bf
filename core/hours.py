"""Opening hours of the mediators: are they answering now, and when are they back?

hours = OpeningHours.parse("mon-fri 09:00-13:00,14:00-17:00; sat 09:00-12:00", "Europe/Rome")
hours.is_open(now)       # bool
hours.next_opening(now)  # aware datetime, or None when the desk never opens
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class OpeningHours:
    # periods[weekday] = ((start minute, end minute), ...), Monday = 0
    periods: tuple[tuple[tuple[int, int], ...], ...]
    zone: ZoneInfo

    EXAMPLE = 'write e.g. "mon-fri 09:00-13:00,14:00-17:00; sat 09:00-12:00" or "always"'

    @classmethod
    def parse(cls, text: str, timezone: str) -> OpeningHours:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        if text.strip().lower() == "always":
            text = "mon-sun 00:00-24:00"
        periods: list[list[tuple[int, int]]] = [[] for _ in DAYS]
        for clause in filter(None, (c.strip() for c in text.lower().split(";"))):
            days, _, ranges = clause.partition(" ")
            for day in _days(days):
                for span in filter(None, (r.strip() for r in ranges.split(","))):
                    start, sep, end = span.partition("-")
                    if not sep:
                        raise ValueError(f"{span!r} is not a range such as 09:00-13:00")
                    first, last = _minute(start), _minute(end)
                    if first >= last:
                        raise ValueError(f"{span!r} ends before it starts")
                    periods[day].append((first, last))
        return cls(tuple(tuple(sorted(day)) for day in periods), zone)

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.periods[local.weekday()])

    def next_opening(self, now: datetime) -> datetime | None:
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for start, _ in self.periods[day.weekday()]:
                opening = datetime.combine(day, time(start // 60, start % 60), self.zone)
                if opening > local:
                    return opening
        return None


def _days(text: str) -> list[int]:
    first, _, last = text.partition("-")
    try:
        start = DAYS.index(first)
        end = DAYS.index(last) if last else start
    except ValueError:
        raise ValueError(f"{text!r} is not a day or days such as mon-fri") from None
    return list(range(start, end + 1)) if start <= end else [*range(start, 7), *range(0, end + 1)]


def _minute(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    try:
        value = int(hours) * 60 + int(minutes or 0)
    except ValueError:
        raise ValueError(f"{text!r} is not a time such as 09:00") from None
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"{text!r} is not a time of day")
    return value
