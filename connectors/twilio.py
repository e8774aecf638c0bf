"""WhatsApp through Twilio: Rasa's channel, with hand-off, signature check and options.

    # credentials.yml
    connectors.twilio.HandoffTwilioInput:
      account_sid: ${HELPDESK_TWILIO_ACCOUNT_SID}
      auth_token: ${HELPDESK_TWILIO_AUTH_TOKEN}
      twilio_number: ${HELPDESK_TWILIO_NUMBER}        # whatsapp:+14155238886
      webhook_url: ${HELPDESK_TWILIO_WEBHOOK_URL}     # the public URL Twilio calls
      api_url: ${HELPDESK_TWILIO_API_URL}             # empty: https://api.twilio.com
      template_sid: ${HELPDESK_TWILIO_TEMPLATE_SID}   # HX…: approved template, after 24 h
      desk_url: ${HELPDESK_DESK_URL}
      token: ${HELPDESK_RASA_TOKEN}

Routes, under ``/webhooks/twilio``:

- ``POST /webhook``: Twilio's incoming messages (form fields). Refused with
  403 unless ``X-Twilio-Signature`` matches ``webhook_url`` (the URL as
  Twilio calls it, behind any proxy) and the fields signed with the auth
  token; 503 while the account is not set (the channel is off and never
  calls Twilio);
- ``POST /relay``: a mediator's message from the desk (connectors/relay.py).

What Rasa's own channel lacks: quick replies become numbered lines (WhatsApp
has no free-form buttons) and a reply of just the number stands for the
button; answers are split to 1600 characters; a photo or voice note without
text gets the polite ``/non_text`` reply; sending is asynchronous and retried
on timeouts, 429 and 5xx. A mediator's reply more than 24 hours after the
person's last message is held back and the approved template (``template_sid``)
goes out instead, as WhatsApp requires (connectors/whatsapp_window.py).

This module runs inside Rasa (Python 3.10): it imports nothing from the
knowledge side.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from rasa.core.channels.twilio import TwilioInput
from sanic import response
from sanic.request import Request

from connectors.identity import platform_id, same_secret
from connectors.messaging import (
    NON_TEXT,
    WHATSAPP_LIMIT,
    Choices,
    Incoming,
    basic_auth,
    numbered_options,
    post_with_retry,
    split_text,
    twilio_incoming,
    twilio_signature,
)
from connectors.relay import PlatformInput, PlatformOutput
from connectors.whatsapp_window import NO_TEMPLATE, TEMPLATE_SENT, ServiceWindow, WindowClosed

OFFICIAL_API = "https://api.twilio.com"
# An empty TwiML answer: the reply is sent through the API, not in the answer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioApi:
    """Twilio's Messages resource, over one connection pool."""

    def __init__(self, account_sid: str, auth_token: str, number: str, api_url: str = "") -> None:
        base = (api_url or OFFICIAL_API).rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.headers = {"Authorization": basic_auth(account_sid, auth_token)}
        self.number = number
        self._session: aiohttp.ClientSession | None = None

    async def send(self, to: str, body: str) -> dict:
        """Create one message; ``PlatformError`` after retries."""
        # whatsapp:+39… stays as it is (Twilio needs it); sms:+39… becomes +39….
        form = {"From": self.number, "To": platform_id(to), "Body": body}
        return await self._post(form)

    async def send_template(self, to: str, content_sid: str) -> dict:
        """Send an approved template (Content API); ``PlatformError`` after retries."""
        return await self._post(
            {"From": self.number, "To": platform_id(to), "ContentSid": content_sid}
        )

    async def _post(self, form: dict[str, str]) -> dict:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return await post_with_retry(self._session, self.url, data=form, headers=self.headers)


class TwilioOutput(PlatformOutput):
    """Sends WhatsApp (or SMS) messages through Twilio."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(
        self,
        api: TwilioApi,
        choices: Choices,
        window: ServiceWindow | None = None,
        template_sid: str = "",
    ) -> None:
        self.api = api
        self.choices = choices
        self.window = window or ServiceWindow()
        self.template_sid = template_sid

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """A mediator's message: as text within 24 hours of the person's last
        message; after that the approved template, once, and ``WindowClosed``."""
        if self.window.is_open(recipient_id):
            return await super().send_custom_json(recipient_id, json_message, **kwargs)
        if not self.template_sid:
            raise WindowClosed(NO_TEMPLATE)
        if self.window.template_due(recipient_id):
            await self.api.send_template(recipient_id, self.template_sid)
            self.window.template_sent(recipient_id)
        raise WindowClosed(TEMPLATE_SENT)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text, WHATSAPP_LIMIT):
            await self.api.send(recipient_id, part)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        self.choices.offer(recipient_id, buttons)
        await self.send_text_message(recipient_id, numbered_options(text, buttons))


class HandoffTwilioInput(PlatformInput, TwilioInput):
    """Twilio webhook with hand-off; off (503) until the account is set."""

    CREDENTIALS = (
        "account_sid",
        "auth_token",
        "twilio_number",
        "webhook_url",
        "api_url",
        "template_sid",
    )

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        webhook_url: str = "",
        api_url: str = "",
        template_sid: str = "",
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.webhook_url = webhook_url
        self.api = TwilioApi(account_sid, auth_token, twilio_number, api_url)
        self.choices = Choices()
        self.window = ServiceWindow()
        self.template_sid = template_sid

    @property
    def is_on(self) -> bool:
        return bool(self.account_sid and self.auth_token and self.twilio_number)

    def get_output_channel(self) -> TwilioOutput:
        return TwilioOutput(self.api, self.choices, self.window, self.template_sid)

    def authentic(self, request: Request) -> bool:
        """X-Twilio-Signature matches the URL Twilio called and the form it sent."""
        expected = twilio_signature(
            self.auth_token, self.webhook_url or request.url, _fields(request)
        )
        return same_secret(request.headers.get("X-Twilio-Signature"), expected)

    async def incoming(self, request: Request) -> Incoming | None:
        incoming = twilio_incoming(dict(_fields(request)))
        if incoming is not None:
            # Any message, a photo or voice note too, opens WhatsApp's 24-hour window.
            self.window.heard(incoming.sender_id)
        if incoming is None or incoming.text == NON_TEXT:
            return incoming
        return Incoming(incoming.sender_id, self.choices.answer(incoming.sender_id, incoming.text))

    def webhook_answer(self) -> response.HTTPResponse:
        return response.text(EMPTY_TWIML, content_type="text/xml")


def _fields(request: Request) -> list[tuple[str, str]]:
    # Every field, empty ones too (a voice note's Body is ""): Twilio signs them
    # all, and Sanic's request.form leaves blank values out.
    return parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
