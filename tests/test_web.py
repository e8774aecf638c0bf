from aiohttp.test_utils import TestClient, TestServer

from connectors.web import create_app
from knowledge.settings import load_settings
from tests.conftest import free_port


async def test_healthz_is_503_while_parts_are_not_ready(tmp_path):
    settings = load_settings(
        environ={
            "HELPDESK_DATA_DIR": str(tmp_path / "data"),
            "HELPDESK_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "HELPDESK_ACTION_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        }
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        payload = await response.json()
    assert payload["status"] == "starting"
    assert payload["parts"] == {"rasa": "not ready", "action_server": "not ready", "web": "ready"}
