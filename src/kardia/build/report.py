"""The quality report of a build, computed from its output files alone (so it is right after any resume).

It reads ``dialogues.jsonl`` and ``rejects.jsonl`` (a dialogue counts once: accepted over rejected
over a retryable error) and reports the acceptance rate and reject reasons, refinement rounds, rubric
scores of first drafts against final answers turn by turn (a rewrite is kept only when it scores
higher, so the final is never worse than the draft; the mean of all rewrites is shown too, to separate
what critique-guided rewriting produces from what best-of selection keeps), agreement of the emotion
span with the seed's emotion, distinct-1/2 of the responses, and turns per dialogue.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from statistics import mean
from typing import Any

from kardia.build.store import iter_jsonl, write_json_atomic
from kardia.spans import parse

_WORD = re.compile(r"\w+(?:'\w+)?")


def distinct_n(texts: Iterable[str], n: int) -> float | None:
    """Distinct-n: unique word n-grams over all n-grams of `texts` (lower-cased); None without n-grams.

    >>> distinct_n(["a b a b"], 1), distinct_n(["a b a b"], 2)
    (0.5, 0.6666666666666666)
    """
    grams: list[tuple[str, ...]] = []
    for text in texts:
        words = _WORD.findall(text.lower())
        grams.extend(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return len(set(grams)) / len(grams) if grams else None


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(mean(kept), 4) if kept else None


def load_outcomes(out_dir: str | Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """id → (status, line) with status accepted, rejected or error; one entry per dialogue."""
    out = Path(out_dir)
    outcomes: dict[str, tuple[str, dict[str, Any]]] = {}
    rank = {"error": 0, "rejected": 1, "accepted": 2}
    for status, store in (("rejected", out / "rejects.jsonl"), ("accepted", out / "dialogues.jsonl")):
        for line in iter_jsonl(store):
            kind = "error" if line.get("retryable") else status
            current = outcomes.get(line["id"])
            if current is None or rank[kind] >= rank[current[0]]:
                outcomes[line["id"]] = (kind, line)
    return outcomes


def quality_report(out_dir: str | Path) -> dict[str, Any]:
    """The report's figures as a JSON-ready dict."""
    outcomes = load_outcomes(out_dir)
    status = Counter(kind for kind, _ in outcomes.values())
    reasons = Counter(r["code"] for kind, line in outcomes.values() if kind != "accepted" for r in line.get("reasons", []))
    built = [(kind, line) for kind, line in outcomes.values() if "build" in line]
    turns = [t for _, line in built for t in line["build"]["turns"]]
    accepted = [line for kind, line in built if kind == "accepted"]
    finished = status["accepted"] + status["rejected"]

    criteria = sorted({c for t in turns for c in t["first"]["scores"]})
    refined = [t for t in turns if t["rounds"] > 0]
    paired = [t for t in turns if t["first"]["overall"] is not None and t["final"]["overall"] is not None]
    scores = {
        "turns_scored": len(paired),
        "first_overall": _mean([t["first"]["overall"] for t in paired]),
        "final_overall": _mean([t["final"]["overall"] for t in paired]),
        "refined_turns": len(refined),
        "refined_first_overall": _mean([t["first"]["overall"] for t in refined]),
        "refined_final_overall": _mean([t["final"]["overall"] for t in refined]),
        "rewrite_attempts": sum(len(t["rewrites"]) for t in refined),
        "rewrite_attempts_mean_overall": _mean([a["overall"] for t in refined for a in t["rewrites"]]),
        "turns_improved": sum((t["final"]["overall"] or 0) > (t["first"]["overall"] or 0) for t in paired),
        "first_well_formed": _mean([float(t["first"]["ok"]) for t in turns]),
        "final_well_formed": _mean([float(t["final"]["ok"]) for t in turns]),
        "per_criterion": {
            c: {"first": _mean([t["first"]["scores"].get(c) for t in turns]), "final": _mean([t["final"]["scores"].get(c) for t in turns])}
            for c in criteria
        },
    }
    agreement_all = [float(t["final"]["emotion"] == line["emotion"]) for _, line in built if line.get("emotion") for t in line["build"]["turns"]]
    agreement_acc = [float(t["final"]["emotion"] == line["emotion"]) for line in accepted if line.get("emotion") for t in line["build"]["turns"]]
    responses = [parse(m["content"]).response or "" for line in accepted for m in line["messages"] if m["role"] == "assistant"]
    user_turns = [m["content"] for line in accepted for m in line["messages"] if m["role"] == "user"]
    turn_counts = [len(line["build"]["turns"]) for line in accepted]
    return {
        "dialogues": len(outcomes),
        "accepted": status["accepted"],
        "rejected": status["rejected"],
        "errors": status["error"],
        "acceptance_rate": round(status["accepted"] / finished, 4) if finished else None,
        "reject_reasons": dict(reasons.most_common()),
        "rounds": {
            "turns": len(turns),
            "mean_rounds": _mean([float(t["rounds"]) for t in turns]),
            "histogram": {str(k): v for k, v in sorted(Counter(t["rounds"] for t in turns).items())},
            "turns_passing_first_draft": sum(t["rounds"] == 0 and t["passed"] for t in turns),
        },
        "scores": scores,
        "emotion_agreement": {"all_turns": _mean(agreement_all), "accepted_turns": _mean(agreement_acc)},
        "diversity": {
            "responses_distinct_1": distinct_n(responses, 1),
            "responses_distinct_2": distinct_n(responses, 2),
            "user_distinct_1": distinct_n(user_turns, 1),
            "user_distinct_2": distinct_n(user_turns, 2),
        },
        "turns_per_dialogue": {
            "mean": _mean([float(n) for n in turn_counts]),
            "min": min(turn_counts) if turn_counts else None,
            "max": max(turn_counts) if turn_counts else None,
        },
        "tokens": sum(line["build"].get("tokens", 0) for _, line in built),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    s = report["scores"]
    lines = [
        "# KardiaBench build report",
        "",
        f"- Dialogues: {report['dialogues']} — accepted {report['accepted']}, rejected {report['rejected']}, "
        f"errors to retry {report['errors']}; acceptance rate {_fmt(report['acceptance_rate'])}",
        f"- Reject reasons: {', '.join(f'{k} ({v})' for k, v in report['reject_reasons'].items()) or 'none'}",
        f"- Refinement: {report['rounds']['turns']} assistant turns, mean rounds {_fmt(report['rounds']['mean_rounds'])}, "
        f"rounds histogram {report['rounds']['histogram']}, passing at first draft {report['rounds']['turns_passing_first_draft']}",
        f"- Emotion span = seed emotion: {_fmt(report['emotion_agreement']['all_turns'])} of all turns, "
        f"{_fmt(report['emotion_agreement']['accepted_turns'])} of accepted turns",
        f"- Turns per accepted dialogue: mean {_fmt(report['turns_per_dialogue']['mean'])} "
        f"(min {_fmt(report['turns_per_dialogue']['min'])}, max {_fmt(report['turns_per_dialogue']['max'])})",
        f"- Diversity of accepted responses: distinct-1 {_fmt(report['diversity']['responses_distinct_1'])}, "
        f"distinct-2 {_fmt(report['diversity']['responses_distinct_2'])} (user turns: "
        f"{_fmt(report['diversity']['user_distinct_1'])} / {_fmt(report['diversity']['user_distinct_2'])})",
        f"- Tokens (user simulator + assistant): {report['tokens']}",
        "",
        "## Rubric scores, first draft vs final (per turn, 0–1)",
        "",
        "A rewrite replaces the draft only when it scores higher, so the final answer is the best attempt.",
        "",
        "| | first draft | final |",
        "|---|---|---|",
        f"| overall, all {s['turns_scored']} scored turns | {_fmt(s['first_overall'])} | {_fmt(s['final_overall'])} |",
        f"| overall, {s['refined_turns']} refined turns | {_fmt(s['refined_first_overall'])} | {_fmt(s['refined_final_overall'])} |",
        f"| well formed | {_fmt(s['first_well_formed'])} | {_fmt(s['final_well_formed'])} |",
    ]
    lines += [f"| {c} | {_fmt(v['first'])} | {_fmt(v['final'])} |" for c, v in s["per_criterion"].items()]
    lines += [
        "",
        f"Turns improved by refinement: {s['turns_improved']}. Mean overall of all {s['rewrite_attempts']} rewrite "
        f"attempts: {_fmt(s['rewrite_attempts_mean_overall'])} (vs {_fmt(s['refined_first_overall'])} for the drafts they rewrote).",
        "",
    ]
    return "\n".join(lines)


def write_report(out_dir: str | Path) -> dict[str, Any]:
    """Write ``report.json`` and ``report.md`` into `out_dir`; returns the report."""
    out = Path(out_dir)
    report = quality_report(out)
    write_json_atomic(out / "report.json", report)
    (out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    return report
