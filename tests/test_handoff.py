"""Hand-off to cultural mediators through the real Rasa, action server and desk.

The person talks over Rasa's REST channel here, and over the widget's
socket.io channel in the last tests; the browser tests (test_browser.py) run
the whole story in the widget.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid

import pytest

from tests.conftest import Assistant, wait_for
from tests.socketio_client import SocketIOClient

pytestmark = pytest.mark.integration


def queued(desk, sender: str) -> dict | None:
    """`sender`'s open hand-off: a REST sender, or a namespaced sender id."""
    return desk.queued(Assistant.rasa_id(sender))


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)


def bot_events(assistant, sender: str) -> list[dict]:
    return assistant._events(sender, "bot")


def test_full_handoff_in_arabic(assistant, desk_as, desk_store):
    sender = f"ar-{uuid.uuid4().hex[:8]}"
    amal, bilal = desk_as("amal"), desk_as("bilal")

    replies = assistant.say(sender, "أريد التحدث مع شخص")
    # The queued message in Arabic, with the expected wait filled in.
    assert "وسيط" in texts(replies) and "{wait_minutes}" not in texts(replies)
    assert any(ch.isdigit() for ch in texts(replies))
    handoff = wait_for(lambda: queued(amal, sender))
    assert handoff["language"] == "ar" and handoff["reason"] == "request"
    assert handoff["status"] == "waiting" and handoff["channel"] == "rest"

    # While a person has the conversation, the bot is silent; the message reaches the desk.
    assert assistant.say(sender, "هل يوجد أحد هنا؟") == []

    status, _ = amal.post(f"/desk/api/handoffs/{handoff['id']}/claim")
    assert status == 200
    status, body = bilal.post(f"/desk/api/handoffs/{handoff['id']}/claim")
    assert status == 409 and "already" in body["error"]

    def transcript() -> list[dict]:
        status, shown = amal.get(f"/desk/api/handoffs/{handoff['id']}")
        assert status == 200
        return shown["transcript"]

    said = wait_for(
        lambda: (
            [m["text"] for m in transcript() if m["author"] == "migrant"][-2:]
            == ["أريد التحدث مع شخص", "هل يوجد أحد هنا؟"]
        )
    )
    assert said and any(m["author"] == "bot" for m in transcript())

    status, sent = amal.post(
        f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "مرحبا، أنا أمل. كيف أساعدك؟"}
    )
    assert status == 201 and sent["machine_translated"] is False
    # The reply reaches the person's conversation through Rasa, labelled as a mediator's.
    delivered = wait_for(
        lambda: [
            e for e in bot_events(assistant, sender) if e.get("metadata", {}).get("desk_message_id")
        ]
    )
    custom = delivered[-1]["data"]["custom"]["data"]
    assert custom == {
        "from": "mediator",
        "id": delivered[-1]["metadata"]["desk_message_id"],
        "name": "amal",
        "text": "مرحبا، أنا أمل. كيف أساعدك؟",
        "machine_translated": False,
        "original": None,
        "original_language": None,
    }
    # Only the mediator holding it may answer or close.
    assert bilal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "x"})[0] == 409

    status, _ = amal.post(
        f"/desk/api/handoffs/{handoff['id']}/close", {"note": "Explained the permit."}
    )
    assert status == 200
    # The bot takes over again and asks for a rating.
    wait_for(
        lambda: any(
            "/rate" in str(e.get("data", {}).get("buttons")) for e in bot_events(assistant, sender)
        )
    )
    replies = assistant.say(sender, '/rate{"rating": "9"}')
    assert "شكر" in texts(replies)
    assert wait_for(lambda: desk_store.handoff(handoff["id"])["rating"] == 9)
    closed = desk_store.handoff(handoff["id"])
    assert closed["status"] == "closed" and closed["note"] == "Explained the permit."
    assert closed["mediator_name"] == "amal" and closed["handed_back"]
    # And it answers questions again.
    assert "residen" in texts(assistant.say(sender, "dove si fa la residenza?")).lower()


def test_two_unsure_answers_call_a_person(assistant, desk_as):
    sender = f"unsure-{uuid.uuid4().hex[:8]}"
    amal = desk_as("amal")
    english = {"language": "en"}
    first = assistant.say(sender, "when does the fishing boat museum open on sundays?", english)
    assert "not sure" in texts(first) and queued(amal, sender) is None
    replies = assistant.say(sender, "can I bring my cat on the train", english)
    assert "asking a person" in texts(replies).lower()
    handoff = wait_for(lambda: queued(amal, sender))
    assert handoff["reason"] == "unsure" and handoff["language"] == "en"


def test_handoff_survives_desk_rasa_and_action_server_restarts(assistant, desk_as, desk_store):
    sender = f"fr-{uuid.uuid4().hex[:8]}"
    amal = desk_as("amal")
    assistant.say(sender, "je veux parler a une personne")
    handoff = wait_for(lambda: queued(amal, sender))
    assert amal.post(f"/desk/api/handoffs/{handoff['id']}/claim")[0] == 200

    web = assistant.supervisor.part("web app")
    assistant.supervisor.stop_part(web)
    # Said while the desk is down: Rasa records it, the desk reads it on return.
    assert assistant.say(sender, "vous etes la ?") == []
    assistant.supervisor.start_part(web)
    rasa = assistant.supervisor.part("Rasa")
    assistant.supervisor.restart(rasa)
    assistant.supervisor.restart(assistant.supervisor.part("action server"))
    assert assistant.say(sender, "j'attends toujours") == []

    # The session cookie outlives the restart: sessions are kept in the database.
    def transcript():
        _, shown = amal.get(f"/desk/api/handoffs/{handoff['id']}")
        return [m["text"] for m in shown.get("transcript", []) if m["author"] == "migrant"]

    wait_for(lambda: transcript()[-2:] == ["vous etes la ?", "j'attends toujours"])
    again = desk_store.handoff(handoff["id"])
    assert again["status"] == "claimed" and again["mediator_name"] == "amal"
    # Nothing was recorded twice.
    assert transcript().count("vous etes la ?") == 1

    # A reply written while Rasa is down waits, then is delivered in order.
    assistant.supervisor.stop_part(rasa)
    amal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "Je suis là."})
    amal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "Que puis-je faire ?"})
    assistant.supervisor.start_part(rasa)
    delivered = wait_for(
        lambda: [
            e["data"]["custom"]["data"]["text"]
            for e in bot_events(assistant, sender)
            if e.get("metadata", {}).get("desk_message_id")
        ],
        timeout=40,
    )
    wait_for(
        lambda: (
            len(delivered) == 2
            or len(
                [
                    e
                    for e in bot_events(assistant, sender)
                    if e.get("metadata", {}).get("desk_message_id")
                ]
            )
            == 2
        ),
        timeout=40,
    )
    final = [
        e["data"]["custom"]["data"]["text"]
        for e in bot_events(assistant, sender)
        if e.get("metadata", {}).get("desk_message_id")
    ]
    assert final == ["Je suis là.", "Que puis-je faire ?"]


def test_desk_requires_login_roles_and_csrf(assistant, desk_as, web_url):
    from tests.desk_client import DeskClient

    anonymous = DeskClient(web_url)
    status, headers, _ = anonymous.request("GET", "/desk", headers={"Accept": "text/html"})
    assert status == 303 and headers["Location"].startswith("/login")
    assert anonymous.get("/desk/api/queue")[0] == 401
    assert anonymous.login("amal", "wrong password") == 401
    assert anonymous.login("nobody", "wrong password") == 401

    olga = desk_as("olga")
    assert olga.get("/desk/api/queue")[0] == 403
    assert olga.request("GET", "/dashboard")[0] == 403
    amal = desk_as("amal")
    assert amal.post("/desk/api/handoffs/1/claim", csrf="forged")[0] == 403
    assert amal.post("/desk/api/handoffs/1/claim", csrf="")[0] == 403
    ada = desk_as("ada")
    assert ada.get("/desk/api/queue")[0] == 200  # admins may do everything


def test_reply_in_another_language_is_machine_translated_and_labelled(assistant, desk_as):
    # The session installs a real (tiny) en->fa Argos package.
    sender = f"fa-{uuid.uuid4().hex[:8]}"
    amal = desk_as("amal")
    assistant.say(sender, "/lang fa")
    assistant.say(sender, "mediatore mikham")
    handoff = wait_for(lambda: queued(amal, sender))
    assert handoff["language"] == "fa"
    assert amal.post(f"/desk/api/handoffs/{handoff['id']}/claim")[0] == 200
    status, sent = amal.post(
        f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "Hello", "language": "en"}
    )
    assert status == 201 and sent["machine_translated"] is True
    delivered = wait_for(
        lambda: [
            e["data"]["custom"]["data"]
            for e in bot_events(assistant, sender)
            if e.get("metadata", {}).get("desk_message_id")
        ]
    )
    assert delivered[-1]["machine_translated"] is True
    assert delivered[-1]["original"] == "Hello" and delivered[-1]["original_language"] == "en"
    assert delivered[-1]["text"] and delivered[-1]["text"] != "Hello"


def test_widget_channel_relays_hand_offs_without_the_dialogue_engine(
    assistant, desk_as, settings, web_url
):
    """Over socket.io a hand-off bypasses Rasa's NLU and tracker, and falls back to them."""
    amal = desk_as("amal")

    async def story() -> None:
        async with SocketIOClient(settings.services.rasa_url) as person:
            sender = person.sender_id
            await person.say("I want to talk to a person", {"language": "en"})
            handoff = await asyncio.to_thread(wait_for, lambda: queued(amal, sender))
            assert handoff["channel"] == "socketio"
            assert amal.post(f"/desk/api/handoffs/{handoff['id']}/claim")[0] == 200

            def transcript() -> list[str]:
                _, shown = amal.get(f"/desk/api/handoffs/{handoff['id']}")
                return [m["text"] for m in shown["transcript"] if m["author"] == "migrant"]

            await person.say("is anyone there?")
            await asyncio.to_thread(wait_for, lambda: "is anyone there?" in transcript())
            # The desk took it: the dialogue engine never saw it.
            assert "is anyone there?" not in assistant.user_texts(sender)

            amal.post(f"/desk/api/handoffs/{handoff['id']}/reply", {"text": "Hello, I am Amal."})
            while (reply := await person.next_message(20)).get("from") != "mediator":
                pass
            assert reply["text"] == "Hello, I am Amal." and reply["name"] == "amal"

            # With the desk down, Rasa records the message and the desk reads it on return.
            web = assistant.supervisor.part("web app")
            await asyncio.to_thread(assistant.supervisor.stop_part, web)
            await person.say("still waiting")
            await asyncio.to_thread(
                wait_for, lambda: "still waiting" in assistant.user_texts(sender)
            )
            await asyncio.to_thread(assistant.supervisor.start_part, web)
            await asyncio.to_thread(wait_for, lambda: "still waiting" in transcript())
            assert transcript().count("still waiting") == 1

            assert amal.post(f"/desk/api/handoffs/{handoff['id']}/close", {"note": "ok"})[0] == 200
            # The bot is back and asks for a rating, with buttons.
            while "quick_replies" not in (await person.next_message(30)):
                pass

    asyncio.run(story())


def test_relay_routes_need_rasas_token(assistant, settings, web_url):
    def post(url: str, body: dict, token: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, json.dumps(body).encode(), headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    relay = f"{settings.services.rasa_url}/webhooks/socketio/relay"
    inbound = f"{web_url}/desk/api/inbound"
    message = {"sender_id": "nobody", "message": {"text": "forged"}}
    for token in (None, "wrong"):
        assert post(relay, message, token) == 401
        assert post(inbound, {"sender_id": "nobody", "text": "forged"}, token) == 401
    token = settings.services.rasa_token
    assert post(relay, {"sender_id": 5}, token) == 400
    assert post(inbound, {"text": "no sender"}, token) == 400
    # Someone with no open hand-off: the desk does not take the message.
    request = urllib.request.Request(
        inbound,
        json.dumps({"sender_id": "nobody", "text": "hello"}).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read()) == {"taken": False, "position": None}
