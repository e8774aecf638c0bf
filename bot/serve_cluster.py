"""Start a region's topology on this machine; stop it on Ctrl-C.

    python -m bot.serve_cluster        # what `make run-cluster` ends with

PostgreSQL (conversations, the event stream, the desk), Redis (Rasa's lock
store, rate limits, socket.io's manager, the desk's live updates), two action
servers, two Rasa processes and two web apps, with Debian's nginx in front of
each kind (README "Serving a region"). Everything listens on 127.0.0.1; the
addresses people and staff use are the same as with `make run`.

PostgreSQL's and Redis's passwords, like the other secrets, come from the
environment or are made at each start: PostgreSQL's role gets the new one at
each start, Redis reads it from a file only this user can read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from bot.serve import (
    CHANNEL_VARIABLES,
    MODEL,
    RASA_BIN,
    UMASK,
    Part,
    Supervisor,
    ensure_secrets,
    parts_for,
    port_of,
)
from knowledge.settings import PROJECT_ROOT, Settings, load_settings

CLUSTER = PROJECT_ROOT / "deploy" / "cluster"
NGINX_TEMPLATE = CLUSTER / "nginx.conf.template"
ENDPOINTS = CLUSTER / "endpoints.yml"
DATABASES = {"tracker": "helpdesk_tracker", "events": "helpdesk_events", "desk": "helpdesk_desk"}
PG_USER, PG_ADMIN = "helpdesk", "helpdesk_admin"
LOCK_DB = 1  # Redis database of Rasa's lock store; the rest share database 0


@dataclass(frozen=True)
class Ports:
    """Where each process listens. The first four are nginx's, the addresses of
    `make run`: people and staff see no difference."""

    public: int = 8080
    rasa: int = 5005
    actions: int = 5055
    desk: int = 8079
    rasa_processes: tuple[int, ...] = (5006, 5007)
    action_servers: tuple[int, ...] = (5056, 5057)
    web_apps: tuple[int, ...] = (8081, 8082)
    postgres: int = 5433
    redis: int = 6380

    @classmethod
    def from_settings(cls, settings: Settings) -> Ports:
        """nginx's ports from helpdesk.yml, the processes' just above them."""
        web, rasa = settings.services.web_port, port_of(settings.services.rasa_url)
        actions = port_of(settings.services.action_server_url)
        return cls(
            public=web,
            rasa=rasa,
            actions=actions,
            desk=web - 1,
            rasa_processes=(rasa + 1, rasa + 2),
            action_servers=(actions + 1, actions + 2),
            web_apps=(web + 1, web + 2),
        )


def pg_password(environ: dict[str, str]) -> str:
    environ.setdefault("HELPDESK_PG_PASSWORD", secrets.token_urlsafe(24))
    return environ["HELPDESK_PG_PASSWORD"]


def shared_environment(ports: Ports, environ: dict[str, str]) -> dict[str, str]:
    """What every process of the region reads: the endpoints file and its ${VAR}s,
    and the shared servers."""
    redis_password = environ.setdefault("HELPDESK_REDIS_PASSWORD", secrets.token_urlsafe(24))
    password = pg_password(environ)
    pg = f"{PG_USER}:{password}@127.0.0.1:{ports.postgres}"
    return {
        "HELPDESK_ENDPOINTS": str(ENDPOINTS),
        "HELPDESK_REDIS_HOST": "127.0.0.1",
        "HELPDESK_REDIS_PORT": str(ports.redis),
        "HELPDESK_REDIS_LOCK_DB": str(LOCK_DB),
        "HELPDESK_REDIS_URL": f"redis://:{redis_password}@127.0.0.1:{ports.redis}/0",
        "HELPDESK_PG_HOST": "127.0.0.1",
        "HELPDESK_PG_PORT": str(ports.postgres),
        "HELPDESK_PG_USER": PG_USER,
        "HELPDESK_PG_TRACKER_DB": DATABASES["tracker"],
        "HELPDESK_PG_EVENTS_DB": DATABASES["events"],
        "HELPDESK_DATABASE_URL": f"postgresql+psycopg://{pg}/{DATABASES['desk']}",
        # Every process sends its callers to nginx, which picks a live one.
        "HELPDESK_RASA_URL": f"http://127.0.0.1:{ports.rasa}",
        "HELPDESK_ACTION_SERVER_URL": f"http://127.0.0.1:{ports.actions}",
        "HELPDESK_ALLOWED_ORIGINS": environ.get("HELPDESK_ALLOWED_ORIGINS")
        or f"http://localhost:{ports.public} http://127.0.0.1:{ports.public}",
    }


# -- PostgreSQL -----------------------------------------------------------------


def postgres_binaries() -> Path:
    found = sorted(glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise SystemExit("PostgreSQL is not installed: run `make install` (Debian's postgresql)")
    return Path(found[-1]).parent


def postgres_home(data_dir: Path) -> tuple[Path, str | None]:
    """Where the database files live, and the user PostgreSQL runs as. PostgreSQL
    refuses root; as root it runs as Debian's `postgres` user, in that user's
    home, which it can reach (a project under /root it could not)."""
    if os.geteuid() != 0:
        return data_dir / "postgres", None
    name = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return Path("/var/lib/postgresql") / f"helpdesk-{name}", "postgres"


def postgres_part(home: Path, user: str | None, port: int) -> Part:
    bindir = postgres_binaries()
    data, sockets = home / "data", home / "sockets"
    if not (data / "PG_VERSION").exists():
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if user:
            shutil.chown(home, user, user)
        print("==> Creating the PostgreSQL database files (once)", flush=True)
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", PG_ADMIN, "-E", "UTF8"]
            + ["--auth-local=trust", "--auth-host=scram-sha-256"],
            check=True,
            capture_output=True,
            user=user,
        )
    sockets.mkdir(exist_ok=True, mode=0o700)
    if user:
        shutil.chown(sockets, user, user)
    command = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets)]
    command += ["-c", "listen_addresses=127.0.0.1"]
    return Part(
        "PostgreSQL",
        command,
        "",
        ready=lambda: _answers(port) and _admin_connects(sockets, port),
        user=user,
    )


def _admin_connects(sockets: Path, port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(host=str(sockets), port=port, user=PG_ADMIN, dbname="postgres"):
            return True
    except psycopg.OperationalError:
        return False


def prepare_databases(sockets: Path, port: int, password: str) -> None:
    """The role with this start's password, and the three databases if missing."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(sockets), port=port, user=PG_ADMIN, dbname="postgres", autocommit=True
    ) as db:
        exists = db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (PG_USER,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        db.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(PG_USER), sql.Literal(password)
            )
        )
        for name in DATABASES.values():
            if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                db.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(name), sql.Identifier(PG_USER)
                    )
                )


# -- Redis and nginx ------------------------------------------------------------


def redis_part(run_dir: Path, port: int, password: str) -> Part:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("Redis is not installed: run `make install` (Debian's redis-server)")
    config = run_dir / "redis.conf"
    # The password in a file for this user only, not on the command line (ps shows it).
    config.write_text(
        f"bind 127.0.0.1\nport {port}\nrequirepass {password}\n"
        f'save ""\nappendonly no\ndir {run_dir}\n'
    )
    config.chmod(0o600)
    return Part("Redis", [binary, str(config)], "", ready=lambda: _answers(port))


def nginx_config(ports: Ports, prefix: Path) -> str:
    def servers(numbers: tuple[int, ...]) -> str:
        # A process that failed is left alone for 5 s, then tried again.
        return "\n".join(
            f"        server 127.0.0.1:{n} max_fails=1 fail_timeout=5s;" for n in numbers
        )

    values = {
        "PREFIX": str(prefix),
        "PUBLIC": f"127.0.0.1:{ports.public}",
        "RASA": f"127.0.0.1:{ports.rasa}",
        "ACTIONS": f"127.0.0.1:{ports.actions}",
        "DESK": f"127.0.0.1:{ports.desk}",
        "RASA_SERVERS": servers(ports.rasa_processes),
        "ACTION_SERVERS": servers(ports.action_servers),
        "WEB_SERVERS": servers(ports.web_apps),
    }
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], NGINX_TEMPLATE.read_text())


def nginx_part(run_dir: Path, ports: Ports) -> Part:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("nginx is not installed: run `make install` (Debian's nginx)")
    prefix = run_dir / "nginx"
    prefix.mkdir(exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(nginx_config(ports, prefix))
    return Part(
        "nginx",
        [binary, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "nginx-error.log")]
        + ["-g", "daemon off;"],
        "",
        # Started before the processes behind it, which find each other through it.
        ready=lambda: _answers(ports.public),
    )


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
        return True
    return False


# -- The region ---------------------------------------------------------------


def region_parts(
    environ: dict[str, str], ports: Ports, rasa_bin: Path = RASA_BIN, model: Path = MODEL
) -> list[Part]:
    """Action servers, Rasa processes and web apps, two of each, numbered; each
    kind is started in turn, as `make run` starts one of each."""
    kinds: dict[str, list[Part]] = {"action server": [], "Rasa": [], "web app": []}
    backends = {
        "action server": ports.action_servers,
        "Rasa": ports.rasa_processes,
        "web app": ports.web_apps,
    }
    for number in range(len(ports.rasa_processes)):
        own = {kind: numbers[number] for kind, numbers in backends.items()}
        one = load_settings(
            environ={
                **environ,
                "HELPDESK_RASA_URL": f"http://127.0.0.1:{own['Rasa']}",
                "HELPDESK_ACTION_SERVER_URL": f"http://127.0.0.1:{own['action server']}",
                "HELPDESK_WEB_PORT": str(own["web app"]),
            }
        )
        for part in parts_for(one, rasa_bin, model):
            part.name = f"{part.name} {number + 1}"
            kind = part.name.rsplit(" ", 1)[0]
            # Callers go through nginx; only the listening port is the process's own.
            part.env = {
                **part.env,
                "HELPDESK_RASA_URL": f"http://127.0.0.1:{ports.rasa}",
                "HELPDESK_ACTION_SERVER_URL": f"http://127.0.0.1:{ports.actions}",
                "HELPDESK_ACTION_ENDPOINT": f"http://127.0.0.1:{ports.actions}/webhook",
                "HELPDESK_DESK_URL": f"http://127.0.0.1:{ports.desk}",
            }
            if kind == "web app":
                part.env["HELPDESK_WEB_PORT"] = str(own["web app"])
                # nginx is the web apps' only caller: trust its X-Forwarded-For.
                part.env["HELPDESK_BEHIND_PROXY"] = "true"
            kinds[kind].append(part)
    return [part for parts in kinds.values() for part in parts]


def cluster_parts(
    settings: Settings, ports: Ports, environ: dict[str, str]
) -> tuple[list[Part], Path, Path]:
    """Every part in start order, PostgreSQL's socket folder and the run folder."""
    run_dir = settings.data_dir / "cluster"
    run_dir.mkdir(parents=True, exist_ok=True)
    home, user = postgres_home(settings.data_dir)
    environ.update(shared_environment(ports, environ))
    parts = [
        postgres_part(home, user, ports.postgres),
        redis_part(run_dir, ports.redis, environ["HELPDESK_REDIS_PASSWORD"]),
        nginx_part(run_dir, ports),
        *region_parts(environ, ports),
    ]
    return parts, home / "sockets", run_dir


class RegionSupervisor(Supervisor):
    """Starts PostgreSQL first and gives its role this start's password before
    anything connects."""

    def __init__(self, parts, sockets: Path, postgres_port: int, **kwargs) -> None:
        super().__init__(parts, **kwargs)
        self.sockets, self.postgres_port = sockets, postgres_port

    def start(self, timeout: float = 600) -> None:
        for part in self.parts:
            self._launch(part, timeout)
            if part.name == "PostgreSQL":
                prepare_databases(
                    self.sockets, self.postgres_port, self.environ["HELPDESK_PG_PASSWORD"]
                )


def start_region(
    environ: dict[str, str], ports: Ports | None = None, log_dir: Path | None = None
) -> tuple[Settings, Ports, RegionSupervisor]:
    """Start every part; the caller stops them with ``supervisor.stop()``."""
    ensure_secrets(environ)
    for name in CHANNEL_VARIABLES:
        environ.setdefault(name, "")
    settings = load_settings(environ=environ)
    ports = ports or Ports.from_settings(settings)
    parts, sockets, run_dir = cluster_parts(settings, ports, environ)
    supervisor = RegionSupervisor(
        parts, sockets, ports.postgres, log_dir=log_dir or run_dir / "logs", environ=environ
    )
    supervisor.start()
    return load_settings(environ=environ), ports, supervisor


def main() -> int:
    os.umask(UMASK)
    if not MODEL.exists():
        print(f"No trained Rasa model at {MODEL}: run `make train`.", file=sys.stderr)
        return 2
    environ = dict(os.environ)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    supervisor = None
    try:
        settings, ports, supervisor = start_region(environ)
        print(
            "\nThe region is ready: two Rasa processes, two action servers and two web\n"
            "apps behind nginx, on PostgreSQL and Redis.\n"
            f"  Chat widget:  http://localhost:{ports.public}/widget/example.html\n"
            f"  Mediators:    http://localhost:{ports.public}/desk\n"
            f"  Health:       http://localhost:{ports.public}/healthz\n"
            f"  REST:         POST http://localhost:{ports.rasa}/webhooks/rest/webhook\n"
            f"  Logs:         {settings.data_dir / 'cluster' / 'logs'}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        return supervisor.wait()
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        if supervisor:
            supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
