"""PNG figures of an evaluation (matplotlib, Agg backend): the paper's radar chart and the emotion confusion matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kardia.emotions import EMOTIONS

DPI = 120


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def radar_axes(metrics: Mapping[str, Any]) -> list[tuple[str, float | None]]:
    """The radar's spokes: each rubric criterion, then emotion accuracy (all on 0–1)."""
    spokes = [(c.replace("_", " "), v) for c, v in (metrics.get("rubric") or {}).items()]
    spokes.append(("emotion accuracy", metrics.get("emotion_accuracy")))
    return spokes


def radar_chart(runs: Sequence[tuple[str, Mapping[str, Any]]], path: str | Path, *, title: str = "Kardia evaluation") -> Path:
    """One polygon per (label, metrics) over the criteria and emotion accuracy; a missing value is drawn at 0
    and marked ``n/a`` in the legend."""
    import numpy as np

    plt = _pyplot()
    names = [name for name, _ in radar_axes(runs[0][1])]
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False).tolist()
    figure, axes = plt.subplots(figsize=(6, 6), subplot_kw={"polar": True})
    for label, metrics in runs:
        values = dict(radar_axes(metrics))
        points = [values.get(n) for n in names]
        missing = [n for n, v in zip(names, points) if v is None]
        closed = [0.0 if v is None else float(v) for v in points]
        legend = label + (f" (n/a: {', '.join(missing)})" if missing else "")
        axes.plot(angles + angles[:1], closed + closed[:1], linewidth=1.5, label=legend)
        axes.fill(angles + angles[:1], closed + closed[:1], alpha=0.12)
    axes.set_xticks(angles)
    axes.set_xticklabels(names, fontsize=9)
    axes.set_ylim(0, 1)
    axes.set_yticks([0.2, 0.4, 0.6, 0.8, 1.0])
    axes.set_yticklabels(["0.2", "0.4", "0.6", "0.8", "1.0"], fontsize=7)
    axes.set_title(title, pad=20)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=8, frameon=False)
    return _save(figure, path)


def confusion_heatmap(rows: Sequence[Mapping[str, Any]], path: str | Path, *, title: str = "Emotion confusion") -> Path:
    """32×32 heatmap of gold (rows) against predicted (columns) labels, over examples with a gold emotion.

    Predictions that name none of the 32 labels have no column; their count is in the subtitle.
    """
    from sklearn.metrics import confusion_matrix

    plt = _pyplot()
    gold = [r for r in rows if r.get("gold_emotion")]
    unlabelled = sum(not r.get("predicted_emotion") for r in gold)
    matrix = (confusion_matrix([r["gold_emotion"] for r in gold], [r.get("predicted_emotion") or "" for r in gold],
                               labels=list(EMOTIONS)) if gold else [[0] * len(EMOTIONS)] * len(EMOTIONS))
    figure, axes = plt.subplots(figsize=(10, 9))
    image = axes.imshow(matrix, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = range(len(EMOTIONS))
    axes.set_xticks(ticks)
    axes.set_xticklabels(EMOTIONS, rotation=90, fontsize=7)
    axes.set_yticks(ticks)
    axes.set_yticklabels(EMOTIONS, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(f"{title}\n{len(gold)} examples with a gold emotion; {unlabelled} predictions outside the 32 labels",
                   fontsize=10)
    figure.tight_layout()
    return _save(figure, path)


def _save(figure: Any, path: str | Path) -> Path:
    plt = _pyplot()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return target
