"""The authoring page's local offices: the municipality file's details, edited in the browser.

    GET  /editor/offices                  every office of the municipality, a form each
    POST /editor/offices/check  {"key", fields}  -> lint findings and one answer's preview
    POST /editor/offices/save   (form)    lint, write the file, keep the version
    POST /editor/offices/undo   (form)    take back the latest change of the file

Role ``editor`` (and admins). A change writes ``municipalities/<town>.yml`` in
the content folder (so it stays in git), keeps the text before and after in
``entry_versions`` under ``municipality_key(town)`` (``connectors.desk.entry_history``),
and asks the action server to answer with the new details
(``POST /knowledge/reload-municipality``). A save with lint errors writes
nothing and shows the form again as typed.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from urllib.parse import quote

from aiohttp import web

from connectors.desk import app as desk
from connectors.desk import auth
from connectors.desk.editor import HISTORY_KEY, form_error, form_fields, tell_assistant
from connectors.desk.entry_history import CannotUndo, municipality_key
from knowledge import office_editing
from knowledge.lint import OFFICE_FIELDS, Finding, has_errors

PAGE = "/editor/offices"


def _town(request: web.Request) -> str:
    return request.app[desk.DESK_SETTINGS_KEY].content.municipality


def _current(request: web.Request) -> str:
    settings = request.app[desk.DESK_SETTINGS_KEY]
    try:
        return office_editing.read_text(settings.content.dir, _town(request))
    except office_editing.OfficeError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None


async def _page(
    request: web.Request,
    typed: dict[str, dict[str, str]] | None = None,
    findings: dict[str, list] | None = None,
    message: str = "",
    status: int = 200,
) -> web.Response:
    text = _current(request)
    offices = office_editing.offices_of(text)
    offices.update(typed or {})
    town_key = municipality_key(_town(request))
    response = desk.render(
        request,
        "editor_offices.html",
        active_page="editor",
        town=_town(request),
        example=office_editing.is_example(text),
        offices=offices,
        fields=OFFICE_FIELDS,
        findings=findings or {},
        message=message or request.query.get("message", ""),
        versions=request.app[HISTORY_KEY].versions(*town_key, limit=20),
    )
    response.set_status(status)
    return response


@desk.requires("editor")
async def offices_page(request: web.Request) -> web.Response:
    return await _page(request)


def _fields(source) -> dict[str, str]:
    return {name: str(source.get(name) or "") for name in OFFICE_FIELDS}


def _draft(request: web.Request, key: str, fields: dict[str, str]) -> str:
    return office_editing.set_office(_current(request), key, fields)


@desk.requires("editor")
async def check(request: web.Request) -> web.Response:
    body = await desk.json_body(request)
    key = str(body.get("key") or "")
    settings = request.app[desk.DESK_SETTINGS_KEY]
    try:
        text = _draft(request, key, _fields(body))
    except office_editing.OfficeError as exc:
        return web.json_response({"findings": [form_error(str(exc))], "preview": None})
    findings = await asyncio.to_thread(office_editing.check_text, settings, text)
    preview = None
    if not has_errors(findings):
        found = await asyncio.to_thread(office_editing.preview, settings, text, key)
        preview = found.as_json() if found else None
    return web.json_response({"findings": [asdict(f) for f in findings], "preview": preview})


async def _reload(request: web.Request) -> str:
    """Ask the action server to answer with the new details."""
    return await tell_assistant(
        request, "/knowledge/reload-municipality", {}, "with the new details"
    )


def _change(request: web.Request, before: str, after: str, action: str) -> None:
    settings = request.app[desk.DESK_SETTINGS_KEY]
    office_editing.write_text(settings.content.dir, _town(request), after)
    user = request[auth.USER_KEY]
    request.app[HISTORY_KEY].record(
        *municipality_key(_town(request)), before, after, user.username, action
    )


def _back(message: str, key: str = "") -> web.Response:
    anchor = f"#office-{key}" if key else ""
    return desk.redirect(f"{PAGE}?message={quote(message)}{anchor}")


@desk.requires("editor")
async def save(request: web.Request) -> web.Response:
    form = await form_fields(request)
    key = form.get("key", "")
    fields = _fields(form)
    before = _current(request)
    if key not in office_editing.offices_of(before):
        raise web.HTTPNotFound(text=f"There is no office '{key}' in the municipality file.")
    try:
        after = _draft(request, key, fields)
    except office_editing.OfficeError as exc:
        findings = {key: [Finding("error", "", str(exc), "form")]}
        return await _page(request, {key: fields}, findings, status=422)
    settings = request.app[desk.DESK_SETTINGS_KEY]
    found = await asyncio.to_thread(office_editing.check_text, settings, after)
    if has_errors(found):
        return await _page(
            request,
            {key: fields},
            {key: found},
            message="Not saved: correct the errors below first.",
            status=422,
        )
    if after == before:
        return _back("Nothing changed.", key)
    await asyncio.to_thread(_change, request, before, after, "edit")
    return _back("Saved. " + await _reload(request), key)


@desk.requires("editor")
async def undo(request: web.Request) -> web.Response:
    await form_fields(request)  # the CSRF token was checked; nothing else is sent
    current = _current(request)
    try:
        latest = request.app[HISTORY_KEY].undo_target(*municipality_key(_town(request)), current)
    except CannotUndo as exc:
        return _back(str(exc))
    await asyncio.to_thread(_change, request, current, latest.before, "undo")
    message = f"Undone: back to the details before {latest.editor}'s change. "
    return _back(message + await _reload(request))


def add_routes(app: web.Application) -> None:
    app.router.add_get(PAGE, offices_page)
    app.router.add_post(f"{PAGE}/check", check)
    app.router.add_post(f"{PAGE}/save", save)
    app.router.add_post(f"{PAGE}/undo", undo)
