"""Telegram: Rasa's channel, with hand-off, webhook check, buttons and long texts.

    # credentials.yml
    connectors.telegram.HandoffTelegramInput:
      access_token: ${HELPDESK_TELEGRAM_TOKEN}
      secret_token: ${HELPDESK_TELEGRAM_SECRET_TOKEN}
      webhook_url: ${HELPDESK_TELEGRAM_WEBHOOK_URL}
      api_url: ${HELPDESK_TELEGRAM_API_URL}     # empty: https://api.telegram.org
      desk_url: ${HELPDESK_DESK_URL}
      token: ${HELPDESK_RASA_TOKEN}

Routes, under ``/webhooks/telegram``:

- ``POST /webhook``: Telegram's updates. Refused with 403 unless the header
  ``X-Telegram-Bot-Api-Secret-Token`` carries ``secret_token``; 503 while no
  bot token or secret is set (the channel is off and never calls Telegram);
- ``POST /set_webhook`` (``Authorization: Bearer <token>``): checks the bot
  token with ``getMe`` and registers ``webhook_url`` and the secret with
  ``setWebhook``;
- ``POST /relay``: a mediator's message from the desk (connectors/relay.py).

What Rasa's own channel lacks: ``from.language_code`` goes to Rasa as the
``language_hint`` metadata; quick replies become an inline keyboard and a
press is acknowledged with ``answerCallbackQuery``; answers are split to 4096
characters; edited messages are answered as new ones; stickers, photos and
voice notes get the polite ``/non_text`` reply; sending is retried on
timeouts, 429 and 5xx.

This module runs inside Rasa (Python 3.10): it imports nothing from the
knowledge side.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput
from sanic import Blueprint, response
from sanic.request import Request

from connectors.identity import platform_id, same_secret
from connectors.messaging import (
    TELEGRAM_LIMIT,
    Incoming,
    PlatformError,
    post_with_retry,
    split_text,
    telegram_incoming,
    telegram_keyboard,
)
from connectors.relay import PlatformInput, PlatformOutput

log = logging.getLogger(__name__)

OFFICIAL_API = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramApi:
    """The few Bot API methods used, over one connection pool."""

    def __init__(self, access_token: str, api_url: str = "") -> None:
        self.base = f"{(api_url or OFFICIAL_API).rstrip('/')}/bot{access_token}"
        self._session: aiohttp.ClientSession | None = None

    async def call(self, method: str, **params: Any) -> Any:
        """Call `method`; its ``result``, or ``PlatformError`` after retries."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        answer = await post_with_retry(self._session, f"{self.base}/{method}", json=params)
        return answer.get("result")


class TelegramOutput(PlatformOutput):
    """Sends to a Telegram chat through the Bot API."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, api: TelegramApi) -> None:
        self.api = api

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        # Rasa's sender id is telegram:<chat>; Telegram wants the chat.
        for part in split_text(text, TELEGRAM_LIMIT):
            await self.api.call("sendMessage", chat_id=platform_id(recipient_id), text=part)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        # The keyboard goes with the last part, under the words it answers.
        *first, last = split_text(text, TELEGRAM_LIMIT) or ["…"]
        chat = platform_id(recipient_id)
        for part in first:
            await self.api.call("sendMessage", chat_id=chat, text=part)
        await self.api.call(
            "sendMessage", chat_id=chat, text=last, reply_markup=telegram_keyboard(buttons)
        )


class HandoffTelegramInput(PlatformInput, TelegramInput):
    """Telegram webhook with hand-off; off (503) until a bot token and secret are set."""

    CREDENTIALS = ("access_token", "secret_token", "webhook_url", "api_url")

    def __init__(
        self, access_token: str, secret_token: str, webhook_url: str, api_url: str = ""
    ) -> None:
        super().__init__(access_token, None, webhook_url, debug_mode=False)
        self.secret_token = secret_token
        self.api = TelegramApi(access_token, api_url)

    @property
    def is_on(self) -> bool:
        return bool(self.access_token and self.secret_token)

    def get_output_channel(self) -> TelegramOutput:
        # Rasa's own registers the webhook here, at every call; ours does it on request.
        return TelegramOutput(self.api)

    def authentic(self, request: Request) -> bool:
        return same_secret(request.headers.get(SECRET_HEADER), self.secret_token)

    async def incoming(self, request: Request) -> Incoming | None:
        incoming = telegram_incoming(request.json if isinstance(request.json, dict) else {})
        if incoming is not None and incoming.callback_query_id:
            await self._acknowledge(incoming.callback_query_id)
        return incoming

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.route("/set_webhook", methods=["POST"])
        async def set_webhook(request: Request) -> response.HTTPResponse:
            if not self.has_token(request):
                return response.json({"error": "Wrong or missing token."}, status=401)
            if not self.is_on or not self.webhook_url:
                return response.json(
                    {"error": "Set the bot token, secret token and webhook URL."}, status=503
                )
            try:
                bot = await self.api.call("getMe")
                await self.api.call(
                    "setWebhook",
                    url=self.webhook_url,
                    secret_token=self.secret_token,
                    allowed_updates=["message", "edited_message", "callback_query"],
                )
            except PlatformError as exc:
                return response.json({"error": str(exc)}, status=502)
            return response.json({"bot": (bot or {}).get("username"), "webhook": self.webhook_url})

        return blueprint

    async def _acknowledge(self, callback_query_id: str) -> None:
        # Stops the button's spinner; the answer itself follows as a message.
        try:
            await self.api.call("answerCallbackQuery", callback_query_id=callback_query_id)
        except PlatformError as exc:
            log.warning("answerCallbackQuery failed: %s", exc)
