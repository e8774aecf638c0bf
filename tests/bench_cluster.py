"""Benchmark, not a test: a region under load while one of each process is killed.

    make bench-cluster
    .venv/app/bin/python -m tests.bench_cluster [--conversations 200] [--seconds 240]

The region of `make run-cluster` (bot/serve_cluster.py) on free ports with a
data folder of its own. First, throughput: the same closed-loop load over
REST, 30 s with one Rasa process and 30 s with two. Then the fault run: half
the conversations over REST, half over the widget's socket.io, each asking,
waiting for the answer, pausing 3-5 s and asking again, for ``--seconds``;
at 20%, 45% and 70% of the time one Rasa process (the one holding the
socket.io sessions), one action server and one web app are each killed
(SIGKILL) and started again at once.

Clients behave as ours do: every message carries its own id; a REST caller
that gets no answer (a 502 from nginx, a dropped connection) sends it again
marked ``resent``; the widget reconnects to its session and sends again what
was not acknowledged (connectors/once.py).

It prints turns completed, errors, apologies, p50/p95 per phase (before,
during each fault, after it), then **messages lost** (a message sent that the
tracker store does not hold, once the queues have drained) and **duplicates**
(a message held twice, or a bot message delivered twice to a widget), and
each process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.serve_cluster import Ports, postgres_home, start_region
from knowledge.settings import load_settings
from tests.bench import BENCH_REST_TOKEN, REST_AUTH, machine, percentile
from tests.bench_faults import APOLOGIES, confident_questions
from tests.conftest import free_ports
from tests.socketio_client import SocketIOClient

TURN_TIMEOUT = 120.0
RESEND_AFTER = 2.0


@dataclass
class Turn:
    sent: float
    seconds: float | None  # None: never answered
    apology: bool = False
    error: str = ""
    resent: int = 0


@dataclass
class Run:
    turns: list[Turn] = field(default_factory=list)
    # sender -> message ids sent, in order
    sent: dict[str, list[str]] = field(default_factory=dict)
    # (name, killed, healthy again)
    faults: list[tuple[str, float, float]] = field(default_factory=list)
    widget_duplicates: int = 0


# -- Clients ------------------------------------------------------------------


async def rest_conversation(run: Run, url: str, questions: list[str], until: float) -> None:
    sender = f"cluster-rest-{uuid.uuid4().hex[:10]}"
    ids = run.sent.setdefault(f"rest:{sender}", [])
    async with aiohttp.ClientSession(headers=REST_AUTH) as http:
        while time.monotonic() < until:
            message_id = f"m{len(ids)}-{uuid.uuid4().hex[:8]}"
            ids.append(message_id)
            body = {"sender": sender, "message": random.choice(questions), "message_id": message_id}
            turn = Turn(time.monotonic(), None)
            while time.monotonic() - turn.sent < TURN_TIMEOUT:
                try:
                    async with http.post(
                        url, json=body, timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT)
                    ) as response:
                        replies = await response.json() if response.status == 200 else None
                        status = response.status
                except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                    replies, status = None, type(exc).__name__
                if replies is not None and (replies or body.get("resent")):
                    turn.seconds = time.monotonic() - turn.sent
                    turn.apology = any(r.get("text") in APOLOGIES for r in replies)
                    break
                # No answer: the caller cannot know whether it arrived, so sends it again.
                turn.error, turn.resent = f"REST {status}", turn.resent + 1
                body["resent"] = True
                await asyncio.sleep(RESEND_AFTER)
            if turn.seconds is not None:
                turn.error = ""
            run.turns.append(turn)
            await asyncio.sleep(random.uniform(3, 5))


async def socketio_conversation(run: Run, server: str, questions: list[str], until: float) -> None:
    session = tag = None
    seen: Counter[str] = Counter()
    ids: list[str] | None = None
    pending: tuple[str, str, Turn] | None = None  # message id, text, its turn
    while time.monotonic() < until or pending:
        try:
            async with SocketIOClient(server, session, tag) as chat:
                session, tag = chat.session_id, chat.session_tag
                if ids is None:
                    ids = run.sent.setdefault(f"socketio:{session}", [])
                while time.monotonic() < until or pending:
                    if pending is None:
                        message_id = f"c{len(ids)}-{uuid.uuid4().hex[:8]}"
                        ids.append(message_id)
                        pending = (
                            message_id,
                            random.choice(questions),
                            Turn(time.monotonic(), None),
                        )
                        resent = False
                    else:
                        resent = True  # after a reconnect
                        pending[2].resent += 1
                    message_id, text, turn = pending
                    if time.monotonic() - turn.sent > TURN_TIMEOUT:
                        turn.error = "socket.io, no answer"
                        run.turns.append(turn)
                        pending = None
                        continue
                    await chat.say_acknowledged(
                        text, message_id=message_id, resent=resent, timeout=TURN_TIMEOUT
                    )
                    turn.seconds = time.monotonic() - turn.sent
                    while not chat.messages.empty():
                        received, payload = chat.messages.get_nowait()
                        if isinstance(payload.get("id"), str):
                            seen[payload["id"]] += 1
                        turn.apology |= payload.get("text") in APOLOGIES
                    run.turns.append(turn)
                    pending = None
                    await asyncio.sleep(random.uniform(3, 5))
        except (OSError, TimeoutError, aiohttp.ClientError, RuntimeError):
            # The process holding the session died: reconnect to the same session.
            await asyncio.sleep(1)
    run.widget_duplicates += sum(count - 1 for count in seen.values() if count > 1)


# -- Faults and figures ---------------------------------------------------------


async def kill_and_restart(run: Run, supervisor, name: str, at: float) -> None:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    part = supervisor.part(name)
    killed = time.monotonic()
    part.process.kill()
    part.process.wait()
    await asyncio.to_thread(supervisor.start_part, part)
    run.faults.append((name, killed, time.monotonic()))


def established(port: int) -> int:
    """Connections established to a local port (from /proc/net/tcp)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def phase_line(name: str, turns: list[Turn]) -> str:
    answered = [t.seconds * 1000 for t in turns if t.seconds is not None]
    p50 = statistics.median(answered) if answered else float("nan")
    p95 = percentile(answered, 0.95) if answered else float("nan")
    apologies = sum(t.apology for t in turns)
    errors = sum(1 for t in turns if t.error)
    return (
        f"  {name:<30} turns={len(answered):<5} p50={p50:7.0f} ms  p95={p95:7.0f} ms  "
        f"apologies={apologies:<3} errors={errors:<3} sent again={sum(t.resent for t in turns)}"
    )


def report(run: Run, started: float, ended: float) -> None:
    faults = sorted(run.faults, key=lambda f: f[1])
    print(f"Run: {ended - started:.0f} s, {len(run.sent)} conversations")
    edges = [started] + [edge for _, killed, healthy in faults for edge in (killed, healthy)]
    edges.append(ended)
    names = ["before any fault"]
    for name, _, _ in faults:
        names += [f"during: {name} down", f"after the {name}"]
    for name, begin, end in zip(names, edges[:-1], edges[1:], strict=True):
        print(phase_line(name, [t for t in run.turns if begin <= t.sent < end]))
    for name, killed, healthy in faults:
        print(
            f"  {name}: killed at {killed - started:.0f} s, healthy after {healthy - killed:.1f} s"
        )
    print(f"  turns completed: {sum(t.seconds is not None for t in run.turns)}")
    print(f"  errors (never answered): {sum(1 for t in run.turns if t.seconds is None)}")


def stored_ids(sockets: Path, port: int) -> Counter[tuple[str, str]]:
    import psycopg

    with psycopg.connect(
        host=str(sockets), port=port, user="helpdesk_admin", dbname="helpdesk_tracker"
    ) as db:
        rows = db.execute("SELECT sender_id, data FROM events WHERE type_name = 'user'")
        return Counter((sender, json.loads(data).get("message_id")) for sender, data in rows)


def lost_and_doubled(run: Run, sockets: Path, port: int) -> tuple[list[str], list[str]]:
    held = stored_ids(sockets, port)
    lost, doubled = [], []
    for sender, ids in run.sent.items():
        for message_id in ids:
            count = held[(sender, message_id)]
            if count == 0:
                lost.append(f"{sender} {message_id}")
            elif count > 1:
                doubled.append(f"{sender} {message_id} x{count}")
    return lost, doubled


async def settled(run: Run, sockets: Path, port: int, quiet: float = 60) -> tuple[list, list]:
    """Lost means still missing once nothing new was stored for `quiet` seconds."""
    lost, doubled = lost_and_doubled(run, sockets, port)
    changed = time.monotonic()
    while lost and time.monotonic() - changed < quiet:
        await asyncio.sleep(5)
        now = lost_and_doubled(run, sockets, port)
        if now[0] != lost:
            changed = time.monotonic()
        lost, doubled = now
    return lost, doubled


async def closed_loop(rest: str, questions: list[str], conversations: int, seconds: float) -> float:
    """Turns per second with `conversations` callers sending one after another."""
    done = 0
    until = time.monotonic() + seconds

    async def caller() -> None:
        nonlocal done
        async with aiohttp.ClientSession(headers=REST_AUTH) as http:
            while time.monotonic() < until:
                sender = f"cluster-load-{uuid.uuid4().hex[:10]}"
                for _ in range(4):  # a few turns each, as people write
                    body = {"sender": sender, "message": random.choice(questions)}
                    with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                        async with http.post(rest, json=body) as response:
                            if response.status == 200 and await response.json():
                                done += 1
                    if time.monotonic() >= until:
                        return

    started = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(conversations)))
    return done / (time.monotonic() - started)


def peak_memory(supervisor) -> dict[str, int]:
    peaks = {}
    for part in supervisor.parts:
        with contextlib.suppress(OSError, AttributeError):
            for line in Path(f"/proc/{part.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[part.name] = int(line.split()[1]) // 1024
    return peaks


async def drive(args, settings, ports: Ports, supervisor, sockets: Path) -> tuple[list, list]:
    rest = f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook"
    public = f"http://127.0.0.1:{ports.public}"
    questions = await confident_questions(rest)
    print(f"Questions: {len(questions)} answered with confidence, asked at random")

    second = supervisor.part("Rasa 2")
    await asyncio.to_thread(supervisor.stop_part, second)
    one = await closed_loop(rest, questions, args.load, args.load_seconds)
    await asyncio.to_thread(supervisor.start_part, second)
    two = await closed_loop(rest, questions, args.load, args.load_seconds)
    print(
        f"Throughput, {args.load} callers one after another over REST: one Rasa process "
        f"{one:.1f} turns/s, two {two:.1f} turns/s (x{two / one:.2f})"
    )

    run = Run()
    started = time.monotonic()
    until = started + args.seconds
    tasks = []
    for number in range(args.conversations):
        if number % 2:
            tasks.append(socketio_conversation(run, public, questions, until))
        else:
            tasks.append(rest_conversation(run, rest, questions, until))
    conversations = [asyncio.create_task(task) for task in tasks]
    # The Rasa process the widgets are connected to (nginx keeps them on one).
    await asyncio.sleep(min(15.0, args.seconds * 0.1))
    holder = max((1, 2), key=lambda n: established(ports.rasa_processes[n - 1]))
    faults = [
        kill_and_restart(run, supervisor, f"Rasa {holder}", started + args.seconds * 0.2),
        kill_and_restart(run, supervisor, "action server 1", started + args.seconds * 0.45),
        kill_and_restart(run, supervisor, "web app 1", started + args.seconds * 0.7),
    ]
    await asyncio.gather(*faults, *conversations)
    report(run, started, time.monotonic())
    print(f"  bot messages delivered twice to a widget: {run.widget_duplicates}")
    lost, doubled = await settled(run, sockets, ports.postgres)
    print(f"  messages lost: {len(lost)}")
    print(f"  messages handled twice: {len(doubled)}")
    for line in lost[:20] + doubled[:20]:
        print(f"    {line}")
    for name, mib in peak_memory(supervisor).items():
        print(f"  peak memory {name}: {mib} MiB")
    return lost, doubled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--load", type=int, default=40, help="callers in the throughput runs")
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the run's data and logs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="helpdesk-cluster-bench-"))
    environ = {
        **os.environ,
        "HELPDESK_DATA_DIR": str(work / "data"),
        "HELPDESK_ARGOS_MODELS": str(work / "no-translation-packages"),
        "HELPDESK_REST_TOKEN": BENCH_REST_TOKEN,
        "HELPDESK_API_TOKEN": "bench",
        # Every simulated person writes from this machine.
        "HELPDESK_NEW_CONVERSATIONS_PER_ADDRESS": "1000000",
        "HELPDESK_DESK_HOURS": "always",
    }
    settings = load_settings(environ=environ)
    print(f"Machine: {machine()}")
    from knowledge.embedding import load_embedder
    from knowledge.entries import load_kit
    from knowledge.index import build_index

    kit = load_kit(settings.content.dir, settings.content.municipality)
    build_index(kit, load_embedder(settings.models), settings.index_dir, progress=False)
    ports = free_ports()
    supervisor = None
    lost: list = []
    try:
        settings, ports, supervisor = start_region(environ, ports, log_dir=work / "logs")
        sockets = postgres_home(settings.data_dir)[0] / "sockets"
        lost, doubled = asyncio.run(drive(args, settings, ports, supervisor, sockets))
        lost += doubled
    finally:
        if supervisor:
            supervisor.stop()
        if args.keep or lost:
            print(f"Data and logs kept in {work}")
        else:
            shutil.rmtree(postgres_home(settings.data_dir)[0], ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
