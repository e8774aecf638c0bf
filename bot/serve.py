"""Start the whole assistant: Rasa, the action server and the web app; stop them on Ctrl-C.

    python -m bot.serve            # what `make run` ends with

Rasa runs from its own Python 3.10 environment, the action server and web app
from this one. Each part is started in turn and waited for, so the console
says what is ready; if one part dies, the others are stopped too.

Every part listens on ``services.bind_host`` (127.0.0.1 unless opened), gets
its secrets from the environment (made here at start when unset, never on a
command line, where ``ps`` shows them) and creates its files readable by this
user only (umask 077).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from knowledge.settings import PROJECT_ROOT, Settings, get_settings

RASA_BIN = PROJECT_ROOT / ".venv" / "rasa" / "bin" / "rasa"
MODEL = PROJECT_ROOT / "models" / "helpdesk.tar.gz"


# The messaging channels' settings in credentials.yml (README "Telegram and
# WhatsApp"). Rasa refuses to start when a ${VAR} there is unset, so unset
# ones are passed empty: the channel stays off.
CHANNEL_VARIABLES = (
    "HELPDESK_TELEGRAM_TOKEN",
    "HELPDESK_TELEGRAM_SECRET_TOKEN",
    "HELPDESK_TELEGRAM_WEBHOOK_URL",
    "HELPDESK_TELEGRAM_API_URL",
    "HELPDESK_TWILIO_ACCOUNT_SID",
    "HELPDESK_TWILIO_AUTH_TOKEN",
    "HELPDESK_TWILIO_NUMBER",
    "HELPDESK_TWILIO_WEBHOOK_URL",
    "HELPDESK_TWILIO_API_URL",
    "HELPDESK_TWILIO_TEMPLATE_SID",
    # Unset: each Rasa process counts its senders' messages alone.
    "HELPDESK_REDIS_URL",
)


@dataclass
class Part:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    # Used when the environment does not set them.
    env_defaults: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    # A part that does not speak HTTP (PostgreSQL, Redis) says it is ready here.
    ready: Callable[[], bool] | None = None
    # Run as this system user (PostgreSQL refuses to run as root).
    user: str | None = None

    def is_ready(self) -> bool:
        return self.ready() if self.ready else is_up(self.health_url)


# Made at each start when the environment does not set them (README "Security:
# channels and processes"). HELPDESK_REST_TOKEN is not among them: unset, the
# REST channel stays off.
GENERATED_SECRETS = (
    "HELPDESK_RASA_TOKEN",
    "HELPDESK_ACTION_TOKEN",
    "HELPDESK_SESSION_SECRET",
    "HELPDESK_LOG_KEY",
)
# Data files (conversations) are for this user only.
UMASK = 0o077


def port_of(url: str) -> int:
    return urlparse(url).port or 80


def ensure_secrets(environ: dict[str, str]) -> None:
    """Put a fresh random value in `environ` for each generated secret it lacks."""
    for name in GENERATED_SECRETS:
        if not environ.get(name):
            environ[name] = secrets.token_urlsafe(32)


def widget_origins(settings: Settings) -> list[str]:
    """Origins allowed to open the widget's socket.io: the configured sites, or
    the web app's own pages on this machine."""
    port = settings.services.web_port
    return list(settings.services.allowed_origins) or [
        f"http://localhost:{port}",
        f"http://127.0.0.1:{port}",
    ]


def rasa_environment(settings: Settings, action_server_url: str) -> dict[str, str]:
    """The variables endpoints.yml reads."""
    events_db = settings.data_dir / "events.db"
    use_wal(events_db)
    tracker_db = settings.data_dir / "tracker.db"
    private(tracker_db)
    return {
        # Rasa imports our channels (connectors/) from the project folder.
        "PYTHONPATH": str(PROJECT_ROOT),
        "HELPDESK_ACTION_ENDPOINT": f"{action_server_url}/webhook",
        "HELPDESK_TRACKER_DB": str(tracker_db),
        "HELPDESK_EVENTS_DB": str(events_db),
        # The widget's channel relays hand-offs to and from the desk (credentials.yml).
        "HELPDESK_DESK_URL": f"http://localhost:{settings.services.web_port}",
        "HELPDESK_RASA_TOKEN": settings.services.rasa_token,
        # The action server refuses callers without it (endpoints.yml sends it).
        "HELPDESK_ACTION_TOKEN": settings.services.action_token,
        # Unset: the REST channel answers 403 (credentials.yml).
        "HELPDESK_REST_TOKEN": settings.services.rest_token,
        "HELPDESK_SESSION_SECRET": settings.services.session_secret,
        "HELPDESK_ALLOWED_ORIGINS": " ".join(widget_origins(settings)),
        # Size and rate limits of every channel (credentials.yml).
        "HELPDESK_MAX_MESSAGE_CHARS": str(settings.safety.max_message_chars),
        "HELPDESK_MESSAGES_PER_WINDOW": str(settings.safety.messages_per_window),
        "HELPDESK_RATE_WINDOW_SECONDS": str(settings.safety.window_seconds),
        "HELPDESK_NEW_CONVERSATIONS_PER_ADDRESS": str(
            settings.safety.new_conversations_per_address
        ),
        "HELPDESK_ADDRESS_WINDOW_SECONDS": str(settings.safety.address_window_seconds),
    }


def use_wal(database: Path) -> None:
    """Put an SQLite file in WAL mode (it stays so): the desk reads Rasa's events
    while Rasa writes them, and in the default mode each read would hold up a
    write, so every turn would wait."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
    private(database)


def private(database: Path) -> None:
    """Conversations are for this user only, even where a file was made before the
    umask was set (by a test, or by an earlier version)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    database.touch(mode=0o600)
    database.chmod(0o600)


def parts_for(settings: Settings, rasa_bin: Path = RASA_BIN, model: Path = MODEL) -> list[Part]:
    python = sys.executable
    rasa_url = settings.services.rasa_url
    actions_url = settings.services.action_server_url
    host = settings.services.bind_host
    # Rasa's HTTP API is for the desk (server to server); browsers only for the
    # configured sites. No --cors at all: Rasa allows no other origin.
    cors = (
        ["--cors", *settings.services.allowed_origins] if settings.services.allowed_origins else []
    )
    return [
        Part(
            "action server",
            [
                python,
                "-m",
                "bot.action_server",
                "--host",
                host,
                "--port",
                str(port_of(actions_url)),
            ],
            f"{actions_url}/health",
            # Its matrix products are small (a batch of questions against the
            # passages): OpenBLAS's second thread only spins against ONNX Runtime's,
            # about a third more CPU per batch of suggestions.
            env_defaults={"OPENBLAS_NUM_THREADS": "1"},
        ),
        Part(
            "Rasa",
            [
                # Rasa's own command line, plus an apology when the action server is down.
                str(rasa_bin.parent / "python"),
                "-m",
                "bot.rasa_run",
                "run",
                "--model",
                str(model),
                "--endpoints",
                str(settings.services.endpoints),
                "--credentials",
                "credentials.yml",
                "--interface",
                host,
                "--port",
                str(port_of(rasa_url)),
                *cors,
                # The desk delivers mediators' replies and hands back through the API;
                # bot/rasa_run.py adds its token from HELPDESK_RASA_TOKEN, out of `ps`.
                "--enable-api",
            ],
            f"{rasa_url}/",
            env=rasa_environment(settings, actions_url),
            env_defaults=dict.fromkeys(CHANNEL_VARIABLES, ""),
        ),
        Part(
            "web app",
            [python, "-m", "connectors.web"],
            f"http://localhost:{settings.services.web_port}/healthz",
            env={"HELPDESK_EVENTS_DB": str(settings.data_dir / "events.db")},
        ),
    ]


def is_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Supervisor:
    def __init__(
        self,
        parts: Sequence[Part],
        log_dir: Path | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.parts = list(parts)
        self.log_dir = log_dir
        self.environ = dict(os.environ if environ is None else environ)

    def start(self, timeout: float = 600) -> None:
        for part in self.parts:
            self._launch(part, timeout)

    def restart(self, part: Part, timeout: float = 600) -> None:
        """Stop one part and start it again, e.g. to show nothing is lost across a restart."""
        self.stop_part(part)
        self.start_part(part, timeout)

    def stop_part(self, part: Part) -> None:
        if part.process and part.process.poll() is None:
            part.process.terminate()
            part.process.wait(timeout=30)

    def start_part(self, part: Part, timeout: float = 600) -> None:
        self._launch(part, timeout)

    def part(self, name: str) -> Part:
        return next(part for part in self.parts if part.name == name)

    def _launch(self, part: Part, timeout: float) -> None:
        started = time.monotonic()
        print(f"==> Starting the {part.name} ...", flush=True)
        output = None
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{part.name.replace(' ', '-')}.log", "ab")  # noqa: SIM115
        part.process = subprocess.Popen(
            part.command,
            cwd=PROJECT_ROOT,
            env={**part.env_defaults, **self.environ, **part.env},
            stdout=output,
            stderr=output,
            umask=UMASK,
            user=part.user,
        )
        while not part.is_ready():
            if part.process.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"The {part.name} exited with code {part.process.returncode}"
                    + (f"; see {self.log_dir}" if self.log_dir else "")
                )
            if time.monotonic() - started > timeout:
                self.stop()
                raise TimeoutError(f"The {part.name} was not ready after {timeout:.0f} s")
            time.sleep(0.5)
        print(f"    {part.name} ready in {time.monotonic() - started:.0f} s", flush=True)

    def wait(self) -> int:
        """Block until a part exits; return its exit code."""
        while True:
            for part in self.parts:
                if part.process and part.process.poll() is not None:
                    print(f"The {part.name} stopped (code {part.process.returncode}).")
                    return part.process.returncode or 1
            time.sleep(1)

    def stop(self) -> None:
        for part in reversed(self.parts):
            if part.process and part.process.poll() is None:
                part.process.terminate()
        deadline = time.monotonic() + 15
        for part in self.parts:
            if part.process:
                try:
                    part.process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    part.process.kill()
                    part.process.wait()


def main() -> int:
    # Before any file is made: the databases hold conversations.
    os.umask(UMASK)
    # Rasa's API and the desk, the action server and its callers, the widget's
    # sessions share these; a new one at each start is enough.
    ensure_secrets(os.environ)
    get_settings.cache_clear()
    settings = get_settings()
    if not MODEL.exists():
        print(f"No trained Rasa model at {MODEL}: run `make train`.", file=sys.stderr)
        return 2
    supervisor = Supervisor(parts_for(settings))

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # Set SIGINT too: a shell starting us in the background ignores it otherwise.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        supervisor.start()
        port = settings.services.web_port
        rest_state = (
            "Authorization: Bearer $HELPDESK_REST_TOKEN"
            if settings.services.rest_token
            else "off: set HELPDESK_REST_TOKEN"
        )
        print(
            f"\nThe assistant is ready.\n"
            f"  Chat (REST):  POST {settings.services.rasa_url}/webhooks/rest/webhook"
            f" ({rest_state})\n"
            f"  Chat widget:  http://localhost:{port}/widget/example.html\n"
            f"  Mediators:    http://localhost:{port}/desk\n"
            f"  Operators:    http://localhost:{port}/assist\n"
            f"  Dashboard:    http://localhost:{port}/dashboard\n"
            f"  Health:       http://localhost:{port}/healthz\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        return supervisor.wait()
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
