"""The authoring page: office staff keep the welcome kit current from the browser.

    GET  /editor                               entries by topic: review age, translations
    GET  /editor/entry/{id}/{language}         the form, live preview, history, review form,
                                               "not useful" and unsure questions of the entry
    POST /editor/check   {"id", "language", fields}  -> lint findings and the preview
    POST /editor/save    (form)                lint, write the file, keep the version
    POST /editor/review  (form)                append a review record dated today
    POST /editor/undo    (form)                take back the latest change of that file

Role ``editor`` (and admins). Every change writes the Markdown file in the
content folder (so it stays in git), records the text before and after with the
editor's user name in ``entry_versions`` (``connectors.desk.entry_history``),
and asks the action server to re-embed that entry alone
(``POST /knowledge/reload-entry``), so the assistant answers from it at once.
A save with lint errors writes nothing and shows the form again as typed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from urllib.parse import quote

from aiohttp import web

from connectors.desk import app as desk
from connectors.desk import auth
from connectors.desk.entry_feedback import entry_feedback
from connectors.desk.entry_history import CannotUndo, EntryHistory
from knowledge import editing
from knowledge.entries import (
    ContentError,
    entry_paths,
    load_municipality,
    read_entry,
    split_front_matter,
    unwrap,
)
from knowledge.lint import AUTHORITATIVE, Finding, has_errors
from knowledge.taxonomy import load_taxonomy

HISTORY_KEY = web.AppKey("entry_history", EntryHistory)
FIELDS = ("title", "topic", "jurisdiction", "also_asked", "sources", "body")


def _settings(request: web.Request):
    return request.app[desk.DESK_SETTINGS_KEY]


def _entries(request: web.Request) -> list:
    """Every readable entry as saved now (the files, not the kit loaded at start-up)."""
    found = []
    for path in entry_paths(_settings(request).content.dir):
        try:
            found.append(read_entry(path))
        except ContentError:
            continue
    return found


@desk.requires("editor")
async def overview(request: web.Request) -> web.Response:
    settings = _settings(request)
    entries = await asyncio.to_thread(_entries, request)
    rows = editing.coverage(entries)
    taxonomy = load_taxonomy(settings.content.taxonomy)
    by_topic: dict[str, list[str]] = {}
    for entry_id, languages in rows.items():
        by_topic.setdefault(languages[0].entry.topic, []).append(entry_id)
    return desk.render(
        request,
        "editor.html",
        active_page="editor",
        grouped=taxonomy.by_domain(),
        by_topic=by_topic,
        rows=rows,
        max_days=settings.content.review_max_days,
        authoritative=AUTHORITATIVE,
    )


def _names(request: web.Request, entry_id: str, language: str) -> tuple[str, str]:
    """The entry and language, once they are known to be names (never a path)."""
    try:
        editing.entry_path(_settings(request).content.dir, entry_id, language)
    except editing.EditError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    return entry_id, language


def _current(request: web.Request, entry_id: str, language: str) -> str:
    try:
        return editing.read_text(_settings(request).content.dir, entry_id, language)
    except editing.EditError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None


async def _entry_page(
    request: web.Request,
    entry_id: str,
    language: str,
    form: dict[str, str] | None = None,
    findings: list | None = None,
    message: str = "",
    status: int = 200,
) -> web.Response:
    settings = _settings(request)
    text = _current(request, entry_id, language)
    header, _ = split_front_matter(text)
    translation = header.get("translation") if isinstance(header.get("translation"), dict) else None
    siblings = editing.coverage(
        [e for e in await asyncio.to_thread(_entries, request) if e.id == entry_id]
    ).get(entry_id, [])
    response = desk.render(
        request,
        "editor_entry.html",
        active_page="editor",
        entry_id=entry_id,
        language=language,
        form=form or editing.form_of(text),
        findings=findings if findings is not None else [],
        message=message or request.query.get("message", ""),
        reviews=header.get("reviews") or [],
        sources=[s.get("url", "") for s in header.get("sources") or [] if isinstance(s, dict)],
        translation=translation,
        siblings=siblings,
        versions=request.app[HISTORY_KEY].versions(entry_id, language, limit=20),
        offices=editing.municipality_offices(settings.content.dir, settings.content.municipality),
        topics=sorted(load_taxonomy(settings.content.taxonomy).topics),
        feedback=await asyncio.to_thread(entry_feedback, request.app[desk.STORE_KEY], entry_id),
    )
    response.set_status(status)
    return response


@desk.requires("editor")
async def entry_page(request: web.Request) -> web.Response:
    entry_id, language = _names(request, request.match_info["id"], request.match_info["language"])
    return await _entry_page(request, entry_id, language)


def _preview(request: web.Request, text: str) -> dict:
    """The answer as the widget shows it: offices filled in, lines joined."""
    settings = _settings(request)
    try:
        header, body = split_front_matter(text)
    except ValueError:
        return {"title": "", "text": ""}
    town = load_municipality(settings.content.dir, settings.content.municipality)
    return {"title": str(header.get("title") or ""), "text": unwrap(town.render(body))}


def _draft(request: web.Request, entry_id: str, language: str, form: dict) -> str:
    current = _current(request, entry_id, language)
    fields = {name: str(form.get(name) or "") for name in FIELDS}
    return editing.Draft.from_form(current, fields).text


@desk.requires("editor")
async def check(request: web.Request) -> web.Response:
    body = await desk.json_body(request)
    entry_id, language = _names(request, str(body.get("id") or ""), str(body.get("language") or ""))
    try:
        text = _draft(request, entry_id, language, body)
    except editing.EditError as exc:
        return web.json_response({"findings": [form_error(str(exc))], "preview": None})
    findings = await asyncio.to_thread(
        editing.check_text, _settings(request), entry_id, language, text
    )
    return web.json_response(
        {"findings": [asdict(f) for f in findings], "preview": _preview(request, text)}
    )


def form_error(message: str) -> dict:
    """A problem with the form itself, shown like a lint finding."""
    return {"severity": "error", "message": message, "check": "form", "path": ""}


async def form_fields(request: web.Request) -> dict[str, str]:
    """The posted form as text; 400 when it is not UTF-8."""
    try:
        form = await request.post()
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="Send the form as UTF-8 text.") from None
    return {key: str(value) for key, value in form.items()}


async def _form(request: web.Request) -> tuple[str, str, dict[str, str]]:
    form = await form_fields(request)
    entry_id, language = _names(request, form.get("id", ""), form.get("language", ""))
    return entry_id, language, form


async def tell_assistant(request: web.Request, path: str, body: dict, what: str) -> str:
    """Ask the action server to take up a saved change; a sentence for the editor.

    `what` ends "The assistant answers ..." and "... after its next start".
    """
    started = time.perf_counter()
    status, _ = await desk.knowledge(request, path, body)
    if status != 200:
        return (
            "Saved, but the assistant could not be updated now (it is not running?): "
            f"it will answer {what} after its next start."
        )
    return f"The assistant answers {what} now (updated in {time.perf_counter() - started:.1f} s)."


async def _reload(request: web.Request, entry_id: str) -> str:
    """Ask the action server to re-embed this entry."""
    return await tell_assistant(
        request, "/knowledge/reload-entry", {"id": entry_id}, "from the new text"
    )


def _change(request: web.Request, entry_id: str, language: str, before: str, after: str, action):
    content = _settings(request).content.dir
    editing.write_entry(content, entry_id, language, after)
    user = request[auth.USER_KEY]
    request.app[HISTORY_KEY].record(entry_id, language, before, after, user.username, action)


def _back(entry_id: str, language: str, message: str) -> web.Response:
    return desk.redirect(f"/editor/entry/{entry_id}/{language}?message={quote(message)}")


@desk.requires("editor")
async def save(request: web.Request) -> web.Response:
    entry_id, language, form = await _form(request)
    before = _current(request, entry_id, language)
    fields = {name: form.get(name, "") for name in FIELDS}
    try:
        after = _draft(request, entry_id, language, form)
    except editing.EditError as exc:
        findings = [Finding("error", "", str(exc), "form")]
        return await _entry_page(request, entry_id, language, fields, findings, status=422)
    findings = await asyncio.to_thread(
        editing.check_text, _settings(request), entry_id, language, after
    )
    if has_errors(findings):
        return await _entry_page(
            request,
            entry_id,
            language,
            fields,
            findings,
            message="Not saved: correct the errors below first.",
            status=422,
        )
    if after == before:
        return _back(entry_id, language, "Nothing changed.")
    await asyncio.to_thread(_change, request, entry_id, language, before, after, "edit")
    return _back(entry_id, language, "Saved. " + await _reload(request, entry_id))


@desk.requires("editor")
async def review(request: web.Request) -> web.Response:
    entry_id, language, form = await _form(request)
    settings = _settings(request)
    before = _current(request, entry_id, language)
    header, _ = split_front_matter(before)
    translation = header.get("translation")
    original = None
    if isinstance(translation, dict) and translation.get("from"):
        original = editing.read_text(settings.content.dir, entry_id, str(translation["from"]))
    against = [value for key, value in form.items() if key.startswith("against_")]
    against = [a for a in dict.fromkeys(a.strip() for a in against) if a and a != "on"]
    try:
        after = editing.add_review(
            before,
            by=form.get("by", ""),
            against=against,
            changed=form.get("changed", ""),
            scope=form.get("scope", ""),
            original_text=original,
            by_bilingual_person=form.get("bilingual") == "yes",
        )
    except editing.EditError as exc:
        findings = [Finding("error", "", str(exc), "review")]
        return await _entry_page(request, entry_id, language, findings=findings, status=422)
    await asyncio.to_thread(_change, request, entry_id, language, before, after, "review")
    return _back(entry_id, language, "Review recorded. " + await _reload(request, entry_id))


@desk.requires("editor")
async def undo(request: web.Request) -> web.Response:
    entry_id, language, _ = await _form(request)
    current = _current(request, entry_id, language)
    try:
        latest = request.app[HISTORY_KEY].undo_target(entry_id, language, current)
    except CannotUndo as exc:
        return _back(entry_id, language, str(exc))
    await asyncio.to_thread(_change, request, entry_id, language, current, latest.before, "undo")
    message = f"Undone: back to the text before {latest.editor}'s change. "
    return _back(entry_id, language, message + await _reload(request, entry_id))


def add_routes(app: web.Application) -> None:
    app[HISTORY_KEY] = EntryHistory(app[desk.STORE_KEY].engine)
    app.router.add_get("/editor", overview)
    app.router.add_get("/editor/entry/{id}/{language}", entry_page)
    app.router.add_post("/editor/check", check)
    app.router.add_post("/editor/save", save)
    app.router.add_post("/editor/review", review)
    app.router.add_post("/editor/undo", undo)
