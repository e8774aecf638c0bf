"""The kept logistic regressions (knowledge/linear.py): scikit-learn's numbers, fitted once."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from knowledge import linear
from knowledge.settings import PROJECT_ROOT


def _data(classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(120, 8)).astype(np.float32)
    labels = np.array([f"class-{i % classes}" for i in range(120)])
    vectors[:, 0] += np.arange(120) % classes  # something to learn
    return vectors, labels


@pytest.mark.parametrize("classes", [2, 4])
def test_probabilities_are_those_of_scikit_learn(classes):
    vectors, labels = _data(classes)
    ours = linear.fit(vectors, labels, C=1.0)
    theirs = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
    theirs.fit(vectors, labels)
    np.testing.assert_allclose(
        ours.predict_proba(vectors), theirs.predict_proba(vectors), atol=1e-6
    )
    assert list(ours.classes_) == list(theirs.classes_)


def test_a_kept_model_is_loaded_not_fitted_again(tmp_path, monkeypatch):
    vectors, labels = _data(3)
    first = linear.fitted(vectors, labels, tmp_path, "openings", C=1.0)
    [kept] = list(tmp_path.glob("openings-linear-*.npz"))

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted again")

    monkeypatch.setattr(linear, "fit", no_fit)
    again = linear.fitted(vectors, labels, tmp_path, "openings", C=1.0)
    np.testing.assert_array_equal(again.coef, first.coef)
    assert list(again.classes) == list(first.classes)
    monkeypatch.undo()
    # Other training data: a new file replaces the old one.
    linear.fitted(vectors[:-3], labels[:-3], tmp_path, "openings", C=1.0)
    [newer] = list(tmp_path.glob("openings-linear-*.npz"))
    assert newer != kept


def test_the_action_server_loads_without_scikit_learn(session_env, kit):
    """Once `python -m knowledge build` kept the numbers, nothing imports scikit-learn."""
    env = {**session_env, "HELPDESK_ENCODER": "onnx-int8"}
    subprocess.run(
        [sys.executable, "-m", "knowledge", "build"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=900,
    )
    script = (
        "import sys, json\n"
        "from bot import actions\n"
        "actions.knowledge_base()\n"
        "actions.understanding()\n"
        "print(json.dumps({m: m in sys.modules for m in ('sklearn', 'torch', 'tokenizers')}))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert json.loads(finished.stdout.strip().splitlines()[-1]) == {
        "sklearn": False,
        "torch": False,
        "tokenizers": False,
    }
