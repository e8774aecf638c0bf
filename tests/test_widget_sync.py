"""Issue 20.1: what was said while the person's page was closed, fetched again.

First the ids in Rasa's environment (a bot message fetched from the tracker
has the id it was sent live with, so the widget shows it once); then, on the
running assistant, that only the person's own socket.io session gets their
conversation back, and that the person's messages are acknowledged.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.conftest import run_in_rasa, wait_for
from tests.socketio_client import SocketIOClient

SAME_IDS = """
import asyncio
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from connectors.socketio import CustomJsonSocketIOOutput, _Collected, bot_messages, merged

it = {"language": "it"}
events = [
    UserUttered("ciao", timestamp=100.0),
    BotUttered("Benvenuto.\\n\\nScrivi la tua domanda.", metadata=it, timestamp=101.5),
    BotUttered("Utile?", data={"buttons": [{"title": "Sì", "payload": "/yes"}]},
               metadata=it, timestamp=102.25),
    # The desk's own (other channels): fetched from the desk, not from here.
    BotUttered(None, data={"custom": {"data": {"from": "mediator"}}},
               metadata={"desk_message_id": 7}, timestamp=103.0),
    BotUttered(None, data={"custom": {"entry": {"id": "x"}}}, metadata=it, timestamp=104.0),
]
tracker = DialogueStateTracker.from_events("socketio:abc", events)


async def main():
    live = _Collected()
    output = CustomJsonSocketIOOutput(live, "bot_uttered")
    for event in events:
        if isinstance(event, BotUttered) and "desk_message_id" not in event.metadata:
            await output.send_response(tracker.sender_id, event.message())
    fetched = await bot_messages(tracker, 0, "bot_uttered")
    assert fetched == live.emitted, (fetched, live.emitted)
    ids = [m["id"] for m in fetched]
    assert len(set(ids)) == len(ids) == 4, ids
    texts = [m.get("text") for m in fetched[:3]]
    assert texts == ["Benvenuto.", "Scrivi la tua domanda.", "Utile?"], texts
    assert fetched[2]["quick_replies"][0]["payload"] == "/yes"
    assert fetched[3]["custom"] == {"entry": {"id": "x"}}
    assert all(m["language"] == "it" and m["ts"] > 101 for m in fetched)
    # After the newest one shown: only what came later.
    later = await bot_messages(tracker, 101.5, "bot_uttered")
    assert [m["id"] for m in later] == ids[2:]
    # A mediator's reply written between them comes between them.
    order = merged([{"from": "mediator", "id": 9, "at": 102.0}], later)
    assert [m["id"] for m in order] == [9, *ids[2:]]

asyncio.run(main())
print("ok")
"""


def test_a_bot_message_fetched_again_has_the_id_it_was_sent_with():
    run_in_rasa(SAME_IDS)


async def unconfirmed_history(rasa_url: str) -> tuple[str, list]:
    """A connection that proved no session asks for history: the server's answer."""
    url = rasa_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as socket:
        await socket.send_str("40")
        request = {"after": 0, "bots_after": 0}
        await socket.send_str("42" + json.dumps(["history_request", request]))
        async for frame in socket:
            if frame.data == "2":
                await socket.send_str("3")
            elif frame.data.startswith("42"):
                event, *args = json.loads(frame.data[2:])
                return event, args
    raise AssertionError("no answer")


def test_only_the_persons_own_session_gets_what_was_said_while_away(assistant, desk_as, settings):
    amal = desk_as("amal")
    rasa = settings.services.rasa_url
    away = "Written while your page was closed."

    def transcript(handoff_id: int) -> list[dict]:
        _, shown = amal.get(f"/desk/api/handoffs/{handoff_id}")
        return shown["transcript"]

    async def story() -> None:
        async with SocketIOClient(rasa) as person:
            # Acknowledged once handed on: the widget marks it sent.
            assert await person.say_acknowledged(
                "I want to talk to a person", {"language": "en"}
            ) == {"ok": True}
            first = await person.next_message(30)
            assert first["id"].startswith("b") and isinstance(first["ts"], float)
            session_id, tag, sender = person.session_id, person.session_tag, person.sender_id
        handoff = await asyncio.to_thread(wait_for, lambda: amal.queued(sender))
        assert amal.post(f"/desk/api/handoffs/{handoff['id']}/claim")[0] == 200
        assert amal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": away})[0] == 201

        def delivered() -> bool:
            return any(
                m["text"] == away and m["delivery"] == "delivered"
                for m in transcript(handoff["id"])
            )

        await asyncio.to_thread(wait_for, delivered)

        # Another session, with a valid tag of its own, asks for everything,
        # naming the person's session: it gets its own (empty) conversation.
        async with SocketIOClient(rasa) as stranger:
            for request in (
                {"after": 0, "bots_after": 0},
                {"after": 0, "bots_after": 0, "session_id": session_id, "sender_id": sender},
            ):
                got = await stranger.history(**request)
                assert got["messages"] == [] and away not in json.dumps(got)
            await stranger._emit("replies_seen", {"up_to": 10**9, "session_id": session_id})
            await asyncio.sleep(1)
        # A connection that proved no session gets nothing at all.
        assert (await unconfirmed_history(rasa))[0] == "session_refused"
        reply = next(m for m in transcript(handoff["id"]) if m["text"] == away)
        assert reply["seen"] is False

        # The person, with id and tag: the reply, once, and nothing already shown.
        async with SocketIOClient(rasa, session_id, tag) as again:
            got = await again.history(after=0, bots_after=first["ts"])
            texts = [m.get("text") for m in got["messages"]]
            assert texts.count(away) == 1
            assert first["id"] not in [m.get("id") for m in got["messages"]]
            assert got["bots_up_to"] >= first["ts"] and got["seen_up_to"] < reply["id"]
            await again._emit("replies_seen", {"up_to": reply["id"]})
            await asyncio.to_thread(
                wait_for,
                lambda: next(m for m in transcript(handoff["id"]) if m["text"] == away)["seen"],
            )

    asyncio.run(asyncio.wait_for(story(), 150))


def test_a_session_signals_typing_only_for_its_own_conversation(assistant, desk_as, settings):
    """``typing`` names no text; a connection signals only for the session it proved."""
    amal = desk_as("amal")
    rasa = settings.services.rasa_url
    cookie = "; ".join(f"{c.name}={c.value}" for c in amal.jar)
    desk_ws = amal.base.replace("http", "ws", 1) + "/desk/ws"

    async def typing_notices(socket, seconds: float) -> list[dict]:
        found = []
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            try:
                notice = await socket.receive_json(timeout=left)
            except asyncio.TimeoutError:  # noqa: UP041
                break
            if notice.get("type") == "typing":
                found.append(notice)
        return found

    async def story() -> None:
        async with SocketIOClient(rasa) as person:
            await person.say_acknowledged("I want to talk to a person", {"language": "en"})
            await person.next_message(30)
            handoff = await asyncio.to_thread(wait_for, lambda: amal.queued(person.sender_id))
            assert amal.post(f"/desk/api/handoffs/{handoff['id']}/claim")[0] == 200
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(desk_ws, headers={"Cookie": cookie}) as desk,
                SocketIOClient(rasa) as stranger,
            ):
                # Another session naming the person's: refused, and the desk hears nothing.
                await stranger._emit("typing", {"session_id": person.session_id})
                assert await typing_notices(desk, 2) == []
                assert stranger.refused == [{"reason": "unknown session"}]
                # The person's own signal reaches the desk once, however often sent.
                for _ in range(3):
                    await person._emit("typing", {})
                assert await typing_notices(desk, 2) == [
                    {"type": "typing", "handoff_id": handoff["id"]}
                ]

    asyncio.run(asyncio.wait_for(story(), 150))
