"""Benchmark, not a test: REST turns, operator API, index build time and memory.

    make bench            # or: .venv/app/bin/python -m tests.bench [--concurrency 20]

Starts its own assistant (action server, Rasa, web app) on free ports with a
fresh data folder and no translation packages, so no turn is machine
translated. It sends every development question as one turn, first one at a
time, then from 20 conversations at once; then asks the operator API
(``POST /api/suggest``) the same questions, one at a time and 20 at once.
Then 50 people hand off to a mediator at once (``tests/bench_handoff.py``).
Last, the questions go through Telegram's and Twilio's webhooks too, against
loopback stand-ins of both platforms (``tests/bench_channels.py``), to measure
what the messaging channels add to each message. It prints medians and p95,
the peak memory (VmHWM) of each process and the machine it ran on. Its data
folder is removed at the end, unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bot.serve import MODEL, Supervisor, parts_for
from connectors.desk.auth import hash_password
from connectors.desk.store import Store
from knowledge.evaluation import load_questions
from knowledge.settings import PROJECT_ROOT, Settings, load_settings
from tests import bench_channels, bench_handoff
from tests.bench_channels import BENCH_REST_TOKEN, REST_AUTH
from tests.conftest import free_port
from tests.fake_platforms import FakePlatforms, platform_env

BENCH_PASSWORD = "bench-password-long"

QUESTIONS = PROJECT_ROOT / "tests" / "data" / "dev_questions.yml"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{platform.node()}: {os.cpu_count()} cores ({cpu}), "
        f"{int(memory) / 1024 / 1024:.1f} GiB, {platform.system()} {platform.release()}"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(name: str, latencies: list[float], seconds: float) -> str:
    ms = [v * 1000 for v in latencies]
    return (
        f"{name:<40} n={len(ms):<4} p50={statistics.median(ms):7.1f} ms  "
        f"p95={percentile(ms, 0.95):7.1f} ms  max={max(ms):7.1f} ms  "
        f"throughput={len(ms) / seconds:5.1f} /s"
    )


def post_json(
    url: str, payload: dict, headers: dict[str, str] | None = None, timeout: float = 120
) -> tuple[float, object]:
    """Seconds for one JSON POST, and the answer's body."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = json.loads(response.read())
    return time.perf_counter() - started, body


def timed_post(url: str, payload: dict, headers: dict[str, str] | None = None) -> float:
    """Seconds for one POST; an empty or failed answer stops the benchmark."""
    elapsed, body = post_json(url, payload, headers)
    if not body:
        raise RuntimeError(f"Empty answer to {payload!r}")
    return elapsed


Ask = Callable[[str, str], float]  # (conversation, text) -> seconds


def one_at_a_time(ask: Ask, texts: list[str]) -> tuple[list[float], float]:
    started = time.perf_counter()
    latencies = [ask(f"bench-{i}", text) for i, text in enumerate(texts)]
    return latencies, time.perf_counter() - started


def concurrent(ask: Ask, texts: list[str], conversations: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def conversation(number: int) -> None:
        # A new conversation per question: two unsure answers in a row would
        # hand the conversation to a mediator, and the bot would fall silent.
        for turn, text in enumerate(texts[number::conversations]):
            elapsed = ask(f"bench-concurrent-{number}-{turn}", text)
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=conversation, args=(n,)) for n in range(conversations)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def peak_memory_mib(pid: int) -> float:
    """VmHWM of a process and its children (Rasa may fork workers)."""
    total = 0.0
    pids = [pid]
    children = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    pids += [int(c) for c in children]
    for one in pids:
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM"):
                total += int(line.split()[1]) / 1024
    return total


def start_assistant(extra_env: dict[str, str] | None = None) -> tuple[Settings, Supervisor]:
    """A fresh assistant on free ports: data folder, index and a bench mediator of its own."""
    work = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    env = dict(os.environ)
    env.update(
        {
            "HELPDESK_DATA_DIR": str(work / "data"),
            "HELPDESK_ARGOS_MODELS": str(work / "no-translation-packages"),
            "HELPDESK_RASA_URL": f"http://localhost:{free_port()}",
            "HELPDESK_ACTION_SERVER_URL": f"http://localhost:{free_port()}",
            "HELPDESK_WEB_PORT": str(free_port()),
            "HELPDESK_API_TOKEN": "bench",
            "HELPDESK_RASA_TOKEN": "bench-rasa",
            "HELPDESK_REST_TOKEN": BENCH_REST_TOKEN,
            "HELPDESK_ACTION_TOKEN": "bench-actions",
            "HELPDESK_SESSION_SECRET": "bench-sessions",
            # Every simulated person writes from this machine.
            "HELPDESK_NEW_CONVERSATIONS_PER_ADDRESS": "1000000",
            "HELPDESK_DESK_HOURS": "always",
            **(extra_env or {}),
        }
    )
    settings = load_settings(environ=env)
    print(f"Machine: {machine()}")

    from knowledge.embedding import load_embedder
    from knowledge.entries import load_kit
    from knowledge.index import build_index

    kit = load_kit(settings.content.dir, settings.content.municipality)
    embedder = load_embedder(settings.models)
    build = build_index(kit, embedder, settings.index_dir, force=True, progress=False)
    print(
        f"Index build: {build.seconds:.1f} s for {len(kit.entries)} entries, "
        f"{build.passages} passages"
    )
    del embedder

    store = Store.open(settings.desk.database_url)
    store.add_user("bench-mediator", hash_password(BENCH_PASSWORD), "mediator", "en it")

    supervisor = Supervisor(parts_for(settings, model=MODEL), log_dir=work / "logs", environ=env)
    started = time.perf_counter()
    supervisor.start(timeout=600)
    print(f"Start-up of all parts: {time.perf_counter() - started:.0f} s")
    return settings, supervisor


def stop_assistant(settings: Settings, supervisor: Supervisor, keep: bool = False) -> None:
    """Stop every part; remove the run's folder unless `keep` (its logs show what went wrong)."""
    supervisor.stop()
    work = settings.data_dir.parent
    if keep:
        print(f"Data and logs of this run kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--handoffs", type=int, default=50)
    parser.add_argument("--handoffs-only", action="store_true", help="skip the question turns")
    parser.add_argument(
        "--channels-only", action="store_true", help="only the Telegram and WhatsApp overhead"
    )
    parser.add_argument("--questions", type=int, default=0, help="ask only the first N questions")
    parser.add_argument("--keep", action="store_true", help="keep the run's data and logs")
    args = parser.parse_args()
    platforms = FakePlatforms().start()
    rasa_url = f"http://localhost:{free_port()}"
    settings, supervisor = start_assistant(
        {"HELPDESK_RASA_URL": rasa_url, **platform_env(platforms.url, rasa_url)}
    )
    try:
        rest = f"{settings.services.rasa_url}/webhooks/rest/webhook"
        api = f"http://localhost:{settings.services.web_port}/api/suggest"
        auth = {"Authorization": "Bearer bench"}

        def chat_turn(sender: str, text: str) -> float:
            return timed_post(rest, {"sender": sender, "message": text}, REST_AUTH)

        def suggest(_: str, text: str) -> float:
            return timed_post(api, {"text": text}, auth)

        def peak_so_far() -> None:
            # Which phase raises the action server's peak (its target is 700 MB).
            [server] = [p for p in supervisor.parts if p.name == "action server"]
            print(f"  action server peak so far: {peak_memory_mib(server.process.pid):.0f} MiB")

        questions = load_questions(QUESTIONS)
        texts = [q.text for q in questions][: args.questions or None]
        languages = sorted({q.language for q in questions})
        for text in texts[:5]:
            chat_turn("bench-warm-up", text)
            suggest("", text)
        print(f"Questions: {len(texts)} in {len(languages)} languages ({', '.join(languages)})")
        peak_so_far()

        for name, ask in (
            (("REST turn", chat_turn), ("POST /api/suggest", suggest))
            if not (args.handoffs_only or args.channels_only)
            else ()
        ):
            print(summary(f"{name}, one at a time", *one_at_a_time(ask, texts)))
            print(
                summary(
                    f"{name}, {args.concurrency} concurrent",
                    *concurrent(ask, texts, args.concurrency),
                )
            )
            peak_so_far()

        if not args.channels_only:
            relay = asyncio.run(
                bench_handoff.run(
                    settings.services.rasa_url,
                    f"http://localhost:{settings.services.web_port}",
                    BENCH_PASSWORD,
                    args.handoffs,
                    Store.open(settings.desk.database_url),
                )
            )
            print(
                summary(
                    f"Hand-off, person -> desk ({args.handoffs})",
                    relay["to_desk"],
                    relay["seconds"],
                )
            )
            print(
                summary(
                    f"Hand-off, desk -> person ({args.handoffs})",
                    relay["to_person"],
                    relay["seconds"],
                )
            )
            print(f"Hand-off messages lost: {relay['lost']}")
            peak_so_far()

        if not args.handoffs_only:
            channels = bench_channels.run(settings.services.rasa_url, platforms, texts)
            for name, key in (
                ("REST turn (paired)", "rest"),
                ("Telegram turn", "telegram"),
                ("WhatsApp (Twilio) turn", "whatsapp"),
            ):
                print(summary(name, channels[key], sum(channels[key])))
            for name, key in (
                ("Telegram overhead per message", "telegram_overhead"),
                ("WhatsApp overhead per message", "whatsapp_overhead"),
            ):
                ms = [value * 1000 for value in channels[key]]
                print(
                    f"{name:<40} n={len(ms):<4} p50={statistics.median(ms):7.1f} ms  "
                    f"p95={percentile(ms, 0.95):7.1f} ms"
                )

        print("Peak memory (VmHWM):")
        for part in supervisor.parts:
            print(f"  {part.name:<14} {peak_memory_mib(part.process.pid):7.0f} MiB")
    finally:
        stop_assistant(settings, supervisor, args.keep)
        platforms.stop()


if __name__ == "__main__":
    main()
