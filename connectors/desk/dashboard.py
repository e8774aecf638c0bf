"""The dashboard for coordinators (role admin): figures for a period, charts and CSV.

    GET /dashboard?from=2026-11-01&to=2026-11-30       the page
    GET /dashboard.csv?from=2026-11-01&to=2026-11-30   the same figures as CSV

Dates are whole days in the desk's time zone (desk.timezone, Europe/Rome), both
included; without them, the last 30 days. A wrong period gets a page that says
what to fix. Topics are shown by title and languages by name. Charts, the daily
trend included, are inline SVG drawn here: no script and nothing fetched from elsewhere.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup, escape

from connectors.desk import app as desk
from connectors.desk.assist import KIT_KEY
from connectors.desk.figures import SATISFACTION_TARGET, Figures, local_day_bounds
from connectors.desk.i18n import format_date, format_number, translate
from connectors.desk.labels import language_label, topic_title


class PeriodError(ValueError):
    """A period the dashboard cannot show; the message says how to fix it."""

    def __init__(self, message: str, **values: object) -> None:
        super().__init__(message % values)
        self.message, self.values = message, values

    def text(self, language: str) -> str:
        """The message in `language` (connectors.desk.catalogue)."""
        return translate(language, self.message) % self.values


def period(query, timezone: str = "UTC", today: date | None = None) -> tuple[date, date]:
    """(first day, last day) from ?from=&to=; the last 30 days ending today without them."""
    today = today or datetime.now(UTC).astimezone(ZoneInfo(timezone)).date()
    try:
        end = date.fromisoformat(query["to"]) if query.get("to") else today
        start = date.fromisoformat(query["from"]) if query.get("from") else end - timedelta(29)
    except ValueError:
        raise PeriodError("Dates are written like 2026-11-30.") from None
    if start > end:
        raise PeriodError(
            "The period starts (%(start)s) after it ends (%(end)s).", start=start, end=end
        )
    return start, end


async def _figures(request: web.Request) -> Figures:
    timezone = request.app[desk.DESK_SETTINGS_KEY].desk.timezone
    start, end = period(request.query, timezone)
    return await asyncio.to_thread(
        Figures.compute,
        request.app[desk.STORE_KEY],
        *local_day_bounds(start, end, timezone),
        timezone,
    )


def _period_error(request: web.Request, error: PeriodError) -> web.Response:
    message = error.text(desk.page_language(request))
    response = desk.render(request, "dashboard_period.html", message=message)
    response.set_status(400)
    return response


@desk.requires("admin")
async def page(request: web.Request) -> web.Response:
    try:
        figures = await _figures(request)
    except PeriodError as error:
        return _period_error(request, error)
    kit = request.app[KIT_KEY]
    ratings = [(str(n), figures.ratings.count(n)) for n in range(1, 11)]
    language = desk.page_language(request)

    def _(message: str) -> str:
        return translate(language, message)

    return desk.render(
        request,
        "dashboard.html",
        f=figures,
        start=figures.first_day,
        end=figures.last_day,
        timezone=figures.timezone,
        topic_chart=bar_chart(
            [(topic_title(kit, t, language), n) for t, n in figures.by_topic.most_common()],
            _("Questions by topic"),
            language,
        ),
        language_chart=bar_chart(
            [(language_label(code, language), n) for code, n in figures.by_language.most_common()],
            _("Questions by language"),
            language,
        ),
        trend_chart=trend_chart(figures.by_day, _("Questions per day"), language),
        not_useful=[
            (entry_id, topic_title(kit, entry_id, language), question, count)
            for entry_id, question, count in figures.not_useful
        ],
        confident_chart=bar_chart(
            [
                (_("with confidence"), figures.confident),
                (_("not sure"), figures.questions - figures.confident),
            ],
            _("Answered with confidence"),
            language,
        ),
        reason_chart=bar_chart(
            [(_(reason), n) for reason, n in figures.by_reason.most_common()],
            _("Hand-offs by reason"),
            language,
        ),
        hours_chart=bar_chart(
            [(name, round(hours, 2)) for name, hours in figures.mediator_hours.items()],
            _("Mediator hours"),
            language,
        ),
        rating_chart=average_chart(figures.average_rating, len(figures.ratings), language),
        rating_spread=bar_chart(ratings, _("Ratings from 1 to 10"), language),
        target=SATISFACTION_TARGET,
    )


# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A leading ' makes a cell that looks like a formula plain text (OWASP's advice)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


@desk.requires("admin")
async def export(request: web.Request) -> web.Response:
    try:
        figures = await _figures(request)
    except PeriodError as error:
        return _period_error(request, error)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", "value"])
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in figures.rows()])
    name = f"helpdesk-{figures.first_day}-{figures.last_day}.csv"
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def bar_chart(items: list[tuple[str, float]], title: str, language: str = "en") -> Markup:
    """Horizontal bars with their values; labels are escaped."""
    if not items:
        empty = translate(language, "No data in this period.")
        return Markup('<p class="empty">{}</p>').format(empty)
    top = max(value for _, value in items) or 1
    row, label_width, bar_width = 28, 190, 320
    height = row * len(items) + 8
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {label_width + bar_width + 70} {height}" width="100%">'
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        width = max(1.0, bar_width * value / top)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{width:.1f}" height="{row - 10}" rx="3"/>'
            f'<text x="{label_width + width + 6:.1f}" y="{y + 18}">'
            f"{escape(_figure(value, language))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _figure(value: float, language: str) -> str:
    """A chart's value as the page's language writes it; whole numbers without decimals."""
    return format_number(value, language, 0 if float(value).is_integer() else 2)


def trend_chart(by_day: dict[date, int], title: str, language: str = "en") -> Markup:
    """One column per day (zero days included), first and last date written below."""
    if not by_day or not any(by_day.values()):
        empty = translate(language, "No data yet in this period.")
        return Markup('<p class="empty">{}</p>').format(empty)
    day_text = lambda day: escape(format_date(day, language))  # noqa: E731
    days = list(by_day.items())
    top = max(by_day.values()) or 1
    most = translate(language, "max %(top)s") % {"top": top}
    width, height, base = 520, 120, 96
    step = width / len(days)
    parts = [
        f'<svg class="chart trend" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="100%">'
    ]
    for i, (day, count) in enumerate(days):
        bar = (base - 8) * count / top
        parts.append(
            f'<rect x="{i * step + 1:.1f}" y="{base - bar:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{bar:.1f}"><title>{day_text(day)}: {count}</title></rect>'
        )
    parts.append(
        f'<line x1="0" x2="{width}" y1="{base}" y2="{base}" stroke="currentColor"/>'
        f'<text x="0" y="{height - 4}">{day_text(days[0][0])}</text>'
        f'<text x="{width}" y="{height - 4}" text-anchor="end">{day_text(days[-1][0])}</text>'
        f'<text x="{width}" y="12" text-anchor="end">'
        f"{escape(most)}</text></svg>"
    )
    return Markup("".join(parts))


def average_chart(average: float | None, count: int, language: str = "en") -> Markup:
    """The average rating on a 1-10 scale, with the pilots' target line at 8."""
    target = f"{SATISFACTION_TARGET:.0f}"
    target_text = translate(language, "target %(target)s") % {"target": target}
    label = translate(language, "average satisfaction, target %(target)s of 10") % {
        "target": target
    }
    scale, left, width = 10, 20, 460
    x_of = lambda value: left + width * value / scale  # noqa: E731
    target_x = x_of(SATISFACTION_TARGET)
    bar = ""
    if average is not None:
        colour = "ok" if average >= SATISFACTION_TARGET else "below"
        bar = (
            f'<rect class="{colour}" x="{left}" y="20" width="{x_of(average) - left:.1f}" '
            f'height="28" rx="3"/><text x="{x_of(average) + 6:.1f}" y="40">'
            f"{format_number(average, language, 1)} "
            f"({count})</text>"
        )
    ticks = "".join(
        f'<text x="{x_of(n):.1f}" y="70" text-anchor="middle">{n}</text>' for n in range(0, 11, 2)
    )
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 520 80" width="100%">{bar}'
        f'<line class="target" x1="{target_x:.1f}" x2="{target_x:.1f}" y1="10" y2="56"/>'
        f'<text class="target" x="{target_x + 4:.1f}" y="14">'
        f"{escape(target_text)}</text>"
        f"{ticks}</svg>"
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", page)
    app.router.add_get("/dashboard.csv", export)
