"""Command line of the knowledge side.

python -m knowledge build [--force]     build the search index (skipped if content unchanged)
python -m knowledge calibrate           recompute the confidence threshold and the
                                        emergency thresholds into helpdesk.yml
python -m knowledge eval                retrieval quality on the development questions, and
                                        emergency detection on its held-out test set
python -m knowledge lint                check the content files (exit 1 when there are errors)
python -m knowledge export [--out DIR] [--pdf]
                                        printable welcome kit per language (default DIR: data/print)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from knowledge.settings import PROJECT_ROOT, SettingsError, get_settings, load_settings

DEV_QUESTIONS = PROJECT_ROOT / "tests" / "data" / "dev_questions.yml"
EMERGENCY_TEST = PROJECT_ROOT / "tests" / "data" / "emergency_messages.yml"


def _retriever(settings, threshold: float | None = None):
    from knowledge.embedding import load_embedder
    from knowledge.entries import load_kit
    from knowledge.index import SearchIndex, build_index
    from knowledge.retrieval import Retriever

    kit = load_kit(settings.content.dir, settings.content.municipality)
    embedder = load_embedder(settings.models)
    build_index(kit, embedder, settings.index_dir)
    return Retriever(
        kit,
        SearchIndex.load(settings.index_dir),
        embedder,
        settings.retrieval.confidence_threshold if threshold is None else threshold,
    )


def cmd_build(args) -> int:
    from knowledge.embedding import load_embedder
    from knowledge.entries import load_kit
    from knowledge.index import build_index, is_current

    settings = get_settings()
    kit = load_kit(settings.content.dir, settings.content.municipality)
    if not args.force and is_current(kit, settings.models.embedding, settings.index_dir):
        print(f"Index is up to date ({len(kit.entries)} entries): nothing to do.")
        return 0
    print(f"Building the index of {len(kit.entries)} entries into {settings.index_dir}")
    result = build_index(kit, load_embedder(settings.models), settings.index_dir, force=True)
    print(f"Indexed {result.passages} passages in {result.seconds:.1f} s.")
    return 0


def _emergencies(settings, retriever):
    from knowledge.emergency import EmergencyDetector

    # Only the evidence is used, which does not depend on the thresholds.
    return EmergencyDetector.open(settings, retriever.kit, retriever.embedder)


def cmd_calibrate(args) -> int:
    from knowledge.emergency import calibrate as calibrate_emergencies
    from knowledge.emergency import rates
    from knowledge.evaluation import (
        calibrate,
        evaluate,
        format_table,
        load_questions,
        score_questions,
        write_setting,
    )

    settings = get_settings()
    retriever = _retriever(settings)
    scored = score_questions(retriever, None, load_questions(args.questions))
    threshold = calibrate(scored)
    write_setting(settings.config_file, "confidence_threshold", threshold)
    print(f"confidence_threshold = {threshold:.4f} written to {settings.config_file}")
    print(format_table(evaluate(scored, threshold)))

    evidence, emergency = _emergencies(settings, retriever).own_evidence()
    threshold, keyword_threshold = calibrate_emergencies(evidence, emergency)
    write_setting(settings.config_file, "emergency_threshold", threshold)
    write_setting(settings.config_file, "keyword_threshold", keyword_threshold)
    recall, false = rates(evidence, emergency, threshold, keyword_threshold)
    print(
        f"emergency_threshold = {threshold:.4f}, keyword_threshold = {keyword_threshold:.4f} "
        f"written; each of the {len(evidence)} examples, look-alikes and ordinary questions "
        f"scored by a model that did not see it: recall {recall:.3f}, false alarms {false:.3f}"
    )
    return 0


def cmd_eval(args) -> int:
    from knowledge.emergency import load_labelled
    from knowledge.evaluation import evaluate, format_table, load_questions, score_questions
    from knowledge.language import LanguageDetector

    settings = get_settings()
    retriever = _retriever(settings)
    detector = LanguageDetector(settings.languages.supported, settings.languages.default)
    questions = load_questions(args.questions)
    started = time.perf_counter()
    scored = score_questions(retriever, detector, questions)
    seconds = time.perf_counter() - started
    print(f"{len(questions)} questions, threshold {retriever.threshold:.4f}, {seconds:.1f} s")
    print(format_table(evaluate(scored, retriever.threshold)))

    messages = load_labelled(EMERGENCY_TEST)
    evidence = _emergencies(settings, retriever).evidence([m.text for m in messages])
    print(
        f"\nEmergencies: {len(messages)} held-out messages ({EMERGENCY_TEST.name}), "
        f"threshold {settings.safety.emergency_threshold:.4f}, keyword threshold "
        f"{settings.safety.keyword_threshold:.4f}; targets recall >= 0.95, false alarms <= 0.05"
    )
    print(format_emergency_table(evidence, messages, settings.safety))
    return 0


def format_emergency_table(evidence, messages, safety) -> str:
    """Recall and false alarms for all messages, per language, then per kind
    (a kind holds emergencies or look-alikes, so it has one of the two)."""
    from knowledge.emergency import rates

    def row(label: str, rows: list) -> str:
        recall, false = rates(
            [e for e, _ in rows],
            [m.emergency for _, m in rows],
            safety.emergency_threshold,
            safety.keyword_threshold,
        )
        shown = [f"{recall:8.3f}" if any(m.emergency for _, m in rows) else f"{'':8}"]
        shown.append(f"{false:14.3f}" if not all(m.emergency for _, m in rows) else f"{'':14}")
        return f"{label:34}{''.join(shown)}{len(rows):10}"

    pairs = list(zip(evidence, messages))
    lines = [f"{'':34}{'recall':>8}{'false alarms':>14}{'messages':>10}", row("ALL", pairs)]
    for language in sorted({m.language for m in messages}):
        lines.append(row(language, [(e, m) for e, m in pairs if m.language == language]))
    # Kinds of emergencies first, then kinds of look-alikes.
    for _, kind in sorted({(not m.emergency, m.kind) for m in messages}):
        lines.append(row(kind, [(e, m) for e, m in pairs if m.kind == kind]))
    return "\n".join(lines)


def cmd_lint(args) -> int:
    from knowledge.lint import format_report, has_errors, lint

    # Read afresh (not the cached get_settings) so callers in one process can point it elsewhere.
    findings = lint(load_settings())
    print(format_report(findings))
    return 1 if has_errors(findings) else 0


def cmd_export(args) -> int:
    from knowledge.browser import BrowserError
    from knowledge.entries import ContentError
    from knowledge.printable import export

    settings = load_settings()
    try:
        written = export(settings, args.out or settings.data_dir / "print", pdf=args.pdf)
    except ContentError as exc:
        print(f"error: {exc}\nRun `python -m knowledge lint` for every problem.", file=sys.stderr)
        return 2
    except BrowserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the search index")
    build.add_argument("--force", action="store_true", help="rebuild even if content is unchanged")
    build.set_defaults(run=cmd_build)
    for name, run, text in (
        ("calibrate", cmd_calibrate, "recompute the confidence threshold"),
        ("eval", cmd_eval, "measure retrieval on the development questions"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
        command.set_defaults(run=run)
    lint = commands.add_parser("lint", help="check the content files")
    lint.set_defaults(run=cmd_lint)
    export = commands.add_parser("export", help="write the printable welcome kit")
    export.add_argument("--out", type=Path, help="output folder (default: data/print)")
    export.add_argument("--pdf", action="store_true", help="also write PDFs (needs Chromium)")
    export.set_defaults(run=cmd_export)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (SettingsError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
