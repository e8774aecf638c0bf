"""Rasa's own tooling: `rasa data validate` and the test stories in tests/stories.

`rasa test core` replays each story against the trained model's policies:
it checks the predicted intents and actions but runs no custom action, so it
needs neither the action server nor a running Rasa, only the model.
"""

import subprocess

import pytest

from knowledge.settings import PROJECT_ROOT
from tests.conftest import RASA_BIN

pytestmark = pytest.mark.integration

STORIES = PROJECT_ROOT / "tests" / "stories"


def test_rasa_data_validates():
    done = subprocess.run(
        [str(RASA_BIN), "data", "validate", "--data", "bot/data", "--domain", "domain.yml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_test_stories_pass(rasa_model, tmp_path):
    done = subprocess.run(
        [
            str(RASA_BIN),
            "test",
            "core",
            "--model",
            str(rasa_model),
            "--stories",
            str(STORIES),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text() if failed.exists() else ""
    assert done.returncode == 0, report + done.stdout[-3000:] + done.stderr[-3000:]
    assert "None of the test stories failed" in report
    stories = sum(path.read_text().count("- story:") for path in STORIES.glob("*.yml"))
    assert stories >= 10
