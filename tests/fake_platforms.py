"""Telegram's Bot API and Twilio's Messages resource, served on loopback for the tests.

Only what the assistant uses, with the request and answer shapes each platform
documents: Telegram ``getMe``, ``setWebhook``, ``sendMessage`` (4096-character
limit, 64-byte callback_data) and ``answerCallbackQuery``
(https://core.telegram.org/bots/api); Twilio ``POST
/2010-04-01/Accounts/{AccountSid}/Messages.json`` with Basic auth and the
1600-character body limit (https://www.twilio.com/docs/messaging/api/message-resource),
and an approved template named by ``ContentSid`` in place of a Body.

    platforms = FakePlatforms().start()
    environ.update(platform_env(platforms.url, rasa_url))   # for Rasa's credentials.yml
    platforms.fail("sendMessage", 500, 500)   # the next two calls fail
    platforms.calls("sendMessage", chat_id="42")
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import BasicAuth, web

TELEGRAM_TOKEN = "123456789:AAE-fake-token-for-tests"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-for-tests"
TELEGRAM_SECRET = "telegram-secret-for-tests"
WHATSAPP_NUMBER = "whatsapp:+14155238886"
# An approved WhatsApp template's Content SID, for replies after the 24-hour window.
TWILIO_TEMPLATE_SID = "HX" + "0123456789abcdef" * 2
BOT = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "Sportello",
    "username": "sportello_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


def platform_env(api_url: str, rasa_url: str) -> dict[str, str]:
    """The variables of credentials.yml that point Telegram and Twilio at `api_url`."""
    return {
        "HELPDESK_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "HELPDESK_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "HELPDESK_TELEGRAM_WEBHOOK_URL": f"{rasa_url}/webhooks/telegram/webhook",
        "HELPDESK_TELEGRAM_API_URL": api_url,
        "HELPDESK_TWILIO_ACCOUNT_SID": TWILIO_SID,
        "HELPDESK_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "HELPDESK_TWILIO_NUMBER": WHATSAPP_NUMBER,
        "HELPDESK_TWILIO_WEBHOOK_URL": f"{rasa_url}/webhooks/twilio/webhook",
        "HELPDESK_TWILIO_API_URL": api_url,
        "HELPDESK_TWILIO_TEMPLATE_SID": TWILIO_TEMPLATE_SID,
    }


@dataclass
class Call:
    method: str  # a Bot API method, or "Messages" for Twilio
    params: dict
    at: float


class FakePlatforms:
    """Records every call; answers as the platform would, or with planned failures."""

    def __init__(self) -> None:
        self.received: list[Call] = []
        self._failures: dict[str, deque[tuple[int, float]]] = {}
        self._ids = itertools.count(1000)
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def start(self) -> FakePlatforms:
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    def fail(self, method: str, *statuses: int, retry_after: float = 0) -> None:
        """The next calls of `method` answer these statuses, in order."""
        self._failures.setdefault(method, deque()).extend((s, retry_after) for s in statuses)

    def calls(self, method: str, **match: str) -> list[dict]:
        """Parameters of the accepted and refused calls of `method` matching `match`."""
        return [
            call.params
            for call in list(self.received)
            if call.method == method
            and all(str(call.params.get(k)) == str(v) for k, v in match.items())
        ]

    def texts_to(self, chat_id: str) -> list[str]:
        """What the bot sent to a Telegram chat (accepted calls only)."""
        return [p["text"] for p in self.calls("sendMessage", chat_id=chat_id) if p.get("_ok")]

    def bodies_to(self, number: str) -> list[str]:
        """What was sent to a WhatsApp number through Twilio (accepted calls only)."""
        return [p["Body"] for p in self.calls("Messages", To=number) if p.get("_ok")]

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._telegram)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._twilio)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        ready.set()
        self._loop.run_forever()

    def _planned(self, method: str) -> tuple[int, float] | None:
        planned = self._failures.get(method)
        return planned.popleft() if planned else None

    async def _telegram(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
        call = Call(method, params, time.monotonic())
        self.received.append(call)
        if request.match_info["token"] != TELEGRAM_TOKEN:
            return _telegram_error(401, "Unauthorized")
        failure = self._planned(method)
        if failure:
            status, retry_after = failure
            if status == 429:
                return _telegram_error(
                    429,
                    f"Too Many Requests: retry after {retry_after:g}",
                    {"retry_after": retry_after},
                )
            return _telegram_error(status, "Internal Server Error")
        if method == "getMe":
            result: object = BOT
        elif method == "setWebhook":
            if not str(params.get("url", "")).startswith(("https://", "http://")):
                return _telegram_error(400, "Bad Request: bad webhook: invalid URL")
            result = True
        elif method == "answerCallbackQuery":
            if not params.get("callback_query_id"):
                return _telegram_error(400, "Bad Request: query is too old or query ID is invalid")
            result = True
        elif method == "sendMessage":
            problem = _telegram_message_problem(params)
            if problem:
                return _telegram_error(400, problem)
            result = {
                "message_id": next(self._ids),
                "from": BOT,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "date": int(time.time()),
                "text": params["text"],
                **({"reply_markup": params["reply_markup"]} if "reply_markup" in params else {}),
            }
        else:
            return _telegram_error(404, "Not Found")
        params["_ok"] = True
        return web.json_response({"ok": True, "result": result})

    async def _twilio(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        params = dict(await request.post())
        self.received.append(Call("Messages", params, time.monotonic()))
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            auth = None
        signed_in = auth is not None and (auth.login, auth.password) == (TWILIO_SID, TWILIO_TOKEN)
        if not signed_in or sid != TWILIO_SID:
            return _twilio_error(401, 20003, "Authenticate")
        failure = self._planned("Messages")
        if failure:
            status, retry_after = failure
            headers = {"Retry-After": f"{retry_after:g}"} if status == 429 else {}
            return _twilio_error(status, 20429 if status == 429 else 20500, "Failed", headers)
        if not params.get("To") or not params.get("From"):
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        body = params.get("Body", "")
        # A template (Content API) needs no Body: ContentSid names it.
        if not body and not params.get("MediaUrl") and not params.get("ContentSid"):
            return _twilio_error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        params["_ok"] = True
        message_sid = f"SM{next(self._ids):032d}"
        return web.json_response(
            {
                "sid": message_sid,
                "account_sid": sid,
                "to": params["To"],
                "from": params["From"],
                "body": body,
                "status": "queued",
                "num_segments": "1",
                "num_media": "0",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "error_code": None,
                "error_message": None,
                "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            },
            status=201,
        )


def _telegram_message_problem(params: dict) -> str:
    text = params.get("text") or ""
    if "chat_id" not in params:
        return "Bad Request: chat not found"
    if not text.strip():
        return "Bad Request: message text is empty"
    if len(text.encode("utf-16-le")) // 2 > 4096:
        return "Bad Request: message is too long"
    for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if not 1 <= len(str(button.get("callback_data", "")).encode()) <= 64:
                return "Bad Request: BUTTON_DATA_INVALID"
    return ""


def _telegram_error(status: int, description: str, parameters: dict | None = None) -> web.Response:
    body: dict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _twilio_error(
    status: int, code: int, message: str, headers: dict | None = None
) -> web.Response:
    return web.json_response(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status=status,
        headers=headers,
    )
