"""Emergency detection: its parts, its targets on the held-out set, and the conversation."""

from __future__ import annotations

import uuid

import pytest

from knowledge.emergency import (
    EXAMPLES_FILE,
    KINDS,
    EmergencyDetector,
    Evidence,
    calibrate,
    calibrate_soft,
    load_labelled,
    plain,
    rates,
)
from knowledge.settings import PROJECT_ROOT
from tests.conftest import rest_id, wait_for

DATA = PROJECT_ROOT / "tests" / "data"


def test_plain_text_ignores_case_accents_and_arabic_diacritics():
    assert plain("  Mi  PICCHIA, è così ") == "mi picchia, e cosi"
    assert plain("يَضْرِبُنِي") == plain("يضربني")
    # Arabic and Persian keyboards write yeh and kaf differently.
    assert plain("يك") == plain("یک")


def evidence(score: float, keyword: bool = False, kind: str = "fire") -> Evidence:
    return Evidence(kind, score, "on fire" if keyword else None, kind if keyword else None)


def test_a_keyword_lowers_the_score_needed_but_never_decides_alone():
    assert EmergencyDetector.decide(evidence(0.7), 0.6, 0.1).kind == "fire"
    assert EmergencyDetector.decide(evidence(0.3), 0.6, 0.1) is None
    assert EmergencyDetector.decide(evidence(0.3, keyword=True), 0.6, 0.1).keyword == "on fire"
    assert EmergencyDetector.decide(evidence(0.05, keyword=True), 0.6, 0.1) is None


def test_calibration_keeps_false_alarms_within_the_limit():
    seen = [evidence(0.9), evidence(0.3, True), evidence(0.5), evidence(0.2), evidence(0.01)]
    emergency = [True, True, False, False, False]
    threshold, keyword_threshold = calibrate(seen, emergency, max_false_alarms=0.0)
    assert rates(seen, emergency, threshold, keyword_threshold) == (1.0, 0.0)
    assert keyword_threshold == 0.3  # as high as the emergency with a keyword allows
    assert 0.6 < threshold < 0.8  # the middle of the tied thresholds (0.5, 0.9]


def test_calibration_never_lets_a_keyword_decide_almost_alone():
    """One example with a keyword and almost no meaning score must not pull
    the keyword threshold down to it."""
    seen = [evidence(0.9), evidence(0.01, True), evidence(0.5), evidence(0.2), evidence(0.05)]
    emergency = [True, True, False, False, False]
    threshold, keyword_threshold = calibrate(seen, emergency, max_false_alarms=0.0)
    assert keyword_threshold >= 0.1
    assert rates(seen, emergency, threshold, keyword_threshold) == (0.5, 0.0)
    _, unbounded = calibrate(seen, emergency, max_false_alarms=0.0, min_keyword=0.0)
    assert unbounded == 0.01


@pytest.mark.integration
def test_the_model_scores_by_meaning_and_judges_each_example_unseen(embedder):
    """Calibration must see each text scored by a model trained without it:
    scored by the full model, every example would look certain."""
    detector = EmergencyDetector(
        {"fire": ["fire fire", "smoke fire", "flames fire", "burning fire"]},
        ["number for fire brigade", "fire safety course", "fire drill at school", "fire exit"],
        {"fire": {"en": ["fire"]}},
        embedder,
        0.5,
        0.2,
        ordinary=["residence permit renewal", "family doctor", "school enrolment", "tax code"],
    )
    seen, emergency = detector.own_evidence()
    assert emergency == [True] * 4 + [False] * 8
    assert all(0.0 <= e.score <= 1.0 for e in seen)
    assert [e.keyword for e in seen[:4]] == ["fire"] * 4
    # Scored unseen, examples are less sure than when the model knows them.
    known = detector.evidence(detector._texts[:4])
    assert sum(e.score for e in seen[:4]) < sum(e.score for e in known)


@pytest.mark.integration
def test_a_keyword_in_a_figure_of_speech_raises_no_alarm_alone(embedder):
    """A message closer to a figurative look-alike than to any emergency keeps
    its model score, but its keyword no longer lowers the threshold."""
    detector = EmergencyDetector(
        {"violence": ["he is going to kill me, he has a knife", "my husband is hitting me"]},
        ["what is the number of the police"],
        {"violence": {"en": ["kill me"]}},
        embedder,
        0.99,
        0.0,
        ordinary=["residence permit renewal", "family doctor"],
        figurative=["this bureaucracy will kill me", "the heat is killing me"],
    )
    [queue, knife] = detector.evidence(
        ["this queue will kill me, three hours already", "he will kill me, he took a knife"]
    )
    assert queue.keyword is None
    assert knife.keyword == "kill me"
    # The figurative texts count as look-alikes: calibration limits their alarms.
    assert detector.look_alike.sum() == 3


@pytest.mark.integration
def test_danger_told_from_a_distance_is_read_as_the_figures_of_speech(embedder, tmp_path):
    """`at_a_distance` in the examples file joins `figurative`: look-alikes
    whose closeness takes the keyword's help away."""
    examples = tmp_path / "emergencies.yml"
    examples.write_text(
        """
emergencies:
  violence: ["he is going to kill me, he has a knife", "my husband is hitting me now"]
not_emergencies: ["what is the number of the police"]
figurative: ["this bureaucracy will kill me"]
at_a_distance: ["in the film he kills his wife with a knife", "on the news a man was shot"]
keywords:
  violence: {en: ["kill"]}
""",
        encoding="utf-8",
    )
    detector = EmergencyDetector.load(examples, embedder, 0.99, 0.0)
    assert detector.look_alike.sum() == 4
    [film, knife] = detector.evidence(
        ["last night I watched a film where he kills everyone", "he will kill me, he took a knife"]
    )
    assert film.keyword is None
    assert knife.keyword == "kill"


def test_examples_file_names_every_kind_and_languages():
    import yaml

    data = yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8"))
    assert set(data["emergencies"]) == set(KINDS) == set(data["keywords"])
    assert len(data["not_emergencies"]) >= 100
    # Figures of speech with danger words, in many languages.
    assert len(data["figurative"]) >= 30
    # Danger seen on the news, in a film or a dream, told by someone safe.
    assert len(data["at_a_distance"]) >= 100
    for by_language in data["keywords"].values():
        assert len(by_language) >= 8


def test_test_set_is_large_and_multilingual_and_apart_from_the_examples():
    messages = load_labelled(DATA / "emergency_messages.yml")
    emergencies = [m for m in messages if m.emergency]
    look_alikes = [m for m in messages if not m.emergency]
    assert len(emergencies) >= 60 and len(look_alikes) >= 60
    assert len({m.language for m in emergencies} & {m.language for m in look_alikes}) >= 8
    assert {m.kind for m in emergencies} == {k.replace("_", "-") for k in KINDS}
    # Held out: the examples, which calibration also uses, contain none of
    # this set's messages nor those of the sets written later, but two short
    # ones that later sets' authors wrote word for word as look-alikes already
    # there (a Persian complaint, an Albanian thank-you).
    examples = EXAMPLES_FILE.read_text(encoding="utf-8")
    known = {"این کاغذبازی داره منو میکشه", "faleminderit shume per ndihmen"}
    for name in ("messages", "heldout", "heldout2", "heldout3"):
        labelled = load_labelled(DATA / f"emergency_{name}.yml")
        assert not [m.text for m in labelled if f'"{m.text}"' in examples and m.text not in known]


@pytest.mark.integration
def test_detection_on_the_second_development_set_meets_the_targets(kb):
    # Tightened by issue 19 (was recall >= 0.95, false alarms <= 0.05): this set
    # has informed many choices, so its figures are optimistic (`make eval`).
    messages = load_labelled(DATA / "emergency_messages.yml")
    seen = kb.emergencies.evidence([m.text for m in messages])
    safety = kb.settings.safety
    recall, false_alarms = rates(
        seen,
        [m.emergency for m in messages],
        safety.emergency_threshold,
        safety.keyword_threshold,
    )
    assert recall >= 0.96 and false_alarms <= 0.03, (recall, false_alarms)
    # Nearly every emergency gets at least the soft line with 112 (105 of 107 with
    # the kit's questions of 2026-12-02 as look-alikes).
    reached = [
        EmergencyDetector.decide(e, safety.emergency_threshold, safety.keyword_threshold)
        or e.score >= safety.soft_threshold
        for e, m in zip(seen, messages)
        if m.emergency
    ]
    assert sum(map(bool, reached)) / len(reached) >= 0.98


@pytest.mark.integration
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("mio marito mi picchia adesso, ho paura", "violence"),
        ("my flat is on fire and the stairs are full of smoke", "fire"),
        ("ابني لا يتنفس", "medical"),
        ("نمی‌خواهم دیگر زنده باشم", "self_harm"),
    ],
)
def test_danger_is_recognised_across_languages(kb, text, kind):
    alarm = kb.emergency(text)
    assert alarm is not None and alarm.kind == kind


@pytest.mark.integration
@pytest.mark.parametrize(
    "text",
    [
        "What is the emergency number?",
        "qual è il numero del pronto soccorso?",
        "I was fired from my job, what can I do?",
        "questa burocrazia mi sta uccidendo",
    ],
)
def test_look_alikes_are_not_emergencies(kb, text):
    assert kb.emergency(text) is None


def queued(desk, sender: str) -> dict | None:
    return desk.queued(rest_id(sender))


@pytest.mark.integration
def test_an_emergency_gets_numbers_first_and_an_urgent_handoff(assistant, desk_as):
    amal = desk_as("amal")
    calm = f"calm-{uuid.uuid4().hex[:8]}"
    assistant.say(calm, "voglio parlare con una persona")
    wait_for(lambda: queued(amal, calm))

    sender = f"sos-{uuid.uuid4().hex[:8]}"
    replies = assistant.say(sender, "زوجي يضربني الآن وأنا خائفة")
    first = replies[0]["text"]
    assert "112" in first and "1522" in first
    # Then the hand-off, in Arabic, flagged urgent and ahead of the calm one.
    assert "وسيط" in "\n".join(r.get("text") or "" for r in replies[1:])
    handoff = wait_for(lambda: queued(amal, sender))
    assert handoff["urgent"] and handoff["reason"] == "emergency"
    _, body = amal.get("/desk/api/queue")
    order = [h["id"] for h in body["handoffs"]]
    assert order.index(handoff["id"]) < order.index(queued(amal, calm)["id"])
    # The bot stays silent: a person has the conversation.
    assert assistant.say(sender, "هل أنتم هنا؟") == []


@pytest.mark.integration
def test_asking_for_the_emergency_number_gets_a_normal_answer(assistant):
    sender = f"ask-{uuid.uuid4().hex[:8]}"
    replies = assistant.say(sender, "What is the emergency number in Italy?", {"language": "en"})
    assert assistant.slot(sender, "handoff_request") is None
    assert replies and assistant.slot(sender, "emergency") is None


@pytest.mark.integration
def test_danger_written_during_a_handoff_makes_it_urgent(assistant, desk_as):
    amal = desk_as("amal")
    sender = f"later-{uuid.uuid4().hex[:8]}"
    assistant.say(sender, "voglio parlare con una persona")
    handoff = wait_for(lambda: queued(amal, sender))
    assert not handoff["urgent"]
    # The bot is silent during a hand-off; the desk checks each message itself.
    assert assistant.say(sender, "aiuto, mio marito mi sta picchiando adesso") == []
    assert wait_for(lambda: queued(amal, sender)["urgent"])
    # And the person gets the numbers at once, not only when a mediator reads it.
    assert wait_for(
        lambda: any("1522" in (e.get("text") or "") for e in assistant._events(sender, "bot"))
    )


@pytest.mark.integration
def test_fixed_texts_are_encoded_once_and_kept_beside_the_index(embedder, tmp_path):
    texts = ["mio marito mi picchia", "dove si fa la residenza?"]
    first = embedder.queries_kept(texts, tmp_path, "emergency")
    [kept] = tmp_path.glob("emergency-*.npy")
    assert (embedder.queries_kept(texts, tmp_path, "emergency") == first).all()
    assert kept.stat().st_mtime_ns == next(tmp_path.glob("emergency-*.npy")).stat().st_mtime_ns
    # Other texts (the content changed): encoded afresh, the old file goes.
    embedder.queries_kept([*texts, "ho perso il permesso"], tmp_path, "emergency")
    [newer] = tmp_path.glob("emergency-*.npy")
    assert newer != kept


def test_the_soft_band_lies_below_the_alarm_and_above_the_soft_threshold():
    # threshold 0.6, keyword threshold 0.1, soft threshold 0.4
    def soft(e: Evidence) -> bool:
        return EmergencyDetector.is_soft(e, 0.6, 0.1, 0.4)

    assert soft(evidence(0.5)) and soft(evidence(0.4))
    assert not soft(evidence(0.7))  # an alarm, with the full reply
    assert not soft(evidence(0.3))  # an ordinary answer
    assert not soft(evidence(0.5, keyword=True))  # a keyword makes it an alarm


def test_calibration_can_limit_false_alarms_on_the_look_alikes_apart():
    # Two emergencies, two look-alikes, ordinary questions that all score low:
    # over all texts 1 false alarm in 12 passes a 10% limit; on the look-alikes
    # alone (1 in 2) it does not.
    seen = [evidence(0.9), evidence(0.5), evidence(0.6), evidence(0.2)] + [evidence(0.01)] * 10
    emergency = [True, True, False, False] + [False] * 10
    look_alike = [False, False, True, True] + [False] * 10
    threshold, _ = calibrate(seen, emergency, max_false_alarms=0.1)
    assert rates(seen, emergency, threshold, 0.0)[0] == 1.0
    threshold, _ = calibrate(seen, emergency, 0.1, look_alike, max_ordinary=0.0)
    assert rates(seen, emergency, threshold, 0.0) == (0.5, 0.0)


def test_the_soft_threshold_reaches_the_missed_emergencies_within_its_limit():
    seen = [evidence(0.9), evidence(0.5), evidence(0.3)] + [evidence(0.4)] + [evidence(0.0)] * 16
    emergency = [True, True, True] + [False] * 17
    # Alarm at 0.8: the soft band goes down to the lowest emergency (0.3),
    # one other text in 17 gets the line (under 10%).
    assert calibrate_soft(seen, emergency, 0.8, 0.8, target_recall=1.0, max_soft=0.1) == 0.3
    # It stops as soon as the target is met.
    assert calibrate_soft(seen, emergency, 0.8, 0.8, target_recall=0.6, max_soft=0.1) == 0.5
    # And never gives the line to more than max_soft of the others.
    assert calibrate_soft(seen, emergency, 0.8, 0.8, target_recall=1.0, max_soft=0.0) == 0.5


def test_the_soft_line_names_112_in_every_supported_language():
    import yaml

    from knowledge.settings import get_settings

    lines = yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8"))["soft_line"]
    assert set(get_settings().languages.supported) <= set(lines)
    assert all("112" in line and line.count("\n") == 0 for line in lines.values())


def test_eval_prints_soft_replies_and_the_messages_judged_wrongly():
    from knowledge.__main__ import Thresholds, format_emergency_table, format_mistakes
    from knowledge.emergency import Labelled

    messages = [
        Labelled("he hits me now", "en", True, "violence"),
        Labelled("scared of him tonight", "en", True, "violence"),
        Labelled("this queue is killing me", "en", False, "figurative"),
        Labelled("grazie mille", "it", False, "thanks"),
    ]
    seen = [evidence(0.9), evidence(0.5), evidence(0.7), evidence(0.45)]
    thresholds = Thresholds(alarm=0.6, keyword=0.6, soft=0.4)
    table = format_emergency_table(
        seen,
        [m.kind for m in messages],
        [m.emergency for m in messages],
        thresholds,
        [m.language for m in messages],
    ).splitlines()
    assert "soft (emerg)" in table[0]
    # ALL: recall 1 of 2, false alarms 1 of 2, one emergency and one other got the line.
    assert table[1].split() == ["ALL", "0.500", "0.500", "1", "1", "4"]
    assert table[2].split() == ["en", "0.500", "1.000", "1", "0", "3"]
    wrong = format_mistakes(seen, messages, thresholds)
    assert "missed (soft line)" in wrong and "scared of him tonight" in wrong
    assert "false alarm" in wrong and "this queue is killing me" in wrong
    assert "grazie mille" not in wrong and "he hits me now" not in wrong


def test_eval_scores_the_held_out_set_only_when_it_exists(tmp_path):
    from knowledge.__main__ import EMERGENCY_DEV, EMERGENCY_HELDOUT, emergency_sets

    assert EMERGENCY_HELDOUT.parent == EMERGENCY_DEV.parent
    held_out = tmp_path / "emergency_heldout.yml"
    [(path, what)] = emergency_sets(EMERGENCY_DEV, held_out, ())
    assert path == EMERGENCY_DEV and "development" in what
    held_out.write_text("messages: []\n", encoding="utf-8")
    paths = [path for path, _ in emergency_sets(EMERGENCY_DEV, held_out, ())]
    assert paths == [EMERGENCY_DEV, held_out]
    used = tmp_path / "used_heldout.yml"
    used.write_text("messages: []\n", encoding="utf-8")
    [_, (path, what), _] = emergency_sets(EMERGENCY_DEV, held_out, (used,))
    assert path == used and "development" in what


def test_tense_marks_now_habit_and_distance_as_three_more_inputs():
    import numpy as np

    from knowledge.emergency import Tense

    tense = Tense(
        {
            "now": ["now", "الان", "现在"],
            "habitual": ["every", "همیشه"],
            "distance": ["haha", "😂", "are fine"],
        }
    )
    texts = ["he beats me every night, now he is drunk", "ورا الآن", "他现在在打我"]
    texts += ["همیشه", "nowhere", "this form will kill me 😂", "a fire back home, all are fine"]
    marks = tense.features(texts, np.zeros((7, 3), dtype=np.float32))[:, 3:]
    w = Tense.WEIGHT
    # Latin-letter words only as whole words ("nowhere" is not "now"); the
    # others anywhere, after the same normalisation as keywords (hamza, madda).
    assert marks.tolist() == [
        [w, w, 0],
        [w, 0, 0],
        [w, 0, 0],
        [0, w, 0],
        [0, 0, 0],
        [0, 0, w],
        [0, 0, w],
    ]
    # Without words there is no second signal: the embedding alone.
    assert Tense({}).features(texts, np.zeros((7, 3))).shape == (7, 3)


@pytest.mark.integration
def test_a_message_in_the_soft_band_gets_the_answer_then_112_and_a_person(kb, monkeypatch):
    import yaml
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    import bot.actions as actions

    question = "dove si fa la carta d'identità?"
    monkeypatch.setattr(actions, "_KB", kb)
    assert kb.soft_line(question, "it") is None  # an ordinary question: the answer alone
    # Put every score in the soft band: no alarm, and the line after the answer.
    monkeypatch.setattr(kb.emergencies, "threshold", 1.01)
    monkeypatch.setattr(kb.emergencies, "keyword_threshold", 1.01)
    monkeypatch.setattr(kb.emergencies, "soft_threshold", 0.0)
    assert kb.emergency(question) is None
    tracker = Tracker(
        sender_id="soft",
        slots={"language": "it"},
        latest_message={"text": question, "intent": {"name": "ask_service"}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    dispatcher = CollectingDispatcher()
    actions.ActionAnswerQuestion().run(dispatcher, tracker, domain)
    *answer, line = dispatcher.messages
    assert answer and "112" not in (answer[0].get("text") or "")
    assert line["text"] == kb.soft_line(question, "it") and "112" in line["text"]
    assert [b["payload"] for b in line["buttons"]] == ["/ask_human"]


@pytest.mark.integration
def test_the_soft_line_is_never_added_to_an_emergency(kb):
    text = "mio marito mi picchia adesso, ho paura"
    assert kb.emergency(text) is not None and kb.soft_line(text, "it") is None
