"""With no Telegram or Twilio secrets set, Rasa still starts and both channels stay off.

Rasa's own channel loading reads credentials.yml (tests/channels_off_server.py);
the webhooks answer 503, the health routes say "off", and the loopback
platforms (tests/fake_platforms.py) never hear from us.
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request

import pytest

from bot.serve import is_up, parts_for
from knowledge.settings import PROJECT_ROOT, load_settings
from tests.conftest import RASA_PYTHON, free_port, wait_for
from tests.test_channels import post


@pytest.fixture
def channels_off(platforms, tmp_path):
    port = free_port()
    rasa = next(p for p in parts_for(load_settings(environ={})) if p.name == "Rasa")
    env = {
        **rasa.env_defaults,
        "PATH": "/usr/bin:/bin",
        **rasa.env,
        # Were a channel on, it would call these; the token is what keeps it off.
        "HELPDESK_TELEGRAM_API_URL": platforms.url,
        "HELPDESK_TWILIO_API_URL": platforms.url,
    }
    server = subprocess.Popen(
        [str(RASA_PYTHON), "-m", "tests.channels_off_server", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "server.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}/webhooks"
    try:
        wait_for(lambda: server.poll() is not None or is_up(f"{url}/telegram/"), timeout=120)
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_unset_secrets_leave_the_channels_off(channels_off, platforms):
    before = len(platforms.received)
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "text": "ciao"},
    }
    for secret in ("", "anything"):
        status, _ = post(
            f"{channels_off}/telegram/webhook",
            json.dumps(update).encode(),
            {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )
        assert status == 503
    form = urllib.parse.urlencode({"From": "whatsapp:+391", "Body": "ciao"}).encode()
    status, _ = post(
        f"{channels_off}/twilio/webhook",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert status == 503
    status, _ = post(f"{channels_off}/telegram/set_webhook", b"", {})
    assert status == 401
    for name in ("telegram", "twilio"):
        with urllib.request.urlopen(f"{channels_off}/{name}/") as answer:
            assert json.loads(answer.read()) == {"status": "off"}
    assert len(platforms.received) == before
