"""Benchmark, not a test: 100 conversations at once while the action server is killed.

    make bench            # runs this after tests.bench
    .venv/app/bin/python -m tests.bench_faults [--conversations 100] [--seconds 150]

Half the conversations use the REST channel, half the widget's socket.io
channel. Each asks a question, waits for the reply, pauses 3-5 s (under the
rate limit) and asks again, for at least ``--seconds``. After a first third of
the time the action server is killed (SIGKILL) and started again at once.

It prints, for the phases before, during (from the kill until the action
server is healthy) and after the fault: turns completed, p50 and p95 of the
time to the first reply, apologies (``utter_action_unavailable``) and errors
(HTTP failures, timeouts, no reply). Last, it counts messages lost: every
message sent must be in Rasa's tracker store, in order, once the messages
still waiting their turn at the end have been answered. The run's data and
logs are removed at the end, unless ``--keep`` or a message was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
import yaml

from knowledge.evaluation import load_questions
from knowledge.settings import PROJECT_ROOT
from tests.bench import QUESTIONS, REST_AUTH, percentile, start_assistant, stop_assistant
from tests.socketio_client import SocketIOClient

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
# The apology, in every language, as Rasa sends it when the action server is down.
APOLOGIES = {variation["text"] for variation in DOMAIN["responses"]["utter_action_unavailable"]}
TURN_TIMEOUT = 120.0


@dataclass
class Turn:
    sent: float
    seconds: float | None  # None: no reply or failure
    apology: bool = False
    error: str = ""


@dataclass
class Run:
    turns: list[Turn] = field(default_factory=list)
    sent: dict[str, list[str]] = field(default_factory=dict)  # sender -> texts, in order
    fault: tuple[float, float] = (0.0, 0.0)  # kill, healthy again


async def rest_conversation(run: Run, url: str, questions: list[str], until: float) -> None:
    sender = f"fault-rest-{uuid.uuid4().hex[:8]}"
    sent = run.sent.setdefault(f"rest:{sender}", [])
    async with aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT), headers=REST_AUTH
    ) as http:
        while time.monotonic() < until:
            text = random.choice(questions)
            sent.append(text)
            started = time.monotonic()
            try:
                async with http.post(url, json={"sender": sender, "message": text}) as response:
                    replies = await response.json() if response.status == 200 else None
                    status = response.status
            except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                replies, status = None, type(exc).__name__
            elapsed = time.monotonic() - started
            if not replies:
                run.turns.append(Turn(started, None, error=f"REST {status}, no reply"))
            else:
                apology = any(r.get("text") in APOLOGIES for r in replies)
                run.turns.append(Turn(started, elapsed, apology))
            await asyncio.sleep(random.uniform(3, 5))


async def socketio_conversation(
    run: Run, rasa_url: str, questions: list[str], until: float
) -> None:
    async with SocketIOClient(rasa_url) as chat:
        sent = run.sent.setdefault(chat.sender_id, [])
        while time.monotonic() < until:
            while not chat.messages.empty():  # replies that came after the last turn
                chat.messages.get_nowait()
            text = random.choice(questions)
            sent.append(text)
            started = time.monotonic()
            await chat.say(text)
            try:
                first = await chat.next_message(timeout=TURN_TIMEOUT)
            except TimeoutError:
                run.turns.append(Turn(started, None, error="socket.io, no reply"))
            else:
                apology = first.get("text") in APOLOGIES
                run.turns.append(Turn(started, first["_received"] - started, apology))
            await asyncio.sleep(random.uniform(3, 5))


async def fault(run: Run, supervisor, at: float) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    part = supervisor.part("action server")
    killed = time.monotonic()
    part.process.kill()
    part.process.wait()
    await asyncio.to_thread(supervisor.start_part, part)
    run.fault = (killed, time.monotonic())


def lost_messages(run: Run, tracker_db) -> list[str]:
    """Messages sent that the tracker store does not hold, in order, per
    conversation, as "<sender> #<position>: <text>"."""
    lost = []
    with sqlite3.connect(tracker_db) as db:
        for sender, texts in run.sent.items():
            stored = [
                json.loads(data).get("text")
                for (data,) in db.execute(
                    "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' "
                    "ORDER BY id",
                    (sender,),
                )
            ]
            kept = iter(stored)
            # Sent texts must appear in the store in the same order.
            lost += [
                f"{sender} #{position}: {text}"
                for position, text in enumerate(texts, 1)
                if not any(text == other for other in kept)
            ]
    return lost


def report(run: Run, started: float, ended: float) -> None:
    kill, healthy = run.fault
    phases = {
        "before": (started, kill),
        "during": (kill, healthy),
        "after": (healthy, ended),
    }
    print(
        f"Fault: action server killed at {kill - started:.0f} s, healthy again at "
        f"{healthy - started:.0f} s; run {ended - started:.0f} s"
    )
    for name, (begin, end) in phases.items():
        turns = [t for t in run.turns if begin <= t.sent < end]
        answered = [t.seconds * 1000 for t in turns if t.seconds is not None]
        p50 = statistics.median(answered) if answered else float("nan")
        p95 = percentile(answered, 0.95) if answered else float("nan")
        print(
            f"  {name:<7} turns={len(answered):<5} p50={p50:8.0f} ms  p95={p95:8.0f} ms  "
            f"apologies={sum(t.apology for t in turns):<4} "
            f"errors={sum(1 for t in turns if t.error):<4}"
        )
    # Load alone must never apologise: a slow answer is late, not "technical problem".
    unfaulted = [
        t for t in run.turns if t.apology and t.seconds is not None and t.sent + t.seconds < kill
    ]
    print(f"  apologies answered before the kill (load alone, must be 0): {len(unfaulted)}")
    errors = sorted({t.error for t in run.turns if t.error})
    print(f"  turns completed: {sum(t.seconds is not None for t in run.turns)}")
    print(f"  errors: {sum(1 for t in run.turns if t.error)} {errors if errors else ''}")


async def drive(settings, supervisor, conversations: int, seconds: float) -> list[str]:
    """Drive the conversations and print the figures; return the messages lost."""
    rasa = settings.services.rasa_url
    rest = f"{rasa}/webhooks/rest/webhook"
    questions = await confident_questions(rest)
    print(f"Questions: {len(questions)} answered with confidence, asked at random")
    run = Run()
    started = time.monotonic()
    until = started + seconds
    tasks = [fault(run, supervisor, started + seconds / 3)]
    for number in range(conversations):
        if number % 2:
            tasks.append(socketio_conversation(run, rasa, questions, until))
        else:
            tasks.append(rest_conversation(run, rest, questions, until))
    await asyncio.gather(*tasks)
    ended = time.monotonic()
    report(run, started, ended)
    tracker_db = settings.data_dir / "tracker.db"
    print(f"  messages not yet stored when the run ended: {len(lost_messages(run, tracker_db))}")
    lost = await settled_losses(run, tracker_db)
    print(f"  messages lost: {len(lost)}")
    for message in lost:
        print(f"    {message}")
    return lost


async def settled_losses(run: Run, tracker_db, quiet_seconds: float = 60) -> list[str]:
    """Messages never stored. A person's messages wait their turn in order, so
    at the end some are still waiting: lost means still missing once nothing
    has been stored for `quiet_seconds`."""
    lost, last_change = lost_messages(run, tracker_db), time.monotonic()
    while lost and time.monotonic() - last_change < quiet_seconds:
        await asyncio.sleep(5)
        now_lost = lost_messages(run, tracker_db)
        if now_lost != lost:
            lost, last_change = now_lost, time.monotonic()
    return lost


async def confident_questions(rest: str, wanted: int = 40) -> list[str]:
    """Development questions the knowledge index answers, so no conversation is handed off
    (two unsure answers in a row call a mediator, and the bot then falls silent)."""
    found = []
    async with aiohttp.ClientSession(headers=REST_AUTH) as http:
        for question in load_questions(QUESTIONS):
            body = {"sender": f"fault-probe-{uuid.uuid4().hex[:8]}", "message": question.text}
            async with http.post(rest, json=body) as response:
                replies = await response.json()
            if any("custom" in reply for reply in replies):
                found.append(question.text)
            if len(found) == wanted:
                break
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--keep", action="store_true", help="keep the run's data and logs")
    args = parser.parse_args()
    settings, supervisor = start_assistant()
    lost: list[str] = []
    try:
        lost = asyncio.run(drive(settings, supervisor, args.conversations, args.seconds))
    finally:
        # Kept when a message was lost: Rasa's log tells why.
        stop_assistant(settings, supervisor, keep=args.keep or bool(lost))


if __name__ == "__main__":
    main()
