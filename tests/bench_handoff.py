"""Benchmark of hand-off relay latency, run by ``make bench`` after the others.

50 people (by default) talk over Rasa's socket.io channel, as the widget does,
and ask for a person at the same time. One mediator claims every hand-off; then
in each conversation, three times: the person writes (timed until the desk's
WebSocket announces it) and the mediator answers (timed until the person's
socket receives it). Every message is then looked for at the other end: the
number not found is printed as "lost".
"""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from tests.socketio_client import SocketIOClient

ROUNDS = 3
TIMEOUT = 30.0


class Mediator:
    def __init__(self, web_url: str) -> None:
        self.web_url = web_url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""
        self.notices: dict[int, asyncio.Queue] = {}
        self.reader: asyncio.Task | None = None

    async def log_in(self, username: str, password: str) -> None:
        async with self.http.get(f"{self.web_url}/login") as page:
            token = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
        form = {"username": username, "password": password, "csrf": token, "next": ""}
        async with self.http.post(f"{self.web_url}/login", data=form) as answer:
            answer.raise_for_status()
        async with self.http.get(f"{self.web_url}/desk") as page:
            self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', await page.text()).group(
                1
            )
        socket = await self.http.ws_connect(f"{self.web_url.replace('http', 'ws', 1)}/desk/ws")
        self.reader = asyncio.create_task(self._read(socket))

    async def _read(self, socket) -> None:
        async for frame in socket:
            notice = frame.json()
            if notice.get("type") == "message" and "message_id" in notice:
                self.queue_for(notice["handoff_id"]).put_nowait(time.monotonic())

    def queue_for(self, handoff_id: int) -> asyncio.Queue:
        return self.notices.setdefault(handoff_id, asyncio.Queue())

    async def get(self, path: str) -> dict:
        async with self.http.get(self.web_url + path) as answer:
            return await answer.json()

    async def post(self, path: str, body: dict) -> int:
        headers = {"X-CSRF-Token": self.csrf}
        async with self.http.post(self.web_url + path, json=body, headers=headers) as answer:
            return answer.status

    async def close(self) -> None:
        if self.reader:
            self.reader.cancel()
        await self.http.close()


async def run(rasa_url: str, web_url: str, password: str, people: int, store) -> dict:
    """`store`: the desk's, to match sessions to hand-offs (pages show only hand-off ids)."""
    mediator = Mediator(web_url)
    await mediator.log_in("bench-mediator", password)
    clients = [SocketIOClient(rasa_url) for _ in range(people)]
    await asyncio.gather(*(client.__aenter__() for client in clients))
    try:
        await asyncio.gather(
            *(c.say("I want to talk to a person", {"language": "en"}) for c in clients)
        )
        ours = {client.sender_id for client in clients}
        by_sender: dict[str, int] = {}
        deadline = time.monotonic() + 120
        while set(by_sender) != ours:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Only {len(by_sender)} of {people} hand-offs were opened")
            await asyncio.sleep(0.5)
            queue = await asyncio.to_thread(store.queue)
            by_sender = {h["sender_id"]: h["id"] for h in queue if h["sender_id"] in ours}
        for client in clients:
            await mediator.post(f"/desk/api/handoffs/{by_sender[client.sender_id]}/claim", {})
        for client in clients:  # what the bot said before the hand-off
            while not client.messages.empty():
                client.messages.get_nowait()

        to_desk: list[float] = []
        to_person: list[float] = []
        lost = 0

        async def conversation(client: SocketIOClient) -> None:
            nonlocal lost
            handoff_id = by_sender[client.sender_id]
            arrivals = mediator.queue_for(handoff_id)
            for round_number in range(ROUNDS):
                sent = time.monotonic()
                await client.say(f"question {round_number} from {client.sender_id}")
                try:
                    to_desk.append(await asyncio.wait_for(arrivals.get(), TIMEOUT) - sent)
                except TimeoutError:
                    lost += 1
                sent = time.monotonic()
                await mediator.post(
                    f"/desk/api/handoffs/{handoff_id}/reply", {"text": f"answer {round_number}"}
                )
                try:
                    while True:
                        message = await client.next_message(TIMEOUT)
                        if message.get("from") == "mediator":
                            to_person.append(message["_received"] - sent)
                            break
                except TimeoutError:
                    lost += 1

        started = time.monotonic()
        await asyncio.gather(*(conversation(client) for client in clients))
        seconds = time.monotonic() - started
        # Every message must also be in the desk's transcript, once.
        for client in clients:
            shown = await mediator.get(f"/desk/api/handoffs/{by_sender[client.sender_id]}")
            said = [m["text"] for m in shown["transcript"] if m["author"] == "migrant"]
            lost += sum(
                said.count(f"question {n} from {client.sender_id}") != 1 for n in range(ROUNDS)
            )
        return {"to_desk": to_desk, "to_person": to_person, "lost": lost, "seconds": seconds}
    finally:
        await asyncio.gather(*(client.__aexit__() for client in clients), return_exceptions=True)
        await mediator.close()
