"""Benchmark, not a test: our turns side by side with a bare `rasa init` bot's.

    make bench     # or: .venv/app/bin/python -m tests.bench_versus [--turns 200]

The bare bot is what ``rasa init`` makes (its moodbot, trained once and kept
in data/bench/), served by the project's own Rasa environment, so the ratio
shows what the project adds to Rasa's own cost of a turn on this machine.
Both get the same REST load: realistic questions in every language of the
development set, each sender writing at most ``PER_SENDER`` messages. The
two bots are measured in turns (one at a time) and in alternate rounds
(concurrent), so noise on the machine falls on both alike. It prints p50,
p95 and turns per second for each, the ratios, each process's peak memory
and the machine. The assistant's own data folder is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.evaluation import load_questions
from knowledge.settings import PROJECT_ROOT
from tests.bench import (
    QUESTIONS,
    machine,
    peak_memory_mib,
    percentile,
    post_json,
    start_assistant,
    stop_assistant,
)
from tests.bench_channels import REST_AUTH
from tests.bench_faults import APOLOGIES
from tests.conftest import RASA_BIN, RASA_PYTHON, free_port

PER_SENDER = 4
ROUNDS = 2  # concurrent phases alternate ours, bare, ours, bare


def bare_bot_folder() -> Path:
    """The `rasa init` project with its trained model, made once per Rasa version."""
    version = subprocess.run(
        [str(RASA_PYTHON), "-c", "import rasa; print(rasa.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folder = PROJECT_ROOT / "data" / "bench" / f"bare-rasa-{version}"
    if not list((folder / "models").glob("*.tar.gz")):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)  # rasa init wants the folder to exist
        print(f"Training the bare `rasa init` bot once into {folder.relative_to(PROJECT_ROOT)}")
        subprocess.run(
            [str(RASA_BIN), "init", "--no-prompt", "--init-dir", str(folder)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
    return folder


class BareRasa:
    """`rasa run` of the bare bot on a free loopback port (REST channel only)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (folder / "rasa.log").open("w")
        self.process = subprocess.Popen(
            [str(RASA_BIN), "run", "-i", "127.0.0.1", "-p", str(self.port)]
            + ["--model", "models", "--credentials", "credentials.yml"],
            cwd=folder,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The bare Rasa bot stopped; see {self.log.name}")
            try:
                # "/" answers "Hello from Rasa" once the model is loaded.
                with urllib.request.urlopen(f"{self.url}/", timeout=2):
                    return
            except OSError:
                time.sleep(1)
        raise RuntimeError(f"The bare Rasa bot did not start in {timeout:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, latencies: list[float], seconds: float) -> None:
        self.latencies += latencies
        self.seconds += seconds

    def p(self, share: float) -> float:
        return percentile(self.latencies, share) * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds


def senders(texts: list[str], tag: str) -> list[tuple[str, list[str]]]:
    """Conversations of at most PER_SENDER messages each, in order."""
    return [
        (f"{tag}-{start // PER_SENDER}", texts[start : start + PER_SENDER])
        for start in range(0, len(texts), PER_SENDER)
    ]


def run_conversations(ask, conversations: list[tuple[str, list[str]]], at_once: int) -> Phase:
    """`at_once` people writing together; each waits for the answer before writing again."""
    phase, lock, queue = Phase(), threading.Lock(), list(conversations)

    def person() -> None:
        while True:
            with lock:
                if not queue:
                    return
                sender, texts = queue.pop(0)
            for text in texts:
                elapsed = ask(sender, text)
                with lock:
                    phase.latencies.append(elapsed)

    threads = [threading.Thread(target=person) for _ in range(at_once)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    return phase


def row(name: str, ours: Phase, bare: Phase) -> str:
    return (
        f"{name:<26} ours p50 {ours.p(0.5):7.0f} p95 {ours.p(0.95):7.0f} ms "
        f"{ours.per_second:5.1f}/s | bare p50 {bare.p(0.5):6.0f} p95 {bare.p(0.95):6.0f} ms "
        f"{bare.per_second:5.1f}/s | p95 x{ours.p(0.95) / bare.p(0.95):4.1f}, "
        f"throughput x{ours.per_second / bare.per_second:4.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200, help="turns per phase and bot")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--keep", action="store_true", help="keep the assistant's data and logs")
    args = parser.parse_args()

    questions = load_questions(QUESTIONS)
    pool = [q.text for q in questions]
    texts = (pool * (args.turns // len(pool) + 1))[: args.turns]
    languages = sorted({q.language for q in questions})

    folder = bare_bot_folder()
    bare = BareRasa(folder)
    settings, supervisor = start_assistant()
    try:
        bare.wait()
        ours_url = f"{settings.services.rasa_url}/webhooks/rest/webhook"
        bare_url = f"{bare.url}/webhooks/rest/webhook"

        # What our bot said: an answer, the apology or nothing (each must be 0 but the first).
        said: Counter[str] = Counter()

        def ours(sender: str, text: str) -> float:
            seconds, replies = post_json(
                ours_url, {"sender": sender, "message": text}, REST_AUTH, timeout=300
            )
            texts = {r.get("text") for r in replies}
            said["apology" if texts & APOLOGIES else "answer" if replies else "nothing"] += 1
            return seconds

        def theirs(sender: str, text: str) -> float:
            # The mood bot may rightly say nothing to a question it was not made for.
            return post_json(bare_url, {"sender": sender, "message": text}, timeout=300)[0]

        for number, text in enumerate(texts[:8]):
            ours(f"warm-up-{number // PER_SENDER}", text)
            theirs(f"warm-up-{number // PER_SENDER}", text)
        print(
            f"{len(texts)} turns per phase, questions in {len(languages)} languages "
            f"({', '.join(languages)}), at most {PER_SENDER} messages per sender"
        )

        # One at a time, alternating turn by turn.
        one_ours, one_bare = Phase(), Phase()
        started = time.perf_counter()
        for sender, batch in senders(texts, "one"):
            for text in batch:
                one_ours.latencies.append(ours(sender, text))
                one_bare.latencies.append(theirs(sender, text))
        one_ours.seconds = sum(one_ours.latencies)
        one_bare.seconds = sum(one_bare.latencies)
        print(row("one at a time", one_ours, one_bare))
        print(f"  (both phases took {time.perf_counter() - started:.0f} s)")

        for at_once in args.concurrency:
            many_ours, many_bare = Phase(), Phase()
            for round_ in range(ROUNDS):
                part = texts[round_::ROUNDS]
                tag = f"c{at_once}-r{round_}"
                for phase, ask in ((many_ours, ours), (many_bare, theirs)):
                    done = run_conversations(ask, senders(part, tag), at_once)
                    phase.add(done.latencies, done.seconds)
            print(row(f"{at_once} concurrent", many_ours, many_bare))

        print(
            f"Our replies: {said['answer']} answered, {said['apology']} apologies, "
            f"{said['nothing']} silent"
        )
        print(f"Machine: {machine()}")
        print("Peak memory (VmHWM):")
        for part in supervisor.parts:
            print(f"  {part.name:<14} {peak_memory_mib(part.process.pid):7.0f} MiB")
        print(f"  {'bare rasa':<14} {peak_memory_mib(bare.process.pid):7.0f} MiB")
    finally:
        bare.stop()
        stop_assistant(settings, supervisor, args.keep)


if __name__ == "__main__":
    main()
