"""The supervisor behind `make run`, with small stand-in servers instead of Rasa."""

import sys

import pytest

from bot.serve import Part, Supervisor, is_up
from tests.conftest import free_port


def http_part(name: str) -> Part:
    port = free_port()
    return Part(
        name,
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        f"http://127.0.0.1:{port}/",
    )


@pytest.mark.slow  # starts processes
def test_starts_parts_in_order_restarts_one_and_stops_all(tmp_path):
    parts = [http_part("first"), http_part("second")]
    supervisor = Supervisor(parts, log_dir=tmp_path)
    supervisor.start(timeout=30)
    try:
        assert all(is_up(p.health_url) for p in parts)
        old_pid = parts[0].process.pid
        supervisor.restart(parts[0], timeout=30)
        assert parts[0].process.pid != old_pid and is_up(parts[0].health_url)
    finally:
        supervisor.stop()
    assert all(p.process.poll() is not None for p in parts)
    assert not any(is_up(p.health_url) for p in parts)


@pytest.mark.slow  # starts processes
def test_a_part_that_dies_at_start_stops_the_others(tmp_path):
    good = http_part("good")
    bad = Part("bad", [sys.executable, "-c", "raise SystemExit(3)"], "http://127.0.0.1:9/")
    supervisor = Supervisor([good, bad], log_dir=tmp_path)
    with pytest.raises(RuntimeError, match="bad exited with code 3"):
        supervisor.start(timeout=30)
    assert good.process.poll() is not None


def test_rasa_gets_every_variable_of_credentials_yml_even_when_unset():
    # Rasa refuses to start on an unset ${VAR} in credentials.yml; a channel
    # whose secrets are not set must stay off instead.
    import re

    from bot.serve import CHANNEL_VARIABLES, parts_for
    from knowledge.settings import PROJECT_ROOT, load_settings

    named = set(re.findall(r"\$\{(\w+)\}", (PROJECT_ROOT / "credentials.yml").read_text()))
    rasa = next(p for p in parts_for(load_settings(environ={})) if p.name == "Rasa")
    assert named <= set(rasa.env) | set(rasa.env_defaults)
    assert {name: rasa.env_defaults[name] for name in CHANNEL_VARIABLES} == dict.fromkeys(
        CHANNEL_VARIABLES, ""
    )


def test_the_action_server_runs_openblas_on_one_thread_unless_told_otherwise():
    # Its second thread spun against ONNX Runtime's (README "Side by side with a bare Rasa bot").
    from bot.serve import parts_for
    from knowledge.settings import load_settings

    actions = next(p for p in parts_for(load_settings(environ={})) if p.name == "action server")
    assert actions.env_defaults == {"OPENBLAS_NUM_THREADS": "1"}
    assert "OPENBLAS_NUM_THREADS" not in actions.env


def test_defaults_fill_only_what_the_environment_leaves_unset(tmp_path):
    port = free_port()
    seen = tmp_path / "seen.txt"
    script = (
        "import http.server, os, sys; "
        "open(sys.argv[1], 'w').write(repr((os.environ['SET'], os.environ['UNSET']))); "
        "http.server.test(http.server.SimpleHTTPRequestHandler, port=int(sys.argv[2]), "
        "bind='127.0.0.1')"
    )
    part = Part(
        "env",
        [sys.executable, "-c", script, str(seen), str(port)],
        f"http://127.0.0.1:{port}/",
        env_defaults={"SET": "", "UNSET": ""},
    )
    supervisor = Supervisor([part], environ={"SET": "from the environment"})
    supervisor.start(timeout=30)
    supervisor.stop()
    assert seen.read_text() == repr(("from the environment", ""))
