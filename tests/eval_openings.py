"""Everyday first messages through the real dialogue: is each handled well?

    python -m tests.eval_openings tests/data/openings_dev.yml [more sets...]
    python -m tests.eval_openings --url http://localhost:5005 SET   # a stack already running

Each message is sent as a NEW sender over Rasa's REST channel (with
``Authorization: Bearer $HELPDESK_REST_TOKEN`` when that is set), and the kind
of reply is read from the bot's events in the tracker store (response names,
the answered entry). "Handled well" per kind of message:
- help: "what do you need?" (utter_help) or a hand-off to a person;
- service: the right entry answered, or offered in did-you-mean;
- vague: did-you-mean or "what do you need?", never an answer, never a sensitive topic;
- smalltalk: the reply of that act (greet, thanks, goodbye, ok, bot_challenge);
- noise: "I could not read this message".
For service questions it also prints how often the answer is the right entry,
next to /api/suggest's top-1 on the same questions, and counts wrong acts.
Without --url it starts its own stack (Rasa, action server, web app) in a
scratch data folder that reuses the built index of data/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import defaultdict
from pathlib import Path

import yaml

from connectors.identity import namespaced
from knowledge.settings import PROJECT_ROOT, load_settings

KINDS = ("help", "service", "vague", "smalltalk", "noise")
SMALL_TALK = {
    "utter_greet": "greet",
    "utter_you_are_welcome": "thanks",
    "utter_goodbye": "goodbye",
    "utter_affirm": "ok",
    "utter_iamabot": "bot_challenge",
}
# Replies that must never answer a service question.
WRONG_ACTS = (
    "utter_feedback_thanks",
    "utter_goodbye",
    "utter_affirm",
    "utter_deny",
    "utter_you_are_welcome",
    "utter_ask_forget",
)
SENSITIVE = ("gender-based-violence", "mental-health", "discrimination")
HANDOFF = ("utter_handoff_queued", "utter_handoff_after_hours")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, body: dict, token: str | None = None) -> object:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def bot_events(tracker_db: Path, sender: str) -> list[dict]:
    with sqlite3.connect(tracker_db) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot' ORDER BY id",
            (sender,),
        ).fetchall()
    return [json.loads(data) for (data,) in rows]


def reply_of(events: list[dict]) -> dict:
    """What the bot did: its response names, the entry it answered, the entries it offered."""
    names = [(e.get("metadata") or {}).get("utter_action") for e in events]
    names = [n for n in names if n]
    entry = None
    offered = []
    for event in events:
        data = event.get("data") or {}
        custom = data.get("custom") or {}
        if "entry" in custom:
            entry = custom["entry"]["id"]
        for button in data.get("buttons") or []:
            payload = button.get("payload", "")
            if payload.startswith("/choose_topic"):
                offered.append(json.loads(payload[len("/choose_topic") :])["topic"])
    return {"names": names, "entry": entry, "offered": offered}


def kind_of_reply(reply: dict) -> str:
    names = reply["names"]
    if any(n.startswith("utter_emergency_") for n in names):
        return "emergency"
    if reply["entry"]:
        return "service"
    if "utter_not_sure" in names:
        return "vague"
    if "utter_help" in names:
        return "help"
    if any(n in HANDOFF for n in names):
        return "person"
    if "utter_input_not_understood" in names:
        return "noise"
    for name, act in SMALL_TALK.items():
        if name in names:
            return f"smalltalk:{act}"
    return "other:" + ",".join(names)


def handled_well(message: dict, reply: dict) -> bool:
    kind = message["kind"]
    got = kind_of_reply(reply)
    if kind == "help":
        return got in ("help", "person")
    if kind == "service":
        wanted = message.get("entry")
        offered = reply["offered"]
        return reply["entry"] == wanted or (got == "vague" and wanted in offered)
    if kind == "vague":
        return got in ("vague", "help") and not any(t in SENSITIVE for t in reply["offered"])
    if kind == "smalltalk":
        return got == f"smalltalk:{message.get('act')}"
    return got == "noise"


def share(values: list[bool]) -> str:
    return f"{sum(values) / len(values):.3f} ({sum(values)}/{len(values)})" if values else "-"


def score(path: Path, rasa_url: str, web_url: str, api_token: str, tracker_db: Path) -> dict:
    messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
    rest_token = os.environ.get("HELPDESK_REST_TOKEN") or None
    settings = load_settings()
    supported = settings.languages.supported
    by_kind, by_language = defaultdict(list), defaultdict(list)
    right, suggest_right, wrong_acts, misses = [], [], [], []
    for message in messages:
        sender = f"eval-{uuid.uuid4().hex[:12]}"
        post(
            f"{rasa_url}/webhooks/rest/webhook",
            {"sender": sender, "message": message["text"]},
            rest_token,
        )
        reply = reply_of(bot_events(tracker_db, namespaced("rest", sender)))
        good = handled_well(message, reply)
        by_kind[message["kind"]].append(good)
        by_language[message["language"]].append(good)
        if message["kind"] == "service":
            right.append(reply["entry"] == message.get("entry"))
            language = message["language"] if message["language"] in supported else None
            body = post(
                f"{web_url}/api/suggest",
                {"text": message["text"], "language": language, "top_k": 1},
                api_token,
            )
            top = body["answers"][0]["id"] if body["answers"] else None
            suggest_right.append(top == message.get("entry"))
            if any(n in WRONG_ACTS for n in reply["names"]):
                wrong_acts.append(message["text"])
        if not good:
            misses.append((message, kind_of_reply(reply), reply))
    return {
        "path": path,
        "all": [g for values in by_kind.values() for g in values],
        "by_kind": by_kind,
        "by_language": by_language,
        "right": right,
        "suggest_right": suggest_right,
        "wrong_acts": wrong_acts,
        "misses": misses,
    }


def report(result: dict, show_misses: bool) -> None:
    print(f"\n== {result['path']} ({time.strftime('%Y-%m-%d')})")
    print(f"handled well overall: {share(result['all'])}")
    print("per kind:")
    for kind in KINDS:
        print(f"  {kind:10} {share(result['by_kind'].get(kind, []))}")
    print("per language:")
    for language in sorted(result["by_language"]):
        print(f"  {language:10} {share(result['by_language'][language])}")
    print("service questions, right entry:")
    print(f"  answered by the dialogue  {share(result['right'])}")
    print(f"  /api/suggest top-1        {share(result['suggest_right'])}")
    print(f"  wrong acts (thanks, goodbye, ok, no, welcome, delete): {len(result['wrong_acts'])}")
    for text in result["wrong_acts"]:
        print(f"    {text}")
    if show_misses:
        print("not handled well:")
        for message, got, reply in result["misses"]:
            wanted = message.get("entry") or message.get("act") or ""
            print(
                f"  [{message['kind']} {wanted}] {message['text']!r} -> {got}"
                f" {reply['entry'] or ''} {reply['offered'] or ''}"
            )


def start_stack(work: Path):
    """Rasa, the action server and the web app on free ports, in a scratch data folder."""
    from bot.serve import Supervisor, ensure_secrets, parts_for

    data = work / "data"
    index = load_settings().index_dir
    if index.exists():
        shutil.copytree(index, data / index.name)
    env = dict(os.environ)
    api_token = uuid.uuid4().hex
    env.update(
        {
            "HELPDESK_DATA_DIR": str(data),
            "HELPDESK_RASA_URL": f"http://localhost:{free_port()}",
            "HELPDESK_ACTION_SERVER_URL": f"http://localhost:{free_port()}",
            "HELPDESK_WEB_PORT": str(free_port()),
            "HELPDESK_API_TOKEN": api_token,
            "HELPDESK_DESK_HOURS": "always",
            # Every message comes from this machine, each as a new conversation.
            "HELPDESK_NEW_CONVERSATIONS_PER_ADDRESS": "1000000",
        }
    )
    # The REST channel is off without its token: this stack gets one of its own,
    # and the shared secrets `make run` would make.
    env["HELPDESK_REST_TOKEN"] = os.environ.get("HELPDESK_REST_TOKEN") or uuid.uuid4().hex
    os.environ["HELPDESK_REST_TOKEN"] = env["HELPDESK_REST_TOKEN"]
    ensure_secrets(env)
    settings = load_settings(environ=env)
    supervisor = Supervisor(parts_for(settings), log_dir=work / "logs", environ=env)
    supervisor.start(timeout=1200)
    # The vectors of fixed texts (emergency examples, prototypes) the action
    # server kept: the next run starts without encoding them again.
    for kept in (data / index.name).glob("*.npy"):
        if index.exists() and not (index / kept.name).exists():
            shutil.copy2(kept, index / kept.name)
    web_url = f"http://localhost:{settings.services.web_port}"
    return supervisor, settings.services.rasa_url, web_url, api_token, data / "tracker.db"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", type=Path, help="openings YAML files")
    parser.add_argument("--misses", action="store_true", help="list what was not handled well")
    args = parser.parse_args(argv)
    sets = [path for path in args.sets if path.exists()]
    if not sets:
        print("No openings set found:", *args.sets)
        return 2
    with tempfile.TemporaryDirectory(prefix="openings-") as scratch:
        supervisor, rasa_url, web_url, api_token, tracker_db = start_stack(Path(scratch))
        try:
            for path in sets:
                report(score(path, rasa_url, web_url, api_token, tracker_db), args.misses)
        finally:
            supervisor.stop()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(PROJECT_ROOT))
    sys.exit(main())
