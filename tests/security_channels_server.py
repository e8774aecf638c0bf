"""Rasa's input channels as credentials.yml configures them, with a stand-in agent.

    .venv/rasa/bin/python -m tests.security_channels_server PORT

Run with Rasa's Python by tests/test_security_channels.py: the channels are
registered as Rasa does, and the agent answers each message with who sent it
(``sender_id``, ``input_channel``) instead of running a model, so the tests
see what identity a request gets without training or starting Rasa.
"""

from __future__ import annotations

import sys

from rasa.core.channels.channel import UserMessage, register
from rasa.core.run import create_http_input_channels
from sanic import Sanic


class EchoAgent:
    async def handle_message(self, message: UserMessage) -> None:
        await message.output_channel.send_text_message(
            message.sender_id,
            f"{message.sender_id}|{message.input_channel}|{message.text}",
        )


def main(port: int) -> None:
    app = Sanic("security_channels")
    app.ctx.agent = EchoAgent()
    register(create_http_input_channels(None, "credentials.yml"), app, route="/webhooks/")
    app.run(host="127.0.0.1", port=port, access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
