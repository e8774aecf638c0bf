"""The dashboard for coordinators (role admin): figures for a period, charts and CSV.

    GET /dashboard?from=2026-11-01&to=2026-11-30       the page
    GET /dashboard.csv?from=2026-11-01&to=2026-11-30   the same figures as CSV

Dates are whole days, both included; without them, the last 30 days.
Charts are inline SVG drawn here: no script and nothing fetched from elsewhere.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, timedelta

from aiohttp import web
from markupsafe import Markup, escape

from connectors.desk import app as desk
from connectors.desk.figures import SATISFACTION_TARGET, Figures


def period(request: web.Request) -> tuple[date, date]:
    try:
        end = date.fromisoformat(request.query["to"]) if request.query.get("to") else date.today()
        start = (
            date.fromisoformat(request.query["from"])
            if request.query.get("from")
            else end - timedelta(days=29)
        )
    except ValueError:
        raise web.HTTPBadRequest(text="Dates are written like 2026-11-30.") from None
    if start > end:
        raise web.HTTPBadRequest(text="The period starts after it ends.")
    return start, end


async def _figures(request: web.Request) -> Figures:
    start, end = period(request)
    return await asyncio.to_thread(
        Figures.compute,
        request.app[desk.STORE_KEY],
        datetime.combine(start, datetime.min.time()),
        datetime.combine(end + timedelta(days=1), datetime.min.time()),
    )


@desk.requires("admin")
async def page(request: web.Request) -> web.Response:
    figures = await _figures(request)
    ratings = [(str(n), figures.ratings.count(n)) for n in range(1, 11)]
    return desk.render(
        request,
        "dashboard.html",
        f=figures,
        start=figures.start.date(),
        end=(figures.end - timedelta(days=1)).date(),
        topic_chart=bar_chart(figures.by_topic.most_common(), "questions by topic"),
        language_chart=bar_chart(figures.by_language.most_common(), "questions by language"),
        confident_chart=bar_chart(
            [
                ("with confidence", figures.confident),
                ("not sure", figures.questions - figures.confident),
            ],
            "answered with confidence",
        ),
        reason_chart=bar_chart(figures.by_reason.most_common(), "hand-offs by reason"),
        hours_chart=bar_chart(
            [(name, round(hours, 2)) for name, hours in figures.mediator_hours.items()],
            "mediator hours",
        ),
        rating_chart=average_chart(figures.average_rating, len(figures.ratings)),
        rating_spread=bar_chart(ratings, "ratings from 1 to 10"),
        target=SATISFACTION_TARGET,
    )


# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A leading ' makes a cell that looks like a formula plain text (OWASP's advice)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


@desk.requires("admin")
async def export(request: web.Request) -> web.Response:
    figures = await _figures(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "key", "value"])
    writer.writerows([[spreadsheet_safe(cell) for cell in row] for row in figures.rows()])
    name = f"helpdesk-{figures.start.date()}-{(figures.end - timedelta(days=1)).date()}.csv"
    return web.Response(
        text=buffer.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def bar_chart(items: list[tuple[str, float]], title: str) -> Markup:
    """Horizontal bars with their values; labels are escaped."""
    if not items:
        return Markup('<p class="empty">No data in this period.</p>')
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
            f'<text x="{label_width + width + 6:.1f}" y="{y + 18}">{escape(str(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def average_chart(average: float | None, count: int) -> Markup:
    """The average rating on a 1-10 scale, with the pilots' target line at 8."""
    scale, left, width = 10, 20, 460
    x_of = lambda value: left + width * value / scale  # noqa: E731
    target_x = x_of(SATISFACTION_TARGET)
    bar = ""
    if average is not None:
        colour = "ok" if average >= SATISFACTION_TARGET else "below"
        bar = (
            f'<rect class="{colour}" x="{left}" y="20" width="{x_of(average) - left:.1f}" '
            f'height="28" rx="3"/><text x="{x_of(average) + 6:.1f}" y="40">{average:.1f} '
            f"({count})</text>"
        )
    ticks = "".join(
        f'<text x="{x_of(n):.1f}" y="70" text-anchor="middle">{n}</text>' for n in range(0, 11, 2)
    )
    return Markup(
        f'<svg class="chart" role="img" aria-label="average satisfaction, target '
        f'{SATISFACTION_TARGET:.0f} of 10" viewBox="0 0 520 80" width="100%">{bar}'
        f'<line class="target" x1="{target_x:.1f}" x2="{target_x:.1f}" y1="10" y2="56"/>'
        f'<text class="target" x="{target_x + 4:.1f}" y="14">'
        f"target {SATISFACTION_TARGET:.0f}</text>"
        f"{ticks}</svg>"
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", page)
    app.router.add_get("/dashboard.csv", export)
