"""`make run-cluster` for real: the region's topology on this machine, as
bot/serve_cluster.py starts it (PostgreSQL, Redis, nginx, two of each process),
answering through nginx, keeping conversations in PostgreSQL and going on when
a Rasa process dies."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
import uuid

import pytest

from tests.conftest import REST_TOKEN, free_ports, wait_for


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _say(url: str, sender: str, text: str, message_id: str) -> list[dict]:
    body = {"sender": sender, "message": text, "message_id": message_id}
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {REST_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        return json.loads(response.read())


@pytest.fixture(scope="module")
def region(session_env, rasa_model, built_index, tiny_argos_package, tmp_path_factory):
    from bot.serve_cluster import postgres_home, start_region

    environ = dict(session_env)
    settings, ports, supervisor = start_region(
        environ, free_ports(), log_dir=tmp_path_factory.mktemp("cluster-logs")
    )
    yield settings, ports, supervisor
    supervisor.stop()
    shutil.rmtree(postgres_home(settings.data_dir)[0], ignore_errors=True)


def _tracker_messages(settings, ports, sender: str) -> list[tuple[str, str]]:
    import psycopg

    from bot.serve_cluster import postgres_home

    sockets = postgres_home(settings.data_dir)[0] / "sockets"
    with psycopg.connect(
        host=str(sockets), port=ports.postgres, user="helpdesk_admin", dbname="helpdesk_tracker"
    ) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id",
            (f"rest:{sender}",),
        ).fetchall()
    return [(json.loads(d)["text"], json.loads(d).get("message_id")) for (d,) in rows]


def test_the_region_is_healthy_through_nginx_and_answers_from_postgresql(region):
    settings, ports, supervisor = region
    status, health = _get(f"http://127.0.0.1:{ports.public}/healthz")
    assert status == 200
    assert health == {
        "status": "ok",
        "parts": {"rasa": "ready", "action_server": "ready", "web": "ready"},
    }
    assert {part.name for part in supervisor.parts} >= {
        "PostgreSQL",
        "Redis",
        "nginx",
        "Rasa 1",
        "Rasa 2",
        "action server 1",
        "action server 2",
        "web app 1",
        "web app 2",
    }
    sender = f"cluster-{uuid.uuid4().hex[:8]}"
    replies = _say(
        f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook",
        sender,
        "Come rinnovo il permesso di soggiorno?",
        "m-1",
    )
    assert "permesso di soggiorno" in " ".join(r.get("text", "") for r in replies).lower()
    assert _tracker_messages(settings, ports, sender) == [
        ("Come rinnovo il permesso di soggiorno?", "m-1")
    ]


def test_a_conversation_goes_on_when_the_rasa_process_serving_it_is_killed(region):
    settings, ports, supervisor = region
    url = f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook"
    sender = f"cluster-{uuid.uuid4().hex[:8]}"
    assert _say(url, sender, "Ciao", "m-1")
    for name in ("Rasa 1", "Rasa 2"):  # whichever nginx picks next, one is dead
        part = supervisor.part(name)
        part.process.kill()
        part.process.wait()
        assert _say(url, sender, "Dove faccio la carta d'identità?", f"m-{name[-1]}-2")
        supervisor.start_part(part)
    wait_for(lambda: len(_tracker_messages(settings, ports, sender)) == 3)
    assert [m for _, m in _tracker_messages(settings, ports, sender)] == [
        "m-1",
        "m-1-2",
        "m-2-2",
    ]
    assert _get(f"http://127.0.0.1:{ports.public}/healthz")[0] == 200
