"""A minimal socket.io client (Engine.IO 4 over WebSocket), as the widget speaks it.

    async with SocketIOClient(rasa_url) as chat:
        await chat.say("أريد التحدث مع شخص", metadata={"language": "ar"})
        message = await chat.next_message(timeout=10)

Used by tests and the benchmark to talk to Rasa's socket.io channel the way
the browser widget does, without a browser.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp


class SessionRefused(RuntimeError):
    """The server refused the session asked for (``session_refused``)."""


class SocketIOClient:
    def __init__(
        self,
        server: str,
        session_id: str | None = None,
        session_tag: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = (
            server.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        )
        # The server issues both; a session named without its tag is refused.
        self.session_id = session_id
        self.session_tag = session_tag
        self.headers = headers or {}
        self.refused: list[dict] = []
        self.messages: asyncio.Queue[tuple[float, dict]] = asyncio.Queue()
        # `history` answers, and Socket.IO acks by their id.
        self.histories: asyncio.Queue[dict] = asyncio.Queue()
        self.acks: dict[int, asyncio.Future] = {}
        self._ack_ids = 0
        self._http: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None
        # Set when the server confirmed or refused the session.
        self._settled = asyncio.Event()

    async def __aenter__(self) -> SocketIOClient:
        self._http = aiohttp.ClientSession()
        try:
            self._socket = await self._http.ws_connect(self.url, headers=self.headers)
            self._reader = asyncio.create_task(self._read())
            await self._socket.send_str("40")
            await self.request_session(self.session_id, self.session_tag)
            await asyncio.wait_for(self._settled.wait(), timeout=30)
            if self.refused:
                raise SessionRefused(self.refused[0])
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def request_session(self, session_id: str | None, session_tag: str | None) -> None:
        await self._emit("session_request", {"session_id": session_id, "session_tag": session_tag})

    @property
    def sender_id(self) -> str:
        """The sender id Rasa stores this conversation under."""
        return f"socketio:{self.session_id}"

    async def __aexit__(self, *exc: Any) -> None:
        if self._reader:
            self._reader.cancel()
        if self._socket:
            await self._socket.close()
        if self._http:
            await self._http.close()
        self._reader = self._socket = self._http = None

    async def say(
        self,
        text: str,
        metadata: dict | None = None,
        message_id: str | None = None,
        resent: bool = False,
    ) -> None:
        """Send a message; with `message_id` (and `resent` when sent before) as the widget does."""
        data = {"message": text, "session_id": self.session_id, "metadata": metadata or {}}
        if message_id:
            data["message_id"] = message_id
        if resent:
            data["resent"] = True
        await self._emit("user_uttered", data)

    async def say_acknowledged(
        self,
        text: str,
        metadata: dict | None = None,
        message_id: str | None = None,
        resent: bool = False,
        timeout: float = 30,
    ) -> Any:
        """Send a message with an ack id, as the widget does; the server's ack data.
        A connection lost before the ack raises ConnectionError."""
        assert self._socket is not None
        self._ack_ids += 1
        ack = self.acks[self._ack_ids] = asyncio.get_running_loop().create_future()
        data = {"message": text, "session_id": self.session_id, "metadata": metadata or {}}
        if message_id:
            data["message_id"] = message_id
        if resent:
            data["resent"] = True
        await self._socket.send_str(f"42{self._ack_ids}" + json.dumps(["user_uttered", data]))
        answer = await asyncio.wait_for(ack, timeout)
        return answer[0] if answer else None

    async def history(self, timeout: float = 10, **request: Any) -> dict:
        """Ask for what was said while away (``history_request``); the answer."""
        await self._emit("history_request", request)
        return await asyncio.wait_for(self.histories.get(), timeout)

    async def next_message(self, timeout: float = 30) -> dict:
        """The next bot_uttered payload (its arrival time is in "_received")."""
        received, payload = await asyncio.wait_for(self.messages.get(), timeout)
        return {**payload, "_received": received}

    async def _emit(self, event: str, data: Any) -> None:
        assert self._socket is not None
        await self._socket.send_str("42" + json.dumps([event, data]))

    async def _read(self) -> None:
        assert self._socket is not None
        async for frame in self._socket:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = frame.data
            if data == "2":  # ping
                await self._socket.send_str("3")
            elif data.startswith("42"):
                event, *args = json.loads(data[2:])
                if event == "session_confirm":
                    self.session_id = args[0]["session_id"]
                    self.session_tag = args[0]["session_tag"]
                    self._settled.set()
                elif event == "session_refused":
                    self.refused.append(args[0] if args else {})
                    self._settled.set()
                elif event == "bot_uttered":
                    await self.messages.put((time.monotonic(), args[0] if args else {}))
                elif event == "history":
                    await self.histories.put(args[0] if args else {})
            elif data.startswith("43"):
                digits = data[2:].split("[", 1)[0]
                ack = self.acks.pop(int(digits), None)
                if ack is not None and not ack.done():
                    ack.set_result(json.loads(data[2 + len(digits) :]))
        # The connection is gone: nothing waiting for an ack will get one.
        for ack in self.acks.values():
            if not ack.done():
                ack.set_exception(ConnectionError("socket.io connection lost"))
        self.acks.clear()
