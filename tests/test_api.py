"""The operator API: its contract, its token, and answers from the running assistant."""

import json
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from connectors.web import create_app
from knowledge.api import BadRequest, SuggestRequest, topic_coverage
from knowledge.taxonomy import load_taxonomy
from tests.conftest import API_TOKEN, free_port

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (["a list"], "body"),
        ({}, "text"),
        ({"text": "   "}, "text"),
        ({"text": 42}, "text"),
        ({"text": "x" * 1001}, "text"),
        ({"text": "residenza", "top_k": 0}, "top_k"),
        ({"text": "residenza", "top_k": 11}, "top_k"),
        ({"text": "residenza", "top_k": "3"}, "top_k"),
        ({"text": "residenza", "top_k": True}, "top_k"),
        ({"text": "residenza", "language": "xx"}, "language"),
        ({"text": "residenza", "language": 7}, "language"),
    ],
)
def test_a_request_that_breaks_the_contract_names_its_field(settings, payload, field):
    with pytest.raises(BadRequest) as caught:
        SuggestRequest.parse(payload, settings)
    assert caught.value.field == field
    assert caught.value.as_json()["field"] == field


def test_a_valid_request_keeps_its_values_and_defaults_top_k(settings):
    assert SuggestRequest.parse(
        {"text": " residenza ", "language": "ar", "top_k": 10}, settings
    ) == (SuggestRequest(text="residenza", language="ar", top_k=10))
    assert SuggestRequest.parse({"text": "residenza", "language": None}, settings).top_k == (
        settings.retrieval.top_k
    )


def test_topic_coverage_counts_entries_and_languages_of_every_topic(settings, kit):
    taxonomy = load_taxonomy(settings.content.taxonomy)
    topics = topic_coverage(kit, taxonomy)["topics"]
    assert [t["id"] for t in topics] == list(taxonomy.topics)
    health = next(t for t in topics if t["id"] == "health-undocumented")
    assert health["domain"] == "health" and health["entries"] >= 1
    assert all(t["languages"] == ["ar", "en", "fr", "it", "uk"] for t in topics)


@pytest.fixture
async def web_without_actions(settings):
    """The web app with no action server behind it."""
    offline = replace(
        settings,
        services=replace(settings.services, action_server_url=f"http://127.0.0.1:{free_port()}"),
    )
    async with TestClient(TestServer(create_app(offline))) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": API_TOKEN}, {"Authorization": ""}],
)
async def test_suggest_refuses_a_missing_or_wrong_token(web_without_actions, headers):
    response = await web_without_actions.post("/api/suggest", json={"text": "x"}, headers=headers)
    assert response.status == 401
    assert "Bearer" in (await response.json())["error"]


async def test_suggest_refuses_everyone_when_no_token_is_configured(settings):
    app = create_app(replace(settings, api=replace(settings.api, token="")))
    async with TestClient(TestServer(app)) as client:
        response = await client.post(
            "/api/suggest", json={"text": "x"}, headers={"Authorization": "Bearer "}
        )
        assert response.status == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"\xff\xfe\x00", "body"),
        (b'"just text"', "body"),
        (json.dumps({"text": ""}).encode(), "text"),
        (json.dumps({"text": "\u0645" * 20000}).encode(), "text"),
        (json.dumps({"text": "casa", "top_k": 99}).encode(), "top_k"),
        (json.dumps({"text": "casa", "language": "klingon"}).encode(), "language"),
    ],
)
async def test_suggest_answers_bad_input_with_400_naming_the_field(
    web_without_actions, body, field
):
    response = await web_without_actions.post("/api/suggest", data=body, headers=AUTH)
    assert response.status == 400
    assert (await response.json())["field"] == field


async def test_suggest_says_when_the_knowledge_service_is_down(web_without_actions):
    response = await web_without_actions.post("/api/suggest", json={"text": "casa"}, headers=AUTH)
    assert response.status == 503
    assert "not ready" in (await response.json())["error"]


async def test_topics_lists_the_taxonomy_without_a_token(web_without_actions, settings):
    response = await web_without_actions.get("/api/topics")
    assert response.status == 200
    topics = (await response.json())["topics"]
    assert len(topics) == len(load_taxonomy(settings.content.taxonomy).topics)


def _suggest(assistant, payload: dict, headers: dict = AUTH) -> tuple[int, dict]:
    url = f"http://localhost:{assistant.settings.services.web_port}/api/suggest"
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_suggest_gives_sourced_answers_in_the_detected_language(assistant):
    status, body = _suggest(assistant, {"text": "كيف أسجل عند طبيب العائلة؟", "language": None})
    assert status == 200
    assert body["language"] == "ar" and body["confident"] is True
    assert len(body["answers"]) == 3
    best = body["answers"][0]
    assert best["topic"] == "family-doctor" and best["language"] == "ar"
    assert best["machine_translated"] is False
    assert best["sources"][0]["url"].startswith("https://") and best["last_reviewed"]
    scores = [answer["score"] for answer in body["answers"]]
    assert scores == sorted(scores, reverse=True)
    assert {"id", "title", "text"} <= best.keys()


def test_suggest_answers_in_the_language_asked_for(assistant):
    status, body = _suggest(
        assistant, {"text": "dove si fa la residenza?", "language": "uk", "top_k": 1}
    )
    assert status == 200 and body["language"] == "uk"
    [answer] = body["answers"]
    assert answer["topic"] == "residence-registration" and answer["language"] == "uk"


def test_suggest_is_not_confident_about_questions_out_of_scope(assistant):
    status, body = _suggest(assistant, {"text": "what is the best pizza topping?"})
    assert status == 200 and body["confident"] is False


def test_the_running_api_checks_its_token(assistant):
    status, body = _suggest(assistant, {"text": "casa"}, headers={"Authorization": "Bearer no"})
    assert status == 401
