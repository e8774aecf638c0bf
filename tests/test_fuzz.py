"""Property-based fuzzing (hypothesis) of every HTTP endpoint and of the content loader.

Whatever arrives (binary, broken or odd JSON, emoji, mixed scripts, markup,
huge strings), no endpoint answers 5xx and every part stays up; a broken
entry file raises ContentError, which names the file and the problem.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.entries import REQUIRED_FIELDS, ContentError, read_entry
from knowledge.settings import ACTION_TOKEN_HEADER
from tests.conftest import ACTION_TOKEN, API_TOKEN, RASA_TOKEN, REST_TOKEN
from tests.fake_platforms import TELEGRAM_SECRET

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

odd_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "😀😀😀",
            "<script>alert(1)</script> permesso",
            "سلام ciao привет 你好",
            "\u202eevil\u202c",
            "\x00\x01\x02",
            "a" * 20_000,
            "/lang xx",
            "/ask_human{{}}",
            '{"not": "json"',
        ]
    ),
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "sender",
    "message",
    "metadata",
    "text",
    "language",
    "top_k",
    "also_in",
    "id",
    "source",
    "target",
    "sender_id",
    "at",
    "question",
    "helpful",
    "entry_id",
    "tracker",
    "next_action",
    "domain",
    "note",
]
json_body = st.fixed_dictionaries({}, optional={name: json_value for name in FIELDS})
bodies = st.one_of(
    st.binary(max_size=2000),
    json_body.map(lambda body: json.dumps(body).encode()),
    json_value.map(lambda value: json.dumps(value).encode()),
)


def send(url: str, body: bytes, headers: dict | None = None, method: str = "POST") -> int:
    request = urllib.request.Request(
        url,
        data=body if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def web(settings_) -> str:
    return f"http://localhost:{settings_.services.web_port}"


def targets(settings_) -> list[tuple[str, dict]]:
    rasa, actions, site = (
        settings_.services.rasa_url,
        settings_.services.action_server_url,
        web(settings_),
    )
    rasa_token = {"Authorization": f"Bearer {RASA_TOKEN}"}
    actions_token = {ACTION_TOKEN_HEADER: ACTION_TOKEN}
    return [
        (f"{rasa}/webhooks/rest/webhook", {"Authorization": f"Bearer {REST_TOKEN}"}),
        (f"{rasa}/webhooks/socketio/relay", rasa_token),
        (f"{rasa}/webhooks/socketio/relay", {}),
        (f"{rasa}/webhooks/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}),
        (f"{rasa}/webhooks/telegram/webhook", {}),
        (f"{rasa}/webhooks/telegram/relay", rasa_token),
        (f"{rasa}/webhooks/twilio/webhook", {"X-Twilio-Signature": "forged"}),
        (f"{rasa}/webhooks/twilio/relay", rasa_token),
        (f"{actions}/webhook", actions_token),
        (f"{actions}/knowledge/suggest", actions_token),
        (f"{actions}/knowledge/translate", actions_token),
        (f"{actions}/knowledge/entry", actions_token),
        (f"{actions}/knowledge/emergency", actions_token),
        (f"{site}/api/suggest", {"Authorization": f"Bearer {API_TOKEN}"}),
        (f"{site}/api/suggest", {}),
        (f"{site}/desk/api/inbound", rasa_token),
        (f"{site}/desk/api/inbound", {}),
        (f"{site}/login", {"Content-Type": "application/x-www-form-urlencoded"}),
    ]


@pytest.mark.parametrize("number", range(18))
def test_no_endpoint_fails_on_any_body(assistant, number):
    url, headers = targets(assistant.settings)[number]

    @FUZZ
    @given(body=bodies)
    def check(body: bytes) -> None:
        status = send(url, body, headers)
        assert status < 500, f"{url} answered {status} to {body[:200]!r}"

    check()


def test_no_logged_in_page_fails_on_any_body_or_path(assistant, desk_as):
    amal, olga = desk_as("amal"), desk_as("olga")

    @FUZZ
    @given(
        body=json_body,
        segment=st.text(
            st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#%"), max_size=30
        ),
    )
    def check(body: dict, segment: str) -> None:
        part = urllib.request.quote(segment) or "0"
        for client, path in (
            (amal, f"/desk/api/handoffs/{part}/reply"),
            (amal, f"/desk/api/handoffs/{part}/claim"),
            (amal, f"/desk/api/handoffs/{part}/close"),
            (olga, "/assist/suggest"),
            (olga, "/assist/feedback"),
            (olga, "/assist/handoff"),
        ):
            status, answer = client.post(path, body)
            assert status < 500, f"{path} answered {status} to {body!r}: {answer}"
        for client, path in (
            (amal, f"/desk/api/handoffs/{part}"),
            (olga, f"/assist/entry/{part}"),
            (desk_as("ada"), f"/dashboard.csv?since={part}&until={part}"),
        ):
            status, answer = client.get(path)
            assert status < 500, f"{path} answered {status}: {answer}"

    check()


def test_parts_are_still_up_after_the_fuzzing(assistant):
    rasa = assistant.settings.services.rasa_url
    for url in (f"{rasa}/", f"{assistant.settings.services.action_server_url}/health"):
        assert send(url, b"", method="GET") == 200
    sender = f"fuzz-{uuid.uuid4().hex[:6]}"
    assert any("custom" in reply for reply in assistant.say(sender, "dove si fa la residenza?"))


# -- the content loader ---------------------------------------------------------

header_value = st.one_of(
    json_value,
    st.dates().map(str),
    st.lists(st.fixed_dictionaries({"title": odd_text, "url": odd_text}), max_size=3),
)
entry_header = st.fixed_dictionaries(
    {},
    optional={name: header_value for name in (*REQUIRED_FIELDS, "translation", "also_asked")},
)


@FUZZ
@given(header=entry_header, body=odd_text, raw=st.binary(max_size=500), framed=st.booleans())
def test_the_content_loader_names_every_problem_and_never_crashes(
    tmp_path_factory, header, body, raw, framed
):
    path = Path(tmp_path_factory.mktemp("entry")) / "en.md"
    if framed:
        path.write_text(f"---\n{yaml.safe_dump(header, allow_unicode=True)}---\n{body}\n")
    else:
        path.write_bytes(raw)
    try:
        entry = read_entry(path)
    except ContentError as error:
        assert str(path) in str(error) and error.problems
    else:
        assert entry.title and entry.body and entry.sources
