"""Rasa's input channels as credentials.yml configures them, with a stand-in agent.

    .venv/rasa/bin/python -m tests.security_channels_server PORT

Run with Rasa's Python by tests/test_security_channels.py: the channels are
registered as Rasa does, and the agent answers each message with who sent it
(``sender_id``, ``input_channel``) instead of running a model, so the tests
see what identity a request gets without training or starting Rasa.
"""

from __future__ import annotations

import sys

from rasa.core.channels.channel import UserMessage

from tests.channels_off_server import serve_channels


class EchoAgent:
    async def handle_message(self, message: UserMessage) -> None:
        await message.output_channel.send_text_message(
            message.sender_id,
            f"{message.sender_id}|{message.input_channel}|{message.text}",
        )


if __name__ == "__main__":
    serve_channels("security_channels", EchoAgent(), int(sys.argv[1]))
