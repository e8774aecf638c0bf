"""Settings of the assistant: one YAML file, read once, with environment overrides.

    from knowledge.settings import get_settings
    get_settings().retrieval.confidence_threshold

The file is ``helpdesk.yml`` at the project root (``HELPDESK_CONFIG`` names another).
Each value can be overridden by the environment variable written beside it in
that file. A wrong value raises ``SettingsError`` naming the setting and the fix.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The header every caller of the action server sends services.action_token in.
ACTION_TOKEN_HEADER = "X-Helpdesk-Action-Token"
# models.encoder: ONNX Runtime with int8 weights, ONNX Runtime in float32, PyTorch.
ENCODERS = ("onnx-int8", "onnx", "torch")
DEFAULT_CONFIG = PROJECT_ROOT / "helpdesk.yml"


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it and says how to fix it."""


@dataclass(frozen=True)
class Models:
    dir: Path | None
    embedding: str
    # How sentences are encoded: ENCODERS; the ONNX kinds need no torch at run time.
    encoder: str = "onnx-int8"
    # Where the ONNX exports are kept (under data_dir), made once per model and kind.
    exports: Path | None = None

    def local_folder(self, name: str) -> Path | None:
        """The folder of model `name` under the models folder, if it is there."""
        if self.dir is None:
            return None
        folder = self.dir / name.split("/")[-1]
        return folder if folder.is_dir() else None


@dataclass(frozen=True)
class Content:
    dir: Path
    municipality: str
    taxonomy: Path
    # Lint warns when an answer's latest review record is older than this.
    review_max_days: int = 365
    # The public page with the chat widget; the printed kit shows it as a QR code.
    chat_url: str = ""


@dataclass(frozen=True)
class Languages:
    curated: tuple[str, ...]
    supported: tuple[str, ...]
    default: str
    fallback_answer: str


@dataclass(frozen=True)
class Retrieval:
    confidence_threshold: float
    top_k: int


@dataclass(frozen=True)
class Safety:
    # Emergency when the detector's score (0 to 1) reaches emergency_threshold,
    # or keyword_threshold and a keyword matches (knowledge/emergency.py).
    emergency_threshold: float
    keyword_threshold: float
    # From soft_threshold up to an alarm, the answer gets one more line with
    # 112 and the offer of a person.
    soft_threshold: float
    # The input channels refuse longer messages, and more than
    # messages_per_window from one sender in window_seconds (connectors/limits.py).
    max_message_chars: int
    messages_per_window: int
    window_seconds: float
    # New conversations one source address may start in address_window_seconds
    # (socket.io and REST; connectors/limits.py AddressLimits).
    new_conversations_per_address: int
    address_window_seconds: float


@dataclass(frozen=True)
class Translation:
    packages_from: Path | None
    download: tuple[str, ...]


@dataclass(frozen=True)
class Services:
    rasa_url: str
    action_server_url: str
    web_port: int
    # Secret for Rasa's HTTP API; empty until the supervisor makes one.
    rasa_token: str
    # Address every service listens on; 127.0.0.1 keeps them off the network.
    bind_host: str
    # Sites allowed to open the widget's socket.io and call Rasa from a browser.
    # Empty: only the web app's own address on this machine.
    allowed_origins: tuple[str, ...]
    # Trusted integrations send "Authorization: Bearer <rest_token>" to the REST
    # channel. Empty: the REST channel answers 403 to everything.
    rest_token: str
    # Shared secret of Rasa, the web app and the action server; empty until the
    # supervisor makes one.
    action_token: str
    # Key of the socket.io session tags; empty until the supervisor makes one.
    session_secret: str
    # Rasa's endpoints file; the web app and the action server read the same
    # stores from it (deploy/cluster/endpoints.yml for several processes).
    endpoints: Path = PROJECT_ROOT / "endpoints.yml"

    def action_server_headers(self) -> dict[str, str]:
        """Headers for a request to the action server (bot/action_server.py)."""
        return {ACTION_TOKEN_HEADER: self.action_token}


@dataclass(frozen=True)
class Api:
    # Empty: the operator API refuses every request.
    token: str


@dataclass(frozen=True)
class Desk:
    database_url: str
    hours: str
    timezone: str
    default_wait_minutes: int
    session_hours: int
    # Served over HTTPS through the reverse proxy (deploy/): Secure cookies with
    # the __Host- prefix, and the person's address taken from the proxy's X-Real-IP.
    behind_proxy: bool = False
    # Redis shared by several web apps (redis://host:port/db): the log-in
    # throttle counts there. Empty: each web app counts alone.
    redis_url: str = ""
    # Several web apps on one PostgreSQL desk store: one follows Rasa's events
    # and delivers replies; another tries to take over this often.
    takeover_seconds: float = 2.0
    # The largest photo or PDF a person may send a mediator during a hand-off.
    attachment_max_bytes: int = 5 * 1024 * 1024


@dataclass(frozen=True)
class Privacy:
    # Conversations with no message for this long are deleted everywhere.
    retention_days: int
    # ... and this soon when the person chose "don't keep" in the privacy notice.
    declined_retention_hours: int


@dataclass(frozen=True)
class Settings:
    config_file: Path
    models: Models
    content: Content
    data_dir: Path
    languages: Languages
    retrieval: Retrieval
    safety: Safety
    translation: Translation
    services: Services
    api: Api
    desk: Desk
    privacy: Privacy

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def argos_packages_dir(self) -> Path:
        return self.data_dir / "argos-packages"


# (dotted key in helpdesk.yml, environment variable)
ENV_OVERRIDES: tuple[tuple[str, str], ...] = (
    ("models.dir", "HELPDESK_MODELS_DIR"),
    ("models.embedding", "HELPDESK_EMBEDDING_MODEL"),
    ("models.encoder", "HELPDESK_ENCODER"),
    ("content.dir", "HELPDESK_CONTENT_DIR"),
    ("content.municipality", "HELPDESK_MUNICIPALITY"),
    ("content.taxonomy", "HELPDESK_TAXONOMY"),
    ("content.review_max_days", "HELPDESK_REVIEW_MAX_DAYS"),
    ("content.chat_url", "HELPDESK_CHAT_URL"),
    ("data_dir", "HELPDESK_DATA_DIR"),
    ("languages.curated", "HELPDESK_CURATED_LANGUAGES"),
    ("languages.supported", "HELPDESK_SUPPORTED_LANGUAGES"),
    ("languages.default", "HELPDESK_DEFAULT_LANGUAGE"),
    ("languages.fallback_answer", "HELPDESK_FALLBACK_LANGUAGE"),
    ("retrieval.confidence_threshold", "HELPDESK_CONFIDENCE_THRESHOLD"),
    ("retrieval.top_k", "HELPDESK_TOP_K"),
    ("safety.emergency_threshold", "HELPDESK_EMERGENCY_THRESHOLD"),
    ("safety.keyword_threshold", "HELPDESK_EMERGENCY_KEYWORD_THRESHOLD"),
    ("safety.soft_threshold", "HELPDESK_EMERGENCY_SOFT_THRESHOLD"),
    ("safety.max_message_chars", "HELPDESK_MAX_MESSAGE_CHARS"),
    ("safety.messages_per_window", "HELPDESK_MESSAGES_PER_WINDOW"),
    ("safety.window_seconds", "HELPDESK_RATE_WINDOW_SECONDS"),
    ("safety.new_conversations_per_address", "HELPDESK_NEW_CONVERSATIONS_PER_ADDRESS"),
    ("safety.address_window_seconds", "HELPDESK_ADDRESS_WINDOW_SECONDS"),
    ("translation.packages_from", "HELPDESK_ARGOS_MODELS"),
    ("translation.download", "HELPDESK_ARGOS_DOWNLOAD"),
    ("services.rasa_url", "HELPDESK_RASA_URL"),
    ("services.action_server_url", "HELPDESK_ACTION_SERVER_URL"),
    ("services.web_port", "HELPDESK_WEB_PORT"),
    ("services.rasa_token", "HELPDESK_RASA_TOKEN"),
    ("services.bind_host", "HELPDESK_BIND_HOST"),
    ("services.allowed_origins", "HELPDESK_ALLOWED_ORIGINS"),
    ("services.rest_token", "HELPDESK_REST_TOKEN"),
    ("services.action_token", "HELPDESK_ACTION_TOKEN"),
    ("services.session_secret", "HELPDESK_SESSION_SECRET"),
    ("services.endpoints", "HELPDESK_ENDPOINTS"),
    ("api.token", "HELPDESK_API_TOKEN"),
    ("desk.database_url", "HELPDESK_DATABASE_URL"),
    ("desk.hours", "HELPDESK_DESK_HOURS"),
    ("desk.timezone", "HELPDESK_DESK_TIMEZONE"),
    ("desk.default_wait_minutes", "HELPDESK_DEFAULT_WAIT_MINUTES"),
    ("desk.session_hours", "HELPDESK_SESSION_HOURS"),
    ("desk.behind_proxy", "HELPDESK_BEHIND_PROXY"),
    ("desk.redis_url", "HELPDESK_REDIS_URL"),
    ("desk.takeover_seconds", "HELPDESK_DESK_TAKEOVER_SECONDS"),
    ("desk.attachment_max_bytes", "HELPDESK_ATTACHMENT_MAX_BYTES"),
    ("privacy.retention_days", "HELPDESK_RETENTION_DAYS"),
    ("privacy.declined_retention_hours", "HELPDESK_DECLINED_RETENTION_HOURS"),
)
ENV_NAMES = dict(ENV_OVERRIDES)


def load_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read settings from `path` (default: helpdesk.yml) and apply environment overrides."""
    environ = dict(os.environ if environ is None else environ)
    path = Path(path or environ.get("HELPDESK_CONFIG") or DEFAULT_CONFIG).resolve()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SettingsError(
            f"Settings file {path} not found: set HELPDESK_CONFIG to your helpdesk.yml"
        ) from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"Settings file {path} is not valid YAML: {exc}") from None
    for key, env in ENV_OVERRIDES:
        if environ.get(env) is not None:
            _put(raw, key, environ[env])
    return _Reader(raw, path.parent).settings(path)


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()


def _put(raw: dict, dotted: str, value: str) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        raw = raw.setdefault(part, {})
    raw[last] = value


class _Reader:
    def __init__(self, raw: dict, base: Path) -> None:
        self.raw = raw
        self.base = base

    def get(self, dotted: str) -> Any:
        node: Any = self.raw
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.error(dotted, "is missing", "add it to helpdesk.yml")
            node = node[part]
        return node

    def error(self, dotted: str, problem: str, fix: str) -> SettingsError:
        env = ENV_NAMES.get(dotted)
        where = f"{dotted} (environment: {env})" if env else dotted
        return SettingsError(f"Setting {where} {problem}: {fix}")

    def text(self, dotted: str) -> str:
        value = self.get(dotted)
        if not isinstance(value, str) or not value.strip():
            raise self.error(dotted, f"is {value!r}", "give a non-empty text")
        return value.strip()

    def path(self, dotted: str, optional: bool = False) -> Path | None:
        value = self.get(dotted)
        if value in (None, "") and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(dotted, f"is {value!r}", "give a folder or file path")
        return (self.base / os.path.expanduser(value.strip())).resolve()

    def number(self, dotted: str, kind: type, low: float, high: float) -> Any:
        value = self.get(dotted)
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise self.error(dotted, f"is {value!r}", f"give a {kind.__name__}") from None
        if not low <= number <= high:
            raise self.error(dotted, f"is {number}", f"give a value from {low} to {high}")
        return number

    def codes(self, dotted: str) -> tuple[str, ...]:
        value = self.get(dotted)
        if isinstance(value, str):
            value = [part for part in value.replace(",", " ").split() if part]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(dotted, f"is {value!r}", "give a list such as [it, en, ar]")
        return tuple(v.strip().lower() for v in value)

    def settings(self, config_file: Path) -> Settings:
        languages = Languages(
            curated=self.codes("languages.curated"),
            supported=self.codes("languages.supported"),
            default=self.text("languages.default").lower(),
            fallback_answer=self.text("languages.fallback_answer").lower(),
        )
        for name in ("curated", "default", "fallback_answer"):
            value = getattr(languages, name)
            codes = (value,) if isinstance(value, str) else value
            missing = [code for code in codes if code not in languages.supported]
            if missing:
                raise self.error(
                    f"languages.{name}",
                    f"names {', '.join(missing)}, which is not in languages.supported",
                    "add it to languages.supported",
                )
        data_dir = self.path("data_dir")
        return Settings(
            config_file=config_file,
            models=Models(
                dir=self.path("models.dir", optional=True),
                embedding=self.text("models.embedding"),
                encoder=self.choice("models.encoder", ENCODERS, default=Models.encoder),
                exports=data_dir / "encoders",
            ),
            content=Content(
                dir=self.path("content.dir"),
                municipality=self.text("content.municipality"),
                taxonomy=self.path("content.taxonomy"),
                review_max_days=self.number("content.review_max_days", int, 1, 3650),
                chat_url=self.web_address("content.chat_url"),
            ),
            data_dir=data_dir,
            languages=languages,
            retrieval=Retrieval(
                confidence_threshold=self.number("retrieval.confidence_threshold", float, 0, 1),
                top_k=self.number("retrieval.top_k", int, 1, 10),
            ),
            safety=Safety(
                emergency_threshold=self.number("safety.emergency_threshold", float, 0, 1),
                keyword_threshold=self.number("safety.keyword_threshold", float, 0, 1),
                soft_threshold=self.number("safety.soft_threshold", float, 0, 1),
                max_message_chars=self.number("safety.max_message_chars", int, 100, 1_000_000),
                messages_per_window=self.number("safety.messages_per_window", int, 1, 10_000),
                window_seconds=self.number("safety.window_seconds", float, 1, 86_400),
                new_conversations_per_address=self.number(
                    "safety.new_conversations_per_address", int, 1, 10_000_000
                ),
                address_window_seconds=self.number(
                    "safety.address_window_seconds", float, 1, 86_400
                ),
            ),
            translation=Translation(
                packages_from=self.path("translation.packages_from", optional=True),
                download=self.codes("translation.download"),
            ),
            services=Services(
                rasa_url=self.text("services.rasa_url").rstrip("/"),
                action_server_url=self.text("services.action_server_url").rstrip("/"),
                web_port=self.number("services.web_port", int, 1, 65535),
                rasa_token=self.optional_text("services.rasa_token"),
                bind_host=self.text("services.bind_host"),
                allowed_origins=self.origins("services.allowed_origins"),
                rest_token=self.optional_text("services.rest_token"),
                action_token=self.optional_text("services.action_token"),
                session_secret=self.optional_text("services.session_secret"),
                endpoints=self.endpoints_file("services.endpoints"),
            ),
            api=Api(token=self.optional_text("api.token")),
            desk=self.desk(data_dir),
            privacy=Privacy(
                retention_days=self.number("privacy.retention_days", int, 1, 3650),
                declined_retention_hours=self.number(
                    "privacy.declined_retention_hours", int, 1, 24 * 90
                ),
            ),
        )

    def choice(self, dotted: str, allowed: tuple[str, ...], default: str) -> str:
        # Absent from older helpdesk.yml files: the default, not an error.
        try:
            value = self.get(dotted)
        except SettingsError:
            return default
        text = str(value or "").strip().lower()
        if text not in allowed:
            raise self.error(dotted, f"is {value!r}", f"give one of {', '.join(allowed)}")
        return text

    def endpoints_file(self, dotted: str) -> Path:
        # Absent from older helpdesk.yml files: the project's endpoints.yml.
        try:
            path = self.path(dotted, optional=True)
        except SettingsError:
            path = None
        path = path or PROJECT_ROOT / "endpoints.yml"
        if not path.is_file():
            raise self.error(
                dotted, f"names {path}, which is not a file", "name Rasa's endpoints.yml"
            )
        return path

    def optional_text(self, dotted: str) -> str:
        return str(self.get(dotted) or "").strip()

    def web_address(self, dotted: str) -> str:
        """An optional https:// address ("" when unset)."""
        try:
            address = self.optional_text(dotted)
        except SettingsError:  # an older helpdesk.yml without the key
            return ""
        if address and not re.fullmatch(r"https://[^\s<>\"]+", address):
            raise self.error(
                dotted, f"is {address!r}", "give an https:// address or leave it empty"
            )
        return address

    def origins(self, dotted: str) -> tuple[str, ...]:
        value = self.get(dotted) or []
        if isinstance(value, str):
            value = value.replace(",", " ").split()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(dotted, f"is {value!r}", "give a list such as [https://comune.it]")
        for origin in value:
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise self.error(
                    dotted, f"names {origin!r}", "give scheme and host only: https://comune.it"
                )
        return tuple(v.rstrip("/") for v in value)

    def desk(self, data_dir: Path) -> Desk:
        from core.hours import OpeningHours

        hours = self.text("desk.hours")
        timezone = self.text("desk.timezone")
        try:
            OpeningHours.parse(hours, timezone)
        except ValueError as exc:
            raise self.error("desk.hours", f"is {hours!r} ({exc})", OpeningHours.EXAMPLE) from None
        return Desk(
            database_url=self.optional_text("desk.database_url")
            or f"sqlite:///{data_dir / 'desk.db'}",
            hours=hours,
            timezone=timezone,
            default_wait_minutes=self.number("desk.default_wait_minutes", int, 1, 24 * 60),
            session_hours=self.number("desk.session_hours", int, 1, 24 * 30),
            behind_proxy=self.switch("desk.behind_proxy"),
            redis_url=self.redis_url("desk.redis_url"),
            takeover_seconds=self.takeover_seconds(),
            attachment_max_bytes=self.attachment_max_bytes(),
        )

    def attachment_max_bytes(self) -> int:
        """desk.attachment_max_bytes; 5 MiB for an older helpdesk.yml without the key."""
        if "attachment_max_bytes" not in (self.raw.get("desk") or {}):
            return 5 * 1024 * 1024
        # At least 1 KiB; at most 20 MiB, which the database keeps comfortably.
        return self.number("desk.attachment_max_bytes", int, 1024, 20 * 1024 * 1024)

    def takeover_seconds(self) -> float:
        """desk.takeover_seconds; 2 for an older helpdesk.yml without the key."""
        if "takeover_seconds" not in (self.raw.get("desk") or {}):
            return 2.0
        return self.number("desk.takeover_seconds", float, 0.05, 60)

    def redis_url(self, dotted: str) -> str:
        """An optional redis://, rediss:// or unix:// address ("" when unset)."""
        try:
            address = self.optional_text(dotted)
        except SettingsError:  # an older helpdesk.yml without the key
            return ""
        if address and not address.startswith(("redis://", "rediss://", "unix://")):
            fix = "give redis://host:port/db, or leave it empty"
            raise self.error(dotted, f"is {address!r}", fix)
        return address

    def switch(self, dotted: str) -> bool:
        value = self.optional_text(dotted).lower()
        if value not in ("", "true", "false", "1", "0", "yes", "no", "on", "off"):
            raise self.error(dotted, f"is {value!r}", "write true or false")
        return value in ("true", "1", "yes", "on")
