"""`kardia compare`: one table across evaluation runs, with paired-bootstrap tests against the first run.

Each metric is shown with its 95% interval (from the run's metrics.json) and, for every run after the
first, a two-sided paired-bootstrap p-value for its difference from the first run, computed on the
examples whose ids both runs share. Written as Markdown and CSV, with one radar chart overlaying the runs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kardia.evaluate.metrics import (
    BootstrapSettings,
    example_values,
    gold_and_predicted,
    metric_value,
    paired_bootstrap_pvalue,
    paired_macro_f1_pvalue,
)
from kardia.evaluate.report import fmt, fmt_ci, metric_rows
from kardia.evaluate.run import load_run

COMPARE_MD = "compare.md"
COMPARE_CSV = "compare.csv"
COMPARE_RADAR = "compare_radar.png"


@dataclass
class RunSummary:
    """One run in a comparison."""

    directory: Path
    label: str
    metrics: dict[str, Any]
    rows: list[dict[str, Any]] = field(repr=False)


@dataclass
class Cell:
    """One metric of one run."""

    value: float | None
    ci: list[float] | None
    p_value: float | None = None
    n_paired: int | None = None


@dataclass
class Comparison:
    """The table: metric name → label, and per run the cells in run order."""

    runs: list[RunSummary]
    metrics: list[tuple[str, str]]
    cells: dict[str, list[Cell]]


def run_label(directory: Path, metrics: Mapping[str, Any]) -> str:
    """``model (mode)`` from metrics.json, with the directory name to tell equal ones apart."""
    model = metrics.get("model") or {}
    mode = (metrics.get("settings") or {}).get("mode")
    return f"{directory.name}: {model.get('name') or model.get('spec')} ({mode})"


def compare_runs(directories: Sequence[str | Path], settings: BootstrapSettings = BootstrapSettings()) -> Comparison:
    """Read the runs and compute every cell (p-values against the first run)."""
    if not directories:
        raise ValueError("compare needs at least one run directory")
    runs = []
    for directory in directories:
        metrics, rows = load_run(directory)
        runs.append(RunSummary(Path(directory), run_label(Path(directory), metrics), metrics, rows))
    names = [(name, label) for name, label, _, _ in metric_rows(runs[0].metrics)]
    cells: dict[str, list[Cell]] = {}
    for name, _ in names:
        cells[name] = [Cell(metric_value(r.metrics, name), (r.metrics.get("ci") or {}).get(name)) for r in runs]
    base = runs[0]
    for index, run in enumerate(runs[1:], start=1):
        for name, p_value, paired in paired_tests(base.rows, run.rows, [n for n, _ in names], settings):
            cells[name][index].p_value, cells[name][index].n_paired = p_value, paired
    return Comparison(runs=runs, metrics=names, cells=cells)


def paired_tests(rows_a: Sequence[Mapping[str, Any]], rows_b: Sequence[Mapping[str, Any]], names: Sequence[str],
                 settings: BootstrapSettings) -> list[tuple[str, float | None, int]]:
    """(metric, p-value, examples paired) of B against A on the example ids both share (in A's order)."""
    by_id = {r["id"]: r for r in rows_b}
    shared = [r for r in rows_a if r["id"] in by_id]
    matched_b = [by_id[r["id"]] for r in shared]
    values_a, values_b = example_values(shared), example_values(matched_b)
    results = []
    for name in names:
        if name == "emotion_macro_f1":
            gold, pred_a = gold_and_predicted(shared)
            _, pred_b = gold_and_predicted([{**b, "gold_emotion": a.get("gold_emotion")} for a, b in zip(shared, matched_b)])
            results.append((name, paired_macro_f1_pvalue(gold, pred_a, pred_b, settings), len(gold)))
        elif name in values_a:
            a, b = values_a[name], values_b[name]
            paired = int(((a == a) & (b == b)).sum())  # NaN != NaN
            results.append((name, paired_bootstrap_pvalue(a, b, settings), paired))
    return results


def to_markdown(comparison: Comparison) -> str:
    """Rows are metrics, columns runs; each cell ``value [CI]`` and, after the first run, ``p=…``."""
    runs = comparison.runs
    header = "| Metric | " + " | ".join(r.label for r in runs) + " |"
    lines = ["# Comparison", "", f"Baseline for the paired tests: **{runs[0].label}**.", "", header,
             "|---|" + "---|" * len(runs)]
    for name, label in comparison.metrics:
        digits = 1 if name == "response_tokens_mean" else 3
        cells = []
        for index, cell in enumerate(comparison.cells[name]):
            text = f"{fmt(cell.value, digits)} {fmt_ci(cell.ci, digits)}"
            if index and cell.p_value is not None:
                text += f" (p={cell.p_value:.3f}, n={cell.n_paired})"
            cells.append(text)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Cells: value [95% CI] (two-sided paired-bootstrap p-value against the first run, "
              "on the examples both runs share; n = examples paired)."]
    return "\n".join(lines) + "\n"


def to_csv(comparison: Comparison) -> str:
    """One line per (metric, run): value, interval, p-value and pairs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric", "run", "directory", "value", "ci_low", "ci_high", "p_value_vs_first", "n_paired"])
    for name, _ in comparison.metrics:
        for run, cell in zip(comparison.runs, comparison.cells[name]):
            low, high = cell.ci if cell.ci else (None, None)
            writer.writerow([name, run.label, str(run.directory), _blank(cell.value), _blank(low), _blank(high),
                             _blank(cell.p_value), _blank(cell.n_paired)])
    return buffer.getvalue()


def write_comparison(comparison: Comparison, out: str | Path) -> list[Path]:
    """compare.md, compare.csv and compare_radar.png in `out`."""
    from kardia.evaluate.plots import radar_chart

    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    (target / COMPARE_MD).write_text(to_markdown(comparison), encoding="utf-8")
    (target / COMPARE_CSV).write_text(to_csv(comparison), encoding="utf-8")
    radar_chart([(r.label, r.metrics) for r in comparison.runs], target / COMPARE_RADAR, title="Kardia comparison")
    return [target / COMPARE_MD, target / COMPARE_CSV, target / COMPARE_RADAR]


def _blank(value: Any) -> Any:
    return "" if value is None else value
