"""Evaluation metrics from the rows of ``generations.jsonl``, with seeded percentile-bootstrap intervals.

Every metric is computed from a per-example value, so one resampling scheme gives both the 95%
intervals of a run and the paired test between two runs:

* ``format_rate``: answers in the expected format (kardia mode: the four spans with no problem;
  plain mode: both lines present and non-empty). Counts every example.
* ``emotion_accuracy`` and ``emotion_macro_f1`` (scikit-learn, averaged over the labels present in
  gold): only examples with a gold emotion (imported ED/ESConv data may lack one).
* ``rubric``: the judge's 0–1 score per criterion; an example the judge could not score (None) is
  left out and counted in ``judge_failures``, never read as 0. ``rubric_mean`` is the mean over
  examples of the per-example mean of the criteria (examples with every criterion scored).
* ``response_tokens_mean``: length of the response span.

>>> rows = [{"gold_emotion": "sad", "predicted_emotion": "sad"}, {"gold_emotion": "sad", "predicted_emotion": None}]
>>> emotion_accuracy(rows)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Row = Mapping[str, Any]
CRITERIA: tuple[str, ...] = ("relevance", "empathy", "persona_consistency", "safety", "fluency")
"""The rubric's five criteria, in the paper's order (the packaged rubric's ids)."""
NO_LABEL = "(none)"
"""The predicted label of an answer whose emotion maps to none of the 32 labels."""
FORMAT_SPAN_PROBLEMS = frozenset({"missing_span", "empty_span"})


@dataclass(frozen=True)
class BootstrapSettings:
    """How the intervals and paired tests are resampled."""

    n_resamples: int = 2000
    """Bootstrap resamples per metric."""
    confidence: float = 0.95
    """Coverage of the percentile interval."""
    seed: int = 0
    """Seed of the resampling generator: the same rows give the same bounds."""


# -- per-example values -----------------------------------------------------------------------------

def format_ok(row: Row) -> bool:
    """Whether the answer has the expected format (see the module docstring)."""
    if row.get("error"):
        return False
    spans = row.get("spans") or {}
    if row.get("mode") == "plain":
        return not FORMAT_SPAN_PROBLEMS.intersection(row.get("problems") or [])
    return bool(spans.get("ok"))


def rubric_scores(row: Row, criteria: Sequence[str] = CRITERIA) -> dict[str, float | None]:
    """The row's judge score per criterion (None when missing or unscored)."""
    scores = row.get("judge_scores") or {}
    return {c: _number(scores.get(c)) for c in criteria}


def rubric_row_mean(row: Row, criteria: Sequence[str] = CRITERIA) -> float | None:
    """Mean of the row's criterion scores; None unless every criterion was scored."""
    values = list(rubric_scores(row, criteria).values())
    if not values or any(v is None for v in values):
        return None
    return float(np.mean(values))


def judge_failed(row: Row, criteria: Sequence[str] = CRITERIA) -> bool:
    """True when the judge could not score at least one criterion of the row."""
    return any(v is None for v in rubric_scores(row, criteria).values())


def example_values(rows: Sequence[Row], criteria: Sequence[str] = CRITERIA) -> dict[str, np.ndarray]:
    """Per-example value of every mean-type metric, NaN where the example does not count."""
    def column(get: Callable[[Row], float | None]) -> np.ndarray:
        return np.array([np.nan if (v := get(r)) is None else float(v) for r in rows], dtype=float)

    values = {
        "format_rate": column(lambda r: float(format_ok(r))),
        "emotion_accuracy": column(
            lambda r: None if not r.get("gold_emotion") else float(r.get("predicted_emotion") == r["gold_emotion"])
        ),
    }
    for criterion in criteria:
        values[f"rubric.{criterion}"] = column(lambda r, c=criterion: rubric_scores(r, criteria)[c])
    values["rubric_mean"] = column(lambda r: rubric_row_mean(r, criteria))
    values["response_tokens_mean"] = column(lambda r: r.get("response_tokens"))
    return values


# -- point estimates ----------------------------------------------------------------------------------

def emotion_accuracy(rows: Sequence[Row]) -> float | None:
    """Share of examples with a gold emotion whose predicted label equals it; None without gold."""
    gold = [r for r in rows if r.get("gold_emotion")]
    if not gold:
        return None
    return sum(r.get("predicted_emotion") == r["gold_emotion"] for r in gold) / len(gold)


def gold_and_predicted(rows: Sequence[Row]) -> tuple[list[str], list[str]]:
    """Gold and predicted labels of the examples with a gold emotion (no label → ``(none)``)."""
    gold = [r for r in rows if r.get("gold_emotion")]
    return [r["gold_emotion"] for r in gold], [r.get("predicted_emotion") or NO_LABEL for r in gold]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float | None:
    """Macro-averaged F1 over the labels present in `gold` (scikit-learn); None without gold."""
    from sklearn.metrics import f1_score

    if not len(gold):
        return None
    labels = sorted(set(gold))
    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def per_emotion(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 and support of each gold label (scikit-learn), sorted by label."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(gold))
    if not labels:
        return {}
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    return {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(labels, precision, recall, f1, support)
    }


# -- bootstrap ----------------------------------------------------------------------------------------

def resample_indices(n: int, settings: BootstrapSettings) -> np.ndarray:
    """A (n_resamples, n) matrix of indices drawn with replacement, from `settings.seed`."""
    rng = np.random.default_rng(settings.seed)
    return rng.integers(0, n, size=(settings.n_resamples, n))


def percentile_interval(statistics: np.ndarray, confidence: float) -> tuple[float, float]:
    """The central `confidence` percentile interval of bootstrap statistics."""
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(statistics, [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap_mean_ci(values: Sequence[float], settings: BootstrapSettings = BootstrapSettings()) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of the mean of `values` (NaNs dropped); None when nothing is left.

    >>> bootstrap_mean_ci([1.0, 1.0, 1.0])
    (1.0, 1.0)
    """
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    if data.size == 0:
        return None
    means = data[resample_indices(data.size, settings)].mean(axis=1)
    return percentile_interval(means, settings.confidence)


def resampled_macro_f1(gold: Sequence[str], predicted: Sequence[str], indices: np.ndarray) -> np.ndarray:
    """`macro_f1` of every resample (one row of `indices` each), vectorised with label counts.

    Equal to scikit-learn's ``f1_score(average="macro", labels=<gold labels of the resample>,
    zero_division=0)`` per row (F1 = 2·TP / (gold count + predicted count)); calling scikit-learn
    thousands of times would take ~15 ms each.
    """
    names = {label: i for i, label in enumerate(sorted(set(gold) | set(predicted)))}
    k = len(names)
    g = np.array([names[x] for x in gold])[indices]
    p = np.array([names[x] for x in predicted])[indices]
    offset = np.arange(indices.shape[0])[:, None] * k
    size = indices.shape[0] * k
    true_pos = np.bincount((g + offset)[g == p], minlength=size).reshape(-1, k)
    gold_count = np.bincount((g + offset).ravel(), minlength=size).reshape(-1, k)
    pred_count = np.bincount((p + offset).ravel(), minlength=size).reshape(-1, k)
    present = gold_count > 0
    f1 = np.divide(2.0 * true_pos, gold_count + pred_count, out=np.zeros(true_pos.shape), where=present)
    return f1.sum(axis=1) / present.sum(axis=1)


def bootstrap_macro_f1_ci(gold: Sequence[str], predicted: Sequence[str],
                          settings: BootstrapSettings = BootstrapSettings()) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of `macro_f1` (labels re-read from each resample's gold)."""
    if not len(gold):
        return None
    stats = resampled_macro_f1(gold, predicted, resample_indices(len(gold), settings))
    return percentile_interval(stats, settings.confidence)


def paired_bootstrap_pvalue(a: Sequence[float], b: Sequence[float],
                            settings: BootstrapSettings = BootstrapSettings()) -> float | None:
    """Two-sided paired-bootstrap p-value for a difference in mean between systems A and B.

    `a` and `b` are aligned per-example values (NaN where an example does not count for a system;
    only pairs valid for both are used). The observed difference d = mean(b) - mean(a) is compared
    with the resampled differences shifted to the null: p = (1 + #{|d* - d| >= |d|}) / (1 + B).
    None when no pair is valid.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if x.size == 0:
        return None
    idx = resample_indices(x.size, settings)
    return _two_sided_p(float(y.mean() - x.mean()), (y[idx] - x[idx]).mean(axis=1))


def paired_macro_f1_pvalue(gold: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str],
                           settings: BootstrapSettings = BootstrapSettings()) -> float | None:
    """Paired-bootstrap p-value for the macro-F1 difference of two systems on the same gold labels."""
    if not len(gold):
        return None
    everything = np.arange(len(gold))[None, :]
    idx = resample_indices(len(gold), settings)
    observed = float(resampled_macro_f1(gold, pred_b, everything)[0] - resampled_macro_f1(gold, pred_a, everything)[0])
    return _two_sided_p(observed, resampled_macro_f1(gold, pred_b, idx) - resampled_macro_f1(gold, pred_a, idx))


def _two_sided_p(observed: float, resampled: np.ndarray) -> float:
    """(1 + #{|d* - d| >= |d|}) / (1 + B): resampled differences centred on the null of no difference."""
    extreme = np.count_nonzero(np.abs(resampled - observed) >= abs(observed) - 1e-12)
    return float((1 + extreme) / (1 + resampled.size))


# -- the metrics file -----------------------------------------------------------------------------

def compute_metrics(rows: Sequence[Row], *, criteria: Sequence[str] = CRITERIA,
                    settings: BootstrapSettings = BootstrapSettings()) -> dict[str, Any]:
    """The deterministic metrics of a run: point estimates, 95% intervals (``ci``), counts, per-emotion table."""
    values = example_values(rows, criteria)
    gold, predicted = gold_and_predicted(rows)

    def mean(name: str) -> float | None:
        column = values[name][~np.isnan(values[name])]
        return float(column.mean()) if column.size else None

    ci = {name: _pair(bootstrap_mean_ci(column, settings)) for name, column in values.items()}
    ci["emotion_macro_f1"] = _pair(bootstrap_macro_f1_ci(gold, predicted, settings))
    return {
        "n": len(rows),
        "n_with_gold_emotion": len(gold),
        "format_rate": mean("format_rate"),
        "emotion_accuracy": mean("emotion_accuracy"),
        "emotion_macro_f1": macro_f1(gold, predicted),
        "rubric": {c: mean(f"rubric.{c}") for c in criteria},
        "rubric_mean": mean("rubric_mean"),
        "response_tokens_mean": mean("response_tokens_mean"),
        "judge_failures": sum(judge_failed(r, criteria) for r in rows),
        "generation_failures": sum(bool(r.get("error")) for r in rows),
        "ci": ci,
        "per_emotion": per_emotion(gold, predicted),
        "unlabelled_predictions": sum(p == NO_LABEL for p in predicted),
    }


def metric_value(metrics: Mapping[str, Any], name: str) -> float | None:
    """A metric by its flat name (``rubric.empathy`` reads ``metrics["rubric"]["empathy"]``)."""
    if name.startswith("rubric."):
        return (metrics.get("rubric") or {}).get(name.split(".", 1)[1])
    return metrics.get(name)


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [interval[0], interval[1]]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
