"""Logistic regressions fitted once and kept, so the action server needs no scikit-learn.

    model = fitted(vectors, labels, cache_dir, "openings", C=1.0)
    model.predict_proba(vectors)      # as LogisticRegression.predict_proba

The emergency detector and the reading of typed messages each fit a
logistic regression on a few thousand vectors. Importing scikit-learn to do
so costs the action server about 100 MiB for its whole life, and the fit
itself a few seconds at each start. The coefficients are kept in the index
folder instead (`python -m knowledge build` writes them), named by a hash of
the training data and settings; only a cache miss imports scikit-learn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class LinearModel:
    """A fitted logistic regression's numbers (scikit-learn's coef_, intercept_, classes_)."""

    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray

    @property
    def classes_(self) -> np.ndarray:
        return self.classes

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        scores = np.asarray(vectors, dtype=np.float64) @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:  # two classes: one score for the second
            second = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - second, second])
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


def fit(vectors: np.ndarray, labels: Sequence, C: float) -> LinearModel:
    """Fit with scikit-learn (balanced classes, as both classifiers are trained)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(vectors, labels)
    return LinearModel(model.coef_, model.intercept_, model.classes_)


def fitted(
    vectors: np.ndarray, labels: Sequence, folder: Path | None, name: str, C: float
) -> LinearModel:
    """`fit(...)`, kept in `folder` as <name>-linear-<hash>.npz; older files of that name go."""
    if folder is None:
        return fit(vectors, labels, C)
    labels = np.asarray(labels)
    digest = hashlib.sha256(np.ascontiguousarray(vectors).tobytes())
    digest.update(repr((labels.tolist(), C)).encode())
    path = Path(folder) / f"{name}-linear-{digest.hexdigest()[:16]}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as kept:
            return LinearModel(kept["coef"], kept["intercept"], kept["classes"])
    model = fit(vectors, labels, C)
    path.parent.mkdir(parents=True, exist_ok=True)
    for old in path.parent.glob(f"{name}-linear-*.npz"):
        old.unlink(missing_ok=True)
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, coef=model.coef, intercept=model.intercept, classes=model.classes)
    temporary.replace(path)
    return model
