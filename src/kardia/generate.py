"""Generate answers for turn-level examples and write them as resumable JSONL.

Each line holds one example: its id, the prompt messages, the raw output, the parsed spans and their
problems, the gold fields and token usage. The file is append-only: a rerun skips the ids already in
it, so an interrupted run continues where it stopped.

``mode="kardia"`` prompts with the example's own system prompt (the four-span format) and parses with
`kardia.spans.parse`; ``mode="plain"`` rebuilds the prompt with the two-line plain prompt and parses
with `kardia.plain.parse_plain`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kardia.data.records import Example
from kardia.models.base import ChatModel, Generation, GenerationConfig
from kardia.plain import parse_plain
from kardia.prompts import turn_messages
from kardia.spans import parse

MODES = ("kardia", "plain")


@dataclass
class GenerateSummary:
    """What a run did: lines written now, examples skipped as already done, items that failed."""

    out: Path
    written: int = 0
    skipped: int = 0
    failed: int = 0
    usage: dict[str, int] = field(default_factory=dict)


def prompt_messages(example: Example, mode: str = "kardia") -> list[dict[str, str]]:
    """The messages the model sees: the example's own prompt (kardia) or the plain two-line prompt."""
    if mode == "kardia":
        return [dict(m) for m in example.messages]
    if mode == "plain":
        return turn_messages(example.person, example.situation, example.history, mode="plain")
    raise ValueError(f"mode must be one of {MODES}, not {mode!r}")


def output_record(example: Example, messages: list[dict[str, str]], generation: Generation, *, mode: str,
                  model_name: str, tokenizer: Any = None) -> dict[str, Any]:
    """The JSONL line for one example."""
    spans = parse(generation.text, tokenizer=tokenizer) if mode == "kardia" else parse_plain(generation.text, tokenizer=tokenizer)
    parsed = spans.to_dict()
    return {
        "id": example.id,
        "record_id": example.record_id,
        "turn": example.turn,
        "model": model_name,
        "mode": mode,
        "messages": messages,
        "output": generation.text,
        "error": generation.error,
        "spans": parsed,
        "problems": [p["code"] for p in parsed["problems"]],
        "gold_emotion": example.gold_emotion,
        "target": example.target,
        "gold_spans": example.gold_spans,
        "usage": {
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
            "finish_reason": generation.finish_reason,
        },
    }


def completed_ids(path: str | Path, key: str = "id") -> set[str]:
    """Values of `key` in the lines already written to an append-only JSONL file (a torn last line is ignored)."""
    path = Path(path)
    if not path.is_file():
        return set()
    ids = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                ids.add(json.loads(line)[key])
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return ids


def generate_to_file(
    model: ChatModel,
    examples: Sequence[Example],
    out: str | Path,
    *,
    mode: str = "kardia",
    config: GenerationConfig | None = None,
    chunk_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> GenerateSummary:
    """Generate for every example not yet in `out` and append one line each, `chunk_size` at a time.

    `progress` is called with the number of examples finished (skipped ones included, once at the start).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = completed_ids(path)
    todo = [e for e in examples if e.id not in done]
    summary = GenerateSummary(out=path, skipped=len(examples) - len(todo))
    if progress and summary.skipped:
        progress(summary.skipped)
    tokenizer = getattr(model, "tokenizer", None)
    if path.is_file() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        with path.open("a", encoding="utf-8") as handle:  # end a torn line so the next one stays parseable
            handle.write("\n")
    for start in range(0, len(todo), chunk_size):
        chunk = todo[start:start + chunk_size]
        prompts = [prompt_messages(e, mode) for e in chunk]
        generations = model.generate(prompts, config, progress=progress)
        with path.open("a", encoding="utf-8") as handle:
            for example, messages, generation in zip(chunk, prompts, generations):
                line = output_record(example, messages, generation, mode=mode, model_name=model.name, tokenizer=tokenizer)
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                summary.written += 1
                summary.failed += generation.error is not None
    summary.usage = model.usage.to_dict()
    return summary
