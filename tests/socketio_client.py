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


class SocketIOClient:
    def __init__(self, server: str, session_id: str | None = None) -> None:
        self.url = (
            server.replace("http", "ws", 1).rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        )
        self.session_id = session_id
        self.messages: asyncio.Queue[tuple[float, dict]] = asyncio.Queue()
        self._http: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task | None = None
        self._confirmed = asyncio.Event()

    async def __aenter__(self) -> SocketIOClient:
        self._http = aiohttp.ClientSession()
        self._socket = await self._http.ws_connect(self.url)
        self._reader = asyncio.create_task(self._read())
        await self._socket.send_str("40")
        await self._emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(self._confirmed.wait(), timeout=30)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._reader:
            self._reader.cancel()
        if self._socket:
            await self._socket.close()
        if self._http:
            await self._http.close()

    async def say(self, text: str, metadata: dict | None = None) -> None:
        await self._emit(
            "user_uttered",
            {"message": text, "session_id": self.session_id, "metadata": metadata or {}},
        )

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
                    self.session_id = args[0]
                    self._confirmed.set()
                elif event == "bot_uttered":
                    await self.messages.put((time.monotonic(), args[0] if args else {}))
