"""Rasa's input channels as credentials.yml configures them, served without a model.

    .venv/rasa/bin/python -m tests.channels_off_server PORT

Run with Rasa's Python by tests/test_channels_off.py, with the platforms'
variables unset (empty, as ``make run`` passes them): every channel Rasa
would start is registered as Rasa does, and any message a channel passes on
fails loudly.
"""

from __future__ import annotations

import sys

from rasa.core.channels.channel import UserMessage, register
from rasa.core.run import create_http_input_channels
from sanic import Sanic


class NoAgent:
    async def handle_message(self, message: UserMessage) -> None:
        raise AssertionError(f"A channel that is off passed on {message.text!r}")


def serve_channels(name: str, agent: object, port: int) -> None:
    """Every channel of credentials.yml, registered as Rasa does, with `agent`."""
    app = Sanic(name)
    app.ctx.agent = agent
    register(create_http_input_channels(None, "credentials.yml"), app, route="/webhooks/")
    app.run(host="127.0.0.1", port=port, access_log=False)


if __name__ == "__main__":
    serve_channels("channels_off", NoAgent(), int(sys.argv[1]))
