"""A logged-in HTTP client for the desk pages, with cookies and the page's CSRF token."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class DeskClient:
    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.csrf = ""
        # The desk's store (tests only): pages name hand-offs by id, never by sender id.
        self.store = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def login(self, username: str, password: str, page: str = "/desk") -> int:
        _, _, html = self.request("GET", "/login")
        token = _CSRF_FIELD.search(html.decode()).group(1)
        form = urllib.parse.urlencode(
            {"username": username, "password": password, "csrf": token, "next": ""}
        ).encode()
        status, _, _ = self.request(
            "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status == 303:
            _, _, html = self.request("GET", page)
            found = _CSRF_META.search(html.decode())
            self.csrf = found.group(1) if found else ""
        return status

    def queued(self, sender: str) -> dict | None:
        """This person's open hand-off as this user's queue shows it, or None."""
        ids = {h["id"] for h in self.store.queue() if h["sender_id"] == sender}
        _, body = self.get("/desk/api/queue")
        return next((h for h in body.get("handoffs", []) if h["id"] in ids), None)

    def get(self, path: str) -> tuple[int, dict]:
        status, _, body = self.request("GET", path)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {"text": body.decode(errors="replace")}

    def post(
        self, path: str, body: dict | None = None, csrf: str | None = None
    ) -> tuple[int, dict]:
        headers = {
            "Content-Type": "application/json",
            "X-CSRF-Token": self.csrf if csrf is None else csrf,
        }
        status, _, raw = self.request("POST", path, json.dumps(body or {}).encode(), headers)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, {"text": raw.decode(errors="replace")}
