"""Everyday openings replayed in-process: the reading and the emergency check, no dialogue.

    python -m tests.replay_openings tests/data/openings_dev.yml [more sets...] [--misses]

A fast stand-in for ``tests.eval_openings`` (which runs the whole stack): the
same encoder, retrieval, emergency detector and ``Understanding.read`` as
``action_understand``, and the reply the dialogue gives to each reading, as
the action does it (a first message: no question was asked). Used to compare
decision rules in seconds; the figures to report come from ``eval_openings``.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import yaml

from knowledge.understanding import SENSITIVE_TOPICS, Understanding, is_noise

KINDS = ("help", "service", "vague", "smalltalk", "noise")


def reply_to(reading, hits, alarm) -> dict:
    """The reply action_understand gives to a first message, as eval_openings reads it."""
    if alarm is not None:
        return {"got": "emergency"}
    kind = reading.kind
    if kind in ("person", "help", "noise"):
        return {"got": kind}
    if kind == "forget":
        return {"got": "forget"}
    if kind == "service":
        return {"got": "service", "entry": hits[0].entry_id if hits else None}
    if kind in ("affirm", "deny"):
        return {"got": "smalltalk:ok"}
    if kind == "smalltalk":
        return {"got": f"smalltalk:{reading.act}"}
    offered, seen = [], set()
    for hit in hits:
        if hit.topic in SENSITIVE_TOPICS or hit.topic in seen or len(offered) == 2:
            continue
        seen.add(hit.topic)
        offered.append(hit.entry_id)
    return {"got": "vague", "offered": offered}


def handled_well(message: dict, reply: dict) -> bool:
    kind, got = message["kind"], reply["got"]
    if kind == "help":
        return got in ("help", "person")
    if kind == "service":
        wanted = message.get("entry")
        return reply.get("entry") == wanted or (got == "vague" and wanted in reply["offered"])
    if kind == "vague":
        return got in ("vague", "help")
    if kind == "smalltalk":
        return got == f"smalltalk:{message.get('act')}"
    return got == "noise"


def replay(paths: list[Path], show_misses: bool) -> None:
    from knowledge.__main__ import _emergencies, _retriever
    from knowledge.settings import get_settings

    settings = get_settings()
    retriever = _retriever(settings)
    detector = _emergencies(settings, retriever)
    reader = Understanding.open(retriever.embedder, settings.index_dir)
    for path in paths:
        messages = yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]
        texts = [" ".join(str(m["text"]).split()) for m in messages]
        vectors = retriever.embedder.queries(texts)
        found = retriever.search_many(texts, settings.retrieval.top_k, vectors)
        by_kind, by_language, right, suggest, misses = (
            defaultdict(list),
            defaultdict(list),
            [],
            [],
            [],
        )
        for message, text, vector, hits in zip(messages, texts, vectors, found):
            words = not is_noise(text)
            alarm = detector.check(text, vector) if words else None
            top = hits[0].score if hits else 0.0
            reading = reader.read(text, vector, top, retriever.threshold)
            reply = reply_to(reading, hits, alarm)
            ok = handled_well(message, reply)
            by_kind[message["kind"]].append(ok)
            by_language[message.get("language") or "-"].append(ok)
            if message["kind"] == "service":
                right.append(reply.get("entry") == message.get("entry"))
                suggest.append(bool(hits) and hits[0].entry_id == message.get("entry"))
            if not ok:
                misses.append((message, reply, reading, top))
        everything = [ok for oks in by_kind.values() for ok in oks]
        print(f"\n{path.name}: overall {share(everything)}")
        for kind in KINDS:
            print(f"  {kind:10} {share(by_kind[kind])}")
        print(f"  right entry {share(right)}   suggest top-1 {share(suggest)}")
        print(
            "  " + ", ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in sorted(by_language.items()))
        )
        if show_misses:
            for message, reply, reading, top in misses:
                print(
                    f"  MISS {message['kind']:9} {message.get('language', '-'):3} "
                    f"{message['text']!r} -> {reply} [{reading.kind} {reading.act or ''} "
                    f"p={reading.probability:.2f} top={top:.3f}] want {wanted_of(message)}"
                )


def wanted_of(message: dict) -> str:
    return message.get("entry") or message.get("act") or ""


def share(values: list[bool]) -> str:
    return f"{sum(values) / len(values):.3f} ({sum(values)}/{len(values)})" if values else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args(argv)
    replay(args.sets, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
