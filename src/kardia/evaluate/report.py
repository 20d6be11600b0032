"""`report.md`: the evaluation a person reads — the metrics table, per-emotion scores, worst and random examples."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from kardia.evaluate.metrics import judge_failed, rubric_row_mean

Row = Mapping[str, Any]
SHOWN_WORST = 5
SHOWN_MALFORMED = 5
SHOWN_RANDOM = 3


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table; an em dash for None."""
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_ci(interval: Sequence[float] | None, digits: int = 3) -> str:
    """``[low, high]`` or an em dash."""
    return "—" if not interval else f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def metric_rows(metrics: Mapping[str, Any]) -> list[tuple[str, str, float | None, list[float] | None]]:
    """(flat name, label, value, interval) for every headline metric, in table order."""
    ci = metrics.get("ci") or {}
    rows = [
        ("format_rate", "Format rate", metrics.get("format_rate"), ci.get("format_rate")),
        ("emotion_accuracy", "Emotion accuracy", metrics.get("emotion_accuracy"), ci.get("emotion_accuracy")),
        ("emotion_macro_f1", "Emotion macro-F1", metrics.get("emotion_macro_f1"), ci.get("emotion_macro_f1")),
    ]
    for criterion, value in (metrics.get("rubric") or {}).items():
        rows.append((f"rubric.{criterion}", f"Rubric: {criterion.replace('_', ' ')}", value, ci.get(f"rubric.{criterion}")))
    rows.append(("rubric_mean", "Rubric mean", metrics.get("rubric_mean"), ci.get("rubric_mean")))
    rows.append(("response_tokens_mean", "Response tokens (mean)", metrics.get("response_tokens_mean"), ci.get("response_tokens_mean")))
    return rows


def render_report(metrics: Mapping[str, Any], rows: Sequence[Row], *, seed: int = 0) -> str:
    """The Markdown report of one run."""
    model, data, judge = metrics.get("model") or {}, metrics.get("data") or {}, metrics.get("judge") or {}
    settings = metrics.get("settings") or {}
    generation = settings.get("generation") or {}
    lines = [
        f"# Evaluation: {model.get('name') or model.get('spec')} on {data.get('source')}",
        "",
        f"- Model: `{model.get('spec')}` ({model.get('backend', '?')}), mode `{settings.get('mode')}`",
        f"- Data: `{data.get('source')}`, {metrics['n']} turn-level examples "
        f"({metrics.get('n_with_gold_emotion', 0)} with a gold emotion)",
        f"- Judge: `{judge.get('spec')}`" + (f" ({judge['model']}, {judge.get('mode')} mode)" if judge.get("model") else ""),
        f"- Decoding: temperature {generation.get('temperature')}, top-p {generation.get('top_p')}, "
        f"max {generation.get('max_new_tokens')} new tokens, seed {generation.get('seed')}",
        f"- Failures: {metrics.get('generation_failures', 0)} generations, {metrics.get('judge_failures', 0)} judge "
        "(left out of the rubric means, never counted as 0)",
        "",
        "## Metrics",
        "",
        "| Metric | Value | 95% CI |",
        "|---|---:|---|",
    ]
    for name, label, value, interval in metric_rows(metrics):
        digits = 1 if name == "response_tokens_mean" else 3
        lines.append(f"| {label} | {fmt(value, digits)} | {fmt_ci(interval, digits)} |")
    lines += ["", "Intervals: seeded percentile bootstrap over examples.", ""]
    lines += _per_emotion(metrics)
    lines += _examples(rows, seed)
    return "\n".join(lines).rstrip() + "\n"


def _per_emotion(metrics: Mapping[str, Any]) -> list[str]:
    table = metrics.get("per_emotion") or {}
    if not table:
        return ["## Per emotion", "", "No example has a gold emotion.", ""]
    lines = ["## Per emotion", "", "| Emotion | Precision | Recall | F1 | Support |", "|---|---:|---:|---:|---:|"]
    for label, s in sorted(table.items(), key=lambda kv: (-kv[1]["support"], kv[0])):
        lines.append(f"| {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['support']} |")
    unlabelled = metrics.get("unlabelled_predictions", 0)
    lines += ["", f"{unlabelled} answers with a gold emotion named none of the 32 labels (counted as wrong).", ""]
    return lines


def _examples(rows: Sequence[Row], seed: int) -> list[str]:
    scored = [(rubric_row_mean(r), i) for i, r in enumerate(rows) if not judge_failed(r)]
    worst = [i for _, i in sorted(scored)[:SHOWN_WORST]]
    malformed = [i for i, r in enumerate(rows) if not r.get("format_ok")][:SHOWN_MALFORMED]
    shown = sorted(random.Random(seed).sample(range(len(rows)), min(SHOWN_RANDOM, len(rows))))
    lines = ["## Worst examples (lowest rubric mean)", ""]
    lines += [block for i in worst for block in _example(rows[i])] or ["None scored.", ""]
    lines += ["## Malformed answers", ""]
    lines += [block for i in malformed for block in _example(rows[i])] or ["None: every answer has the expected format.", ""]
    lines += ["## Random examples", ""]
    lines += [block for i in shown for block in _example(rows[i])]
    return lines


def _example(row: Row) -> list[str]:
    last_user = next((m["content"] for m in reversed(row.get("messages") or []) if m.get("role") == "user"), "")
    scores = row.get("judge_scores") or {}
    score_text = ", ".join(f"{k} {fmt(v, 2)}" for k, v in scores.items()) or "not scored"
    verdict = f"{score_text}" + (f"; judge error: {row['judge_error']}" if row.get("judge_error") else "")
    if row.get("judge_degenerate"):
        verdict += f"; degenerate: {row['judge_degenerate']}"
    output = (row.get("output") or "").strip() or "(empty)"
    return [
        f"### `{row['id']}` — rubric mean {fmt(rubric_row_mean(row), 2)}",
        "",
        f"- User: {_quote(last_user)}",
        f"- Gold emotion: {row.get('gold_emotion') or '—'}; predicted: {row.get('predicted_emotion') or '—'}",
        f"- Problems: {', '.join(row.get('problems') or []) or 'none'}",
        f"- Scores: {verdict}",
        "",
        "```text",
        output.replace("```", "'''")[:1500],
        "```",
        "",
    ]


def _quote(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
