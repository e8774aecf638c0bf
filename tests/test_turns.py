"""One turn at a time per person (connectors/turns.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from connectors.turns import TurnQueue


@dataclass
class Message:
    sender_id: str
    text: str


class Busy(Exception):
    """Stands for Rasa's LockError: another instance holds the conversation."""


def test_one_senders_messages_are_answered_one_at_a_time_in_arrival_order():
    queue, log = TurnQueue(), []

    async def answer(message: Message) -> None:
        log.append(("start", message.sender_id, message.text))
        await asyncio.sleep(0.05)
        log.append(("end", message.sender_id, message.text))

    async def story() -> None:
        handle = queue.in_order(answer)
        await asyncio.gather(*(handle(Message("amal", str(n))) for n in range(5)))

    asyncio.run(story())
    assert log == [(step, "amal", str(n)) for n in range(5) for step in ("start", "end")]
    assert queue.waiting("amal") == 0


def test_different_senders_are_not_kept_waiting_for_each_other():
    queue, running, most = TurnQueue(), set(), 0

    async def answer(message: Message) -> None:
        nonlocal most
        running.add(message.sender_id)
        most = max(most, len(running))
        await asyncio.sleep(0.05)
        running.discard(message.sender_id)

    async def story() -> None:
        handle = queue.in_order(answer)
        await asyncio.gather(*(handle(Message(f"p{n}", "hi")) for n in range(4)))

    asyncio.run(story())
    assert most == 4


def test_a_busy_conversation_is_tried_again_until_it_takes_the_message():
    queue, tries = TurnQueue(retry_on=(Busy,), attempts=3, pause_seconds=0.01), []

    async def answer(message: Message) -> None:
        tries.append(message.text)
        if len(tries) < 3:
            raise Busy("Could not acquire lock")

    asyncio.run(queue.in_order(answer)(Message("amal", "ciao")))
    assert tries == ["ciao"] * 3


def test_after_the_last_try_the_error_is_raised_and_the_queue_is_free():
    queue = TurnQueue(retry_on=(Busy,), attempts=2, pause_seconds=0.01)
    answered = []

    async def answer(message: Message) -> None:
        if message.text == "first":
            raise Busy("Could not acquire lock")
        answered.append(message.text)

    async def story() -> None:
        handle = queue.in_order(answer)
        with pytest.raises(Busy):
            await handle(Message("amal", "first"))
        await handle(Message("amal", "second"))

    asyncio.run(story())
    assert answered == ["second"]
    assert queue.waiting("amal") == 0


def test_other_errors_are_not_retried():
    queue, tries = TurnQueue(retry_on=(Busy,), pause_seconds=0.01), []

    async def answer(message: Message) -> None:
        tries.append(message.text)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        asyncio.run(queue.in_order(answer)(Message("amal", "ciao")))
    assert tries == ["ciao"]
