"""The Rasa launcher's patches (bot/rasa_run.py), checked inside Rasa's own environment."""

from __future__ import annotations

from tests.conftest import run_in_rasa

# Runs in Python 3.10 with Rasa installed: the patches touch Rasa's classes.
CHECK = """
import jsonschema, jsonschema.validators as validators
from rasa.core.actions.action import RemoteAction
from bot.rasa_run import validate_with_one_validator

validate_with_one_validator()
validate_with_one_validator()  # idempotent
checks = []
real = validators.Draft202012Validator.check_schema
def counting(schema):
    checks.append(1)
    return real(schema)
validators.Draft202012Validator.check_schema = staticmethod(counting)
jsonschema.validate = lambda *a, **k: checks.append("validate")

action = RemoteAction("action_answer_question", None)
good = {
    "events": [{"event": "slot", "name": "language", "value": "ar"}],
    "responses": [{"text": "hi"}],
}
for _ in range(50):
    assert action._validate_action_result(good) is True
try:
    action._validate_action_result({"events": "not a list"})
except jsonschema.ValidationError as error:
    assert "Failed to validate Action server response" in error.message, error.message
else:
    raise AssertionError("a malformed answer was accepted")
try:
    action._validate_action_result({"events": [{"event": "no such event"}]})
except jsonschema.ValidationError:
    pass
else:
    raise AssertionError("an unknown event was accepted")
assert checks == [], checks  # the schema was checked once, before the calls
print("ok")
"""


def test_action_answers_are_validated_by_one_validator_built_once():
    run_in_rasa(CHECK)
