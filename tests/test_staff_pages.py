"""Staff-facing pages and prints without a browser: the welcome kit's QR codes and settings."""

from __future__ import annotations

import datetime as dt
from html import escape

import pytest

from knowledge.printable import render_page
from knowledge.qr import qr_svg
from knowledge.settings import SettingsError, load_settings
from knowledge.taxonomy import load_taxonomy

CHAT = "https://comune.example.it/chat?lang=ar"


def test_qr_svg_is_inline_and_labelled():
    svg = qr_svg(CHAT, 'Chat "now"')
    assert svg.startswith('<svg role="img" aria-label="Chat &quot;now&quot;" ')
    assert "<script" not in svg and "href" not in svg


def test_chat_url_setting_and_environment_override(monkeypatch):
    monkeypatch.delenv("HELPDESK_CHAT_URL", raising=False)
    assert load_settings().content.chat_url == ""
    monkeypatch.setenv("HELPDESK_CHAT_URL", CHAT)
    assert load_settings().content.chat_url == CHAT
    monkeypatch.setenv("HELPDESK_CHAT_URL", "javascript:alert(1)")
    with pytest.raises(SettingsError, match="content.chat_url"):
        load_settings()


def test_kit_has_chat_qr_and_one_source_qr_per_entry(settings, kit):
    taxonomy = load_taxonomy(settings.content.taxonomy)
    html = render_page(kit, taxonomy, "ar", dt.date(2026, 11, 23), chat_url=CHAT)
    entries = [e for e in kit.entries if e.language == "ar"]
    with_web_source = [e for e in entries if any(s.url.startswith("https://") for s in e.sources)]
    assert html.count('<p class="chat"><svg role="img"') == 1
    assert html.count('<div class="source-qr"><svg role="img"') == len(with_web_source)
    assert 'dir="ltr">https://comune.example.it/chat?lang=ar</span>' in html.replace("&amp;", "&")
    # Without the setting there is no chat code.
    assert 'class="chat"' not in render_page(kit, taxonomy, "ar", dt.date(2026, 11, 23))


def test_kit_entries_may_break_across_pages():
    from knowledge.printable import CSS

    entry_rule = CSS[CSS.index(".entry {") :].split("}")[0]
    assert "break-inside: avoid" not in entry_rule
    assert "html { font-size: 14pt; }" in CSS


# The dashboard: names instead of ids, Rome days, trend, "no data yet", period errors.


def _dashboard_html(figures, kit, **extra):
    from types import SimpleNamespace

    import jinja2

    from connectors.desk import dashboard, i18n
    from connectors.desk.app import HERE

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    i18n.install(env)
    language = extra.pop("page_language", "en")
    context = dict(
        user=SimpleNamespace(username="ada", role="admin", language="en"),
        page_language=language,
        page_languages=i18n.LANGUAGE_NAMES,
        script_text=i18n.script_text(language),
        here="/dashboard",
        csrf="x",
        settings=None,
        names={},
        f=figures,
        start=figures.first_day,
        end=figures.last_day,
        timezone=figures.timezone,
        topic_chart=dashboard.bar_chart(
            [(dashboard.topic_title(kit, t), n) for t, n in figures.by_topic.most_common()], "t"
        ),
        language_chart=dashboard.bar_chart(
            [(dashboard.language_label(c), n) for c, n in figures.by_language.most_common()], "l"
        ),
        trend_chart=dashboard.trend_chart(figures.by_day, "questions per day"),
        confident_chart="",
        reason_chart="",
        hours_chart="",
        rating_chart="",
        rating_spread="",
        target=8.0,
        not_useful=[(e, dashboard.topic_title(kit, e), q, n) for e, q, n in figures.not_useful],
    )
    context.update(extra)
    return env.get_template("dashboard.html").render(**context)


def _figures(**fields):
    from datetime import datetime

    from connectors.desk.figures import Figures, local_day_bounds

    start, end = local_day_bounds(dt.date(2026, 11, 3), dt.date(2026, 12, 2), "Europe/Rome")
    figures = Figures(start, end, timezone="Europe/Rome", **fields)
    assert start == datetime(2026, 11, 2, 23, 0)  # midnight in Rome is 23:00 UTC in winter
    return figures


def test_dashboard_period_is_in_rome_and_csv_matches_the_page():
    figures = _figures()
    assert (figures.first_day, figures.last_day) == (dt.date(2026, 11, 3), dt.date(2026, 12, 2))
    [period] = [row for row in figures.rows() if row[0] == "period"]
    assert period == ("period", "from-to, both included (Europe/Rome)", "2026-11-03..2026-12-02")


def test_dashboard_bad_period_is_a_clear_message():
    from connectors.desk.dashboard import PeriodError, period

    with pytest.raises(PeriodError, match=r"starts \(2026-12-05\) after it ends \(2026-12-01\)"):
        period({"from": "2026-12-05", "to": "2026-12-01"})
    with pytest.raises(PeriodError, match="written like 2026-11-30"):
        period({"from": "yesterday"})
    assert period({}, "Europe/Rome", today=dt.date(2026, 12, 2)) == (
        dt.date(2026, 11, 3),
        dt.date(2026, 12, 2),
    )


def test_dashboard_period_error_page(kit):
    from pathlib import Path

    template = Path("connectors/desk/templates/dashboard_period.html").read_text()
    assert 'role="alert"' in template and "{{ message }}" in template


def test_dashboard_names_topics_and_languages(kit):
    from collections import Counter

    from connectors.desk.labels import language_label, topic_title

    assert language_label("bn") == "Bengali (bn)" and language_label("?") == "unknown language"
    entry = next(e for e in kit.entries if e.id == e.topic and e.language == "en")
    assert topic_title(kit, entry.topic) == entry.title
    assert topic_title(kit, "no-such-topic") == "No such topic"
    figures = _figures(by_topic=Counter({entry.topic: 3}), by_language=Counter({"ar": 3}))
    html = _dashboard_html(figures, kit)
    assert f">{entry.title}</text>" in html.replace("&#39;", "'").replace("&amp;", "&")
    assert ">Arabic (ar)</text>" in html
    assert f">{entry.topic}</text>" not in html
    useful = _dashboard_html(_figures(not_useful=[(entry.id, "ciao", 2)]), kit)
    assert f'data-entry="{entry.id}">{escape(entry.title)}</td>' in useful


def test_dashboard_without_data_says_so_and_counts_ratings(kit):
    html = _dashboard_html(_figures(), kit)
    for card in ("median-claim", "mediator-hours", "average-rating"):
        assert f'id="{card}"><span class="no-data">no data yet</span>' in html
    assert "0.0" not in html
    assert "(both included, Europe/Rome time)" in html
    assert "No data yet in this period." in html  # the trend
    rated = _dashboard_html(_figures(ratings=[9, 10], claim_minutes=[0.2]), kit)
    assert "9.5 / 10 <span" in rated and "(2 ratings)" in rated
    assert "too few ratings to rely on" in rated
    assert 'id="median-claim">under 1<' in rated


def test_dashboard_trend_has_a_column_per_day():
    from connectors.desk.dashboard import trend_chart

    days = {dt.date(2026, 11, 1) + dt.timedelta(d): d % 3 for d in range(30)}
    svg = str(trend_chart(days, "questions per day"))
    assert svg.startswith('<svg class="chart trend" role="img" aria-label="questions per day"')
    assert svg.count("<rect ") == 30
    assert "<title>2026-11-03: 2</title>" in svg and ">2026-11-30</text>" in svg
    assert "<script" not in svg


def test_dashboard_figures_count_rome_days(tmp_path):
    from datetime import datetime

    from connectors.desk.figures import Figures, local_day_bounds
    from connectors.desk.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    asked = [
        datetime(2026, 11, 30, 23, 30),  # 1 December, 00:30 in Rome
        datetime(2026, 12, 1, 10, 0),
        datetime(2026, 11, 30, 22, 30),  # still 30 November in Rome: outside the period
    ]
    with store.transaction() as db:
        for n, moment in enumerate(asked):
            store.add_question(
                db,
                text="ciao",
                sender_id=f"s{n}",
                asked_at=moment,
                source="counter",
                language="it",
                confident=True,
                topic="t",
            )
    bounds = local_day_bounds(dt.date(2026, 12, 1), dt.date(2026, 12, 2), "Europe/Rome")
    figures = Figures.compute(store, *bounds, "Europe/Rome")
    assert figures.questions == 2
    assert figures.by_day == {dt.date(2026, 12, 1): 2, dt.date(2026, 12, 2): 0}
    assert ("questions by day", "2026-12-01", "2") in figures.rows()
