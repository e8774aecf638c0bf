"""Speed and memory of each encoder (models.encoder), each in a process of its own.

    python -m tests.bench_encoder                 # onnx-int8, onnx and torch
    python -m tests.bench_encoder --encoder onnx  # one of them

Per encoder: one short query (median of 50), a batch of 32 queries (median
of 10), and the resident memory (VmRSS) of a process that loaded the embedder
and encoded 100 queries. The ONNX exports must be made first (any load does it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time

from knowledge.settings import ENCODERS, PROJECT_ROOT

QUERIES = [
    "dove si fa la residenza?",
    "How do I get a tax code?",
    "كيف أسجل ابني في المدرسة؟",
    "کجا می‌توانم اجازه اقامت بگیرم؟",
    "مجھے ڈاکٹر کی ضرورت ہے",
    "Де можна отримати медичну допомогу?",
    "posso lavorare con il permesso per asilo?",
    "my landlord wants me out tomorrow 😟",
]


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def measure(encoder: str) -> dict:
    from knowledge.embedding import load_embedder
    from knowledge.settings import load_settings

    models = dataclasses.replace(load_settings().models, encoder=encoder)
    embedder = load_embedder(models)
    hundred = [f"{QUERIES[i % len(QUERIES)]} {i}" for i in range(100)]
    embedder.queries(hundred[:4])  # warm-up
    single = []
    for i in range(50):
        started = time.perf_counter()
        embedder.queries([hundred[i]])
        single.append((time.perf_counter() - started) * 1000)
    batch = []
    for i in range(10):
        started = time.perf_counter()
        embedder.queries(hundred[i : i + 32])
        batch.append((time.perf_counter() - started) * 1000)
    embedder.queries(hundred)
    return {
        "encoder": encoder,
        "query_ms_median": round(statistics.median(single), 1),
        "batch32_ms_median": round(statistics.median(batch), 1),
        "rss_mib": round(_rss_mib()),
        "torch_imported": "torch" in sys.modules,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench_encoder")
    parser.add_argument("--encoder", choices=ENCODERS)
    parser.add_argument("--here", action="store_true", help="measure in this process")
    args = parser.parse_args(argv)
    if args.here:
        print(json.dumps(measure(args.encoder)))
        return 0
    for encoder in [args.encoder] if args.encoder else ENCODERS:
        finished = subprocess.run(
            [sys.executable, "-m", "tests.bench_encoder", "--here", "--encoder", encoder],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        print(finished.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
