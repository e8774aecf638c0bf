"""The reverse proxy of deploy/: Debian's nginx, started from that file, publishes only
what it should.

Stand-ins on loopback play Rasa, the web app and the action server, each
answering every path with its own name; a self-signed certificate is made here
with openssl. Through nginx the published paths reach their service, and
Rasa's API, the REST channel, the internal routes and the action server are
not reachable at all.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import free_port

TEMPLATE = Path(__file__).parent.parent / "deploy" / "nginx-helpdesk.conf.template"
NGINX = "/usr/sbin/nginx"


def stand_in(name: str) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        seen = (
            f"{name}:{request.path} upgrade={request.headers.get('Upgrade', '')} "
            f"real-ip={request.headers.get('X-Real-IP', '')} host={request.headers.get('Host')}"
        )
        return web.Response(text=seen)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


def render(template: str, values: dict[str, str]) -> str:
    """What envsubst does with the names listed (deploy/README.md)."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    assert "${HELPDESK_" not in template, "a name in the template was not filled"
    return template


@pytest.fixture
def certificate(tmp_path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
async def proxy(tmp_path, certificate):
    assert shutil.which(NGINX) or Path(NGINX).exists(), "Debian's nginx is missing: make install"
    servers = {name: TestServer(stand_in(name), host="127.0.0.1") for name in ("rasa", "web")}
    action_server = TestServer(stand_in("action"), host="127.0.0.1")
    for server in (*servers.values(), action_server):
        await server.start_server()
    http_port, https_port = free_port(), free_port()
    site = render(
        TEMPLATE.read_text(encoding="utf-8"),
        {
            "HELPDESK_SERVER_NAME": "localhost",
            "HELPDESK_HTTP_PORT": f"127.0.0.1:{http_port}",
            "HELPDESK_HTTPS_PORT": f"127.0.0.1:{https_port}",
            "HELPDESK_TLS_CERT": str(certificate[0]),
            "HELPDESK_TLS_KEY": str(certificate[1]),
            "HELPDESK_RASA_UPSTREAM": f"127.0.0.1:{servers['rasa'].port}",
            "HELPDESK_WEB_UPSTREAM": f"127.0.0.1:{servers['web'].port}",
        },
    )
    # The redirect names the port alone; the listen lines need the address too.
    site = site.replace(f"https://$host:127.0.0.1:{https_port}", f"https://$host:{https_port}")
    (tmp_path / "helpdesk.conf").write_text(site, encoding="utf-8")
    temp = "".join(
        f"{kind}_temp_path {tmp_path / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(
        f"{user}worker_processes 1;\ndaemon off;\nerror_log {tmp_path / 'error.log'};\n"
        f"pid {tmp_path / 'nginx.pid'};\nevents {{}}\n"
        f"http {{\naccess_log off;\n{temp}include {tmp_path / 'helpdesk.conf'};\n}}\n",
        encoding="utf-8",
    )
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        context = ssl.create_default_context(cafile=str(certificate[0]))
        async with aiohttp.ClientSession() as client:
            while True:
                try:
                    async with client.get(f"https://localhost:{https_port}/", ssl=context):
                        break
                except aiohttp.ClientConnectionError:
                    assert nginx.poll() is None, nginx.stderr.read().decode()
                    assert time.monotonic() < deadline, "nginx did not start"
                    await asyncio.sleep(0.1)
        yield {
            "https": f"https://localhost:{https_port}",
            "http": f"http://localhost:{http_port}",
            "ssl": context,
            "action_port": action_server.port,
        }
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for server in (*servers.values(), action_server):
            await server.close()


async def fetch(proxy: dict, method: str, path: str, **kwargs) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as client:
        async with client.request(
            method, proxy["https"] + path, ssl=proxy["ssl"], allow_redirects=False, **kwargs
        ) as response:
            return response.status, await response.text(), dict(response.headers)


PUBLISHED = [
    ("GET", "/socket.io/?EIO=4&transport=polling", "rasa:/socket.io/"),
    ("POST", "/webhooks/telegram/webhook", "rasa:/webhooks/telegram/webhook"),
    ("POST", "/webhooks/twilio/webhook", "rasa:/webhooks/twilio/webhook"),
    ("GET", "/desk", "web:/desk"),
    ("GET", "/login", "web:/login"),
    ("POST", "/login", "web:/login"),
    ("GET", "/widget/widget.js", "web:/widget/widget.js"),
    ("POST", "/widget/api/attachments", "web:/widget/api/attachments"),
    ("GET", "/dashboard.csv", "web:/dashboard.csv"),
]

NOT_PUBLISHED = [
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/conversations/someone/execute"),
    ("POST", "/model/parse"),
    ("PUT", "/model"),
    ("GET", "/models"),
    ("POST", "/webhooks/rest/webhook"),
    ("POST", "/webhooks/rest/webhook/"),
    ("POST", "/webhooks/telegram/set_webhook"),
    ("POST", "/webhooks/socketio/relay"),
    ("POST", "/webhooks/twilio/webhook/../../conversations/x/tracker"),
    ("POST", "/desk/api/inbound"),
    ("GET", "/%2e%2e/conversations/x/tracker"),
]


async def test_the_proxy_publishes_only_what_it_should(proxy):
    for method, path, reached in PUBLISHED:
        status, body, headers = await fetch(proxy, method, path)
        assert status == 200 and body.startswith(reached + " "), (path, status, body)
        assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
        port = proxy["https"].rsplit(":", 1)[1]
        assert "real-ip=127.0.0.1" in body and f"host=localhost:{port}" in body

    for method, path in NOT_PUBLISHED:
        status, body, headers = await fetch(proxy, method, path)
        assert not body.startswith("rasa:"), (path, body)
        assert "conversations" not in body and "/model" not in body, (path, body)
        assert not body.startswith("action:"), (path, body)
        if body.startswith("web:"):
            # nginx normalised the path; what reached the web app is one of its pages.
            assert "/webhooks/" not in body and "/desk/api/inbound" not in body, (path, body)
        else:
            assert status in (400, 404), (path, status)
        assert headers["Strict-Transport-Security"].startswith("max-age=63072000")


async def test_a_photo_for_the_mediator_passes_the_proxy_and_big_bodies_elsewhere_do_not(proxy):
    photo = b"\x89PNG\r\n\x1a\n" + b"0" * (3 * 1024 * 1024)
    status, body, _ = await fetch(proxy, "POST", "/widget/api/attachments", data=photo)
    assert status == 200 and body.startswith("web:/widget/api/attachments "), (status, body)
    status, body, _ = await fetch(proxy, "POST", "/login", data=photo)
    assert status == 413 and not body.startswith("web:"), (status, body)


async def test_the_action_server_has_no_route_through_the_proxy(proxy):
    for path in ("/webhook", "/actions", "/health", "/knowledge/emergency"):
        for method in ("GET", "POST"):
            status, body, _ = await fetch(proxy, method, path)
            assert not body.startswith("action:"), (path, body)


async def test_websockets_are_upgraded_and_plain_http_goes_to_https(proxy):
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
    for path in ("/socket.io/?EIO=4&transport=websocket", "/desk/ws", "/assist/ws"):
        status, body, _ = await fetch(proxy, "GET", path, headers=upgrade)
        assert "upgrade=websocket" in body and "real-ip=127.0.0.1" in body, (path, body)
        assert "host=localhost:" in body, (path, body)
    async with aiohttp.ClientSession() as client:
        async with client.get(proxy["http"] + "/desk", allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"] == proxy["https"] + "/desk"
